//! Real mail programs around the real server, on both backends: Debian's `swaks` submits over
//! STARTTLS (port 587 style) and implicit TLS (465 style) with AUTH PLAIN and LOGIN, to a
//! colleague and to another domain, and a wrong password is refused; Debian's Postfix, as the
//! remote domain's MX, receives bizmail's outbound mail, whose DKIM signature dkimpy then checks.
//! The test command installs them (`cargo xtask test`); when one is missing the test fails, never
//! skips.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{Backend, TestServer};
use common::tls::self_signed;
use common::{Api, ImapRaw};

/// Runs swaks with `args`; returns (success, everything it printed).
async fn swaks(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new("swaks")
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("swaks must be installed (cargo xtask test installs it): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn scenario(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = self_signed(dir.path());
    let loopback = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let srv = TestServer::builder(backend)
        .with_config(move |c| {
            c.smtp_tls_cert_file = cert;
            c.smtp_tls_key_file = key;
            c.submission_addr = loopback;
            c.submissions_addr = loopback;
            c.imap_addr = loopback;
            c.imap_allow_plaintext = true;
            // The remote domain's MX is down for this test: its mail waits in the queue.
            c.outbound_mx_override = vec!["elsewhere.test=127.0.0.1:9".into()];
        })
        .start()
        .await;
    let api = Api::new(&srv).await;
    let bob = api.add_member("bob", &[]).await;
    let alice = api.add_member("alice", &[]).await;
    let starttls = srv.running().submission_addr.unwrap().to_string();
    let implicit = srv.running().submissions_addr.unwrap().to_string();
    let common =
        |server: &str, auth: &'static str, tls: &'static str, to: String, subject: &str| {
            vec![
                "--server".to_owned(),
                server.to_owned(),
                tls.to_owned(),
                "--auth".to_owned(),
                auth.to_owned(),
                "--auth-user".to_owned(),
                bob.clone(),
                "--auth-password".to_owned(),
                "secret123".to_owned(),
                "--from".to_owned(),
                bob.clone(),
                "--to".to_owned(),
                to,
                "--header".to_owned(),
                format!("Subject: {subject}"),
                "--body".to_owned(),
                "sent by swaks".to_owned(),
            ]
        };
    let args = common(&starttls, "PLAIN", "--tls", alice.clone(), "over STARTTLS");
    let (ok, out) = swaks(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(ok, "{out}");
    assert!(out.contains("235 2.7.0"), "{out}");
    let args = common(
        &implicit,
        "LOGIN",
        "--tls-on-connect",
        alice.clone(),
        "over implicit TLS",
    );
    let (ok, out) = swaks(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(ok, "{out}");
    let args = common(
        &starttls,
        "PLAIN",
        "--tls",
        "partner@elsewhere.test".into(),
        "to a partner",
    );
    let (ok, out) = swaks(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(ok, "{out}");
    assert_eq!(api.new_count(&alice).await, "2");
    let mut imap = ImapRaw::login(&srv, &bob, "secret123").await;
    assert!(imap.cmd("SELECT Sent").await.contains("* 3 EXISTS"));
    let queued = srv
        .running()
        .queue()
        .list(Some("queued"), 10)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].recipient, "partner@elsewhere.test");
    // A wrong password: swaks reports the refusal and fails.
    let mut args = common(&starttls, "PLAIN", "--tls", alice.clone(), "nope");
    args[8] = "wrong-password".into();
    let (ok, out) = swaks(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!ok, "{out}");
    assert!(out.contains("535 5.7.8"), "{out}");
}

/// dkimpy's verdict on `message` with `txt` as the key record.
fn dkimpy_verifies(message: &[u8], txt: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.eml");
    std::fs::write(&file, message).unwrap();
    let script = "import dkim, sys\n\
        msg = open(sys.argv[1], 'rb').read()\n\
        print('verified' if dkim.verify(msg, dnsfunc=lambda n, timeout=5: sys.argv[2].encode()) else 'failed')\n";
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, file.to_str().unwrap(), txt])
        .output()
        .expect("Debian's python3 with python3-dkim");
    String::from_utf8_lossy(&out.stdout).trim() == "verified"
}

async fn postfix_receives(backend: Backend) {
    let mx = bizmail_testkit::postfix::Postfix::start(bizmail_testkit::postfix::Role::Mx {
        domain: "partner.test",
    })
    .await;
    let entry = format!("partner.test={}", mx.addr);
    let loopback = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let srv = TestServer::builder(backend)
        .with_config(move |c| {
            c.submission_addr = loopback;
            c.submission_allow_plaintext = true;
            c.outbound_mx_override = vec![entry];
        })
        .start()
        .await;
    let bob = Api::new(&srv).await.add_member("bob", &[]).await;
    let t = srv.tenant();
    let key = srv
        .running()
        .admin()
        .dkim_create(
            &t.admin,
            &t.domain,
            "pf",
            bizmail_server::outbound::dkim::Algorithm::Rsa,
        )
        .await
        .unwrap();
    let server = srv.running().submission_addr.unwrap().to_string();
    let (ok, out) = swaks(&[
        "--server",
        &server,
        "--auth",
        "PLAIN",
        "--auth-user",
        &bob,
        "--auth-password",
        "secret123",
        "--from",
        &bob,
        "--to",
        "carol@partner.test",
        "--header",
        "Subject: to Postfix",
        "--body",
        "hello from bizmail",
    ])
    .await;
    assert!(ok, "{out}");
    for _ in 0..300 {
        if mx.delivered_count() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let delivered = mx.delivered();
    assert_eq!(delivered.len(), 1, "{}", mx.log());
    let text = String::from_utf8_lossy(&delivered[0]).into_owned();
    assert!(
        text.contains("Subject: to Postfix") && text.contains("DKIM-Signature:"),
        "{text}"
    );
    let txt = key.dns_value.replace("\" \"", "").replace('"', "");
    assert!(
        dkimpy_verifies(&delivered[0], &txt),
        "dkimpy refused what Postfix received:\n{text}"
    );
    let sent = srv.running().queue().list(Some("sent"), 10).await.unwrap();
    assert_eq!(sent.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_as_the_remote_mx_sqlite() {
    postfix_receives(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_as_the_remote_mx_postgres() {
    postfix_receives(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_submits_sqlite() {
    scenario(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_submits_postgres() {
    scenario(Backend::Postgres).await
}
