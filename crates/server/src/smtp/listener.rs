//! Accepting SMTP connections under the global and per-address limits.

use super::SmtpSettings;
use super::session::{End, Place, Session};
use crate::conn_limits::{ConnLimits, Full};
use crate::store::Store;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Accepts connections until `stopped` turns true. Over a limit, a client gets `421` and is closed.
pub async fn serve(
    listener: TcpListener,
    settings: SmtpSettings,
    store: Store,
    hub: crate::push::hub::Hub,
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
        let (settings, store, hub) = (settings.clone(), store.clone(), hub.clone());
        // The session lets go of both at QUIT; otherwise they go when this task ends.
        let place: Place = Arc::new(Mutex::new(Some(Box::new(admitted))));
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let tls = settings.tls.clone();
            let end = Session::new(stream, ip, settings.clone(), store.clone(), hub.clone())
                .holding(place.clone())
                .run()
                .await;
            if let (End::StartTls(stream), Some(acceptor)) = (end, tls) {
                let handshake =
                    tokio::time::timeout(settings.command_timeout, acceptor.accept(stream)).await;
                match handshake {
                    Ok(Ok(tls_stream)) => {
                        Session::new(tls_stream, ip, settings, store, hub)
                            .holding(place.clone())
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
