//! Durability under a crash: a spawned `bizmail serve` is killed with SIGKILL in the middle of a
//! flood of deliveries; after a restart on the same store, every message that got `250` is in its
//! mailbox, whole, and the unread count matches the mailbox. On SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::tenants::Admin;
use common::start;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// Sends one message; true when the server answered 250 to the end of DATA.
async fn send_one(smtp: &str, to: &str, subject: &str) -> bool {
    let Ok(stream) = tokio::net::TcpStream::connect(smtp).await else {
        return false;
    };
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::new(r);
    let mut line = String::new();
    let mut expect = async |r: &mut tokio::io::BufReader<_>, code: &str| -> bool {
        loop {
            line.clear();
            // A reply that never comes (a connection the kill left half-open) is a failed send,
            // not a hung test.
            let read = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut line)).await;
            match read.unwrap_or(Ok(0)) {
                Ok(0) | Err(_) => return false,
                Ok(_) if line.len() >= 4 && line.as_bytes()[3] == b'-' => continue,
                Ok(_) => return line.starts_with(code),
            }
        }
    };
    if !expect(&mut r, "220").await {
        return false;
    }
    let body = format!("EHLO flood\r\nMAIL FROM:<f@outside.example>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
    if w.write_all(body.as_bytes()).await.is_err() {
        return false;
    }
    for code in ["250", "250", "250", "354"] {
        if !expect(&mut r, code).await {
            return false;
        }
    }
    let filler = "lorem ipsum dolor sit amet ".repeat(100);
    let msg = format!("Subject: {subject}\r\n\r\n{filler}\r\nEND-OF-{subject}\r\n.\r\n");
    if w.write_all(msg.as_bytes()).await.is_err() {
        return false;
    }
    expect(&mut r, "250").await
}

async fn flood_kill_restart(store_flags: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), &store_flags);
    let key = node
        .first_run
        .lines()
        .find_map(|l| l.trim().strip_prefix("interface key"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/cgi-bin/token", node.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "admin"),
            ("client_secret", key.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let to = "flood@example.com";
    let r = http
        .post(format!("{}/openapi/user/sync", node.base))
        .bearer_auth(&token)
        .form(&[
            ("Action", "2"),
            ("Alias", to),
            ("Name", "Flood"),
            ("Password", "secret123"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(r, "");

    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    for s in 0..8 {
        let (smtp, acked, stop) = (node.smtp.clone(), acked.clone(), stop.clone());
        senders.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let subject = format!("m-{s}-{i}");
                if send_one(&smtp, to, &subject).await {
                    acked.lock().unwrap().push(subject);
                }
                i += 1;
            }
        }));
    }
    // Let deliveries flow, then kill the server in the middle of them.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut node = node;
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 40,
        "the flood did not get going: {}",
        acked.len()
    );

    // Restart on the same store, then look at the mailbox directly.
    let node2 = start(dir.path(), &store_flags);
    let mut flags = toml::Table::new();
    flags.insert(
        "data_dir".into(),
        toml::Value::String(dir.path().join("bizmail-data").display().to_string()),
    );
    if let Some(url) = store_flags.get(1) {
        flags.insert("database_url".into(), toml::Value::String(url.clone()));
    }
    let config = bizmail_server::Config::load(None, &flags).unwrap();
    let admin = Admin::open(&config).await.unwrap();
    let boxes = admin.mailboxes();
    let member = boxes
        .owner(to)
        .await
        .unwrap()
        .expect("the member's mailbox");
    let copies = boxes.list(&member, 1_000_000, 0).await.unwrap();
    let stored: std::collections::HashSet<&str> =
        copies.iter().map(|c| c.subject.as_str()).collect();
    for s in &acked {
        assert!(stored.contains(s.as_str()), "{s} got 250 but is not stored");
    }
    for c in &copies {
        let raw = boxes.raw(&member, &c.mail_id).await.unwrap().unwrap();
        let text = String::from_utf8(raw).unwrap();
        assert!(
            text.trim_end().ends_with(&format!("END-OF-{}", c.subject)),
            "partial copy of {}",
            c.subject
        );
    }
    let unread = boxes.unread(&member).await.unwrap();
    assert_eq!(
        unread,
        i64::try_from(copies.len()).unwrap(),
        "unread count matches the mailbox"
    );
    // The restarted node serves the same count.
    let n: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/openapi/mail/newcount", node2.base))
        .bearer_auth(&token)
        .form(&[("Alias", to)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(n["NewCount"], copies.len().to_string());
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigkill_during_a_flood_loses_nothing_acknowledged() {
    flood_kill_restart(vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sigkill_during_a_flood_loses_nothing_acknowledged() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    flood_kill_restart(vec!["--database-url".into(), url]).await;
}
