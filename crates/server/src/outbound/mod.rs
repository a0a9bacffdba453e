//! Sending mail to other domains: a durable queue in the store, a worker that delivers it, DKIM
//! signing, and delivery status notifications.
//!
//! A submitted message for remote recipients is queued in the same transaction as its local
//! copies and its Sent copy ([`crate::mail::submit`]), so the submission's `250` means it is in the
//! queue. The worker ([`worker`]) takes due rows with a compare-and-set lease (nodes sharing one
//! PostgreSQL never send a row twice at once), looks up the MX ([`mx`]; a configured override
//! answers for test domains), delivers with `lettre` over opportunistic STARTTLS (or through a
//! smarthost), and retries with back-off until `outbound_max_age_hours`. A refusal for good, or
//! giving up, puts a delivery status notification (RFC 3464, [`dsn`]) in the sender's INBOX.
//!
//! Delivery is at least once: a node that dies between the remote `250` and recording it sends
//! that recipient again after its lease runs out, as every MTA would.

pub mod dkim;
mod dsn;
mod mx;
mod worker;

use crate::config::Config;
use crate::store::{self, Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub(crate) use worker::spawn;

/// A smarthost: every outbound message goes through it, with credentials, over TLS.
#[derive(Debug, Clone)]
pub struct Relay {
    /// Its host name.
    pub host: String,
    /// Its port (587: STARTTLS; 465: implicit TLS).
    pub port: u16,
    /// The user name, empty for none.
    pub username: String,
    /// The password.
    pub password: String,
    /// How TLS is used with it.
    pub tls: RelayTls,
    /// Extra trusted certificates (PEM), for a relay with a private CA.
    pub ca_pem: Option<Vec<u8>>,
}

/// TLS towards the smarthost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayTls {
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// In clear: a relay on a private network.
    None,
}

/// How the outbound queue works (from [`Config`]).
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// Our name in EHLO.
    pub hostname: String,
    /// Give up on a recipient this long after the message was queued.
    pub max_age: Duration,
    /// The first retry's delay; each later one doubles, up to `retry_max`.
    pub retry_base: Duration,
    /// The longest delay between two attempts.
    pub retry_max: Duration,
    /// Deliveries at once to one domain.
    pub per_domain: usize,
    /// Deliveries at once in all.
    pub total: usize,
    /// How long one delivery attempt (connect, TLS, the whole dialogue) may take.
    pub timeout: Duration,
    /// The smarthost, if one is configured.
    pub relay: Option<Relay>,
    /// Domains whose mail exchangers are configured rather than looked up: domain → `host:port`.
    pub mx_override: HashMap<String, Vec<(String, u16)>>,
    /// Days sent and failed rows stay visible in `bizmail queue list`.
    pub retention: Duration,
    /// The DNS servers for MX lookups (the system's when empty).
    pub dns_servers: Vec<std::net::SocketAddr>,
}

/// Why the outbound settings are unusable.
#[derive(Debug, thiserror::Error)]
#[error("outbound: {0}")]
pub struct SettingsError(String);

impl OutboundSettings {
    /// The settings of a configuration.
    pub fn from_config(c: &Config) -> Result<OutboundSettings, SettingsError> {
        let mut mx_override: HashMap<String, Vec<(String, u16)>> = HashMap::new();
        for entry in &c.outbound_mx_override {
            let (domain, target) = entry.split_once('=').ok_or_else(|| {
                SettingsError(format!(
                    "outbound_mx_override entry {entry:?} is not domain=host:port"
                ))
            })?;
            let target = host_port(target, 25).ok_or_else(|| {
                SettingsError(format!(
                    "outbound_mx_override entry {entry:?} is not domain=host:port"
                ))
            })?;
            mx_override
                .entry(domain.trim().to_ascii_lowercase())
                .or_default()
                .push(target);
        }
        let relay = if c.outbound_relay.trim().is_empty() {
            None
        } else {
            let (host, port) = host_port(&c.outbound_relay, 587).ok_or_else(|| {
                SettingsError(format!(
                    "outbound_relay {:?} is not host:port",
                    c.outbound_relay
                ))
            })?;
            let tls = match c.outbound_relay_tls.as_str() {
                "auto" if port == 465 => RelayTls::Implicit,
                "auto" | "starttls" => RelayTls::StartTls,
                "implicit" => RelayTls::Implicit,
                "none" => RelayTls::None,
                other => {
                    return Err(SettingsError(format!(
                        "outbound_relay_tls {other:?} is not auto, starttls, implicit or none"
                    )));
                }
            };
            let ca_pem = if c.outbound_relay_ca_file.as_os_str().is_empty() {
                None
            } else {
                Some(std::fs::read(&c.outbound_relay_ca_file).map_err(|e| {
                    SettingsError(format!(
                        "outbound_relay_ca_file {}: {e}",
                        c.outbound_relay_ca_file.display()
                    ))
                })?)
            };
            Some(Relay {
                host,
                port,
                username: c.outbound_relay_username.clone(),
                password: c.outbound_relay_password.clone(),
                tls,
                ca_pem,
            })
        };
        Ok(OutboundSettings {
            hostname: c.smtp_hostname.clone(),
            max_age: Duration::from_secs(c.outbound_max_age_hours.saturating_mul(3600)),
            retry_base: Duration::from_secs(c.outbound_retry_base_secs.max(1)),
            retry_max: Duration::from_secs(c.outbound_retry_max_secs.max(1)),
            per_domain: c.outbound_connections_per_domain.max(1),
            total: c.outbound_connections.max(1),
            timeout: Duration::from_secs(c.outbound_timeout_secs.max(1)),
            relay,
            mx_override,
            retention: Duration::from_secs(u64::from(c.outbound_retention_days) * 86_400),
            dns_servers: c.dns_servers.clone(),
        })
    }

