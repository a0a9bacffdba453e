//! `bench`: starts a real bizmail (SQLite and/or a throwaway PostgreSQL) and runs named load
//! scenarios from this same process, printing one table row per scenario and backend.
//!
//! Figures on a shared 2-core machine are noisy: compare rows of one run (the `ceiling` row is a
//! bare axum handler served the same way, so `ping / ceiling` is the cost of bizmail's guard), and
//! prefer medians. The load generator shares the machine with the server; RSS is the whole
//! process's (server and generator).

mod directory;
mod imap;
mod push;
mod sending;
mod smtp;
mod target;
mod webmail;

/// jemalloc, for its count of the live heap (`heap_mb`): RSS keeps what was freed, so it cannot
/// say what held polls cost once the process has been busy.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use anyhow::Context as _;
use bizmail_testkit::{Backend, TestServer};
use clap::Parser;
use std::sync::Arc;
use std::time::{Duration, Instant};
use target::Target;

/// The bench's flags.
#[derive(Parser)]
#[command(about = "Run bizmail load scenarios against a real server and print a table")]
pub struct Args {
    /// Scenarios to run: token, ping, user-get, cgi-user-get, ceiling, listener-ceiling,
    /// smtp-ingest, push-latency, push-fanout,
    /// held-polls, cross-node (PostgreSQL only), directory-100k, inbox, read-mail, imap-fetch,
    /// imap-idle (the last two beside Debian's Dovecot), outbound (beside Debian's Postfix;
    /// needs root) (default: all).
    scenarios: Vec<String>,
    /// Backends: sqlite, postgres, or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent clients (keep-alive connections, SMTP sessions).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Mails in the mailbox `imap-fetch` syncs with mbsync.
    #[arg(long, default_value_t = 10_000)]
    mails: usize,
    /// Mails of `push-latency`, `cross-node` and `imap-idle`.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Messages `outbound` relays through bizmail and through Postfix each.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Clients of one tenant in `push-fanout`.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Polls held in `held-polls`.
    #[arg(long, default_value_t = 10_000)]
    polls: usize,
    /// Tenants the polls of `held-polls` are spread over.
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Members in the generated directory of `directory-100k`.
    #[arg(long, default_value_t = 100_000)]
    members: usize,
    /// Departments in the generated directory of `directory-100k`.
    #[arg(long, default_value_t = 2_000)]
    departments: usize,
    /// Load a server that is already running (its HTTP base URL) instead of starting one: the
    /// scenarios token, ping, user-get, smtp-ingest, push-latency and push-fanout, plus the
    /// in-process ceiling. It must allow the load (token rate, connections per address).
    #[arg(long, value_name = "URL", requires_all = ["admin", "key", "domain", "smtp"])]
    external: Option<String>,
    /// With --external: the admin account (`client_id`).
    #[arg(long, value_name = "NAME")]
    admin: Option<String>,
    /// With --external: its interface key (`client_secret`).
    #[arg(long, env = "BENCH_KEY", value_name = "KEY", hide_env_values = true)]
    key: Option<String>,
    /// With --external: a mail domain of that admin's tenant (members are added to it).
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// With --external: the SMTP listener receiving that domain's mail.
    #[arg(long, value_name = "HOST:PORT")]
    smtp: Option<std::net::SocketAddr>,
}

/// What `--external` can run: the scenarios that need nothing but the API and SMTP.
const EXTERNAL: [&str; 8] = [
    "token",
    "ping",
    "user-get",
    "ceiling",
    "listener-ceiling",
    "smtp-ingest",
    "push-latency",
    "push-fanout",
];

