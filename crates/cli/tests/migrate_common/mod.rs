//! What the `migrate` tests share: running the real `bizmail` binary on a test server's store,
//! filling an IMAP source over the wire, and the numbered test messages (each knows its flags
//! and internal date from its number).

#![allow(dead_code)] // not every test uses every helper

use bizmail_server::mail::{Mailboxes, Owner};
use bizmail_testkit::{Backend, TestServer};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// What a `bizmail` run printed, and whether it exited 0.
pub struct Out {
    /// Exit status 0.
    pub ok: bool,
    /// Standard output, then standard error.
    pub text: String,
}

/// The store flags that point `bizmail` at a test server's database and key file.
pub fn store_args(srv: &TestServer) -> Vec<String> {
    let mut args = vec![
        "--data-dir".to_owned(),
        srv.config.data_dir.display().to_string(),
    ];
    if srv.backend == Backend::Postgres {
        args.extend(["--database-url".to_owned(), srv.config.database_url.clone()]);
    }
    args
}

fn command(args: &[&str], store: &[String], env: &[(&str, &str)]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_bizmail"));
    c.env("BIZMAIL_LOG", "warn")
        .envs(env.iter().copied())
        .args(args)
        .args(store)
        .stdin(std::process::Stdio::null());
    c
}

/// Runs `bizmail args… store…` to its end.
pub async fn bizmail(args: &[&str], store: &[String]) -> Out {
    bizmail_env(args, store, &[]).await
}

/// Like [`bizmail`], with environment variables.
pub async fn bizmail_env(args: &[&str], store: &[String], env: &[(&str, &str)]) -> Out {
    let out = command(args, store, env).output().await.unwrap();
    Out {
        ok: out.status.success(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Starts `bizmail`, and kills it (SIGKILL: no chance to tidy up) as soon as `done` says so.
/// Returns false when it ended by itself first.
pub async fn run_and_kill_after<F, Fut>(args: &[&str], store: &[String], done: F) -> bool
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut child = command(args, store, &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if done().await {
            child.kill().await.unwrap();
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("bizmail ran too long");
}

/// Adds a member (password `secret123`) to the server's seeded tenant; returns the address.
pub async fn add_member(srv: &TestServer, local: &str) -> String {
    let address = format!("{local}@{}", srv.tenant().domain);
    let token = srv.token().await;
    let fields = [
        ("Action", "2"),
        ("Alias", address.as_str()),
        ("Name", local),
        ("Password", "secret123"),
    ];
    let (status, body) = srv.call(&token, "openapi/user/sync", &fields).await;
    assert_eq!((status, body.as_str()), (200, ""), "user/sync");
    address
}

/// The number a run reported as copied for `address` (`address: N copied, …`).
pub fn copied_of(text: &str, address: &str) -> u32 {
    let prefix = format!("{address}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no report for {address} in:\n{text}"))
}

/// Messages per folder name of a member here.
pub async fn folder_counts(mailboxes: &Mailboxes, owner: &Owner) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for f in mailboxes.folders(owner).await.unwrap() {
        out.insert(f.name.clone(), mailboxes.counts(f.id).await.unwrap().0);
    }
    out
}

/// A signed-in IMAP session (async-imap, plain, on loopback).
pub async fn imap_login(
    addr: std::net::SocketAddr,
    login: &str,
    password: &str,
) -> async_imap::Session<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().unwrap();
    client
        .login(login, password)
        .await
        .map_err(|e| e.0)
        .unwrap()
}

/// The internal date of message `k`, Unix seconds: an hour apart from 2025-01-01.
pub fn date_of(k: u32) -> i64 {
    1_735_689_600 + i64::from(k) * 3600
}

/// Message `k`: its number in the Message-ID, a Chinese subject, a size that varies.
pub fn message(k: u32) -> String {
    let padding = "填充 padding line\r\n".repeat((k % 5) as usize * 10);
    format!(
        "From: Sender {k} <s{k}@source.example>\r\nTo: someone@source.example\r\n\
         Subject: =?UTF-8?B?5rWL6K+V?= {k}\r\nMessage-ID: <m{k}@source.example>\r\n\
         Date: Wed, 1 Jan 2025 08:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         第{k}封邮件\r\n{padding}"
    )
}

/// The number of a test message, from its Message-ID.
pub fn number_of(raw: &[u8]) -> u32 {
    let text = String::from_utf8_lossy(raw);
    let at = text.find("Message-ID: <m").unwrap() + "Message-ID: <m".len();
    text[at..].split('@').next().unwrap().parse().unwrap()
}

/// The flags message `k` carries at the source.
pub fn flags_of(k: u32) -> Option<String> {
    let mut flags = Vec::new();
    if k.is_multiple_of(3) {
        flags.push("\\Seen");
    }
    if k.is_multiple_of(7) {
        flags.push("\\Flagged");
    }
    if k.is_multiple_of(11) {
        flags.push("\\Answered");
    }
    if k.is_multiple_of(13) {
        flags.push("$Forwarded");
    }
    (!flags.is_empty()).then(|| format!("({})", flags.join(" ")))
}

/// APPENDs messages `start..start+count` to `folder` (its wire name) with their flags and dates.
pub async fn append_many(
    imap: &mut async_imap::Session<TcpStream>,
    folder: &str,
    start: u32,
    count: u32,
) {
    for k in start..start + count {
        let date = chrono::DateTime::from_timestamp(date_of(k), 0)
            .unwrap()
            .format("\"%d-%b-%Y %H:%M:%S +0000\"")
            .to_string();
        imap.append(folder, flags_of(k).as_deref(), Some(&date), message(k))
            .await
            .unwrap();
    }
}

/// A newer-API call (JSON body) whose answer must be a success; the answer.
pub async fn cgi(
    srv: &TestServer,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let url = srv.url(&format!("cgi-bin/{path}?access_token={token}"));
    let v: serde_json::Value = srv
        .http
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["errcode"], 0, "{path}: {v}");
    v
}
