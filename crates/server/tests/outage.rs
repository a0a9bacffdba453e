//! A PostgreSQL outage under load: while the database refuses every connection, API calls answer
//! 1002 and SMTP answers 451 (the sender retries), held `listen` polls stay held; when it comes
//! back everything recovers by itself, and nothing that was acknowledged is lost.
//!
//! The outage is real for this test's database only: connections to it are refused
//! (`ALLOW_CONNECTIONS false`) and the open ones terminated, so the cluster other tests share
//! keeps running. (SQLite has no server to lose; a full disk would need a filesystem of our own to
//! fill, which needs mount privileges this test does not assume.)

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{Backend, TestServer};
use common::{Api, Raw};
use std::time::{Duration, Instant};

/// A connection to the cluster's maintenance database, beside the server's.
async fn superuser(srv: &TestServer) -> (sqlx::PgPool, String) {
    let url = &srv.config.database_url;
    let (head, query) = url.split_once('?').unwrap();
    let (base, db) = head.rsplit_once('/').unwrap();
    let pool = sqlx::PgPool::connect(&format!("{base}/postgres?{query}"))
        .await
        .unwrap();
    (pool, db.to_owned())
}

async fn set_outage(pool: &sqlx::PgPool, db: &str, down: bool) {
    // `db` is the testkit's name: letters, digits and underscores.
    let allow = if down { "false" } else { "true" };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {db} WITH ALLOW_CONNECTIONS {allow}"
    )))
    .execute(pool)
    .await
    .unwrap();
    if down {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
            .bind(db)
            .execute(pool)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_answers_1002_and_451_then_recovers_by_itself() {
    let srv = TestServer::builder(Backend::Postgres)
        .with_config(|c| c.poll_timeout_secs = 60)
        .start()
        .await;
    let api = Api::new(&srv).await;
    let a = api.add_member("through", &[]).await;
    let ver = api.version().await.to_string();
    // A client that listens (its cursor starts here), gets a mail, then holds a poll across the
    // outage.
    let params = [("Ver", ver.as_str())];
    let _ = tokio::time::timeout(Duration::from_millis(300), api.json("listen", &params)).await;
    let before = "Subject: before\r\n\r\nacknowledged before the outage";
    common::deliver(&srv, &a, before).await;
    let first = api.json("listen", &[("Ver", &ver)]).await;
    assert_eq!(first["Subject"], "before", "{first}");
    let held = {
        let (srv, token, ver) = (&srv, api.token.clone(), ver.clone());
        async move { srv.call(&token, "openapi/listen", &[("Ver", &ver)]).await }
    };

    let (pool, db) = superuser(&srv).await;
    let outage = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        set_outage(&pool, &db, true).await;
        // During: the API answers 1002, SMTP answers 451 at RCPT; nothing hangs or crashes.
        let mut api_codes = Vec::new();
        for _ in 0..5 {
            let (status, body) = srv
                .call(&api.token, "openapi/user/get", &[("Alias", &a)])
                .await;
            assert_eq!(status, 200);
            api_codes.push(body);
        }
        assert!(
            api_codes.iter().all(|b| b.contains("1002")),
            "{api_codes:?}"
        );
        let (mut smtp, _) = Raw::connect(&srv).await;
        smtp.cmd("EHLO outage").await;
        smtp.cmd("MAIL FROM:<x@outside.example>").await;
        let rcpt = smtp.cmd(&format!("RCPT TO:<{a}>")).await;
        assert!(rcpt.starts_with("451"), "{rcpt}");
        let healthz = srv
            .http
            .get(srv.url("healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(healthz, 503);
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Back: everything recovers without a restart.
        set_outage(&pool, &db, false).await;
        let back = Instant::now();
        loop {
            let (_, body) = srv
                .call(&api.token, "openapi/user/get", &[("Alias", &a)])
                .await;
            if body.contains(r#""Alias""#) {
                break;
            }
            assert!(
                back.elapsed() < Duration::from_secs(30),
                "the API did not recover: {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        common::deliver(
            &srv,
            &a,
            "Subject: after\r\n\r\nsent once the database was back",
        )
        .await;
        back.elapsed()
    };
    let ((status, notice), recovered_in) = tokio::join!(held, outage);
    // The held poll survived the outage and got the mail that arrived after it.
    assert_eq!(status, 200);
    let notice: serde_json::Value = serde_json::from_str(&notice).unwrap();
    assert_eq!(notice["Subject"], "after", "{notice}");
    assert!(recovered_in < Duration::from_secs(30));
    eprintln!("outage: the API answered again {recovered_in:?} after the database returned");
    // Nothing acknowledged was lost.
    assert_eq!(api.new_count(&a).await, "2");
    pool.close().await;
}
