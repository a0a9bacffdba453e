//! The outbound queue through real servers: a member of one bizmail sends to another bizmail that
//! plays the remote domain's MX (reached through `outbound_mx_override`, configured, not compiled
//! in). The mail arrives DKIM-signed (checked by dkimpy, an independent verifier); a down MX is
//! retried until it returns; a refusal and a give-up each put a delivery status notice in the
//! sender's INBOX; two nodes on one PostgreSQL deliver each recipient once. Both backends.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::Config;
use bizmail_server::outbound::dkim::Algorithm;
use bizmail_testkit::{Backend, TestServer};
use common::{Api, ImapRaw};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

fn loopback() -> Option<std::net::SocketAddr> {
    Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// The remote domain's MX: a bizmail on SQLite with IMAP, to read what arrived.
async fn remote_mx() -> TestServer {
    TestServer::builder(Backend::Sqlite)
        .with_config(|c| {
            c.imap_addr = loopback();
            c.imap_allow_plaintext = true;
        })
        .start()
        .await
}

/// The sending server: submission and IMAP in clear, mail for `domain` sent to `mx`, retries
/// after a second.
fn sender(
    backend: Backend,
    domain: &str,
    mx: u16,
    adjust: fn(&mut Config),
) -> bizmail_testkit::TestServerBuilder {
    let entry = format!("{domain}=127.0.0.1:{mx}");
    TestServer::builder(backend).with_config(move |c| {
        c.submission_addr = loopback();
        c.submission_allow_plaintext = true;
        c.imap_addr = loopback();
        c.imap_allow_plaintext = true;
        c.outbound_mx_override = vec![entry];
        c.outbound_retry_base_secs = 1;
        c.outbound_retry_max_secs = 1;
        adjust(c);
    })
}

async fn send(srv: &TestServer, from: &str, to: &str, subject: &str) {
    let port = srv.running().submission_addr.unwrap().port();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .credentials(Credentials::new(from.into(), "secret123".into()))
        .build();
    let message = lettre::Message::builder()
        .from(from.parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .body(String::from("Quarterly figures attached.\r\n"))
        .unwrap();
    mailer.send(message).await.unwrap();
}

/// Waits (up to 30 s) for `what` to hold.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never: {what}");
}

/// The bytes of the first literal in an IMAP answer (a FETCH of BODY[]).
fn literal(answer: &str) -> String {
    let open = answer.find('{').unwrap();
    let close = open + answer[open..].find('}').unwrap();
    let n: usize = answer[open + 1..close].parse().unwrap();
    answer[close + 3..close + 3 + n].to_owned()
}

/// The newest mail in `address`'s INBOX, whole.
async fn newest(srv: &TestServer, address: &str) -> String {
    let mut imap = ImapRaw::login(srv, address, "secret123").await;
    imap.cmd("SELECT INBOX").await;
    literal(&imap.cmd("FETCH * (BODY.PEEK[])").await)
}

/// dkimpy's verdict on `message`, with the key record `txt` as the DNS answer.
fn dkimpy_verifies(message: &str, txt: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.eml");
    std::fs::write(&file, message).unwrap();
    let script = "import dkim, sys\n\
        msg = open(sys.argv[1], 'rb').read()\n\
        txt = sys.argv[2].encode()\n\
        ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: txt)\n\
        print('verified' if ok else 'failed')\n";
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, file.to_str().unwrap(), txt])
        .output()
        .expect("Debian's python3 with python3-dkim (cargo xtask test installs it)");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    said.trim() == "verified"
}

/// Runs a scenario once per backend of the sending server.
macro_rules! both {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(bizmail_testkit::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario(bizmail_testkit::Backend::Postgres).await
            }
        }
    };
}

