//! Push across restarts and nodes, with real processes: notices created while a client is between
//! polls survive a SIGKILL and restart; on PostgreSQL two nodes share one database, a notice for a
//! mail received by one node reaches a client polling the other, and nothing is lost while a node
//! is down.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{Node, call, first_run_key, mail, start_with_env, token};
use std::time::{Duration, Instant};

const FAST_POLLS: [(&str, &str); 1] = [("BIZMAIL_POLL_TIMEOUT_SECS", "2")];

async fn listen(base: &str, token: &str, ver: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/openapi/listen"))
        .bearer_auth(token)
        .form(&[("Ver", ver)])
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Sets up a member and a client holding the current version; returns (token, version).
async fn client(node: &Node, key: &str, to: &str) -> (String, String) {
    let token = token(&node.base, key).await;
    let r = call(
        &node.base,
        &token,
        "user/sync",
        &[
            ("Action", "2"),
            ("Alias", to),
            ("Name", "P"),
            ("Password", "secret123"),
        ],
    )
    .await;
    assert_eq!(r, "");
    let ver = listen(&node.base, &token, "0").await["Ver"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        listen(&node.base, &token, &ver).await,
        serde_json::json!({"Ret": 0})
    );
    (token, ver)
}

async fn notices_survive_a_restart(store: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let to = "restart@example.com";
    let node = start_with_env(dir.path(), &store, &FAST_POLLS);
    let key = first_run_key(&node);
    let (token, ver) = client(&node, &key, to).await;
    // Mail arrives while the client is between polls; then the server dies.
    for i in 0..3 {
        mail(&node.smtp, to, &format!("r{i}")).await;
    }
    let mut node = node;
    node.child.kill().unwrap();
    node.child.wait().unwrap();
    let node = start_with_env(dir.path(), &store, &FAST_POLLS);
    for i in 0..3 {
        assert_eq!(
            listen(&node.base, &token, &ver).await["Subject"],
            format!("r{i}")
        );
    }
    assert_eq!(
        listen(&node.base, &token, &ver).await,
        serde_json::json!({"Ret": 0})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_notices_survive_a_restart() {
    notices_survive_a_restart(vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notices_survive_a_restart() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    notices_survive_a_restart(vec!["--database-url".into(), url]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    let store = vec!["--database-url".to_owned(), url];
    let dir = tempfile::tempdir().unwrap();
    let slow = [("BIZMAIL_POLL_TIMEOUT_SECS", "20")];
    // Both nodes run in one folder, so they share the key file, as nodes of one database must.
    let a = start_with_env(dir.path(), &store, &slow);
    let key = first_run_key(&a);
    let b = start_with_env(dir.path(), &store, &slow);
    let to = "nodes@example.com";
    let (token, ver) = {
        let token = token(&a.base, &key).await;
        let r = call(
            &a.base,
            &token,
            "user/sync",
            &[
                ("Action", "2"),
                ("Alias", to),
                ("Name", "N"),
                ("Password", "secret123"),
            ],
        )
        .await;
        assert_eq!(r, "");
        let ver = listen(&b.base, &token, "0").await["Ver"]
            .as_str()
            .unwrap()
            .to_owned();
        (token, ver)
    };
    // Become a client on node A (the first poll only registers it; a mail ends it early).
    let first = tokio::time::timeout(Duration::from_secs(1), listen(&a.base, &token, &ver)).await;
    assert!(first.is_err(), "held");
    // A poll held on node A; the mail arrives at node B's SMTP.
    let held = listen(&a.base, &token, &ver);
    let send = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        mail(&b.smtp, to, "via B").await;
        Instant::now()
    };
    let (notice, sent) = tokio::join!(held, send);
    assert_eq!(notice["Subject"], "via B");
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "woken across nodes by NOTIFY, not by the poll timeout"
    );
    // Node A goes down; mail keeps arriving at B; the client carries on polling B.
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    mail(&b.smtp, to, "while A is down 1").await;
    mail(&b.smtp, to, "while A is down 2").await;
    let a2 = start_with_env(dir.path(), &store, &slow);
    mail(&a2.smtp, to, "after A is back").await;
    for s in ["while A is down 1", "while A is down 2", "after A is back"] {
        assert_eq!(listen(&b.base, &token, &ver).await["Subject"], s);
    }
}
