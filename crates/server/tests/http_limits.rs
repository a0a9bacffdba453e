//! The HTTP listener's limits against clients that hold sockets and say nothing, on both
//! backends: idle sockets, a half-sent request line, a body that stops, an idle keep-alive and an
//! oversized head are all closed; connections over the per-address limit get a 503 in the
//! protocol's error shape at once; and the server keeps answering throughout.
//!
//! The limits are set to one second here; the assertions give the server many times that.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use bizmail_testkit::{TestServer, backend_test};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (or `within` passes: then `None`); returns what
/// it sent.
async fn until_closed(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut all = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    Some(String::from_utf8_lossy(&all).into_owned())
}

async fn healthz(srv: &TestServer) -> u16 {
    srv.http
        .get(srv.url("healthz"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

backend_test! {
    config = |c| { c.http_max_connections_per_ip = 20; c.http_header_timeout_secs = 1; };
    async fn idle_sockets_are_closed_and_extra_ones_turned_away(srv) {
        let addr = srv.base_url.trim_start_matches("http://").to_owned();
        let mut idle = Vec::new();
        for _ in 0..20 {
            idle.push(TcpStream::connect(&addr).await.unwrap());
        }
        // Over the per-address limit: a 503 with the protocol's error shape, then closed.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut extra = TcpStream::connect(&addr).await.unwrap();
        let answer = until_closed(&mut extra, Duration::from_secs(5)).await.expect("closed at once");
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.ends_with(r#"{"errcode":"1002","error":"temporarily_unavailable"}"#), "{answer}");
        // The silent ones are closed after the header timeout; then the server answers again.
        for s in &mut idle {
            assert!(until_closed(s, Duration::from_secs(10)).await.is_some(), "an idle socket was closed");
        }
        assert_eq!(healthz(&srv).await, 200);
    }
}

backend_test! {
    config = |c| { c.http_header_timeout_secs = 1; c.http_body_timeout_secs = 1; };
    async fn half_requests_and_idle_keep_alives_are_closed(srv) {
        let addr = srv.base_url.trim_start_matches("http://").to_owned();
        // A request line that never ends.
        let mut half = TcpStream::connect(&addr).await.unwrap();
        half.write_all(b"GET /heal").await.unwrap();
        assert!(until_closed(&mut half, Duration::from_secs(10)).await.is_some(), "half a request line");
        // A body that stops: 408, in the protocol's error shape.
        let mut partial = TcpStream::connect(&addr).await.unwrap();
        partial.write_all(b"POST /openapi/bizmail/ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAlias=").await.unwrap();
        let answer = until_closed(&mut partial, Duration::from_secs(10)).await.expect("a partial body ends");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(r#"{"errcode":"1001","error":"invalid_request"}"#), "{answer}");
        // A keep-alive connection that goes quiet after one request.
        let mut keep = TcpStream::connect(&addr).await.unwrap();
        keep.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let answer = until_closed(&mut keep, Duration::from_secs(10)).await.expect("an idle keep-alive is closed");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(healthz(&srv).await, 200);
    }
}

backend_test! {
    config = |c| { c.http_max_header_bytes = 16 * 1024; };
    async fn an_oversized_head_is_refused(srv) {
        let addr = srv.base_url.trim_start_matches("http://").to_owned();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let big = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(64 * 1024));
        let _ = s.write_all(big.as_bytes()).await;
        let answer = until_closed(&mut s, Duration::from_secs(10)).await.expect("closed");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
        assert_eq!(healthz(&srv).await, 200);
    }
}
