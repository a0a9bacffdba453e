//! Accepting SMTP connections under the global and per-address limits.

use super::SmtpSettings;
use super::session::{End, Place, Session};
use crate::store::Store;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Counts connections per client address; a slot is released when its guard drops.
#[derive(Default)]
struct PerIp {
    counts: Mutex<HashMap<IpAddr, usize>>,
}

struct IpSlot {
    per_ip: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn try_take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut counts = self.counts.lock().ok()?;
        let n = counts.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            per_ip: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.per_ip.counts.lock()
            && let Some(n) = counts.get_mut(&self.ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Accepts connections until `stopped` turns true. Over a limit, a client gets `421` and is closed.
pub async fn serve(
    listener: TcpListener,
    settings: SmtpSettings,
    store: Store,
    hub: crate::push::hub::Hub,
    mut stopped: watch::Receiver<bool>,
) {
    let global = Arc::new(Semaphore::new(settings.max_connections));
    let per_ip = Arc::new(PerIp::default());
    loop {
        let (mut stream, peer) = tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "SMTP accept failed");
                    continue;
                }
            },
        };
        let ip = peer.ip().to_canonical();
        let Ok(permit) = global.clone().try_acquire_owned() else {
            tokio::spawn(async move {
                let _ = stream
                    .write_all(b"421 4.3.2 Too many connections, try again later\r\n")
                    .await;
            });
            continue;
        };
        let Some(slot) = per_ip.try_take(ip, settings.max_connections_per_ip) else {
            tokio::spawn(async move {
                let _ = stream
                    .write_all(
                        b"421 4.7.0 Too many connections from your address, try again later\r\n",
                    )
                    .await;
            });
            continue;
        };
        let (settings, store, hub) = (settings.clone(), store.clone(), hub.clone());
        // The session lets go of both at QUIT; otherwise they go when this task ends.
        let place: Place = Arc::new(Mutex::new(Some(Box::new((slot, permit)))));
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
