//! `outbound`: the same load relayed to the same remote MX (a private Postfix delivering to a
//! Maildir) by bizmail (authenticated submission → the queue → the MX) and by a private Postfix
//! relay (SMTP from loopback → its queue → the MX), one after the other in one run. Throughput is
//! messages per second from the first submission to the last arrival; latency is per message,
//! from the `250` at submission to its file appearing in the MX's Maildir. Needs root (Postfix).

use crate::smtp::expect;
use crate::{Args, Outcome};
use base64::Engine as _;
use bizmail_testkit::postfix::{Postfix, Role};
use bizmail_testkit::{Backend, TestServer};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const DOMAIN: &str = "partner.test";

/// `(bizmail, postfix)`.
pub async fn outbound(backend: Backend, args: &Args) -> anyhow::Result<(Outcome, Outcome)> {
    let mx = Postfix::start(Role::Mx { domain: DOMAIN }).await;
    let entry = format!("{DOMAIN}={}", mx.addr);
    let srv = TestServer::builder(backend)
        .with_config(move |c| {
            c.submission_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
            c.submission_allow_plaintext = true;
            c.submission_messages_per_hour = u32::MAX;
            c.smtp_max_connections_per_ip = 4096;
            c.outbound_mx_override = vec![entry];
            c.outbound_connections_per_domain = 20;
        })
        .start()
        .await;
    let sender = format!("bench@{}", srv.tenant().domain);
    let token = srv.token().await;
    let fields = [
        ("Action", "2"),
        ("Alias", sender.as_str()),
        ("Name", "Bench"),
        ("Password", "secret123"),
    ];
    let (_, body) = srv.call(&token, "openapi/user/sync", &fields).await;
    anyhow::ensure!(body.is_empty(), "seeding the member failed: {body}");
    let submission = srv.running().submission_addr.expect("submission on");
    let ours = relay_load(&mx, submission, Some(&sender), &sender, "bizmail", args).await?;
    srv.shutdown().await;
    let relay = Postfix::start(Role::Relay {
        domain: DOMAIN,
        next_hop: mx.addr,
    })
    .await;
    let theirs = relay_load(&mx, relay.addr, None, &sender, "postfix", args).await?;
    Ok((ours, theirs))
}

/// Sends `--messages` messages tagged `tag` through `addr` over `--concurrency` sessions, and
/// waits for all of them at the MX.
async fn relay_load(
    mx: &Postfix,
    addr: std::net::SocketAddr,
    auth: Option<&str>,
    sender: &str,
    tag: &str,
    args: &Args,
) -> anyhow::Result<Outcome> {
    let n = args.messages;
    let accepted: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let filler =
        "The quarterly figures are attached below for your review. 0123456789\r\n".repeat(64);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (accepted, next, filler) = (accepted.clone(), next.clone(), filler.clone());
        let (auth, sender, tag) = (auth.map(str::to_owned), sender.to_owned(), tag.to_owned());
        tasks.push(tokio::spawn(async move {
            let (r, mut w) = TcpStream::connect(addr).await?.into_split();
            let mut r = BufReader::new(r);
            expect(&mut r, "220").await?;
            w.write_all(b"EHLO bench.test\r\n").await?;
            expect(&mut r, "250").await?;
            if let Some(user) = &auth {
                let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0secret123"));
                w.write_all(format!("AUTH PLAIN {plain}\r\n").as_bytes()).await?;
                expect(&mut r, "235").await?;
            }
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let envelope = format!("MAIL FROM:<{sender}>\r\nRCPT TO:<carol@{DOMAIN}>\r\nDATA\r\n");
                w.write_all(envelope.as_bytes()).await?;
                for code in ["250", "250", "354"] {
                    expect(&mut r, code).await?;
                }
                let message = format!("From: {sender}\r\nTo: carol@{DOMAIN}\r\nSubject: {tag}-{i}\r\n\r\n{filler}.\r\n");
                w.write_all(message.as_bytes()).await?;
                expect(&mut r, "250").await?;
                accepted.lock().expect("lock").insert(i, Instant::now());
            }
            w.write_all(b"QUIT\r\n").await?;
            anyhow::Ok(())
        }));
    }
    // Watch the MX's Maildir for this run's messages.
    let mut arrived: HashMap<usize, Instant> = HashMap::new();
    let mut seen_files: HashSet<std::ffi::OsString> = HashSet::new();
    let new = mx.maildir.join("new");
    let deadline = Instant::now() + Duration::from_secs(600);
    let prefix = format!("Subject: {tag}-");
    while arrived.len() < n && Instant::now() < deadline {
        // Senders that gave up leave messages that will never come: stop once the rest is in.
        if tasks.iter().all(|t| t.is_finished())
            && arrived.len() >= accepted.lock().expect("lock").len()
        {
            break;
        }
        for entry in std::fs::read_dir(&new).into_iter().flatten().flatten() {
            if !seen_files.insert(entry.file_name()) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let index = text
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .and_then(|i| i.trim().parse::<usize>().ok());
            if let Some(i) = index {
                arrived.insert(i, Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = start.elapsed();
    let mut errors = 0;
    for t in tasks {
        if !matches!(t.await, Ok(Ok(()))) {
            errors += 1;
        }
    }
    let accepted = accepted.lock().expect("lock").clone();
    let latencies_us = arrived
        .iter()
        .filter_map(|(i, at)| {
            accepted
                .get(i)
                .map(|sent| at.saturating_duration_since(*sent))
        })
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .collect();
    errors += n - arrived.len();
    Ok(Outcome {
        latencies_us,
        elapsed,
        errors,
    })
}
