//! Accepting SMTP connections under the global and per-address limits: the receiver (port 25),
//! and submission (587 with STARTTLS, 465 with implicit TLS) when given a [`SubmitCtx`].

use super::SmtpSettings;
use super::session::{End, Place, Session, SubmitCtx};
use crate::conn_limits::{ConnLimits, Full};
use crate::store::Store;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What a listener serves.
#[derive(Clone)]
pub(crate) enum Kind {
    /// Mail for hosted domains, from anyone (port 25).
    Receiver,
    /// Submission with STARTTLS (port 587).
    Submission(SubmitCtx),
    /// Submission over implicit TLS (port 465).
    Submissions(SubmitCtx),
}

/// A session of `kind` over `stream`.
fn session<S>(
    kind: &Kind,
    stream: S,
    ip: std::net::IpAddr,
    settings: &SmtpSettings,
    store: &Store,
    hub: &crate::push::hub::Hub,
    place: &Place,
) -> Session<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    let s = Session::new(stream, ip, settings.clone(), store.clone(), hub.clone())
        .holding(place.clone());
    match kind {
        Kind::Receiver => s,
        Kind::Submission(ctx) | Kind::Submissions(ctx) => s.submitting(ctx.clone()),
    }
}

/// Accepts connections until `stopped` turns true. Over a limit, a client gets `421` and is closed.
pub(crate) async fn serve(
    listener: TcpListener,
    settings: SmtpSettings,
    store: Store,
    hub: crate::push::hub::Hub,
    kind: Kind,
    mut stopped: watch::Receiver<bool>,
) {
    let limits = ConnLimits::new(settings.max_connections, settings.max_connections_per_ip);
    loop {
        let (mut stream, peer) = tokio::select! {
            // The guard `wait_for` returns is not `Send`: drop it inside the branch's own future.
            () = async { let _ = stopped.wait_for(|s| *s).await; } => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin on the error.
                    tracing::warn!(error = %e, "SMTP accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let ip = peer.ip().to_canonical();
        let admitted = match limits.admit(ip) {
            Ok(place) => place,
            Err(full) => {
                let reply: &[u8] = match full {
                    Full::Everyone => b"421 4.3.2 Too many connections, try again later\r\n",
                    Full::ThisAddress => {
                        b"421 4.7.0 Too many connections from your address, try again later\r\n"
                    }
                };
                tokio::spawn(async move {
                    let _ = stream.write_all(reply).await;
                });
                continue;
            }
        };
        let (settings, store, hub, kind) =
            (settings.clone(), store.clone(), hub.clone(), kind.clone());
        // The session lets go of both at QUIT; otherwise they go when this task ends.
        let place: Place = Arc::new(Mutex::new(Some(Box::new(admitted))));
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let tls = settings.tls.clone();
            if let (Kind::Submissions(_), Some(acceptor)) = (&kind, &tls) {
                let handshake =
                    tokio::time::timeout(settings.command_timeout, acceptor.accept(stream)).await;
                match handshake {
                    Ok(Ok(tls_stream)) => {
                        session(&kind, tls_stream, ip, &settings, &store, &hub, &place)
                            .encrypted()
                            .run()
                            .await;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, %ip, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%ip, "TLS handshake timed out"),
                }
                drop(place);
                return;
            }
            let end = session(&kind, stream, ip, &settings, &store, &hub, &place)
                .run()
                .await;
            if let (End::StartTls(stream), Some(acceptor)) = (end, tls) {
                let handshake =
                    tokio::time::timeout(settings.command_timeout, acceptor.accept(stream)).await;
                match handshake {
                    Ok(Ok(tls_stream)) => {
                        session(&kind, tls_stream, ip, &settings, &store, &hub, &place)
                            .run_after_tls()
                            .await;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, %ip, "STARTTLS handshake failed"),
                    Err(_) => tracing::debug!(%ip, "STARTTLS handshake timed out"),
                }
            }
            drop(place);
        });
    }
}

/// The submission listeners the configuration asks for, bound and serving: `(tasks, 587-style
/// address, 465-style address)`. Implicit TLS without a certificate is refused.
pub(crate) async fn start_submission(
    config: &crate::config::Config,
    settings: &SmtpSettings,
    store: &Store,
    hub: &crate::push::hub::Hub,
    ctx: SubmitCtx,
    stopped: &watch::Receiver<bool>,
) -> std::io::Result<(
    Vec<tokio::task::JoinHandle<()>>,
    Option<std::net::SocketAddr>,
    Option<std::net::SocketAddr>,
)> {
    let mut tasks = Vec::new();
    let mut bound = [None, None];
    let wanted = [
        (config.submission_addr, Kind::Submission(ctx.clone())),
        (config.submissions_addr, Kind::Submissions(ctx)),
    ];
    for (i, (addr, kind)) in wanted.into_iter().enumerate() {
        let Some(addr) = addr else { continue };
        if settings.tls.is_none() {
            if matches!(kind, Kind::Submissions(_)) {
                return Err(std::io::Error::other(format!(
                    "submissions_addr {addr} needs smtp_tls_cert_file and smtp_tls_key_file"
                )));
            }
            if !config.submission_allow_plaintext {
                tracing::warn!(%addr, "submission without a TLS certificate: AUTH is never offered, so nobody can send");
            }
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        bound[i] = Some(listener.local_addr()?);
        tasks.push(tokio::spawn(serve(
            listener,
            settings.clone(),
            store.clone(),
            hub.clone(),
            kind,
            stopped.clone(),
        )));
    }
    Ok((tasks, bound[0], bound[1]))
}