    /// The delay before attempt `attempt + 1` after `attempt` failed ones: `retry_base` doubled
    /// per earlier failure, at most `retry_max`.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.retry_base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_max)
    }
}

/// `host:port`, or `host` with `default` for the port.
fn host_port(text: &str, default: u16) -> Option<(String, u16)> {
    let text = text.trim();
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host.to_owned(), port.parse().ok()?)),
        Some(_) => None,
        None if !text.is_empty() => Some((text.to_owned(), default)),
        None => None,
    }
}

/// Wakes the queue's worker when a commit queued something, so it need not wait for its poll.
#[derive(Debug, Clone, Default)]
pub struct Kick(Arc<Notify>);

impl Kick {
    /// Tells the worker there is new work.
    pub fn kick(&self) {
        self.0.notify_one();
    }

    async fn kicked(&self) {
        self.0.notified().await;
    }
}

/// One recipient's row in the queue, as `bizmail queue list` shows it.
#[derive(Debug, Clone)]
pub struct QueueEntry {
    /// The row's id (for `retry` and `drop`).
    pub id: i64,
    /// MAIL FROM.
    pub sender: String,
    /// The remote recipient.
    pub recipient: String,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (Unix ms).
    pub next_ms: i64,
    /// The last attempt's error.
    pub last_error: String,
    /// When it was queued (Unix ms).
    pub created_ms: i64,
}

/// The outbound queue as its operator sees it (`bizmail queue list|retry|drop`).
#[derive(Clone)]
pub struct Queue {
    store: Store,
}

impl Queue {
    /// The queue in `store`.
    pub(crate) fn new(store: Store) -> Queue {
        Queue { store }
    }

    /// The newest `limit` rows, only those in `state` (`queued`, `sent`, `failed`) when given.
    pub async fn list(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<QueueEntry>, StoreError> {
        Ok(store::outbound::list(&self.store, state, limit)
            .await?
            .into_iter()
            .map(|r| QueueEntry {
                id: r.id,
                sender: r.sender,
                recipient: r.recipient,
                state: r.state,
                attempts: r.attempts,
                next_ms: r.next_ms,
                last_error: r.last_error,
                created_ms: r.created_ms,
            })
            .collect())
    }

    /// Makes one row (or, with `None`, every row) that is not yet sent due now; a failed one is
    /// queued again. Returns how many. A running server picks them up within its poll interval.
    pub async fn retry(&self, id: Option<i64>) -> Result<u64, StoreError> {
        store::outbound::retry(&self.store, id.unwrap_or(0), store::now_ms()).await
    }

    /// Removes a row from the queue without sending it; false when there was none.
    pub async fn drop_entry(&self, id: i64) -> Result<bool, StoreError> {
        store::outbound::drop_row(&self.store, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let mut s = OutboundSettings::from_config(&Config::default()).unwrap();
        s.retry_base = Duration::from_secs(60);
        s.retry_max = Duration::from_secs(3600);
        assert_eq!(s.backoff(1), Duration::from_secs(60));
        assert_eq!(s.backoff(2), Duration::from_secs(120));
        assert_eq!(s.backoff(4), Duration::from_secs(480));
        assert_eq!(s.backoff(40), Duration::from_secs(3600));
    }

    #[test]
    fn overrides_and_relays_parse() {
        assert_eq!(
            host_port("mx.test:2526", 25),
            Some(("mx.test".into(), 2526))
        );
        assert_eq!(host_port("mx.test", 25), Some(("mx.test".into(), 25)));
        assert_eq!(host_port(":25", 25), None);
        assert_eq!(host_port("mx:x", 25), None);
        let c = Config {
            outbound_mx_override: vec!["Remote.Test=127.0.0.1:2526".into()],
            ..Config::default()
        };
        let s = OutboundSettings::from_config(&c).unwrap();
        assert_eq!(
            s.mx_override["remote.test"],
            vec![("127.0.0.1".into(), 2526)]
        );
        let bad = Config {
            outbound_mx_override: vec!["remote.test".into()],
            ..Config::default()
        };
        assert!(OutboundSettings::from_config(&bad).is_err());
    }
}
