//! Metrics in Prometheus' text format, served at `/metrics` to the addresses `metrics_allow` lists
//! (loopback by default). One recorder per process (the `metrics` crate has one global recorder),
//! so servers started side by side in one process, as tests do, share their counters.
//!
//! What is counted: HTTP requests by route, method and status, with their duration; OpenApi calls
//! by endpoint and errcode; SMTP messages accepted and refused; web-mailbox logins by method and
//! outcome; and, sampled when scraped, the `listen` polls held now.

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often pending histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the process's recorder (once) and returns the handle that renders it. `None` when
/// another recorder was installed first (then bizmail's metrics go there, and `/metrics` is
/// empty).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    5.0, 10.0, 30.0, 60.0,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            // `build_recorder` leaves histogram samples pending until something drains them:
            // a scrape does, and without one every request would leave its sample in memory
            // for good. A thread of the process's own (not a task of whichever runtime came
            // first, which tests end) drains them every few seconds.
            let draining = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        draining.run_upkeep();
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start the metrics upkeep thread");
            }
            Some(handle)
        })
        .as_ref()
}

/// The per-call metrics' handles, by their labels. The `metrics` macros allocate and hash their
/// labels on every use, and these run on every HTTP request and API call; a handle kept here costs
/// one short lock and an atomic add instead. Label values are bounded (matched routes, known
/// endpoints, status and error codes), and so is this.
#[derive(Default)]
struct Handles {
    /// By route: the duration histogram, and a counter per method and status.
    http: HashMap<Box<str>, (Histogram, Vec<StatusCounter>)>,
    /// By endpoint: a counter per errcode.
    api: HashMap<Box<str>, Vec<(i64, Counter)>>,
}

/// The request counter of one method and status.
type StatusCounter = (Box<str>, u16, Counter);

fn handles() -> &'static Mutex<Handles> {
    static HANDLES: OnceLock<Mutex<Handles>> = OnceLock::new();
    HANDLES.get_or_init(|| {
        // Handles made before the recorder is installed would count nothing, for good.
        handle();
        Mutex::default()
    })
}

/// An HTTP request answered.
pub fn http_request(route: &str, method: &str, status: u16, seconds: f64) {
    let Ok(mut handles) = handles().lock() else {
        return;
    };
    let (histogram, counters) = match handles.http.get_mut(route) {
        Some(h) => h,
        None => handles.http.entry(route.into()).or_insert_with(|| {
            let h =
                metrics::histogram!("bizmail_http_request_seconds", "route" => route.to_owned());
            (h, Vec::new())
        }),
    };
    histogram.record(seconds);
    match counters
        .iter()
        .find(|(m, s, _)| **m == *method && *s == status)
    {
        Some((_, _, c)) => c.increment(1),
        None => {
            let labels = [
                ("route", route.to_owned()),
                ("method", method.to_owned()),
                ("status", status.to_string()),
            ];
            let c = metrics::counter!("bizmail_http_requests_total", &labels);
            c.increment(1);
            counters.push((method.into(), status, c));
        }
    }
}

/// An OpenApi call, by endpoint (`other` for calls that never got past the credentials, so that a
/// stranger cannot mint label values) and errcode (`0` for success).
pub fn api_call(endpoint: &str, errcode: i64) {
    let Ok(mut handles) = handles().lock() else {
        return;
    };
    let counters = match handles.api.get_mut(endpoint) {
        Some(c) => c,
        None => handles.api.entry(endpoint.into()).or_default(),
    };
    match counters.iter().find(|(e, _)| *e == errcode) {
        Some((_, c)) => c.increment(1),
        None => {
            let c = metrics::counter!(
                "bizmail_api_calls_total",
                "endpoint" => endpoint.to_owned(),
                "errcode" => errcode.to_string()
            );
            c.increment(1);
            counters.push((errcode, c));
        }
    }
}

/// A message at the end of DATA: `accepted` (stored, 250), `too_big` (552) or `failed` (451, the
/// store failed).
pub fn smtp_message(outcome: &'static str) {
    metrics::counter!("bizmail_smtp_messages_total", "outcome" => outcome).increment(1);
}

/// An outbound delivery attempt's end: `sent`, `deferred` (will retry), `failed` (refused for
/// good) or `expired` (given up after the retry period).
pub fn outbound(outcome: &'static str) {
    metrics::counter!("bizmail_outbound_attempts_total", "outcome" => outcome).increment(1);
}

/// A member's verdict taught to rspamd: `spam` or `ham`.
pub fn spam_learned(spam: bool) {
    let kind = if spam { "spam" } else { "ham" };
    metrics::counter!("bizmail_spam_learned_total", "kind" => kind).increment(1);
}

/// A web-mailbox login step: `method` is `sso`, `password` or `code`; `outcome` is `ok`,
/// `code_needed` (a right password, a second factor owed), `refused` or `limited`.
pub fn web_login(method: &'static str, outcome: &'static str) {
    metrics::counter!("bizmail_web_logins_total", "method" => method, "outcome" => outcome)
        .increment(1);
}

/// An HTTP connection turned away at accept: `limit` is `all` or `address`.
pub fn http_refused(limit: &'static str) {
    metrics::counter!("bizmail_http_connections_refused_total", "limit" => limit).increment(1);
}

/// `listen` polls held right now (set when scraped).
pub fn held_polls(n: usize) {
    #[allow(clippy::cast_precision_loss)] // a count of connections fits an f64 exactly
    metrics::gauge!("bizmail_listen_polls_held").set(n as f64);
}
