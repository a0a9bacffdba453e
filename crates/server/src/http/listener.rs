//! The HTTP listener: accepts connections under a global and a per-address limit, and serves each
//! with hyper's HTTP/1.1 under time limits, so that no client can hold the server with sockets
//! that say nothing:
//!
//! - a request's headers must arrive within `http_header_timeout_secs` — which is also how long
//!   an idle keep-alive connection stays open (hyper starts the same timer while it waits for the
//!   next request);
//! - a request body may not pause longer than `http_body_timeout_secs` between two chunks;
//! - headers larger than `http_max_header_bytes` close the connection (431).
//!
//! A long poll (`openapi/listen`) is not cut short: once a request is read, answering it takes
//! as long as the handler needs.

use crate::config::Config;
use crate::conn_limits::{ConnLimits, Full};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// How long a graceful shutdown waits for requests still in flight.
const DRAIN: Duration = Duration::from_secs(10);

/// After a failed accept (out of file descriptors, say), wait this long before the next, instead
/// of spinning on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The HTTP listener's limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Connections at once, in all.
    pub max_connections: usize,
    /// Connections at once from one client address.
    pub max_connections_per_ip: usize,
    /// Time for a request's headers to arrive; also the idle keep-alive time.
    pub header_timeout: Duration,
    /// Longest pause within a request body.
    pub body_timeout: Duration,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
}

impl HttpLimits {
    /// The limits `config` sets.
    pub fn from_config(config: &Config) -> HttpLimits {
        HttpLimits {
            max_connections: config.http_max_connections,
            max_connections_per_ip: config.http_max_connections_per_ip,
            header_timeout: Duration::from_secs(config.http_header_timeout_secs),
            body_timeout: Duration::from_secs(config.http_body_timeout_secs),
            // hyper's own floor for its read buffer.
            max_header_bytes: config.http_max_header_bytes.max(8192),
        }
    }
}

/// The answer to a connection over a limit, before it is closed: the protocol's error shape.
const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 52\r\n\r\n{\"errcode\":\"1002\",\"error\":\"temporarily_unavailable\"}";

/// Serves `router` on `listener` until `stopped`, then lets requests in flight finish (for at
/// most ten seconds). With `tls`, every connection is HTTPS: the TLS handshake must finish within
/// the header timeout, with the certificate current when the connection came.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    tls: Option<crate::tls::Reloadable>,
    mut stopped: watch::Receiver<bool>,
) {
    let places = ConnLimits::new(limits.max_connections, limits.max_connections_per_ip);
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_timeout,
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (mut stream, peer) = tokio::select! {
            // The guard `wait_for` returns is not `Send`: drop it inside the branch's own future.
            () = async { let _ = stopped.wait_for(|s| *s).await; } => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let place = match places.admit(peer.ip().to_canonical()) {
            Ok(place) => place,
            Err(full) => {
                crate::telemetry::http_refused(match full {
                    Full::Everyone => "all",
                    Full::ThisAddress => "address",
                });
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), stream.write_all(FULL)).await;
                });
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let Some(tls) = &tls else {
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, %peer, "HTTP connection ended with an error");
                }
                drop(place);
            });
            continue;
        };
        // HTTPS: the handshake runs in the connection's own task, under the header timeout, so
        // a client that never finishes it holds nothing but its own place.
        let (acceptor, http, watcher) = (tls.acceptor(), http.clone(), graceful.watcher());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(limits.header_timeout, acceptor.accept(stream));
            let stream = match handshake.await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, %peer, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "HTTPS connection ended with an error");
            }
            drop(place);
        });
    }
    // Stop accepting (the listener goes with this function), then drain.
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("HTTP requests still running after the drain time; closing them");
    }
}
