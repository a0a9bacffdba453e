//! The IMAP server (RFC 3501 IMAP4rev1, with IDLE, UIDPLUS, MOVE, SPECIAL-USE, NAMESPACE, ID,
//! ENABLE, LITERAL+, UNSELECT, CHILDREN, SASL-IR and CONDSTORE) over the members' folders in the
//! same store as the web mailbox and the push: a flag set here is the same flag everywhere, and
//! `\Seen` in INBOX moves `mail/newcount` and tells `listen`.
//!
//! `listener` plugs the session into `crate::accept` (STARTTLS on `imap_addr`, implicit TLS on
//! `imaps_addr`, global and per-address limits); `session` is one connection's state machine, generic over
//! its stream so dialogues run in memory in tests. Commands are parsed by `imap-codec` (its
//! fragmentizer splits lines and literals under a size bound); responses are written by `wire`.
//! `view` is the selected folder as the client knows it (sequence numbers), `message` reads
//! ENVELOPE, BODYSTRUCTURE and sections out of stored bytes.

mod changes;
mod fetch;
mod folders;
pub mod listener;
mod login;
mod message;
mod search;
pub mod session;
mod view;
mod wire;

/// Folder names on the wire (modified UTF-7, RFC 3501 §5.1.3), for IMAP clients of our own
/// (`bizmail migrate mail` reads another server's folders).
pub use wire::{decode_name as decode_folder_name, encode_name as encode_folder_name, uid_set};

use crate::config::Config;
use std::time::Duration;

/// The limits and switches an IMAP session works with (from [`Config`]).
#[derive(Clone)]
pub struct ImapSettings {
    /// Longest command line, literals aside.
    pub max_line_bytes: usize,
    /// Largest literal (an APPENDed message): the SMTP message size limit.
    pub max_literal_bytes: usize,
    /// How long a client may stay silent, IDLE included (RFC 3501 §5.4: at least 30 minutes).
    pub idle_timeout: Duration,
    /// Bad commands tolerated before the connection is closed.
    pub max_bad_commands: u32,
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once per client address.
    pub max_connections_per_ip: usize,
    /// Whether LOGIN and AUTHENTICATE work without TLS (for loopback tests only).
    pub allow_plaintext: bool,
    /// Offers STARTTLS when set (the SMTP certificate).
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl ImapSettings {
    /// The IMAP settings of a configuration, with the TLS acceptor SMTP loaded.
    pub fn from_config(c: &Config, tls: Option<tokio_rustls::TlsAcceptor>) -> ImapSettings {
        ImapSettings {
            max_line_bytes: c.imap_max_line_bytes,
            max_literal_bytes: c.smtp_max_message_bytes,
            idle_timeout: Duration::from_secs(c.imap_idle_timeout_secs),
            max_bad_commands: c.imap_max_bad_commands,
            max_connections: c.imap_max_connections,
            max_connections_per_ip: c.imap_max_connections_per_ip,
            allow_plaintext: c.imap_allow_plaintext,
            tls,
        }
    }
}
