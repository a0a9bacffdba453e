//! IMAP's side of the accept loop (`crate::accept`): the session it runs, its refusal when a
//! limit is reached, and STARTTLS handing the stream back for the handshake.

use super::session::{Ctx, End, Session};
use crate::accept::{Ended, Service};
use crate::conn_limits::Full;
use std::net::IpAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// IMAP sessions for the accept loop.
#[derive(Clone)]
pub struct Imap(pub Ctx);

impl Service for Imap {
    fn busy(&self, full: Full) -> &'static [u8] {
        match full {
            Full::Everyone => b"* BYE [UNAVAILABLE] Too many connections, try later\r\n",
            Full::ThisAddress => b"* BYE [UNAVAILABLE] Too many connections from your address\r\n",
        }
    }

    fn tls(&self) -> Option<tokio_rustls::TlsAcceptor> {
        self.0.settings.tls.clone()
    }

    async fn serve<S>(&self, stream: S, ip: IpAddr, tls: bool, greet: bool) -> Ended<S>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // No second greeting after STARTTLS (RFC 3501 §6.2.1).
        match Session::new(stream, self.0.clone().from(ip), tls)
            .run(greet)
            .await
        {
            End::StartTls(stream) => Ended::Upgrade(stream),
            End::Over | End::Closed => Ended::Done,
        }
    }
}
