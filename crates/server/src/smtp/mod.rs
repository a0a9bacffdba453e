//! The SMTP receiver: accepts mail for hosted domains (never relays), enforcing every limit, and
//! answers 250 only after the message is durably stored (`mail::deliver`).
//!
//! `listener` accepts connections under the global and per-address limits; `session` is the
//! ESMTP conversation, generic over its stream so whole dialogues run in memory in tests as well
//! as over TCP. Commands are parsed by `smtp-proto` (Stalwart's parser, no I/O); the state machine
//! and the limits are ours.

pub mod checks;
mod data;
pub mod listener;
pub mod session;

use crate::config::Config;
use std::time::Duration;

/// The limits and names a session works with (from [`Config`]).
#[derive(Clone)]
pub struct SmtpSettings {
    /// Our name in the greeting and `Received:` headers.
    pub hostname: String,
    /// Largest message in bytes (SIZE).
    pub max_message_bytes: usize,
    /// Most recipients per message.
    pub max_recipients: usize,
    /// Longest command line in bytes.
    pub max_line_bytes: usize,
    /// How long to wait for a command.
    pub command_timeout: Duration,
    /// How long a DATA transfer may take.
    pub data_timeout: Duration,
    /// Bad commands tolerated per session.
    pub max_bad_commands: u32,
    /// Refused recipients tolerated in one session before it is closed.
    pub max_rejected_recipients: u32,
    /// The tarpit's step: the delay before refusing a recipient grows by this much.
    pub rejected_recipient_delay: Duration,
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once per client address.
    pub max_connections_per_ip: usize,
    /// Offers STARTTLS when set.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// The default mailbox quota in bytes, for members without their own (`None`: none).
    pub mailbox_quota: Option<i64>,
    /// SPF, DKIM and DMARC checks on received mail (`inbound_auth`); `None`: off.
    pub checks: Option<std::sync::Arc<checks::Checker>>,
    /// Spam scoring of received mail (`rspamd_url`); `None`: off.
    pub spam: Option<std::sync::Arc<crate::mail::spam::Rspamd>>,
    /// The sandboxes whose SMTP faults apply to recipients (set by the server).
    pub sandbox: Option<crate::sandbox::Sandbox>,
}

pub use crate::tls::TlsError;

impl SmtpSettings {
    /// The SMTP settings of a configuration, loading the TLS certificate if one is configured.
    pub fn from_config(c: &Config) -> Result<SmtpSettings, TlsError> {
        let tls = if c.smtp_tls_cert_file.as_os_str().is_empty() {
            None
        } else {
            Some(
                crate::tls::acceptor(&c.smtp_tls_cert_file, &c.smtp_tls_key_file)
                    .map_err(|e| e.of("SMTP"))?,
            )
        };
        Ok(SmtpSettings {
            hostname: c.smtp_hostname.clone(),
            max_message_bytes: c.smtp_max_message_bytes,
            max_recipients: c.smtp_max_recipients,
            max_line_bytes: c.smtp_max_line_bytes,
            command_timeout: Duration::from_secs(c.smtp_command_timeout_secs),
            data_timeout: Duration::from_secs(c.smtp_data_timeout_secs),
            max_bad_commands: c.smtp_max_bad_commands,
            max_rejected_recipients: c.smtp_max_rejected_recipients,
            rejected_recipient_delay: Duration::from_millis(c.smtp_rejected_recipient_delay_ms),
            max_connections: c.smtp_max_connections,
            max_connections_per_ip: c.smtp_max_connections_per_ip,
            tls,
            mailbox_quota: crate::mail::quota::default_bytes(c.mailbox_quota_mb),
            checks: if c.inbound_auth {
                checks::Checker::new(&c.dns_servers, &c.smtp_hostname, c.dmarc_enforce)
            } else {
                None
            },
            spam: crate::mail::spam::Rspamd::from_config(c),
            sandbox: None,
        })
    }
}