both!(remote_mail_arrives_signed, signed);
async fn signed(backend: Backend) {
    let mx = remote_mx().await;
    let carol = Api::new(&mx).await.add_member("carol", &[]).await;
    let srv = sender(backend, &mx.tenant().domain, mx.smtp_addr().port(), |_| {})
        .start()
        .await;
    let api = Api::new(&srv).await;
    let bob = api.add_member("bob", &[]).await;
    let t = srv.tenant();
    let key = srv
        .running()
        .admin()
        .dkim_create(&t.admin, &t.domain, "s2026", Algorithm::Rsa)
        .await
        .unwrap();
    assert_eq!(key.dns_name, format!("s2026._domainkey.{}", t.domain));
    send(&srv, &bob, &carol, "Figures").await;
    let remote = Api::new(&mx).await;
    eventually("the mail reaches the remote MX", async || {
        remote.new_count(&carol).await == "1"
    })
    .await;
    let arrived = newest(&mx, &carol).await;
    assert!(arrived.contains("Subject: Figures"), "{arrived}");
    assert!(arrived.contains("DKIM-Signature:"), "{arrived}");
    let txt = key
        .dns_value
        .replace("\" \"", "")
        .trim_matches('"')
        .to_owned();
    assert!(
        dkimpy_verifies(&arrived, &txt),
        "dkimpy refused:\n{arrived}"
    );
    // A changed body no longer verifies: the check is real.
    let tampered = arrived.replace("Quarterly", "Quarter1y");
    assert!(!dkimpy_verifies(&tampered, &txt));
    let rows = srv.running().queue().list(None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].state.as_str(), rows[0].attempts), ("sent", 1));
    // The newer API's log/mail: queued (1), then settled by the queue as sent (3).
    eventually("the mail log says sent", async || {
        common::mail_log(&srv, 1).await == [(carol.clone(), 3)]
    })
    .await;
    // The Sent copy is signed too, as sent.
    let mut imap = ImapRaw::login(&srv, &bob, "secret123").await;
    imap.cmd("SELECT Sent").await;
    assert!(
        imap.cmd("FETCH 1 (BODY.PEEK[])")
            .await
            .contains("DKIM-Signature:")
    );
    // Rotation: a new selector signs from now on; the old one stays listed, retired.
    let admin = srv.running().admin();
    let next = admin
        .dkim_create(&t.admin, &t.domain, "s2027", Algorithm::Ed25519)
        .await
        .unwrap();
    let keys = admin.dkim_list(&t.admin).await.unwrap();
    let state: Vec<(&str, bool)> = keys
        .iter()
        .map(|k| (k.selector.as_str(), k.active))
        .collect();
    assert!(
        state.contains(&("s2027", true)) && state.contains(&("s2026", false)),
        "{state:?}"
    );
    send(&srv, &bob, &carol, "Rotated").await;
    eventually("the second mail arrives", async || {
        remote.new_count(&carol).await == "2"
    })
    .await;
    let second = newest(&mx, &carol).await;
    assert!(second.contains("s=s2027;"), "{second}");
    let txt = next.dns_value.replace('"', "");
    assert!(
        dkimpy_verifies(&second, &txt),
        "dkimpy refused the rotated key:\n{second}"
    );
}

/// A tenant with a fixed domain and one member (password `secret123`) on `srv`; the address.
async fn tenant_with_member(srv: &TestServer, domain: &str, local: &str) -> String {
    let tag = bizmail_testkit::random_tag();
    let created = srv
        .running()
        .admin()
        .create_tenant(bizmail_server::tenants::NewTenant {
            domains: vec![domain.to_owned()],
            admin: format!("admin-{tag}"),
            admin_password: Some(format!("pw-{tag}-secret")),
            openapi_key: None,
            apply_openapi: true,
        })
        .await
        .unwrap();
    let tenant = bizmail_testkit::SeededTenant {
        tenant_id: created.tenant_id,
        domain: domain.to_owned(),
        admin: format!("admin-{tag}"),
        admin_password: format!("pw-{tag}-secret"),
        key: created.openapi_key.unwrap(),
        corp_id: created.corp_id,
        corp_secrets: std::collections::BTreeMap::new(),
    };
    let token = srv.token_for(&tenant).await;
    let address = format!("{local}@{domain}");
    let fields = [
        ("Action", "2"),
        ("Alias", address.as_str()),
        ("Name", local),
        ("Password", "secret123"),
    ];
    let (_, body) = srv.call(&token, "openapi/user/sync", &fields).await;
    assert!(body.is_empty(), "{body}");
    address
}

both!(a_smarthost_with_credentials_relays, smarthost);
async fn smarthost(backend: Backend) {
    // The final destination, and a provider's bizmail that relays for its own members over
    // STARTTLS with a certificate of a private CA.
    let mx = remote_mx().await;
    let carol = Api::new(&mx).await.add_member("carol", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = common::tls::self_signed(dir.path());
    let to_mx = format!("{}=127.0.0.1:{}", mx.tenant().domain, mx.smtp_addr().port());
    let (cert_file, key_file) = (cert.clone(), key.clone());
    let provider = TestServer::builder(Backend::Sqlite)
        .with_config(move |c| {
            c.smtp_tls_cert_file = cert_file;
            c.smtp_tls_key_file = key_file;
            c.submission_addr = loopback();
            c.outbound_mx_override = vec![to_mx];
        })
        .start()
        .await;
    let relay = format!(
        "localhost:{}",
        provider.running().submission_addr.unwrap().port()
    );
    let bob = tenant_with_member(&provider, "acme.test", "bob").await;
    // The sender's own bizmail hosts the same domain and sends everything through the provider.
    let (user, ca) = (bob.clone(), cert.clone());
    let srv = TestServer::builder(backend)
        .with_config(move |c| {
            c.submission_addr = loopback();
            c.submission_allow_plaintext = true;
            c.outbound_relay = relay;
            c.outbound_relay_username = user;
            c.outbound_relay_password = "secret123".into();
            c.outbound_relay_ca_file = ca;
        })
        .start()
        .await;
    assert_eq!(tenant_with_member(&srv, "acme.test", "bob").await, bob);
    send(&srv, &bob, &carol, "Through the provider").await;
    let remote = Api::new(&mx).await;
    eventually("the mail arrives through the smarthost", async || {
        remote.new_count(&carol).await == "1"
    })
    .await;
    let arrived = newest(&mx, &carol).await;
    assert!(
        arrived.contains("Subject: Through the provider"),
        "{arrived}"
    );
    assert_eq!(
        arrived.matches("with ESMTPSA").count(),
        2,
        "submitted twice, once to each: {arrived}"
    );
    let rows = srv.running().queue().list(Some("sent"), 10).await.unwrap();
    assert_eq!(rows.len(), 1);
}

/// A TCP relay from `port` to `to`, started when the test says the MX is back.
async fn relay(listener: tokio::net::TcpListener, to: std::net::SocketAddr) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut out = tokio::net::TcpStream::connect(to).await.unwrap();
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
        });
    }
}

