//! `bizmail api` and `bizmail listen` against a running `bizmail serve`, on SQLite and on
//! PostgreSQL: calls with parameters as `Name=value`, answers pretty-printed in the server's key
//! order, protocol errors on standard error, and notices printed as they arrive.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{first_run_key, mail, start_with_env};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn bizmail(base: &str, key: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bizmail"));
    c.env("BIZMAIL_LOG", "warn")
        .env("BIZMAIL_URL", base)
        .env("BIZMAIL_ADMIN", "admin")
        .env("BIZMAIL_KEY", key);
    c
}

fn api(base: &str, key: &str, args: &[&str]) -> Output {
    bizmail(base, key).arg("api").args(args).output().unwrap()
}

fn api_ok(base: &str, key: &str, args: &[&str]) -> String {
    let out = api(base, key, args);
    assert!(
        out.status.success(),
        "bizmail api {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn api_and_listen(store: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let node = start_with_env(dir.path(), &store, &[("BIZMAIL_POLL_TIMEOUT_SECS", "2")]);
    let (base, key) = (node.base.clone(), first_run_key(&node));

    // Success without data prints nothing; a list parameter is a repeated name.
    assert_eq!(
        api_ok(
            &base,
            &key,
            &["party/sync", "Action=2", "DstPath=研发/后台"]
        ),
        ""
    );
    let add = [
        "user/sync",
        "Action=2",
        "Alias=bob@example.com",
        "Name=Bob",
        "Password=secret123",
        "PartyPath=研发/后台",
        "Slave=bb@example.com",
        "Slave=bo@example.com",
    ];
    assert_eq!(api_ok(&base, &key, &add), "");
    // A JSON answer is pretty-printed, keys in the server's order.
    let got = api_ok(&base, &key, &["user/get", "Alias=bb@example.com"]);
    let keys: Vec<&str> = got
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split('"').next())
        .collect();
    assert_eq!(
        keys,
        [
            "Alias",
            "Name",
            "Gender",
            "SlaveList",
            "Position",
            "Tel",
            "Mobile",
            "ExtId",
            "Status",
            "PartyList",
            "OpenType"
        ],
        "{got}"
    );
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["SlaveList"], "bb@example.com,bo@example.com");
    // A protocol error goes to standard error, with a failure exit.
    let out = api(&base, &key, &["user/get", "Alias=nobody@example.com"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("user_not_found"),
        "{out:?}"
    );
    assert!(out.stdout.is_empty());
    // Wrong credentials say so.
    let out = bizmail(&base, "0123456789abcdef0123456789abcdef")
        .args(["api", "bizmail/ping"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid_client"),
        "{out:?}"
    );
    let bad = api(&base, &key, &["user/get", "Alias"]);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("NAME=VALUE"),
        "{bad:?}"
    );

    // `listen` prints each notice as it arrives: a new mail, then a directory change (with the
    // user/list it fetched), across idle polls of two seconds.
    #[allow(clippy::zombie_processes)] // killed and waited for below
    let mut listener = bizmail(&base, &key)
        .args(["listen", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(listener.stdout.take().unwrap()).lines();
    // Let the first poll be held before anything happens (it starts from the current version).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    mail(&node.smtp, "bo@example.com", "to the alias").await;
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (first["UserName"].as_str(), first["Subject"].as_str()),
        (Some("bob@example.com"), Some("to the alias")),
        "{first}"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await; // past an idle poll
    api_ok(
        &base,
        &key,
        &[
            "user/sync",
            "Action=3",
            "Alias=bob@example.com",
            "Name=Robert",
        ],
    );
    let second: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        second["List"],
        serde_json::json!([{"Action": 3, "Alias": "bob@example.com"}]),
        "{second}"
    );
    let _ = listener.kill();
    let _ = listener.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_api_and_listen() {
    api_and_listen(vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_api_and_listen() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    api_and_listen(vec!["--database-url".into(), url]).await;
}