/// Latencies and throughput of one scenario.
pub struct Outcome {
    /// One latency per successful request, in microseconds.
    pub latencies_us: Vec<u64>,
    /// How long the scenario ran.
    pub elapsed: Duration,
    /// Failed requests.
    pub errors: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The child process of `held-polls` (see push::held_polls).
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--hold-polls") && argv.len() == 4 {
        return push::hold_polls(std::path::Path::new(&argv[2]), &argv[3]).await;
    }
    let args = Args::parse();
    let all = [
        "token",
        "ping",
        "user-get",
        "cgi-user-get",
        "ceiling",
        "listener-ceiling",
        "smtp-ingest",
        "push-latency",
        "push-fanout",
        "held-polls",
        "cross-node",
        "directory-100k",
        "inbox",
        "read-mail",
        "imap-fetch",
        "imap-idle",
        "outbound",
    ];
    let scenarios: Vec<String> = if args.scenarios.is_empty() {
        all.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.scenarios.clone()
    };
    for s in &scenarios {
        anyhow::ensure!(
            all.contains(&s.as_str()),
            "unknown scenario {s:?}; known: {all:?}"
        );
    }
    if scenarios.iter().any(|s| s.starts_with("imap-")) {
        for (program, package) in [("mbsync", "isync"), ("dovecot", "dovecot-imapd")] {
            anyhow::ensure!(
                imap::on_path(program),
                "the IMAP scenarios need {program}: apt-get install {package}"
            );
        }
    }
    if let Some(base) = &args.external {
        return external(base, &args, &scenarios).await;
    }
    let backends = match args.backend.as_str() {
        "sqlite" => vec![Backend::Sqlite],
        "postgres" => vec![Backend::Postgres],
        "both" => vec![Backend::Sqlite, Backend::Postgres],
        other => anyhow::bail!("unknown backend {other:?}"),
    };
    print_header();
    // `held-polls` and `push-fanout` hold that many connections from 127.0.0.1 at once.
    let held = args.polls.max(args.clients) + 1024;
    for backend in backends {
        let srv = TestServer::builder(backend)
            .with_config(move |c| {
                c.http_max_connections = c.http_max_connections.max(held);
                c.http_max_connections_per_ip = c.http_max_connections_per_ip.max(held);
                c.token_requests_per_minute = u32::MAX;
                c.api_requests_per_second = 0;
                c.db_max_connections = std::env::var("BENCH_DB_CONNS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(16);
                c.poll_timeout_secs = 120;
                c.smtp_max_connections_per_ip = 4096;
                c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
                c.imap_allow_plaintext = true;
            })
            .start()
            .await;
        let target = Target::of(&srv);
        for s in &scenarios {
            if let Some(outcome) = api_scenario(&target, s, &args).await? {
                print_row(s, label(backend), &outcome);
                continue;
            }
            let outcome = match s.as_str() {
                "cgi-user-get" => directory::cgi_user_get(&srv, &args).await?,
                "inbox" => webmail::inbox(&srv, &args).await?,
                "read-mail" => webmail::read(&srv, &args).await?,
                "held-polls" => push::held_polls(&srv, args.polls, args.tenants).await?,
                "cross-node" => {
                    if backend != Backend::Postgres {
                        continue;
                    }
                    let second = TestServer::builder(backend)
                        .second_node_of(&srv)
                        .start()
                        .await;
                    let o = push::latency(&target, Some(second.smtp_addr()), args.rounds).await?;
                    second.shutdown().await;
                    o
                }
                "imap-fetch" | "imap-idle" => {
                    let (ours, theirs) = if s == "imap-fetch" {
                        imap::fetch(&srv, &args).await?
                    } else {
                        imap::idle(&srv, &args).await?
                    };
                    print_row(s, label(backend), &ours);
                    print_row(s, "dovecot", &theirs);
                    continue;
                }
                "outbound" => {
                    let (ours, theirs) = sending::outbound(backend, &args).await?;
                    print_row(s, label(backend), &ours);
                    print_row(s, "postfix", &theirs);
                    continue;
                }
                "directory-100k" => {
                    directory::run(&srv, backend, args.members, args.departments).await?;
                    continue;
                }
                other => anyhow::bail!("no runner for scenario {other}"),
            };
            print_row(s, label(backend), &outcome);
        }
        srv.shutdown().await;
    }
    Ok(())
}

