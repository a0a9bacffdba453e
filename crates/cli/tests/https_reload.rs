//! `bizmail serve` with HTTPS: it serves the configured certificate, and on SIGHUP (what
//! `systemctl reload bizmail` sends) new connections get the renewed one while the server keeps
//! running.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

/// A self-signed certificate for `localhost`: `(cert PEM, key PEM, DER)`.
fn certificate() -> (String, String, Vec<u8>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    (
        ck.cert.pem(),
        ck.signing_key.serialize_pem(),
        ck.cert.der().to_vec(),
    )
}

/// The certificate the server at `addr` presents to a client that trusts `known`.
async fn presented(addr: &str, known: &[&[u8]]) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    for der in known {
        roots.add(der.to_vec().into()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_loads_a_renewed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (pem, key_pem, first) = certificate();
    std::fs::write(&cert, pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let env = [
        ("BIZMAIL_HTTP_TLS_CERT_FILE", cert.to_str().unwrap()),
        ("BIZMAIL_HTTP_TLS_KEY_FILE", key.to_str().unwrap()),
    ];
    let node = common::start_with_env(dir.path(), &[], &env);
    let addr = node.base.strip_prefix("https://").unwrap().to_owned();
    let (pem, key_pem, second) = certificate();
    assert_eq!(presented(&addr, &[&first, &second]).await, first);

    std::fs::write(&cert, pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &node.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if presented(&addr, &[&first, &second]).await == second {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not loaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
