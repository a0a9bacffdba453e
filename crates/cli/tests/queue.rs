//! The outbound queue survives SIGKILL: a spawned `bizmail serve` accepts submitted mail for a
//! domain whose MX is down, tries once, and is killed; a new process on the same store delivers
//! every message exactly once after `bizmail queue retry`, and `bizmail queue list` shows them
//! sent. On SQLite and on PostgreSQL. The remote MX is a minimal SMTP sink in the test (it stands
//! for somebody else's server, not for a part of bizmail).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use base64::Engine as _;
use bizmail_testkit::free_port;
use common::{call, first_run_key, start_with_env, token};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A remote MX that accepts everything and counts messages by subject.
async fn sink(port: u16) -> Arc<Mutex<HashMap<String, usize>>> {
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let counts = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counts = counts.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                let mut subject = String::new();
                let mut in_data = false;
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let reply: &[u8] = if in_data {
                        if let Some(s) = line.strip_prefix("Subject: ") {
                            subject = s.trim().to_owned();
                        }
                        if line == ".\r\n" {
                            in_data = false;
                            *counts.lock().unwrap().entry(subject.clone()).or_insert(0) += 1;
                            b"250 2.0.0 queued\r\n"
                        } else {
                            b""
                        }
                    } else {
                        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                        match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => b"221 bye\r\n",
                            _ => b"250 OK\r\n",
                        }
                    };
                    if !reply.is_empty() {
                        w.write_all(reply).await.unwrap();
                    }
                    line.clear();
                }
            });
        }
    });
    seen
}

/// Submits one message as `user` over plain submission; true on `250`.
async fn submit(port: u16, user: &str, to: &str, subject: &str) -> bool {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0secret123"));
    let dialogue = format!(
        "EHLO t\r\nAUTH PLAIN {plain}\r\nMAIL FROM:<{user}>\r\nRCPT TO:<{to}>\r\nDATA\r\n\
         From: {user}\r\nSubject: {subject}\r\n\r\nbody\r\n.\r\nQUIT\r\n"
    );
    w.write_all(dialogue.as_bytes()).await.unwrap();
    let mut all = String::new();
    let mut line = String::new();
    let read_line = async |r: &mut BufReader<_>, line: &mut String| {
        tokio::time::timeout(Duration::from_secs(20), r.read_line(line)).await
    };
    while read_line(&mut r, &mut line).await.unwrap().unwrap() > 0 {
        all.push_str(&line);
        line.clear();
    }
    all.contains("250 2.0.0 OK: message accepted")
}

/// `bizmail queue …` on the store; its output.
fn queue(dir: &std::path::Path, store: &[String], args: &[&str]) -> String {
    let mut all = vec!["queue"];
    all.extend_from_slice(args);
    common::bizmail(dir, &all, store)
}

async fn kill_and_deliver(store: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (submission, mx) = (free_port(), free_port());
    let sub = format!("127.0.0.1:{submission}");
    let overrides = format!("[\"remote.test=127.0.0.1:{mx}\"]");
    let env = [
        ("BIZMAIL_SUBMISSION_ADDR", sub.as_str()),
        ("BIZMAIL_SUBMISSION_ALLOW_PLAINTEXT", "true"),
        ("BIZMAIL_OUTBOUND_MX_OVERRIDE", overrides.as_str()),
        // One early attempt, then the next only in an hour: no attempt runs when the kill comes.
        ("BIZMAIL_OUTBOUND_RETRY_BASE_SECS", "3600"),
    ];
    let node = start_with_env(dir.path(), &store, &env);
    let key = first_run_key(&node);
    let t = token(&node.base, &key).await;
    let bob = "bob@example.com";
    let added = call(
        &node.base,
        &t,
        "user/sync",
        &[
            ("Action", "2"),
            ("Alias", bob),
            ("Name", "Bob"),
            ("Password", "secret123"),
        ],
    )
    .await;
    assert!(!added.contains("errcode"), "{added}");
    let subjects: Vec<String> = (0..10).map(|i| format!("queued-{i}")).collect();
    for s in &subjects {
        assert!(submit(submission, bob, "carol@remote.test", s).await);
    }
    // Each row is tried once against the dead MX, then waits.
    for _ in 0..100 {
        let listed = queue(dir.path(), &store, &["list", "--state", "queued"]);
        if listed.matches("attempts 1").count() == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = queue(dir.path(), &store, &["list", "--state", "queued"]);
    assert_eq!(listed.matches("attempts 1").count(), 10, "{listed}");
    drop(node); // SIGKILL
    let seen = sink(mx).await;
    let node = start_with_env(dir.path(), &store, &env);
    let retried = queue(dir.path(), &store, &["retry"]);
    assert!(retried.starts_with("10 row(s) due now"), "{retried}");
    for _ in 0..300 {
        if seen.lock().unwrap().len() == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for a second, wrong delivery to show up, were there one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = seen.lock().unwrap().clone();
    for s in &subjects {
        assert_eq!(counts.get(s), Some(&1), "{s}: {counts:?}");
    }
    let sent = queue(dir.path(), &store, &["list", "--state", "sent"]);
    assert_eq!(sent.matches("carol@remote.test").count(), 10, "{sent}");
    drop(node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_queue_survives_sigkill() {
    kill_and_deliver(vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_queue_survives_sigkill() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    kill_and_deliver(vec!["--database-url".into(), url]).await;
}
