//! The queue's worker: takes due rows, delivers each with `lettre` (one connection per attempt,
//! opportunistic STARTTLS to an MX, required TLS to a smarthost), and records the outcome. It runs
//! on every node; the lease taken in the store decides who sends a row.

use super::dsn::{self, Failure};
use super::mx::{MxResolver, NoRoute};
use super::{Kick, OutboundSettings};
use crate::push::hub::Hub;
use crate::store::{self, Store, outbound::Due};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

/// How often the queue is looked at without a kick (another node's submissions, retries).
const POLL: Duration = Duration::from_secs(2);
/// Rows taken per look.
const BATCH: i64 = 64;

/// What the worker works with.
struct Ctx {
    store: Store,
    hub: Hub,
    settings: OutboundSettings,
    mx: MxResolver,
    per_domain: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Starts the worker; it stops when `stopped` turns true, after the attempts under way.
pub(crate) fn spawn(
    store: Store,
    hub: Hub,
    settings: OutboundSettings,
    kick: Kick,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let ctx = Arc::new(Ctx {
        mx: MxResolver::new(settings.mx_override.clone(), &settings.dns_servers),
        store,
        hub,
        settings,
        per_domain: Mutex::new(HashMap::new()),
    });
    tokio::spawn(async move {
        let total = Arc::new(Semaphore::new(ctx.settings.total));
        let mut running = JoinSet::new();
        loop {
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => break,
                () = kick.kicked() => {}
                () = tokio::time::sleep(POLL) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
            while running.try_join_next().is_some() {}
            take_due(&ctx, &total, &mut running).await;
        }
        // Attempts under way finish (each is bounded by the attempt timeout); rows not yet
        // started keep their lease until it runs out, then any node takes them.
        while running.join_next().await.is_some() {}
    })
}

/// Takes as many due rows as there are free delivery slots and starts an attempt for each.
async fn take_due(ctx: &Arc<Ctx>, total: &Arc<Semaphore>, running: &mut JoinSet<()>) {
    loop {
        let free = i64::try_from(total.available_permits())
            .unwrap_or(0)
            .min(BATCH);
        if free == 0 {
            return;
        }
        let now = store::now_ms();
        // Long enough for waiting on the domain's slots and then the attempt itself.
        let lease = now + store::secs_to_ms(ctx.settings.timeout.as_secs().saturating_mul(3) + 60);
        let due = match store::outbound::claim(&ctx.store, now, lease, free).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the outbound queue");
                return;
            }
        };
        let taken = due.len();
        for row in due {
            let Ok(permit) = total.clone().acquire_owned().await else {
                return;
            };
            let ctx = ctx.clone();
            running.spawn(async move {
                attempt(&ctx, row, lease).await;
                drop(permit);
            });
        }
        if i64::try_from(taken).unwrap_or(0) < free {
            return;
        }
    }
}

/// Drops a domain's slots once nobody holds or waits for them, so the map holds only the domains
/// being delivered to, not every domain ever written to.
fn forget_idle_domain(ctx: &Ctx, domain: &str, slot: Arc<Semaphore>) {
    let mut map = ctx.per_domain.lock().unwrap_or_else(|p| p.into_inner());
    // Ours and the map's: no other attempt shares it.
    if Arc::strong_count(&slot) == 2 {
        map.remove(domain);
    }
}

/// How one attempt ended.
enum Outcome {
    Sent,
    /// Refused for good (5xx, no such domain): `(status, diagnostic, remote)`.
    Permanent(String, String, Option<String>),
    /// Try again later.
    Transient(String),
}

/// Delivers one row and records the outcome.
async fn attempt(ctx: &Ctx, row: Due, lease: i64) {
    let raw = match store::outbound::raw(&ctx.store, row.message_id).await {
        Ok(Some(raw)) => raw,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not read a queued message");
            return;
        }
    };
    let slot = {
        let mut map = ctx.per_domain.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(row.domain.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(ctx.settings.per_domain)))
            .clone()
    };
    let Ok(domain_slot) = slot.clone().acquire_owned().await else {
        return;
    };
    let outcome = deliver(ctx, &row, &raw).await;
    drop(domain_slot);
    forget_idle_domain(ctx, &row.domain, slot);
    let now = store::now_ms();
    // The third value is the `log/mail` status the outcome settles (3 sent, 2 bounced, 4 failed).
    let (state, error, next, settled) = match outcome {
        Outcome::Sent => {
            tracing::info!(id = row.id, recipient = %row.recipient, "delivered");
            crate::telemetry::outbound("sent");
            (store::outbound::SENT, String::new(), now, Some(3))
        }
        Outcome::Permanent(status, diagnostic, remote) => {
            tracing::info!(id = row.id, recipient = %row.recipient, %diagnostic, "refused for good");
            crate::telemetry::outbound("failed");
            notify(ctx, &row, &raw, &status, &diagnostic, remote.as_deref()).await;
            (store::outbound::FAILED, diagnostic, now, Some(2))
        }
        Outcome::Transient(error) => {
            let age = Duration::from_millis(u64::try_from(now - row.created_ms).unwrap_or(0));
            if age >= ctx.settings.max_age {
                tracing::info!(id = row.id, recipient = %row.recipient, %error, "given up");
                crate::telemetry::outbound("expired");
                let why = format!(
                    "gave up after {} attempts; the last: {error}",
                    row.attempts + 1
                );
                notify(ctx, &row, &raw, "4.4.7", &why, None).await;
                (store::outbound::FAILED, why, now, Some(4))
            } else {
                let wait = ctx.settings.backoff(row.attempts + 1);
                tracing::debug!(id = row.id, recipient = %row.recipient, %error, ?wait, "will retry");
                crate::telemetry::outbound("deferred");
                let next = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                (store::outbound::QUEUED, error, next, None)
            }
        }
    };
    match store::outbound::finish(&ctx.store, row.id, lease, state, &error, next, now).await {
        Ok(true) => {
            if let Some(status) = settled {
                let sent = (row.message_id, row.recipient.as_str(), row.created_ms);
                if let Err(e) = store::activity::settle_sent(&ctx.store, sent, status).await {
                    tracing::warn!(id = row.id, error = %e, "could not update the mail log");
                }
            }
        }
        Ok(false) => tracing::warn!(
            id = row.id,
            "an outbound row changed hands during its attempt"
        ),
        Err(e) => tracing::error!(id = row.id, error = %e, "could not record a delivery attempt"),
    }
}

