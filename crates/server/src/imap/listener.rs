//! Accepting IMAP connections under the global and per-address limits: in clear with STARTTLS
//! (`imap_addr`), or TLS from the first byte (`imaps_addr`). The two listeners share one set of
//! limits, so a client cannot double its allowance by using both ports.

use super::ImapSettings;
use super::session::{Ctx, End, Session};
use crate::conn_limits::{ConnLimits, Full};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How a listener's clients start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In clear; STARTTLS is offered when a certificate is configured.
    Plain,
    /// TLS from the first byte (port 993).
    Implicit,
}

/// The connection limits both IMAP listeners share.
pub fn shared_limits(settings: &ImapSettings) -> Arc<ConnLimits> {
    Arc::new(ConnLimits::new(
        settings.max_connections,
        settings.max_connections_per_ip,
    ))
}

/// Accepts connections until `stopped` turns true. Over a limit, a client gets `* BYE` and is
/// closed.
pub async fn serve(
    listener: TcpListener,
    mode: Mode,
    limits: Arc<ConnLimits>,
    ctx: Ctx,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let (mut stream, peer) = tokio::select! {
            () = async { let _ = stopped.wait_for(|s| *s).await; } => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "IMAP accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let ip = peer.ip().to_canonical();
        let place = match limits.admit(ip) {
            Ok(place) => place,
            Err(full) => {
                let reply: &[u8] = match full {
                    Full::Everyone => b"* BYE [UNAVAILABLE] Too many connections, try later\r\n",
                    Full::ThisAddress => {
                        b"* BYE [UNAVAILABLE] Too many connections from your address\r\n"
                    }
                };
                // Implicit TLS clients cannot read a clear-text BYE: they are just closed.
                if mode == Mode::Plain {
                    tokio::spawn(async move {
                        let _ = stream.write_all(reply).await;
                    });
                }
                continue;
            }
        };
        let ctx = ctx.clone().from(ip);
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let tls = ctx.settings.tls.clone();
            let timeout = ctx
                .settings
                .idle_timeout
                .min(std::time::Duration::from_secs(60));
            match (mode, tls) {
                (Mode::Implicit, Some(acceptor)) => {
                    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => {
                            Session::new(tls_stream, ctx, true).run(true).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, %ip, "IMAPS handshake failed"),
                        Err(_) => tracing::debug!(%ip, "IMAPS handshake timed out"),
                    }
                }
                (Mode::Implicit, None) => {}
                (Mode::Plain, tls) => {
                    let end = Session::new(stream, ctx.clone(), false).run(true).await;
                    if let (End::StartTls(stream), Some(acceptor)) = (end, tls) {
                        match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                            Ok(Ok(tls_stream)) => {
                                // No second greeting after STARTTLS (RFC 3501 §6.2.1).
                                Session::new(tls_stream, ctx, true).run(false).await;
                            }
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, %ip, "STARTTLS handshake failed");
                            }
                            Err(_) => tracing::debug!(%ip, "STARTTLS handshake timed out"),
                        }
                    }
                }
            }
            drop(place);
        });
    }
}
