//! IMAP's doors on both backends: logins only over TLS (STARTTLS with pipelined commands dropped,
//! and implicit TLS), client passwords for a forced second factor, quotas, and the grammar's
//! hostile corners in memory (an oversized literal, an endless line, bad commands).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::Config;
use bizmail_testkit::{TestServer, backend_test};
use common::tls::{self_signed, tls_over};
use common::{Api, ImapRaw, deliver};

fn imap_on(c: &mut Config) {
    c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    c.imap_allow_plaintext = true;
}

backend_test! {
    config = |c: &mut Config| { c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))); };
    async fn passwords_never_cross_in_clear(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let (mut c, greeting) = ImapRaw::connect(&srv).await;
        assert!(greeting.contains("LOGINDISABLED"), "{greeting}");
        let login = c.cmd(&format!("LOGIN {bob} secret123")).await;
        assert!(login.contains("NO [PRIVACYREQUIRED]"), "{login}");
    }
}

/// The grammar's corners, in memory: an oversized literal, a line that never ends, bad commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_clear_answers() {
    let srv = TestServer::builder(bizmail_testkit::Backend::Sqlite)
        .with_config(|c| {
            c.smtp_max_message_bytes = 4000;
            c.imap_max_line_bytes = 1024;
            c.imap_max_bad_commands = 3;
        })
        .start()
        .await;
    let dialogue = |srv: &TestServer| {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let session = srv
            .running()
            .imap_session(server, "127.0.0.1".parse().unwrap(), true);
        tokio::spawn(session.run(true));
        let (r, w) = tokio::io::split(client);
        ImapRaw::over(r, w)
    };
    let (mut c, greeting) = dialogue(&srv).await;
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1"),
        "{greeting}"
    );
    assert!(greeting.contains("AUTH=PLAIN"), "{greeting}");
    // Before login, even a literal within the message limit is refused past a line's worth.
    c.send(b"t1 LOGIN {2000}\r\n").await;
    let big = c.line().await;
    assert_eq!(big, "t1 NO [TOOBIG] The literal is too large\r\n");
    // After login, up to the message limit (an APPEND), and no more.
    let api = Api::new(&srv).await;
    let bob = api.add_member("bob", &[]).await;
    let (mut signed, _) = dialogue(&srv).await;
    signed.cmd(&format!("LOGIN {bob} secret123")).await;
    signed.send(b"t2 APPEND Drafts {4001}\r\n").await;
    assert_eq!(
        signed.line().await,
        "t2 NO [TOOBIG] The literal is too large\r\n"
    );
    signed.send(b"t3 APPEND Drafts {2000}\r\n").await;
    assert!(signed.line().await.starts_with('+'));
    signed.send(&[b'x'; 2000]).await;
    signed.send(b"\r\n").await;
    let appended = signed.until("t3").await;
    assert!(appended.contains("t3 OK [APPENDUID"), "{appended}");
    let noop = c.cmd("NOOP").await;
    assert!(noop.ends_with("OK NOOP completed\r\n"), "{noop}");
    for _ in 0..2 {
        let bad = c.cmd("FROB").await;
        assert_eq!(ImapRaw::status(&bad), "BAD", "{bad}");
    }
    let last = c.cmd("FROB").await;
    assert!(last.contains("* BYE Too many bad commands"), "{last}");

    let (mut c, _) = dialogue(&srv).await;
    c.send(&vec![b'x'; 4096]).await;
    let bye = c.line().await;
    assert_eq!(bye, "* BYE Command line too long\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_implicit_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = self_signed(dir.path());
    let srv = TestServer::builder(bizmail_testkit::Backend::Sqlite)
        .with_config(move |c| {
            c.smtp_tls_cert_file = cert;
            c.smtp_tls_key_file = key;
            c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
            c.imaps_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        })
        .start()
        .await;
    let api = Api::new(&srv).await;
    let bob = api.add_member("bob", &[]).await;

    // Port 993 style: TLS first, then a greeting that offers PLAIN.
    let tcp = tokio::net::TcpStream::connect(srv.running().imaps_addr.unwrap())
        .await
        .unwrap();
    let (r, w) = tokio::io::split(tls_over(tcp, &der).await);
    let (mut c, greeting) = ImapRaw::over(r, w).await;
    assert!(
        greeting.contains("AUTH=PLAIN") && !greeting.contains("STARTTLS"),
        "{greeting}"
    );
    let ok = c.cmd(&format!("LOGIN {bob} secret123")).await;
    assert_eq!(ImapRaw::status(&ok), "OK", "{ok}");

    // Port 143 style: STARTTLS first; what was pipelined after it is thrown away.
    let mut tcp = tokio::net::TcpStream::connect(srv.running().imap_addr.unwrap())
        .await
        .unwrap();
    let mut greeting = vec![0u8; 512];
    let n = tokio::io::AsyncReadExt::read(&mut tcp, &mut greeting)
        .await
        .unwrap();
    let greeting = String::from_utf8_lossy(&greeting[..n]).into_owned();
    assert!(
        greeting.contains("STARTTLS") && greeting.contains("LOGINDISABLED"),
        "{greeting}"
    );
    tokio::io::AsyncWriteExt::write_all(
        &mut tcp,
        format!("s1 STARTTLS\r\ns2 LOGIN {bob} secret123\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::io::AsyncReadExt::read(&mut tcp, &mut answer)
        .await
        .unwrap();
    assert_eq!(&answer[..n], b"s1 OK Begin TLS negotiation now\r\n");
    let tls = tls_over(tcp, &der).await;
    let (r, w) = tokio::io::split(tls);
    let mut c = ImapRaw::over_without_greeting(r, w);
    let caps = c.cmd("CAPABILITY").await;
    assert!(
        caps.contains("AUTH=PLAIN") && !caps.contains("STARTTLS"),
        "{caps}"
    );
    assert!(
        !caps.contains("s2 "),
        "the pipelined LOGIN was dropped: {caps}"
    );
    let ok = c.cmd(&format!("LOGIN {bob} secret123")).await;
    assert_eq!(ImapRaw::status(&ok), "OK", "{ok}");
}

backend_test! {
    config = |c: &mut Config| { imap_on(c); c.mailbox_quota_mb = 1; };
    async fn a_full_mailbox_refuses_mail_and_uploads(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let caps = c.cmd("CAPABILITY").await;
        assert!(caps.contains(" QUOTA "), "{caps}");
        let q = c.cmd("GETQUOTAROOT INBOX").await;
        assert!(q.contains("* QUOTAROOT INBOX \"\"") && q.contains("(STORAGE 0 1024)"), "{q}");
        let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(1100 * 1024));
        deliver(&srv, &bob, &big).await;
        let q = c.cmd("GETQUOTA \"\"").await;
        assert!(q.contains("(STORAGE 1100 1024)") || q.contains("(STORAGE 1101 1024)"), "{q}");

        // SMTP: a temporary refusal, so the sender retries once the member made room.
        let (mut smtp, _) = common::Raw::connect(&srv).await;
        smtp.cmd("EHLO t").await;
        smtp.cmd("MAIL FROM:<a@outside.example>").await;
        let rcpt = smtp.cmd(&format!("RCPT TO:<{bob}>")).await;
        assert!(rcpt.starts_with("452 4.2.2"), "{rcpt}");

        let message = "Subject: x\r\n\r\ny\r\n";
        let up = c.cmd(&format!("APPEND Drafts {{{}+}}\r\n{message}", message.len())).await;
        assert!(up.contains("NO [OVERQUOTA]"), "{up}");
        c.cmd("SELECT INBOX").await;
        let copy = c.cmd("COPY 1 Drafts").await;
        assert!(copy.contains("NO [OVERQUOTA]"), "{copy}");
        let moved = c.cmd("MOVE 1 Trash").await;
        assert_eq!(ImapRaw::status(&moved), "OK", "a move stores nothing more: {moved}");
        c.cmd("SELECT Trash").await;
        c.cmd("STORE 1 +FLAGS (\\Deleted)").await;
        c.cmd("CLOSE").await;
        let rcpt = {
            let (mut smtp, _) = common::Raw::connect(&srv).await;
            smtp.cmd("EHLO t").await;
            smtp.cmd("MAIL FROM:<a@outside.example>").await;
            smtp.cmd(&format!("RCPT TO:<{bob}>")).await
        };
        assert!(rcpt.starts_with("250"), "room again: {rcpt}");

        // A member's own quota overrides the default: none at all, then back to the default.
        let admin = srv.running().admin();
        admin.set_quota(&srv.tenant().admin, &bob, Some(0)).await.unwrap();
        deliver(&srv, &bob, &big).await;
        deliver(&srv, &bob, &big).await;
        let q = c.cmd("GETQUOTA \"\"").await;
        assert!(q.contains("* QUOTA \"\" (STORAGE "), "{q}");
        admin.set_quota(&srv.tenant().admin, &bob, None).await.unwrap();
        let up = c.cmd(&format!("APPEND Drafts {{{}+}}\r\n{message}", message.len())).await;
        assert!(up.contains("NO [OVERQUOTA]"), "{up}");
    }
}

backend_test! {
    config = imap_on;
    async fn a_forced_second_factor_needs_a_client_password(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        api.ok("user/openwxtoken", &[("Alias", &bob)]).await;
        let (mut c, _) = ImapRaw::connect(&srv).await;
        let refused = c.cmd(&format!("LOGIN {bob} secret123")).await;
        assert!(refused.contains("NO [AUTHENTICATIONFAILED] This mailbox requires a second factor"), "{refused}");

        let admin = srv.running().admin();
        let admin_name = &srv.tenant().admin;
        let password = admin.add_app_password(admin_name, &bob, "Thunderbird").await.unwrap();
        assert!(admin.add_app_password(admin_name, &bob, "Thunderbird").await.is_err(), "names are unique");
        // Typed as shown, or without dashes and in capitals: the same password.
        let ok = c.cmd(&format!("LOGIN {bob} \"{}\"", password.replace('-', " ").to_uppercase())).await;
        assert_eq!(ImapRaw::status(&ok), "OK", "{ok}");
        let names = admin.app_passwords(admin_name, &bob).await.unwrap();
        assert_eq!(names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["Thunderbird"]);

        // Another member's client password opens nothing of bob's.
        let eve = api.add_member("eve", &[]).await;
        let hers = admin.add_app_password(admin_name, &eve, "phone").await.unwrap();
        let (mut c2, _) = ImapRaw::connect(&srv).await;
        let wrong = c2.cmd(&format!("LOGIN {bob} {hers}")).await;
        assert!(wrong.contains("NO [AUTHENTICATIONFAILED] Invalid credentials"), "{wrong}");

        assert!(admin.remove_app_password(admin_name, &bob, "Thunderbird").await.unwrap());
        let gone = c2.cmd(&format!("LOGIN {bob} {password}")).await;
        assert!(gone.contains("NO [AUTHENTICATIONFAILED]"), "{gone}");
    }
}
