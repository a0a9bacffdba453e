//! Authenticated submission on both backends: a real SMTP client (`lettre`) sends to a colleague
//! and files the Sent copy; strangers, spoofed senders and forged From headers are refused; AUTH
//! only over TLS (STARTTLS and implicit TLS); the hourly allowance; group permissions apply.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use base64::Engine as _;
use bizmail_server::Config;
use bizmail_testkit::{TestServer, backend_test};
use common::tls::{Smtp, self_signed, tls_over};
use common::{Api, ImapRaw};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

fn loopback() -> Option<std::net::SocketAddr> {
    Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Submission and IMAP on, in clear (loopback only).
fn open(c: &mut Config) {
    c.submission_addr = loopback();
    c.submission_allow_plaintext = true;
    c.imap_addr = loopback();
    c.imap_allow_plaintext = true;
}

/// A plain connection to the submission port, greeting read.
async fn connect(srv: &TestServer) -> Smtp {
    let tcp = tokio::net::TcpStream::connect(srv.running().submission_addr.unwrap())
        .await
        .unwrap();
    let mut c = Smtp::over(tcp);
    assert!(c.reply().await.starts_with("220 "));
    c
}

fn plain(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

/// `lettre` sending `message` as `user` (password `secret123`) over the submission port.
async fn send(srv: &TestServer, user: &str, from: &str, to: &[&str], subject: &str) {
    let port = srv.running().submission_addr.unwrap().port();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .credentials(Credentials::new(user.into(), "secret123".into()))
        .build();
    let mut b = lettre::Message::builder()
        .from(from.parse().unwrap())
        .subject(subject);
    for t in to {
        b = b.to(t.parse().unwrap());
    }
    let message = b.body(String::from("Hello from bizmail\r\n")).unwrap();
    mailer.send(message).await.unwrap();
}

backend_test! {
    config = open;
    async fn a_member_sends_to_a_colleague_and_keeps_a_copy(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let alice = api.add_member("alice", &[]).await;
        send(&srv, &bob, &bob, &[&alice], "Lunch?").await;
        assert_eq!(api.new_count(&alice).await, "1");
        let mut imap = ImapRaw::login(&srv, &alice, "secret123").await;
        imap.cmd("SELECT INBOX").await;
        let inbox = imap.cmd("FETCH 1 (FLAGS BODY.PEEK[])").await;
        assert!(inbox.contains("Subject: Lunch?"), "{inbox}");
        assert!(inbox.contains("with ESMTPSA"), "{inbox}");
        assert!(inbox.contains("Message-ID: <"), "{inbox}");
        let mut imap = ImapRaw::login(&srv, &bob, "secret123").await;
        imap.cmd("SELECT Sent").await;
        let sent = imap.cmd("FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT TO)])").await;
        assert!(sent.contains("\\Seen"), "{sent}");
        assert!(sent.contains("Subject: Lunch?"), "{sent}");
        assert_eq!(api.new_count(&bob).await, "0", "the Sent copy is not unread mail");
    }
}

backend_test! {
    config = open;
    async fn strangers_and_impostors_are_refused(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let alice = api.add_member("alice", &[]).await;
        let mut c = connect(&srv).await;
        let ehlo = c.cmd("EHLO client.test").await;
        assert!(ehlo.contains("250-AUTH PLAIN LOGIN"), "{ehlo}");
        assert!(c.cmd(&format!("MAIL FROM:<{bob}>")).await.starts_with("530 5.7.0"));
        let wrong = c.cmd(&format!("AUTH PLAIN {}", plain(&bob, "nope"))).await;
        assert!(wrong.starts_with("535 5.7.8"), "{wrong}");
        // LOGIN, with its two challenges.
        assert!(c.cmd("AUTH LOGIN").await.starts_with("334 VXNlcm5hbWU6"));
        let b64 = base64::engine::general_purpose::STANDARD;
        assert!(c.cmd(&b64.encode(&bob)).await.starts_with("334 UGFzc3dvcmQ6"));
        assert!(c.cmd(&b64.encode("secret123")).await.starts_with("235 2.7.0"));
        assert!(c.cmd("AUTH PLAIN x").await.starts_with("503"));
        // Bob may not send as Alice, in the envelope or in the From header.
        let spoof = c.cmd(&format!("MAIL FROM:<{alice}>")).await;
        assert!(spoof.starts_with("550 5.7.1"), "{spoof}");
        assert!(c.cmd(&format!("MAIL FROM:<{bob}>")).await.starts_with("250"));
        assert!(c.cmd(&format!("RCPT TO:<{alice}>")).await.starts_with("250"));
        assert!(c.cmd("DATA").await.starts_with("354"));
        let forged = c
            .cmd(&format!("From: {alice}\r\nSubject: forged\r\n\r\nhi\r\n."))
            .await;
        assert!(forged.starts_with("550 5.7.1"), "{forged}");
        assert_eq!(api.new_count(&alice).await, "0");
        // Someone else's mailbox password does not open bob's; an unknown address gets the
        // same answer.
        let mut other = connect(&srv).await;
        other.cmd("EHLO client.test").await;
        let unknown = other
            .cmd(&format!("AUTH PLAIN {}", plain(&api.addr("nobody"), "secret123")))
            .await;
        assert!(unknown.starts_with("535 5.7.8"), "{unknown}");
        // An authorization identity other than the user is refused.
        let b64plain = b64.encode(format!("{alice}\0{bob}\0secret123"));
        let acting = other.cmd(&format!("AUTH PLAIN {b64plain}")).await;
        assert!(acting.starts_with("501") || acting.starts_with("535"), "{acting}");
    }
}

backend_test! {
    config = |c: &mut Config| { open(c); c.submission_messages_per_hour = 2; };
    async fn the_hourly_allowance_holds(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let alice = api.add_member("alice", &[]).await;
        send(&srv, &bob, &bob, &[&alice], "one").await;
        send(&srv, &bob, &bob, &[&alice], "two").await;
        let mut c = connect(&srv).await;
        c.cmd("EHLO client.test").await;
        assert!(c.cmd(&format!("AUTH PLAIN {}", plain(&bob, "secret123"))).await.starts_with("235"));
        let third = c.cmd(&format!("MAIL FROM:<{bob}>")).await;
        assert!(third.starts_with("450 4.7.1"), "{third}");
        assert_eq!(api.new_count(&alice).await, "2");
    }
}

backend_test! {
    config = open;
    async fn group_permissions_bind_members_too(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let alice = api.add_member("alice", &[]).await;
        let group = api.addr("board");
        // A group only its own members may write to (status "group").
        api.ok("group/add", &[("group_name", "Board"), ("group_admin", &group),
            ("status", "group"), ("members", &alice)]).await;
        let mut c = connect(&srv).await;
        c.cmd("EHLO client.test").await;
        assert!(c.cmd(&format!("AUTH PLAIN {}", plain(&bob, "secret123"))).await.starts_with("235"));
        assert!(c.cmd(&format!("MAIL FROM:<{bob}>")).await.starts_with("250"));
        let refused = c.cmd(&format!("RCPT TO:<{group}>")).await;
        assert!(refused.starts_with("550 5.7.1"), "{refused}");
        // A remote recipient is accepted for the queue.
        let remote = c.cmd("RCPT TO:<someone@remote.invalid>").await;
        assert!(remote.starts_with("250"), "{remote}");
    }
}

/// Connects, says EHLO, and upgrades with STARTTLS; the TLS session's greeting is not awaited.
async fn starttls(addr: std::net::SocketAddr, der: &[u8]) -> Smtp {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = tcp.into_split();
    let mut r = tokio::io::BufReader::new(r);
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    w.write_all(b"EHLO client.test\r\n").await.unwrap();
    loop {
        line.clear();
        r.read_line(&mut line).await.unwrap();
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    w.write_all(b"STARTTLS\r\n").await.unwrap();
    line.clear();
    r.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("220"), "{line}");
    let tcp = r.into_inner().reunite(w).unwrap();
    Smtp::over(tls_over(tcp, der).await)
}

/// Without `submission_allow_plaintext`, AUTH waits for TLS: after STARTTLS on 587, at once on 465.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_only_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = self_signed(dir.path());
    let srv = TestServer::builder(bizmail_testkit::Backend::Sqlite)
        .with_config(move |c| {
            c.smtp_tls_cert_file = cert;
            c.smtp_tls_key_file = key;
            c.submission_addr = loopback();
            c.submissions_addr = loopback();
        })
        .start()
        .await;
    let api = Api::new(&srv).await;
    let bob = api.add_member("bob", &[]).await;
    let mut c = connect(&srv).await;
    let ehlo = c.cmd("EHLO client.test").await;
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    let clear = c
        .cmd(&format!("AUTH PLAIN {}", plain(&bob, "secret123")))
        .await;
    assert!(clear.starts_with("538 5.7.11"), "{clear}");
    // After STARTTLS, AUTH is offered and works.
    let mut tls = starttls(srv.running().submission_addr.unwrap(), &der).await;
    let ehlo = tls.cmd("EHLO client.test").await;
    assert!(ehlo.contains("250-AUTH PLAIN LOGIN"), "{ehlo}");
    let ok = tls
        .cmd(&format!("AUTH PLAIN {}", plain(&bob, "secret123")))
        .await;
    assert!(ok.starts_with("235"), "{ok}");
    // Implicit TLS: AUTH at once.
    let tcp = tokio::net::TcpStream::connect(srv.running().submissions_addr.unwrap())
        .await
        .unwrap();
    let mut tls = Smtp::over(tls_over(tcp, &der).await);
    assert!(tls.reply().await.starts_with("220 "));
    let ehlo = tls.cmd("EHLO client.test").await;
    assert!(
        ehlo.contains("250-AUTH PLAIN LOGIN") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    let ok = tls
        .cmd(&format!("AUTH PLAIN {}", plain(&bob, "secret123")))
        .await;
    assert!(ok.starts_with("235"), "{ok}");
}

backend_test! {
    config = |c: &mut Config| { open(c); c.login_attempts_per_ip_per_minute = 3; };
    async fn md5_members_aliases_and_the_login_limit(srv) {
        let api = Api::new(&srv).await;
        let alice = api.add_member("alice", &[]).await;
        // An Md5=1 member (md5 of "123456"), with an alias it may send as.
        let jun = api.addr("jun");
        let alias = api.addr("jun.alias");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &jun), ("Name", "Jun"),
            ("Password", "E10ADC3949BA59ABBE56E057F20F883E"), ("Md5", "1"), ("Slave", &alias)]).await;
        let mut c = connect(&srv).await;
        c.cmd("EHLO client.test").await;
        let ok = c.cmd(&format!("AUTH PLAIN {}", plain(&jun, "123456"))).await;
        assert!(ok.starts_with("235"), "{ok}");
        assert!(c.cmd(&format!("MAIL FROM:<{alias}>")).await.starts_with("250"), "an alias may send");
        assert!(c.cmd(&format!("RCPT TO:<{alice}>")).await.starts_with("250"));
        assert!(c.cmd("DATA").await.starts_with("354"));
        let sent = c.cmd(&format!("From: Jun <{alias}>\r\nSubject: from my alias\r\n\r\nhi\r\n.")).await;
        assert!(sent.starts_with("250"), "{sent}");
        assert_eq!(api.new_count(&alice).await, "1");
        // The web mailbox's per-address allowance (3 a minute here) counts AUTH attempts too:
        // past it, even the right password gets 454.
        let mut other = connect(&srv).await;
        other.cmd("EHLO client.test").await;
        for _ in 0..2 {
            let wrong = other.cmd(&format!("AUTH PLAIN {}", plain(&jun, "nope"))).await;
            assert!(wrong.starts_with("535"), "{wrong}");
        }
        let limited = other.cmd(&format!("AUTH PLAIN {}", plain(&jun, "123456"))).await;
        assert!(limited.starts_with("454 4.7.0"), "{limited}");
    }
}