both!(a_down_mx_is_retried_and_refusals_bounce, retried);
async fn retried(backend: Backend) {
    let mx = remote_mx().await;
    let carol = Api::new(&mx).await.add_member("carol", &[]).await;
    // A port nothing listens on yet: the MX is down.
    let port = bizmail_testkit::free_port();
    let srv = sender(backend, &mx.tenant().domain, port, |_| {})
        .start()
        .await;
    let api = Api::new(&srv).await;
    let bob = api.add_member("bob", &[]).await;
    send(&srv, &bob, &carol, "Retry me").await;
    let queue = srv.running().queue();
    eventually("a failed attempt is recorded", async || {
        let rows = queue.list(None, 10).await.unwrap();
        rows.len() == 1
            && rows[0].state == "queued"
            && rows[0].attempts >= 1
            && !rows[0].last_error.is_empty()
    })
    .await;
    // The MX comes back.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(relay(listener, mx.smtp_addr()));
    let remote = Api::new(&mx).await;
    eventually("the mail arrives once the MX is back", async || {
        remote.new_count(&carol).await == "1"
    })
    .await;
    let rows = queue.list(Some("sent"), 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].attempts >= 2, "{:?}", rows[0]);
    // The remote MX refuses an unknown recipient for good: bob is told, in his INBOX.
    let nobody = format!("nobody@{}", mx.tenant().domain);
    send(&srv, &bob, &nobody, "Hello?").await;
    eventually("a failure notice reaches the sender", async || {
        api.new_count(&bob).await == "1"
    })
    .await;
    let notice = newest(&srv, &bob).await;
    assert!(notice.contains("multipart/report"), "{notice}");
    assert!(
        notice.contains(&format!("Final-Recipient: rfc822; {nobody}")),
        "{notice}"
    );
    assert!(notice.contains("Status: 5.1.1"), "{notice}");
    assert!(
        notice.contains("Subject: Hello?"),
        "the original's headers come back: {notice}"
    );
    let failed = queue.list(Some("failed"), 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(mx.running().queue().list(None, 10).await.unwrap().len(), 0);
}

both!(a_recipient_is_given_up_after_the_retry_period, given_up);
async fn given_up(backend: Backend) {
    let port = bizmail_testkit::free_port();
    let srv = sender(backend, "gone.test", port, |c| c.outbound_max_age_hours = 0)
        .start()
        .await;
    let api = Api::new(&srv).await;
    let bob = api.add_member("bob", &[]).await;
    send(&srv, &bob, "someone@gone.test", "Anyone there?").await;
    eventually("the sender is told", async || {
        api.new_count(&bob).await == "1"
    })
    .await;
    let notice = newest(&srv, &bob).await;
    assert!(notice.contains("Status: 4.4.7"), "{notice}");
    assert!(notice.contains("gave up after 1 attempts"), "{notice}");
    let rows = srv.running().queue().list(None, 10).await.unwrap();
    assert_eq!(rows[0].state, "failed");
    eventually("the mail log says failed", async || {
        common::mail_log(&srv, 1).await == [("someone@gone.test".to_owned(), 4)]
    })
    .await;
}

/// Two nodes on one PostgreSQL, both running the queue: every recipient arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_recipient_once() {
    let mx = remote_mx().await;
    let remote = Api::new(&mx).await;
    let mut carols = Vec::new();
    for i in 0..5 {
        carols.push(remote.add_member(&format!("carol{i}"), &[]).await);
    }
    let domain = mx.tenant().domain.clone();
    let port = mx.smtp_addr().port();
    let first = sender(Backend::Postgres, &domain, port, |_| {})
        .start()
        .await;
    let second = sender(Backend::Postgres, &domain, port, |_| {})
        .second_node_of(&first)
        .start()
        .await;
    let api = Api::new(&first).await;
    let bob = api.add_member("bob", &[]).await;
    for round in 0..4 {
        for (i, carol) in carols.iter().enumerate() {
            let via = if (round + i) % 2 == 0 {
                &first
            } else {
                &second
            };
            send(via, &bob, carol, &format!("round {round}")).await;
        }
    }
    for carol in &carols {
        eventually("every mail arrives", async || {
            remote.new_count(carol).await == "4"
        })
        .await;
    }
    // Nothing more comes: give both workers time to send anything twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for carol in &carols {
        assert_eq!(remote.new_count(carol).await, "4", "{carol}");
    }
    let rows = first.running().queue().list(None, 100).await.unwrap();
    assert_eq!(rows.len(), 20);
    assert!(
        rows.iter().all(|r| r.state == "sent" && r.attempts == 1),
        "{rows:?}"
    );
}
