//! The SMTP receiver: accepts mail for hosted domains (never relays), enforcing every limit, and
//! answers 250 only after the message is durably stored (`mail::deliver`).
//!
//! `listener` accepts connections under the global and per-address limits; `session` is the
//! ESMTP conversation, generic over its stream so whole dialogues run in memory in tests as well
//! as over TCP. Commands are parsed by `smtp-proto` (Stalwart's parser, no I/O); the state machine
//! and the limits are ours.

pub mod listener;
pub mod session;

use crate::config::Config;
use std::time::Duration;

/// The limits and names a session works with (from [`Config`]).
#[derive(Debug, Clone)]
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
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once per client address.
    pub max_connections_per_ip: usize,
}

impl SmtpSettings {
    /// The SMTP settings of a configuration.
    pub fn from_config(c: &Config) -> SmtpSettings {
        SmtpSettings {
            hostname: c.smtp_hostname.clone(),
            max_message_bytes: c.smtp_max_message_bytes,
            max_recipients: c.smtp_max_recipients,
            max_line_bytes: c.smtp_max_line_bytes,
            command_timeout: Duration::from_secs(c.smtp_command_timeout_secs),
            data_timeout: Duration::from_secs(c.smtp_data_timeout_secs),
            max_bad_commands: c.smtp_max_bad_commands,
            max_connections: c.smtp_max_connections,
            max_connections_per_ip: c.smtp_max_connections_per_ip,
        }
    }
}
