//! Accepting mail-client connections (IMAP, POP3) under global and per-address limits, in clear
//! with an upgrade to TLS on request (STARTTLS, STLS), or TLS from the first byte (ports 993 and
//! 995). The protocol's session is a [`Service`]; this loop owns the sockets, the limits and the
//! handshakes, so every protocol gets them the same.

use crate::conn_limits::{ConnLimits, Full};
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How a listener's clients start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In clear; the protocol offers its upgrade when a certificate is configured.
    Plain,
    /// TLS from the first byte.
    Implicit,
}

/// How a session over a stream ended.
pub enum Ended<S> {
    /// It is over (the client left, or we closed it).
    Done,
    /// The client asked for TLS and was told to go ahead: the stream, for the handshake.
    Upgrade(S),
}

/// One protocol's sessions, as the accept loop runs them.
pub trait Service: Clone + Send + Sync + 'static {
    /// The line a client over a limit reads before it is closed.
    fn busy(&self, full: Full) -> &'static [u8];

    /// The certificate, when one is configured.
    fn tls(&self) -> Option<tokio_rustls::TlsAcceptor>;

    /// Serves one session; `tls` says whether the stream is encrypted, `greet` is false after
    /// an upgrade (the protocol does not greet twice).
    fn serve<S>(
        &self,
        stream: S,
        ip: IpAddr,
        tls: bool,
        greet: bool,
    ) -> impl Future<Output = Ended<S>> + Send
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static;
}

/// How long a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(60);

/// Accepts connections until `stopped` turns true.
pub async fn serve<T: Service>(
    listener: TcpListener,
    mode: Mode,
    limits: Arc<ConnLimits>,
    service: T,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let (mut stream, peer) = tokio::select! {
            () = async { let _ = stopped.wait_for(|s| *s).await; } => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let ip = peer.ip().to_canonical();
        let place = match limits.admit(ip) {
            Ok(place) => place,
            Err(full) => {
                // A client expecting TLS cannot read a clear-text refusal: it is just closed.
                if mode == Mode::Plain {
                    let reply = service.busy(full);
                    tokio::spawn(async move {
                        let _ = stream.write_all(reply).await;
                    });
                }
                continue;
            }
        };
        let service = service.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let tls = service.tls();
            match (mode, tls) {
                (Mode::Implicit, Some(acceptor)) => {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => {
                            service.serve(tls_stream, ip, true, true).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, %ip, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%ip, "TLS handshake timed out"),
                    }
                }
                (Mode::Implicit, None) => {}
                (Mode::Plain, tls) => {
                    let ended = service.serve(stream, ip, false, true).await;
                    if let (Ended::Upgrade(stream), Some(acceptor)) = (ended, tls) {
                        match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                            Ok(Ok(tls_stream)) => {
                                service.serve(tls_stream, ip, true, false).await;
                            }
                            Ok(Err(e)) => tracing::debug!(error = %e, %ip, "upgrade failed"),
                            Err(_) => tracing::debug!(%ip, "upgrade timed out"),
                        }
                    }
                }
            }
            drop(place);
        });
    }
}

/// Binds a listener for each address given (`None`: off), all sharing `limits`, and serves them.
/// Returns the tasks and the addresses bound, in the order given.
pub async fn start<T: Service>(
    addrs: [(Option<std::net::SocketAddr>, Mode); 2],
    limits: Arc<ConnLimits>,
    service: &T,
    stopped: &watch::Receiver<bool>,
) -> std::io::Result<(
    Vec<tokio::task::JoinHandle<()>>,
    [Option<std::net::SocketAddr>; 2],
)> {
    let mut tasks = Vec::new();
    let mut bound = [None, None];
    for (i, (addr, mode)) in addrs.into_iter().enumerate() {
        let Some(addr) = addr else {
            continue;
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        bound[i] = Some(listener.local_addr()?);
        tasks.push(tokio::spawn(serve(
            listener,
            mode,
            limits.clone(),
            service.clone(),
            stopped.clone(),
        )));
    }
    Ok((tasks, bound))
}
