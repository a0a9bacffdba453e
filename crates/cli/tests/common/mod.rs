//! Spawning `bizmail serve` for tests that need a real process (crash, restart, two nodes).

#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `bizmail serve` process, killed when dropped.
pub struct Node {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The SMTP address.
    pub smtp: String,
    /// What it printed before it was serving (the first-run secrets).
    pub first_run: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bizmail serve` in `dir` with the store flags, ports chosen by the system.
pub fn start(dir: &std::path::Path, store: &[String]) -> Node {
    start_with_env(dir, store, &[])
}

/// Like [`start`], with extra environment variables (`BIZMAIL_*` configuration).
pub fn start_with_env(dir: &std::path::Path, store: &[String], env: &[(&str, &str)]) -> Node {
    #[allow(clippy::zombie_processes)] // `Node::drop` kills and waits for it
    let mut child = Command::new(env!("CARGO_BIN_EXE_bizmail"))
        .env("BIZMAIL_LOG", "warn")
        // No DNS leaves a test machine: inbound SPF/DKIM/DMARC checks would wait on it.
        .env("BIZMAIL_INBOUND_AUTH", "false")
        .envs(env.iter().copied())
        .current_dir(dir)
        .args(["serve", "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
        .args(store)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut first_run = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.strip_prefix("bizmail is serving the OpenApi on ") {
            let base = rest.split_whitespace().next().unwrap().to_owned();
            let smtp = rest
                .split(" and SMTP on ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            // Keep reading what the server prints, so it never writes into a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Node {
                child,
                base,
                smtp,
                first_run,
            };
        }
        first_run.push_str(&line);
        first_run.push('\n');
    }
    panic!("serve did not start:\n{first_run}");
}

/// The interface key a first run printed.
pub fn first_run_key(node: &Node) -> String {
    node.first_run
        .lines()
        .find_map(|l| l.trim().strip_prefix("interface key"))
        .and_then(|r| r.split_whitespace().next())
        .expect("a first run prints the key")
        .to_owned()
}

/// A token for `admin` with `key`.
pub async fn token(base: &str, key: &str) -> String {
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/cgi-bin/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "admin"),
            ("client_secret", key),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("JSON");
    v["access_token"].as_str().expect("a token").to_owned()
}

/// Calls `openapi/<endpoint>` with a token and form fields; returns the body.
pub async fn call(base: &str, token: &str, endpoint: &str, fields: &[(&str, &str)]) -> String {
    reqwest::Client::new()
        .post(format!("{base}/openapi/{endpoint}"))
        .bearer_auth(token)
        .form(fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Sends one message to `to` over SMTP and checks it was accepted.
pub async fn mail(smtp: &str, to: &str, subject: &str) {
    let s = tokio::net::TcpStream::connect(smtp).await.unwrap();
    let (r, mut w) = s.into_split();
    let mut r = tokio::io::BufReader::new(r);
    let msg = format!(
        "EHLO t\r\nMAIL FROM:<s@outside.example>\r\nRCPT TO:<{to}>\r\nDATA\r\nSubject: {subject}\r\n\r\nx\r\n.\r\nQUIT\r\n"
    );
    tokio::io::AsyncWriteExt::write_all(&mut w, msg.as_bytes())
        .await
        .unwrap();
    let mut all = String::new();
    let mut line = String::new();
    while tokio::io::AsyncBufReadExt::read_line(&mut r, &mut line)
        .await
        .unwrap()
        > 0
    {
        all.push_str(&line);
        line.clear();
    }
    assert!(all.contains("250 2.0.0"), "{all}");
}

fn run_bizmail(dir: &std::path::Path, args: &[&str], store: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bizmail"))
        .env("BIZMAIL_LOG", "warn")
        .current_dir(dir)
        .args(args)
        .args(store)
        .output()
        .unwrap()
}

/// Runs a `bizmail` command in `dir` with the store flags; asserts it succeeded and returns what
/// it printed.
pub fn bizmail(dir: &std::path::Path, args: &[&str], store: &[String]) -> String {
    let out = run_bizmail(dir, args, store);
    assert!(
        out.status.success(),
        "bizmail {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a `bizmail` command that must fail; returns what it printed on standard error.
pub fn bizmail_refused(dir: &std::path::Path, args: &[&str], store: &[String]) -> String {
    let out = run_bizmail(dir, args, store);
    assert!(!out.status.success(), "bizmail {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