/// Tells the sender, unless the message was itself a notice (the null sender).
async fn notify(
    ctx: &Ctx,
    row: &Due,
    raw: &[u8],
    status: &str,
    diagnostic: &str,
    remote: Option<&str>,
) {
    if row.sender.is_empty() {
        return;
    }
    let failure = Failure {
        recipient: &row.recipient,
        diagnostic,
        status,
        remote,
    };
    dsn::send(
        &ctx.store,
        &ctx.hub,
        &ctx.settings.hostname,
        &row.sender,
        &failure,
        raw,
    )
    .await;
}

/// One delivery: through the smarthost, or to each MX in turn until one answers for good.
async fn deliver(ctx: &Ctx, row: &Due, raw: &[u8]) -> Outcome {
    let envelope = match envelope(row) {
        Ok(e) => e,
        Err(why) => return Outcome::Permanent("5.1.3".into(), why, None),
    };
    if let Some(relay) = &ctx.settings.relay {
        let tls = match relay_tls(relay) {
            Ok(t) => t,
            Err(e) => return Outcome::Transient(format!("TLS for {}: {e}", relay.host)),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
            .port(relay.port)
            .tls(tls);
        if !relay.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                relay.username.clone(),
                relay.password.clone(),
            ));
        }
        return send_one(ctx, builder, &relay.host, &envelope, raw).await;
    }
    let targets = match ctx.mx.targets(&row.domain).await {
        Ok(t) => t,
        Err(NoRoute::Permanent(why)) => return Outcome::Permanent("5.1.2".into(), why, None),
        Err(NoRoute::Transient(why)) => return Outcome::Transient(why),
    };
    let mut last = format!("no mail exchanger for {}", row.domain);
    for (host, port) in targets {
        // Opportunistic TLS, as MTAs do between themselves: an MX's certificate is rarely for
        // its name, and refusing to send in clear would only hold the mail back.
        let tls = match TlsParameters::builder(host.clone())
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true)
            .build()
        {
            Ok(p) => Tls::Opportunistic(p),
            Err(_) => Tls::None,
        };
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(port)
            .tls(tls);
        match send_one(ctx, builder, &host, &envelope, raw).await {
            Outcome::Transient(why) => last = why,
            done => return done,
        }
    }
    Outcome::Transient(last)
}

/// The TLS settings towards the smarthost: its mode, and the extra trusted certificates.
fn relay_tls(relay: &super::Relay) -> Result<Tls, lettre::transport::smtp::Error> {
    if relay.tls == super::RelayTls::None {
        return Ok(Tls::None);
    }
    let mut params = TlsParameters::builder(relay.host.clone());
    if let Some(pem) = &relay.ca_pem {
        params = params
            .add_root_certificate(lettre::transport::smtp::client::Certificate::from_pem(pem)?);
    }
    let params = params.build()?;
    Ok(match relay.tls {
        super::RelayTls::Implicit => Tls::Wrapper(params),
        _ => Tls::Required(params),
    })
}

fn envelope(row: &Due) -> Result<lettre::address::Envelope, String> {
    let from = if row.sender.is_empty() {
        None
    } else {
        Some(
            row.sender
                .parse()
                .map_err(|e| format!("sender {}: {e}", row.sender))?,
        )
    };
    let to = row
        .recipient
        .parse()
        .map_err(|e| format!("recipient {}: {e}", row.recipient))?;
    lettre::address::Envelope::new(from, vec![to]).map_err(|e| e.to_string())
}

async fn send_one(
    ctx: &Ctx,
    builder: lettre::transport::smtp::AsyncSmtpTransportBuilder,
    host: &str,
    envelope: &lettre::address::Envelope,
    raw: &[u8],
) -> Outcome {
    let transport: AsyncSmtpTransport<Tokio1Executor> = builder
        .hello_name(ClientId::Domain(ctx.settings.hostname.clone()))
        .timeout(Some(ctx.settings.timeout))
        .build();
    let sending = transport.send_raw(envelope, raw);
    match tokio::time::timeout(ctx.settings.timeout, sending).await {
        Ok(Ok(_)) => Outcome::Sent,
        Ok(Err(e)) if e.is_permanent() => {
            let text = format!("{host} said: {e}");
            let status = enhanced_code(&text).unwrap_or_else(|| "5.0.0".into());
            Outcome::Permanent(status, text, Some(format!("dns; {host}")))
        }
        Ok(Err(e)) => Outcome::Transient(format!("{host}: {e}")),
        Err(_) => Outcome::Transient(format!("{host}: timed out")),
    }
}

/// The first enhanced status code (RFC 3463, `5.1.1`) in a server's answer.
fn enhanced_code(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .find(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3
                && matches!(parts[0], "2" | "4" | "5")
                && parts[1..]
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn enhanced_codes_are_found() {
        assert_eq!(
            super::enhanced_code("mx said: permanent error (550): 5.1.1 No such user here")
                .as_deref(),
            Some("5.1.1")
        );
        assert_eq!(super::enhanced_code("550 no such user 1.2"), None);
    }
}
