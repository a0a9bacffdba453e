//! Upgrades: a store written by the previous release (`tests/fixtures/upgrade`, made by its
//! `make.sh` from that release's binary: a tenant with departments, members, an alias, a mail
//! group with an allow list and a delivered mail) opens under this release, on SQLite and on
//! PostgreSQL. Its migrations run, everything it held reads back through both APIs, and the new
//! features work on the old data.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use bizmail_testkit::{Backend, TestServer};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");

/// Copies `from` to `to` with mode 0600 (the data folder's rule).
fn private_copy(from: &str, to: &Path) {
    std::fs::copy(Path::new(FIXTURES).join(from), to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A server on the previous release's store for `backend`.
async fn upgraded(backend: Backend, dir: &Path) -> TestServer {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let database_url = match backend {
        Backend::Sqlite => {
            private_copy("store.sqlite", &data.join("bizmail.sqlite"));
            private_copy("fixture.key", &data.join("secret.key"));
            String::new()
        }
        Backend::Postgres => {
            private_copy("fixture.pg.key", &data.join("secret.key"));
            let url = bizmail_testkit::fresh_postgres_database().await;
            let dump = std::fs::read_to_string(Path::new(FIXTURES).join("store.pg.sql")).unwrap();
            // psql's own meta-commands (`\restrict`) are not SQL.
            let sql: String = dump
                .lines()
                .filter(|l| !l.starts_with('\\'))
                .collect::<Vec<_>>()
                .join("\n");
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            url
        }
    };
    TestServer::builder(backend)
        .with_config(move |c| {
            c.data_dir = data;
            if !database_url.is_empty() {
                c.database_url = database_url;
            }
        })
        .start()
        .await
}

async fn json(r: reqwest::RequestBuilder) -> Value {
    r.send().await.unwrap().json().await.unwrap()
}

async fn the_previous_release_opens_and_works(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let srv = upgraded(backend, dir.path()).await;
    let http = &srv.http;
    // The old API, with the credentials the old release was given.
    let token = json(http.post(srv.url("cgi-bin/token")).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "up"),
        ("client_secret", "0123456789abcdef0123456789abcdef"),
    ]))
    .await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    let bob = json(
        http.post(srv.url("openapi/user/get"))
            .bearer_auth(&token)
            .form(&[("Alias", "bb@upgrade.test")]),
    )
    .await;
    assert_eq!(bob["Alias"], "bob@upgrade.test", "{bob}");
    assert_eq!(bob["PartyList"]["List"][0]["Value"], "研发/后端", "{bob}");
    let count = json(
        http.post(srv.url("openapi/mail/newcount"))
            .bearer_auth(&token)
            .form(&[("Alias", "bob@upgrade.test")]),
    )
    .await;
    assert_eq!(
        count["NewCount"], "1",
        "the mail delivered before the upgrade"
    );

    // The newer API on the old tenant: a corp id and secrets made on first use.
    let admin = srv.running().admin();
    let corp = admin.corp_show("up").await.unwrap();
    let secret = admin
        .corp_reveal("up", "upgrade-pw-1", "directory")
        .await
        .unwrap();
    let got = json(http.get(srv.url(&format!(
        "cgi-bin/gettoken?corpid={}&corpsecret={secret}",
        corp.corp_id
    ))))
    .await;
    let cgi = got["access_token"].as_str().unwrap().to_owned();
    let tree =
        json(http.get(srv.url(&format!("cgi-bin/department/list?access_token={cgi}")))).await;
    let names: Vec<&str> = tree["department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{tree}");
    for n in ["研发", "后端", "市场"] {
        assert!(names.contains(&n), "{tree}");
    }
    let backend_id = tree["department"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "后端")
        .map(|d| d["id"].clone())
        .unwrap();
    let user = json(http.get(srv.url(&format!(
        "cgi-bin/user/get?access_token={cgi}&userid=bob@upgrade.test"
    ))))
    .await;
    assert_eq!(
        user["department"],
        serde_json::json!([backend_id]),
        "{user}"
    );
    assert_eq!(
        (user["enable"].clone(), user["cpwd_login"].clone()),
        (1.into(), 0.into())
    );
    let group = json(http.get(srv.url(&format!(
        "cgi-bin/group/get?access_token={cgi}&groupid=team@upgrade.test"
    ))))
    .await;
    assert_eq!(group["allow_type"], 3, "{group}");
    assert_eq!(
        group["allow_userlist"],
        serde_json::json!(["ann@upgrade.test"])
    );

    // A new write through the newer API lands in the old change log and the old tree.
    let created = json(
        http.post(srv.url(&format!("cgi-bin/department/create?access_token={cgi}")))
            .json(&serde_json::json!({"name": "新部门", "parentid": 1})),
    )
    .await;
    assert_eq!(created["errcode"], 0, "{created}");
    let parties = json(
        http.post(srv.url("openapi/party/list"))
            .bearer_auth(&token)
            .form(&[("PartyPath", "")]),
    )
    .await;
    assert!(parties.to_string().contains("新部门"), "{parties}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_previous_release_opens_and_works() {
    the_previous_release_opens_and_works(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_previous_release_opens_and_works() {
    the_previous_release_opens_and_works(Backend::Postgres).await;
}
