//! `bizmail sandbox …` against a real `bizmail serve` on both backends: every switch refused
//! until the tenant is marked; faults set by the CLI reach the running server (another process)
//! on its next call; the clock moved by the CLI expires the server's tokens; the record exported
//! as a HAR file; unmarking ends it all.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{bizmail, bizmail_refused as refused, call, first_run_key, start, token};

async fn sandbox_commands(store: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), &store);
    let key = first_run_key(&node);
    let d = dir.path();
    let rule = [
        "sandbox",
        "faults",
        "--tenant",
        "example.com",
        "--rule",
        "openapi/bizmail/ping error=1002 count=1",
    ];
    let e = refused(d, &rule, &store);
    assert!(e.contains("not a sandbox"), "{e}");
    let e = refused(
        d,
        &["sandbox", "clock", "--tenant", "example.com", "+2h"],
        &store,
    );
    assert!(e.contains("not a sandbox"), "{e}");
    let e = refused(
        d,
        &["sandbox", "mark", "--tenant", "nowhere.example"],
        &store,
    );
    assert!(e.contains("no tenant"), "{e}");

    let marked = bizmail(d, &["sandbox", "mark", "--tenant", "admin"], &store);
    let control = marked.lines().last().unwrap().trim().to_owned();
    assert!(control.starts_with("bzsb_"), "{marked}");
    let e = refused(
        d,
        &[
            "sandbox",
            "faults",
            "--tenant",
            "example.com",
            "--rule",
            "openapi/bizmail/ping cut=1s",
        ],
        &store,
    );
    assert!(e.contains("openapi/listen only"), "{e}");
    let status = bizmail(d, &rule, &store);
    assert!(status.contains("\"error\":1002"), "{status}");
    // The server, another process, applies it on its next call.
    let t = token(&node.base, &key).await;
    assert!(
        call(&node.base, &t, "bizmail/ping", &[])
            .await
            .contains("\"1002\"")
    );
    assert_eq!(call(&node.base, &t, "bizmail/ping", &[]).await, "");

    let moved = bizmail(
        d,
        &["sandbox", "clock", "--tenant", "example.com", "+1d1h"],
        &store,
    );
    assert!(moved.contains("1d 1h ahead"), "{moved}");
    assert!(
        call(&node.base, &t, "bizmail/ping", &[])
            .await
            .contains("\"1200\""),
        "the token expired"
    );
    let e = refused(
        d,
        &["sandbox", "clock", "--tenant", "example.com", "-2d"],
        &store,
    );
    assert!(e.contains("behind the real one"), "{e}");
    bizmail(
        d,
        &["sandbox", "clock", "--tenant", "example.com", "0"],
        &store,
    );

    let har = d.join("out.har");
    let wrote = bizmail(
        d,
        &[
            "sandbox",
            "record",
            "--tenant",
            "example.com",
            "--har",
            har.to_str().unwrap(),
        ],
        &store,
    );
    assert!(wrote.contains("exchanges written"), "{wrote}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    assert_eq!(doc["log"]["version"], "1.2");
    let entries = doc["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "token, ping (faulted), ping, ping (1200)");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["_fault"] == "error 1002")
            .count(),
        1
    );
    assert!(
        !std::fs::read_to_string(&har).unwrap().contains(&key),
        "the key is masked"
    );
    let table = bizmail(
        d,
        &["sandbox", "record", "--tenant", "example.com", "--clear"],
        &store,
    );
    assert!(
        table.contains("[error 1002]") && table.contains("4 exchanges"),
        "{table}"
    );
    let empty = bizmail(d, &["sandbox", "record", "--tenant", "example.com"], &store);
    assert!(empty.contains("0 exchanges"), "{empty}");

    bizmail(d, &["sandbox", "unmark", "--tenant", "example.com"], &store);
    let e = refused(d, &["sandbox", "status", "--tenant", "example.com"], &store);
    assert!(e.contains("not a sandbox"), "{e}");
    assert_eq!(call(&node.base, &t, "bizmail/ping", &[]).await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sandbox_commands() {
    sandbox_commands(vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sandbox_commands() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    sandbox_commands(vec!["--database-url".into(), url]).await;
}
