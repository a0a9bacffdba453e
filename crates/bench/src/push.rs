//! Push scenarios (`openapi/listen`):
//! - `push-latency`: from the SMTP `250` at the sender to the held poll's answer at the client,
//!   one mail at a time;
//! - `push-fanout`: one mail to a tenant whose N clients (tokens) all hold a poll: time until the
//!   last of them has its answer;
//! - `held-polls`: N polls held across T tenants (RSS before and after, the whole process: server
//!   and the clients that hold the polls), then one mail per tenant: every poll must be answered;
//! - `cross-node`: two servers on one PostgreSQL database; the poll is held on one, the mail
//!   arrives at the other's SMTP.

use crate::Outcome;
use crate::target::Target;
use bizmail_testkit::{SeededTenant, TestServer};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Sends one mail and returns when the `250` after DATA arrived.
pub(crate) async fn mail(smtp: std::net::SocketAddr, to: &str) -> anyhow::Result<Instant> {
    let (r, mut w) = tokio::net::TcpStream::connect(smtp).await?.into_split();
    let mut r = BufReader::new(r);
    let msg = format!(
        "EHLO b\r\nMAIL FROM:<b@outside.example>\r\nRCPT TO:<{to}>\r\nDATA\r\nSubject: push\r\n\r\nx\r\n.\r\n"
    );
    w.write_all(msg.as_bytes()).await?;
    let mut line = String::new();
    let mut finals = 0;
    loop {
        line.clear();
        anyhow::ensure!(r.read_line(&mut line).await? > 0, "closed");
        if line.as_bytes().get(3) == Some(&b' ') {
            finals += 1;
            // 220, 250 (EHLO), 250 MAIL, 250 RCPT, 354, 250 after DATA
            if finals == 6 {
                anyhow::ensure!(line.starts_with("250"), "{line}");
                let done = Instant::now();
                let _ = w.write_all(b"QUIT\r\n").await;
                return Ok(done);
            }
        }
    }
}

pub(crate) async fn member(
    srv: &TestServer,
    tenant: &SeededTenant,
    token: &str,
    local: &str,
) -> anyhow::Result<String> {
    let to = format!(
        "{local}.{}@{}",
        bizmail_testkit::random_tag(),
        tenant.domain
    );
    let (_, body) = srv
        .call(
            token,
            "openapi/user/sync",
            &[
                ("Action", "2"),
                ("Alias", &to),
                ("Name", "P"),
                ("Password", "secret123"),
            ],
        )
        .await;
    anyhow::ensure!(body.is_empty(), "{body}");
    Ok(to)
}

async fn poll(http: &reqwest::Client, url: &str, token: &str, ver: &str) -> anyhow::Result<String> {
    Ok(http
        .post(url)
        .bearer_auth(token)
        .form(&[("Ver", ver)])
        .send()
        .await?
        .text()
        .await?)
}

/// The version a client of `token` holds after catching up.
async fn caught_up(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_json::from_str(&poll(http, url, token, "0").await?)?;
    Ok(v["Ver"].as_str().unwrap_or("0").to_owned())
}

/// `push-latency` (and `cross-node` when `sender` is another node's SMTP).
pub async fn latency(
    target: &Target,
    sender: Option<std::net::SocketAddr>,
    rounds: usize,
) -> anyhow::Result<Outcome> {
    let token = target.token().await?;
    let to = target.member(&token, "latency").await?;
    let http = reqwest::Client::new();
    let url = target.url("openapi/listen");
    let ver = caught_up(&http, &url, &token).await?;
    let smtp = sender.unwrap_or(target.smtp);
    // Register the client (its first poll creates its cursor at the head).
    let _ = tokio::time::timeout(Duration::from_millis(200), poll(&http, &url, &token, &ver)).await;
    let start = Instant::now();
    let mut latencies_us = Vec::with_capacity(rounds);
    let mut errors = 0;
    for _ in 0..rounds {
        let held = poll(&http, &url, &token, &ver);
        let send = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            mail(smtp, &to).await
        };
        let (answer, sent) = tokio::join!(held, send);
        let arrived = Instant::now();
        match (answer, sent) {
            (Ok(a), Ok(sent)) if a.contains("MailId") => {
                latencies_us.push(
                    u64::try_from(arrived.saturating_duration_since(sent).as_micros()).unwrap_or(0),
                );
            }
            _ => errors += 1,
        }
    }
    Ok(Outcome {
        latencies_us,
        elapsed: start.elapsed(),
        errors,
    })
}

/// `push-fanout`: one mail, `clients` polls of one tenant.
pub async fn fanout(target: &Target, clients: usize) -> anyhow::Result<Outcome> {
    let first = target.token().await?;
    let to = target.member(&first, "fanout").await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let url = target.url("openapi/listen");
    let mut tokens = Vec::with_capacity(clients);
    for _ in 0..clients {
        tokens.push(target.token().await?);
    }
    let ver = caught_up(&http, &url, &tokens[0]).await?;
    let mut held = Vec::with_capacity(clients);
    for t in &tokens {
        let (http, url, t, ver) = (http.clone(), url.clone(), t.clone(), ver.clone());
        held.push(tokio::spawn(async move {
            // The held poll is the client's first: it registers the client at the head of the
            // event log, then waits for the mail.
            let answer = poll(&http, &url, &t, &ver).await;
            (answer, Instant::now())
        }));
    }
    // Give every poll time to reach the server and register before the mail is sent.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let start = Instant::now();
    let sent = mail(target.smtp, &to).await?;
    let mut latencies_us = Vec::with_capacity(clients);
    let mut errors = 0;
    for h in held {
        match h.await? {
            (Ok(a), at) if a.contains("MailId") => {
                latencies_us.push(
                    u64::try_from(at.saturating_duration_since(sent).as_micros()).unwrap_or(0),
                );
            }
            _ => errors += 1,
        }
    }
    Ok(Outcome {
        latencies_us,
        elapsed: start.elapsed(),
        errors,
    })
}

