//! The POP3 server (RFC 1939 with UIDL and TOP, RFC 2449 CAPA, STLS and AUTH PLAIN): the older
//! way mail clients read a mailbox (Foxmail and others in Chinese offices, getmail, fetchmail).
//! It reads INBOX from the same store as IMAP and the web mailbox, with the same logins and rate
//! limits. `session` is the conversation; this module plugs it into `crate::accept`
//! (`pop3_addr` with STLS, `pop3s_addr` with implicit TLS).

pub mod session;

use crate::accept::{Ended, Service};
use crate::auth::Auth;
use crate::conn_limits::Full;
use crate::http::Limiters;
use crate::mail::mailbox::Mailboxes;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// RFC 1939 §3: the autologout timer is at least 10 minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// What a POP3 session needs from the configuration.
#[derive(Clone)]
pub struct Pop3Settings {
    /// How long a client may stay silent.
    pub idle_timeout: Duration,
    /// Bad commands tolerated before the connection is closed.
    pub max_bad_commands: u32,
    /// Whether USER/PASS and AUTH work without TLS (`imap_allow_plaintext`, for tests).
    pub allow_plaintext: bool,
    /// Offers STLS when set (the SMTP certificate).
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// POP3 sessions: the settings and the rooms they work through. Cheap to clone.
#[derive(Clone)]
pub struct Pop3 {
    pub(crate) settings: Pop3Settings,
    pub(crate) mailboxes: Mailboxes,
    pub(crate) auth: Auth,
    pub(crate) limits: Arc<Limiters>,
    pub(crate) ip: IpAddr,
}

impl Pop3 {
    /// POP3 sessions over these rooms, with the configuration's switches.
    pub fn new(
        config: &crate::Config,
        tls: Option<tokio_rustls::TlsAcceptor>,
        mailboxes: Mailboxes,
        auth: Auth,
        limits: Arc<Limiters>,
    ) -> Pop3 {
        Pop3 {
            settings: Pop3Settings {
                idle_timeout: IDLE_TIMEOUT,
                max_bad_commands: config.imap_max_bad_commands,
                allow_plaintext: config.imap_allow_plaintext,
                tls,
            },
            mailboxes,
            auth,
            limits,
            ip: IpAddr::from([127, 0, 0, 1]),
        }
    }

    /// The same sessions for a client at `ip`.
    pub fn from(mut self, ip: IpAddr) -> Pop3 {
        self.ip = ip;
        self
    }
}

impl Service for Pop3 {
    fn busy(&self, full: Full) -> &'static [u8] {
        match full {
            Full::Everyone => b"-ERR [SYS/TEMP] Too many connections, try later\r\n",
            Full::ThisAddress => b"-ERR [SYS/TEMP] Too many connections from your address\r\n",
        }
    }

    fn tls(&self) -> Option<tokio_rustls::TlsAcceptor> {
        self.settings.tls.clone()
    }

    async fn serve<S>(&self, stream: S, ip: IpAddr, tls: bool, greet: bool) -> Ended<S>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match session::Session::new(stream, self.clone().from(ip), tls)
            .run(greet)
            .await
        {
            session::End::Upgrade(s) => Ended::Upgrade(s),
            session::End::Done => Ended::Done,
        }
    }
}