backend_test! {
    config = |c: &mut Config| { open(c); c.submission_max_recipients = 2; c.smtp_max_message_bytes = 2000; };
    async fn recipient_and_size_limits_hold(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let alice = api.add_member("alice", &[]).await;
        let mut c = connect(&srv).await;
        c.cmd("EHLO client.test").await;
        assert!(c.cmd(&format!("AUTH PLAIN {}", plain(&bob, "secret123"))).await.starts_with("235"));
        assert!(c.cmd(&format!("MAIL FROM:<{bob}>")).await.starts_with("250"));
        assert!(c.cmd(&format!("RCPT TO:<{alice}>")).await.starts_with("250"));
        assert!(c.cmd("RCPT TO:<partner@remote.invalid>").await.starts_with("250"));
        let third = c.cmd("RCPT TO:<other@remote.invalid>").await;
        assert!(third.starts_with("452 4.5.3"), "{third}");
        assert!(c.cmd("DATA").await.starts_with("354"));
        let big = "x".repeat(3000);
        let refused = c.cmd(&format!("Subject: big\r\n\r\n{big}\r\n.")).await;
        assert!(refused.starts_with("552 5.3.4"), "{refused}");
        assert_eq!(api.new_count(&alice).await, "0");
        assert!(srv.running().queue().list(None, 10).await.unwrap().is_empty());
    }
}