/// Runs one of the scenarios that need only the API and SMTP (`None`: not one of them).
async fn api_scenario(t: &Target, s: &str, args: &Args) -> anyhow::Result<Option<Outcome>> {
    Ok(Some(match s {
        "token" => token_scenario(t, args).await?,
        "ping" => ping_scenario(t, args).await?,
        "user-get" => user_get_scenario(t, args).await?,
        "ceiling" => ceiling_scenario(args).await?,
        "listener-ceiling" => listener_ceiling_scenario(args).await?,
        "smtp-ingest" => smtp::ingest(t, args).await?,
        "push-latency" => push::latency(t, None, args.rounds).await?,
        "push-fanout" => push::fanout(t, args.clients).await?,
        _ => return Ok(None),
    }))
}

/// `--external`: the API scenarios against a server someone else runs, one row each.
async fn external(base: &str, args: &Args, scenarios: &[String]) -> anyhow::Result<()> {
    let named = |v: &Option<String>, flag: &str| {
        v.clone()
            .ok_or_else(|| anyhow::anyhow!("--external needs --{flag}"))
    };
    let target = Target::new(
        base.to_owned(),
        (named(&args.admin, "admin")?, named(&args.key, "key")?),
        named(&args.domain, "domain")?,
        args.smtp
            .ok_or_else(|| anyhow::anyhow!("--external needs --smtp"))?,
    );
    let chosen: Vec<&String> = if args.scenarios.is_empty() {
        scenarios
            .iter()
            .filter(|s| EXTERNAL.contains(&s.as_str()))
            .collect()
    } else {
        for s in scenarios {
            anyhow::ensure!(
                EXTERNAL.contains(&s.as_str()),
                "{s} needs the bench's own server; with --external: {EXTERNAL:?}"
            );
        }
        scenarios.iter().collect()
    };
    // A wrong key or URL is said once, before any load.
    target.token().await?;
    print_header();
    for s in chosen {
        if let Some(outcome) = api_scenario(&target, s, args).await? {
            let row = if s.ends_with("ceiling") {
                "in-process"
            } else {
                "external"
            };
            print_row(s, row, &outcome);
        }
    }
    Ok(())
}

async fn token_scenario(t: &Target, args: &Args) -> anyhow::Result<Outcome> {
    let url = t.url("cgi-bin/token");
    let form = Arc::new(format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        t.admin, t.key
    ));
    load(args, move |http| {
        let (url, form) = (url.clone(), form.clone());
        async move {
            let r = http
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form.as_str().to_owned())
                .send()
                .await?;
            Ok(r.text().await?.contains("access_token"))
        }
    })
    .await
}

async fn ping_scenario(t: &Target, args: &Args) -> anyhow::Result<Outcome> {
    let token = Arc::new(t.token().await?);
    let url = t.url("openapi/bizmail/ping");
    load(args, move |http| {
        let (url, token) = (url.clone(), token.clone());
        async move {
            let r = http.post(&url).bearer_auth(token.as_str()).send().await?;
            Ok(r.status() == 200 && r.text().await?.is_empty())
        }
    })
    .await
}

async fn user_get_scenario(t: &Target, args: &Args) -> anyhow::Result<Outcome> {
    let token = Arc::new(t.token().await?);
    let tag = bizmail_testkit::random_tag();
    let alias = format!("bench.user.{tag}@{}", t.domain);
    let (_, body) = t
        .call(
            &token,
            "openapi/user/sync",
            &[
                ("Action", "2"),
                ("Alias", &alias),
                ("Name", "Bench User"),
                ("Password", "secret123"),
                ("Slave", &format!("bench.alias.{tag}@{}", t.domain)),
            ],
        )
        .await?;
    anyhow::ensure!(body.is_empty(), "seeding the member failed: {body}");
    let url = t.url("openapi/user/get");
    let form = Arc::new(format!("Alias={alias}"));
    load(args, move |http| {
        let (url, token, form) = (url.clone(), token.clone(), form.clone());
        async move {
            let r = http
                .post(&url)
                .bearer_auth(token.as_str())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form.as_str().to_owned())
                .send()
                .await?;
            Ok(r.text().await?.contains("\"Alias\""))
        }
    })
    .await
}

