//! HTTPS on the HTTP listener (`http_tls_cert_file`, `http_tls_key_file`): every route is served
//! over TLS with the configured certificate, a plain-HTTP client gets no answer, a client that
//! never finishes its handshake is dropped, and `Running::reload_tls` (what `bizmail serve` does
//! on SIGHUP) makes new connections use a renewed certificate while a bad one leaves the old.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{Backend, TestServer};
use common::tls::{self_signed, tls_over};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GET /healthz over a TLS connection that trusts only `der`; the answer's first line.
async fn healthz(srv: &TestServer, der: &[u8]) -> String {
    let tcp = tokio::net::TcpStream::connect(srv.running().http_addr)
        .await
        .unwrap();
    let mut tls = tls_over(tcp, der).await;
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

async fn https_serves_and_reloads(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = self_signed(dir.path());
    let (c, k) = (cert.clone(), key.clone());
    let srv = TestServer::builder(backend)
        .with_config(move |cfg| {
            cfg.http_tls_cert_file = c;
            cfg.http_tls_key_file = k;
            cfg.http_header_timeout_secs = 2;
        })
        .start()
        .await;
    assert!(srv.running().base_url().starts_with("https://"));
    assert_eq!(healthz(&srv, &der).await, "HTTP/1.1 200 OK");

    // A plain-HTTP request is not answered as HTTP.
    let mut plain = tokio::net::TcpStream::connect(srv.running().http_addr)
        .await
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut got)).await;
    assert!(!got.starts_with(b"HTTP/1.1 200"), "{got:?}");

    // A client that says nothing is dropped after the header timeout.
    let mut silent = tokio::net::TcpStream::connect(srv.running().http_addr)
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0) | Err(_))), "{closed:?}");

    // A renewed certificate: new connections get it; the old one is no longer presented.
    let renewed = tempfile::tempdir().unwrap();
    let (new_cert, new_key, new_der) = self_signed(renewed.path());
    std::fs::copy(&new_cert, &cert).unwrap();
    std::fs::copy(&new_key, &key).unwrap();
    assert!(srv.running().reload_tls().unwrap());
    assert_eq!(healthz(&srv, &new_der).await, "HTTP/1.1 200 OK");
    // A broken file on reload leaves the renewed certificate in use.
    std::fs::write(&cert, "not a certificate").unwrap();
    assert!(srv.running().reload_tls().is_err());
    assert_eq!(healthz(&srv, &new_der).await, "HTTP/1.1 200 OK");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_https_serves_and_reloads() {
    https_serves_and_reloads(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_https_serves_and_reloads() {
    https_serves_and_reloads(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_certificate_stops_the_start_with_its_name() {
    let err = bizmail_server::Server::start(bizmail_server::Config {
        data_dir: tempfile::tempdir().unwrap().path().join("data"),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        smtp_addr: "127.0.0.1:0".parse().unwrap(),
        http_tls_cert_file: "/nonexistent/cert.pem".into(),
        http_tls_key_file: "/nonexistent/key.pem".into(),
        ..bizmail_server::Config::default()
    })
    .await
    .err()
    .expect("no start without the certificate");
    let text = err.to_string();
    assert!(
        text.contains("HTTP TLS") && text.contains("/nonexistent/cert.pem"),
        "{text}"
    );
}