/// Hostile AUTH input, in memory: undecodable, cancelled, malformed and unknown mechanisms get
/// clear answers, and too many of them end the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_auth_input_gets_clear_answers() {
    let srv = TestServer::builder(bizmail_testkit::Backend::Sqlite)
        .with_config(|c| c.smtp_max_bad_commands = 6)
        .start()
        .await;
    let settings = bizmail_server::smtp::SmtpSettings::from_config(&srv.config).unwrap();
    let (client, server) = tokio::io::duplex(64 * 1024);
    let session =
        srv.running()
            .submission_session(server, "127.0.0.1".parse().unwrap(), settings, true);
    tokio::spawn(session.run());
    let mut c = Smtp::over(client);
    assert!(c.reply().await.starts_with("220 "));
    assert!(c.cmd("EHLO x").await.contains("AUTH PLAIN LOGIN"));
    for (line, expect) in [
        ("AUTH PLAIN !!!not-base64!!!", "501 5.5.2"),
        ("AUTH PLAIN AGJvYg==", "501 5.5.2"), // "\0bob": no password part
        ("AUTH CRAM-MD5", "504 5.5.4"),
        ("AUTH", "501"),
    ] {
        let answer = c.cmd(line).await;
        assert!(answer.starts_with(expect), "{line}: {answer}");
    }
    assert!(c.cmd("AUTH LOGIN").await.starts_with("334 "));
    assert!(c.cmd("*").await.starts_with("501 5.7.0"), "cancelled");
    assert!(
        c.cmd("AUTH PLAIN =").await.starts_with("501 5.5.2"),
        "an empty response"
    );
    let last = c.cmd("AUTH PLAIN =").await;
    assert!(last.starts_with("421 4.7.0"), "too many errors: {last}");
}