/// The HTTP ceiling: a bare axum handler on the same runtime, served the same way.
async fn ceiling_scenario(args: &Args) -> anyhow::Result<Outcome> {
    let app = axum::Router::new().route("/", axum::routing::post(|| async { "" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let outcome = bare_load(args, url).await;
    server.abort();
    outcome
}

/// The load of both ceilings: an empty POST answered by an empty 200.
async fn bare_load(args: &Args, url: String) -> anyhow::Result<Outcome> {
    load(args, move |http| {
        let url = url.clone();
        async move {
            let r = http.post(&url).send().await?;
            Ok(r.status() == 200 && r.text().await?.is_empty())
        }
    })
    .await
}

/// The same bare handler behind bizmail's own HTTP listener (its connection limits, header and
/// body timeouts, graceful drain), with the default limits: `ping / listener-ceiling` is the cost
/// of the guard alone, `listener-ceiling / ceiling` the cost of the listener's hardening.
async fn listener_ceiling_scenario(args: &Args) -> anyhow::Result<Outcome> {
    let app = axum::Router::new().route("/", axum::routing::post(|| async { "" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let limits =
        bizmail_server::HttpLimits::from_config(&bizmail_server::config::Config::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(bizmail_server::serve_http(
        listener, app, limits, None, stopped,
    ));
    let outcome = bare_load(args, url).await;
    let _ = stop.send(true);
    let _ = server.await;
    outcome
}

/// Runs `request` from `concurrency` tasks until the time is up; each returns whether the answer
/// was the expected one.
pub async fn load<F, Fut>(args: &Args, request: F) -> anyhow::Result<Outcome>
where
    F: Fn(reqwest::Client) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<bool>> + Send,
{
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .context("HTTP client")?;
    // Warm up connections and caches.
    for _ in 0..args.concurrency {
        let _ = request(http.clone()).await;
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (http, request) = (http.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                match request(http.clone()).await {
                    Ok(true) => {
                        lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    Outcome::gather(tasks, start).await
}

impl Outcome {
    /// Waits for load tasks that each return `(latencies in µs, errors)` and adds them up.
    pub async fn gather(
        tasks: Vec<tokio::task::JoinHandle<(Vec<u64>, usize)>>,
        start: Instant,
    ) -> anyhow::Result<Outcome> {
        let mut latencies_us = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await?;
            latencies_us.extend(l);
            errors += e;
        }
        Ok(Outcome {
            latencies_us,
            elapsed: start.elapsed(),
            errors,
        })
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

/// The resident memory of this process, in MB.
pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The bytes this process has allocated and not freed, in MB (jemalloc's statistics).
pub fn heap_mb() -> f64 {
    use tikv_jemalloc_ctl::{epoch, stats};
    // The statistics are a snapshot, refreshed by advancing the epoch.
    let _ = epoch::advance();
    stats::allocated::read().map_or(0.0, |b| b as f64 / (1024.0 * 1024.0))
}

fn label(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn print_header() {
    println!(
        "{:<12} {:<9} {:>9} {:>11} {:>10} {:>10} {:>8} {:>8}",
        "scenario", "backend", "requests", "req/s", "median ms", "p99 ms", "errors", "RSS MB"
    );
}

fn print_row(scenario: &str, backend: &str, o: &Outcome) {
    let mut sorted = o.latencies_us.clone();
    sorted.sort_unstable();
    println!(
        "{:<12} {:<9} {:>9} {:>11.0} {:>10.3} {:>10.3} {:>8} {:>8.1}",
        scenario,
        backend,
        sorted.len(),
        sorted.len() as f64 / o.elapsed.as_secs_f64(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        o.errors,
        rss_mb()
    );
}