/// `held-polls`: `polls` polls held across `tenants` tenants by a child process (so the polls'
/// client ends have their own open-file budget, and this process's RSS is the server's alone);
/// then one mail per tenant, and every poll must be answered.
pub async fn held_polls(srv: &TestServer, polls: usize, tenants: usize) -> anyhow::Result<Outcome> {
    raise_fd_limit(polls);
    let http = reqwest::Client::new();
    let url = srv.url("openapi/listen");
    let mut setups = Vec::with_capacity(tenants);
    let mut jobs = Vec::with_capacity(polls);
    for i in 0..tenants {
        let t = srv.seed_tenant().await;
        let token = srv.token_for(&t).await;
        let to = member(srv, &t, &token, &format!("held{i}")).await?;
        let ver = caught_up(&http, &url, &token).await?;
        let per_tenant = polls / tenants + usize::from(i < polls % tenants);
        jobs.push(serde_json::json!({ "token": token, "ver": ver }));
        for _ in 1..per_tenant {
            jobs.push(serde_json::json!({ "token": srv.token_for(&t).await, "ver": ver }));
        }
        setups.push(to);
    }
    let file = std::env::temp_dir().join(format!("bizmail-held-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&jobs)?)?;
    // Twice over the same tokens: the first round also pays for what stays after it (each
    // token's first poll creates its cursor, the database's page cache and the grants cache
    // grow); the second is what holding a poll costs once the server is warm. Its answers are
    // the scenario's latencies.
    let mut last = None;
    for round in ["cold", "warm"] {
        last = Some(hold_round(srv, (&file, &url), jobs.len(), (tenants, round), &setups).await?);
    }
    let _ = std::fs::remove_file(&file);
    last.ok_or_else(|| anyhow::anyhow!("no round ran"))
}

/// One round of `held-polls`: a child holds a poll per job, RSS is read once all are held, then a
/// mail per tenant must answer every one of them.
async fn hold_round(
    srv: &TestServer,
    (file, url): (&std::path::Path, &str),
    polls: usize,
    (tenants, round): (usize, &str),
    setups: &[String],
) -> anyhow::Result<Outcome> {
    let (before, heap_before) = (crate::rss_mb(), crate::heap_mb());
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--hold-polls"])
        .arg(file)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut out = BufReader::new(
        child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?,
    )
    .lines();
    let ready = out.next_line().await?.unwrap_or_default();
    anyhow::ensure!(ready.starts_with("sent"), "holder: {ready}");
    // Let every poll reach the server and be held.
    let deadline = Instant::now() + Duration::from_secs(60);
    while srv.running().held_polls() < polls && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let held_now = srv.running().held_polls();
    let (during, heap_during) = (crate::rss_mb(), crate::heap_mb());
    let per_poll = |mb: f64| mb * 1024.0 / held_now.max(1) as f64;
    println!(
        "held-polls ({round}): {held_now} of {polls} polls held across {tenants} tenants; server RSS {before:.0} MB before, {during:.0} MB while held (+{:.1} KB per poll); live heap +{:.1} KB per poll",
        per_poll(during - before),
        per_poll(heap_during - heap_before)
    );
    let start = Instant::now();
    for to in setups {
        mail(srv.smtp_addr(), to).await?;
    }
    let report = out.next_line().await?.unwrap_or_default();
    let _ = child.wait().await;
    // The holder prints "answered <n> <failures> <micros…>".
    let mut parts = report.split_whitespace().skip(1);
    let answered: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let errors: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(polls);
    anyhow::ensure!(answered + errors == polls, "holder report: {report}");
    let latencies_us = parts.filter_map(|n| n.parse().ok()).collect();
    Ok(Outcome {
        latencies_us,
        elapsed: start.elapsed(),
        errors,
    })
}

/// The child side of `held-polls`: holds one poll per job, prints `sent`, then, when all are
/// answered, `answered <n> <failures> <micros since the first answer…>`.
pub async fn hold_polls(file: &std::path::Path, url: &str) -> anyhow::Result<()> {
    let jobs: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(file)?)?;
    raise_fd_limit(jobs.len());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let mut held = Vec::with_capacity(jobs.len());
    for j in jobs {
        let (http, url) = (http.clone(), url.to_owned());
        let token = j["token"].as_str().unwrap_or_default().to_owned();
        let ver = j["ver"].as_str().unwrap_or("0").to_owned();
        held.push(tokio::spawn(async move {
            let answer = poll(&http, &url, &token, &ver).await;
            (answer.is_ok_and(|a| a.contains("MailId")), Instant::now())
        }));
    }
    println!("sent");
    let mut times = Vec::new();
    let mut failures = 0;
    for h in held {
        match h.await {
            Ok((true, at)) => times.push(at),
            _ => failures += 1,
        }
    }
    let first = times.iter().min().copied().unwrap_or_else(Instant::now);
    let micros: Vec<String> = times
        .iter()
        .map(|t| t.duration_since(first).as_micros().to_string())
        .collect();
    println!("answered {} {failures} {}", times.len(), micros.join(" "));
    Ok(())
}

/// Each held poll takes a socket on both ends, in this one process.
fn raise_fd_limit(polls: usize) {
    let want = u64::try_from(polls * 2 + 4096).unwrap_or(u64::MAX);
    if rlimit::setrlimit(rlimit::Resource::NOFILE, want, want).is_err() {
        let _ = rlimit::increase_nofile_limit(want);
    }
}
