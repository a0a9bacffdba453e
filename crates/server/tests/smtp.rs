//! The SMTP receiver over TCP against the real server, on both backends (issue: mail host;
//! PROTOCOL.md §7.4, §7.7, §9): delivery, routing, group permissions, every limit and refusal,
//! decoding, malformed input.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::mail::{MailCopy, Owner};
use bizmail_testkit::{TestServer, backend_test};
use common::tls::{Smtp, self_signed, tls_over};
use common::{Api, Raw};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn code(reply: &str) -> &str {
    reply.get(..3).unwrap_or("")
}

async fn owner(srv: &TestServer, address: &str) -> Owner {
    let boxes = srv.running().mailboxes();
    boxes
        .owner(address)
        .await
        .unwrap()
        .expect("a member's address")
}

async fn mailbox(srv: &TestServer, address: &str) -> Vec<MailCopy> {
    let owner = owner(srv, address).await;
    srv.running()
        .mailboxes()
        .list(&owner, 100, 0)
        .await
        .unwrap()
}

async fn newcount(api: &Api<'_>, address: &str) -> String {
    let v = api.json("mail/newcount", &[("Alias", address)]).await;
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["Alias", "NewCount"]
    );
    v["NewCount"]
        .as_str()
        .expect("NewCount is a string")
        .to_owned()
}

/// Sends one message over a raw session; returns the reply to the end of DATA.
async fn send_raw(srv: &TestServer, from: &str, to: &[&str], body: &str) -> String {
    let (mut c, _) = Raw::connect(srv).await;
    assert_eq!(code(&c.cmd("EHLO client.test").await), "250");
    assert_eq!(code(&c.cmd(&format!("MAIL FROM:<{from}>")).await), "250");
    for t in to {
        c.cmd(&format!("RCPT TO:<{t}>")).await;
    }
    let r = c.cmd("DATA").await;
    if code(&r) != "354" {
        return r;
    }
    c.send(body.as_bytes()).await;
    c.send(b"\r\n.\r\n").await;
    c.reply().await
}

backend_test! {
    async fn lettre_delivers_and_newcount_counts(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        assert_eq!(newcount(&api, &bob).await, "0");
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(srv.smtp_addr().ip().to_string())
            .port(srv.smtp_addr().port())
            .build();
        let email = lettre::Message::builder()
            .from("\"Test\" <test@gzdev.com>".parse().unwrap())
            .to(bob.parse().unwrap())
            .subject("TestMail")
            .body(String::from("TestMail Content"))
            .unwrap();
        let resp = transport.send(email).await.unwrap();
        assert!(resp.is_positive());
        // Visible the moment the 250 arrived (§9).
        assert_eq!(newcount(&api, &bob).await, "1");
        let copies = mailbox(&srv, &bob).await;
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0].subject, "TestMail");
        // As lettre wrote it (it drops quotes a display name does not need).
        assert_eq!(copies[0].from_header, "Test <test@gzdev.com>");
        assert_eq!(copies[0].summary, "TestMail Content");
        assert!(!copies[0].seen);
        assert_eq!(api.err("mail/newcount", &[("Alias", &api.addr("nobody"))]).await, "1400");
        assert_eq!(api.err("mail/newcount", &[]).await, "1001");
    }
}

backend_test! {
    async fn one_copy_per_person_however_addressed(srv) {
        let api = Api::new(&srv).await;
        let a = api.addr("carol");
        let alias = api.addr("c.alias");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "C"), ("Password", "secret123"), ("Slave", &alias)]).await;
        let d = api.add_member("dan", &[]).await;
        let inner = api.addr("inner-team");
        let outer = api.addr("outer-team");
        api.ok("group/add", &[("group_name", "i"), ("group_admin", &inner), ("status", "all"), ("members", &format!("{a},{d}"))]).await;
        api.ok("group/add", &[("group_name", "o"), ("group_admin", &outer), ("status", "all"), ("members", &format!("{inner},{alias}"))]).await;
        let body = "From: \"Test\" <test@gzdev.com>\r\nSubject: once\r\n\r\nhello";
        let r = send_raw(&srv, "x@outside.example", &[&a, &alias, &inner, &outer], body).await;
        assert_eq!(code(&r), "250", "{r}");
        assert_eq!(mailbox(&srv, &a).await.len(), 1);
        assert_eq!(mailbox(&srv, &d).await.len(), 1);
        assert_eq!(newcount(&api, &a).await, "1");
        assert_eq!(mailbox(&srv, &a).await[0].from_header, "\"Test\" <test@gzdev.com>", "From as written");
        // Copies of one mail have distinct, URL-safe MailIds.
        let (ma, md) = (&mailbox(&srv, &a).await[0].mail_id, &mailbox(&srv, &d).await[0].mail_id);
        assert_ne!(ma, md);
        assert!(ma.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{ma}");
    }
}

backend_test! {
    async fn refusals_at_rcpt(srv) {
        let api = Api::new(&srv).await;
        let on = api.add_member("on", &[]).await;
        let off = api.add_member("off", &[]).await;
        api.ok("user/sync", &[("Action", "3"), ("Alias", &off), ("OpenType", "2")]).await;
        let (mut c, greeting) = Raw::connect(&srv).await;
        assert_eq!(code(&greeting), "220");
        assert_eq!(code(&c.cmd("MAIL FROM:<a@b.example>").await), "503", "EHLO first");
        let ehlo = c.cmd("EHLO client.test").await;
        for ext in ["PIPELINING", "SIZE ", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"] {
            assert!(ehlo.contains(ext), "{ehlo}");
        }
        assert_eq!(code(&c.cmd("RCPT TO:<x@y.example>").await), "503", "RCPT before MAIL");
        assert_eq!(code(&c.cmd("DATA").await), "503");
        assert!(c.cmd("MAIL FROM:<a@b.example>").await.starts_with("250 2.1.0"));
        assert!(c.cmd(&format!("RCPT TO:<{}>", api.addr("ghost"))).await.starts_with("550 5.1.1"));
        assert!(c.cmd(&format!("RCPT TO:<{off}>")).await.starts_with("550 5.1.1"));
        assert!(c.cmd("RCPT TO:<someone@not-hosted.example>").await.starts_with("550 5.7.1"));
        assert_eq!(code(&c.cmd("RCPT TO:<not an address>").await), "501");
        assert!(c.cmd("DATA").await.starts_with("554 5.5.1"), "no valid recipients");
        assert!(c.cmd(&format!("RCPT TO:<{}>", on.to_uppercase())).await.starts_with("250 2.1.5"));
        assert!(c.cmd("RSET").await.starts_with("250"));
        assert_eq!(code(&c.cmd("DATA").await), "503", "RSET forgot the transaction");
        assert!(c.cmd("NOOP").await.starts_with("250"));
        assert!(c.cmd(&format!("VRFY {on}")).await.starts_with("252"));
        assert!(c.cmd("STARTTLS").await.starts_with("454"));
        assert!(c.cmd("QUIT").await.starts_with("221"));
        assert_eq!(c.reply().await, "", "closed after QUIT");
        assert_eq!(newcount(&api, &on).await, "0");
    }
}

backend_test! {
    async fn pipelined_commands_are_answered_in_order(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("pipe", &[]).await;
        let (mut c, _) = Raw::connect(&srv).await;
        c.cmd("EHLO client.test").await;
        let batch = format!("MAIL FROM:<p@outside.example>\r\nRCPT TO:<{a}>\r\nRCPT TO:<{}>\r\nDATA\r\n", api.addr("ghost"));
        c.send(batch.as_bytes()).await;
        assert_eq!(code(&c.reply().await), "250");
        assert_eq!(code(&c.reply().await), "250");
        assert_eq!(code(&c.reply().await), "550");
        assert_eq!(code(&c.reply().await), "354");
        c.send(b"Subject: piped\r\n\r\n..leading dot\r\n.\r\nNOOP\r\n").await;
        assert_eq!(code(&c.reply().await), "250");
        assert_eq!(code(&c.reply().await), "250");
        let copies = mailbox(&srv, &a).await;
        assert_eq!(copies[0].summary, ".leading dot", "dot-unstuffed");
    }
}

backend_test! {
    async fn group_send_permissions(srv) {
        let api = Api::new(&srv).await;
        let m = api.add_member("member", &[]).await;
        let m_alias = api.addr("member.alias");
        api.ok("user/sync", &[("Action", "3"), ("Alias", &m), ("Slave", &m_alias)]).await;
        let other = api.add_member("other", &[]).await;
        let groups = [("g-all", "all"), ("g-inner", "inner"), ("g-group", "group"), ("g-list", "list")];
        for (g, status) in groups {
            api.ok("group/add", &[("group_name", g), ("group_admin", &api.addr(g)), ("status", status), ("members", &m)]).await;
        }
        api.ok("group/addallowlist", &[("group_alias", &api.addr("g-list")), ("allow_list", "partner@outside.example")]).await;
        let outsider = "stranger@outside.example";
        let cases = [
            ("g-all", outsider, "250"), ("g-all", "", "250"),
            ("g-inner", outsider, "550"), ("g-inner", other.as_str(), "250"),
            ("g-group", other.as_str(), "550"), ("g-group", m_alias.as_str(), "250"), ("g-group", m.as_str(), "250"),
            ("g-list", outsider, "550"), ("g-list", "Partner@Outside.example", "250"), ("g-list", "", "550"),
        ];
        for (g, from, expect) in cases {
            let (mut c, _) = Raw::connect(&srv).await;
            c.cmd("EHLO client.test").await;
            assert_eq!(code(&c.cmd(&format!("MAIL FROM:<{from}>")).await), "250");
            let r = c.cmd(&format!("RCPT TO:<{}>", api.addr(g))).await;
            assert_eq!(code(&r), expect, "{g} from {from:?}: {r}");
            if expect == "550" {
                assert!(r.starts_with("550 5.7.1"), "{r}");
            }
        }
    }
}

backend_test! {
    config = |c| {
        c.smtp_max_recipients = 2;
        c.smtp_max_message_bytes = 2048;
        c.smtp_max_line_bytes = 600;
        c.smtp_max_bad_commands = 3;
    };
    async fn limits(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("lim", &[]).await;
        let b = api.add_member("lim2", &[]).await;
        let c3 = api.add_member("lim3", &[]).await;
        let (mut c, _) = Raw::connect(&srv).await;
        assert!(c.cmd("EHLO x").await.contains("SIZE 2048"));
        assert!(c.cmd("MAIL FROM:<s@outside.example> SIZE=4096").await.starts_with("552"));
        // A size too large for any number wrapped to a small one in the parser and was accepted.
        assert!(c.cmd("MAIL FROM:<s@outside.example> SIZE=99999999999999999999999999999").await.starts_with("552"));
        assert_eq!(code(&c.cmd("MAIL FROM:<s@outside.example>").await), "250");
        assert_eq!(code(&c.cmd(&format!("RCPT TO:<{a}>")).await), "250");
        assert_eq!(code(&c.cmd(&format!("RCPT TO:<{b}>")).await), "250");
        assert!(c.cmd(&format!("RCPT TO:<{c3}>")).await.starts_with("452 4.5.3"));
        assert_eq!(code(&c.cmd("DATA").await), "354");
        let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(70).repeat(40).chars().collect::<Vec<_>>().chunks(70).map(|l| l.iter().collect::<String>()).collect::<Vec<_>>().join("\r\n"));
        c.send(big.as_bytes()).await;
        c.send(b".\r\n").await;
        assert!(c.reply().await.starts_with("552 5.3.4"));
        assert_eq!(newcount(&api, &a).await, "0", "nothing of an oversized message is stored");
        // The session goes on after a refused message.
        assert_eq!(code(&c.cmd("NOOP").await), "250");
        // A 10,000-byte line.
        assert!(c.cmd(&"X".repeat(10_000)).await.starts_with("500 5.5.2"));
        // Too many bad commands close the session.
        assert_eq!(code(&c.cmd("BOGUS").await), "500");
        assert_eq!(code(&c.cmd("BOGUS").await), "500");
        assert!(c.cmd("BOGUS").await.starts_with("421"));
        assert_eq!(c.reply().await, "");
    }
}

backend_test! {
    config = |c| c.smtp_max_connections_per_ip = 1;
    async fn connections_per_address(srv) {
        let (mut first, g1) = Raw::connect(&srv).await;
        assert_eq!(code(&g1), "220");
        let (_, g2) = Raw::connect(&srv).await;
        assert!(g2.starts_with("421"), "{g2}");
        // A session lets go of its place at QUIT, before the 221: a client that reconnects the
        // moment it reads it is never refused (Postfix's smtp-source reconnects like that).
        for round in 0..10 {
            assert!(first.cmd("QUIT").await.starts_with("221"));
            let (next, g) = Raw::connect(&srv).await;
            assert!(g.starts_with("220"), "round {round}: {g}");
            first = next;
        }
    }
}

backend_test! {
    config = |c| { c.smtp_max_rejected_recipients = 5; c.smtp_rejected_recipient_delay_ms = 100; };
    async fn guessing_recipients_is_slowed_then_cut_off(srv) {
        let api = Api::new(&srv).await;
        let real = api.add_member("real", &[]).await;
        // One guess at a time: five refusals, a growing wait before the third to the fifth
        // (0.1 + 0.2 + 0.3 s at least), then 421 and the connection closed.
        let (mut c, _) = Raw::connect(&srv).await;
        c.cmd("EHLO guesser").await;
        c.cmd("MAIL FROM:<g@outside.example>").await;
        let started = std::time::Instant::now();
        for i in 0..5 {
            let r = c.cmd(&format!("RCPT TO:<nobody{i}@{}>", api.tenant.domain)).await;
            assert!(r.starts_with("550"), "{i}: {r}");
        }
        assert!(started.elapsed() >= Duration::from_millis(600), "the tarpit waited");
        let r = c.cmd(&format!("RCPT TO:<nobody5@{}>", api.tenant.domain)).await;
        assert!(r.starts_with("421 4.7.0"), "{r}");
        assert_eq!(c.reply().await, "", "closed");

        // A thousand pipelined guesses get no more than five answers before the server hangs up
        // (with guesses still unread, the close may arrive as a reset).
        let (mut c, _) = Raw::connect(&srv).await;
        c.cmd("EHLO guesser").await;
        c.cmd("MAIL FROM:<g@outside.example>").await;
        let guesses: String = (0..1000).map(|i| format!("RCPT TO:<nobody{i}@{}>\r\n", api.tenant.domain)).collect();
        let _ = c.writer.write_all(guesses.as_bytes()).await;
        let mut refused = 0;
        let mut line = String::new();
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(20), c.reader.read_line(&mut line)).await {
            if n == 0 { break; }
            refused += usize::from(line.starts_with("550"));
            line.clear();
        }
        assert!(refused <= 5, "{refused} refusals");
        // Known recipients are not slowed or counted, and the server still delivers.
        assert_eq!(code(&send_raw(&srv, "x@outside.example", &[&real], "Subject: fine\r\n\r\nok").await), "250");
    }
}

backend_test! {
    config = |c| { c.smtp_command_timeout_secs = 1; c.smtp_max_connections_per_ip = 1; };
    async fn a_client_that_never_reads_is_cut_off(srv) {
        // Pipelined NOOPs, never a read: the replies fill the socket, the server's write waits
        // one command timeout, then the session ends and its place is free again.
        let (mut c, _) = Raw::connect(&srv).await;
        let noops = "NOOP\r\n".repeat(64 * 1024);
        let flood = async {
            loop {
                if c.writer.write_all(noops.as_bytes()).await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), flood).await.expect("the server hung up");
        let mut greeted = false;
        for _ in 0..100 {
            let (_, g) = Raw::connect(&srv).await;
            if g.starts_with("220") { greeted = true; break; }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(greeted, "the place is free again");
    }
}

backend_test! {
    config = |c| c.smtp_command_timeout_secs = 1;
    async fn idle_clients_are_timed_out(srv) {
        let (mut c, _) = Raw::connect(&srv).await;
        let r = c.reply().await;
        assert!(r.starts_with("421 4.4.2"), "{r}");
    }
}

backend_test! {
    async fn legacy_charsets_and_encodings_are_decoded(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("zhao", &[]).await;
        // Subject "测试邮件" in GB2312 (RFC 2047 B), body in GB2312 base64: "你好，世界".
        let gb = "From: =?GB2312?B?1cXI/Q==?= <zhang@outside.example>\r\nTo: <zhao@x>\r\nSubject: =?GB2312?B?suLK1NPKvP4=?=\r\n\
Content-Type: text/plain; charset=GB2312\r\nContent-Transfer-Encoding: base64\r\n\r\nxOO6w6OsysC957Ck\r\n";
        assert_eq!(code(&send_raw(&srv, "zhang@outside.example", &[&a], gb).await), "250");
        let qp = "Subject: =?UTF-8?Q?caf=C3=A9?=\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Bonjour =C3=A0 tous</p>\r\n";
        assert_eq!(code(&send_raw(&srv, "x@outside.example", &[&a], qp).await), "250");
        let copies = mailbox(&srv, &a).await;
        let subjects: Vec<&str> = copies.iter().map(|c| c.subject.as_str()).collect();
        assert!(subjects.contains(&"测试邮件"), "{subjects:?}");
        assert!(subjects.contains(&"café"), "{subjects:?}");
        let gbcopy = copies.iter().find(|c| c.subject == "测试邮件").unwrap();
        assert!(gbcopy.summary.starts_with("你好，世界"), "{}", gbcopy.summary);
        assert!(gbcopy.from_header.contains("zhang@outside.example"));
        let html = copies.iter().find(|c| c.subject == "café").unwrap();
        assert_eq!(html.summary, "Bonjour à tous");
        assert_eq!(newcount(&api, &a).await, "2");
    }
}

backend_test! {
    async fn malformed_input_never_stores_anything_partial(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("mal", &[]).await;
        // Bare LF commands and NUL bytes get replies, not a crash.
        let (mut c, _) = Raw::connect(&srv).await;
        c.send(b"EHLO bare.lf\n").await;
        assert_eq!(code(&c.reply().await), "250");
        c.send(b"MA\0IL FROM:<x@y.example>\r\n").await;
        assert_eq!(code(&c.reply().await), "500");
        c.send(b"\r\n").await;
        assert!(matches!(code(&c.reply().await), "500" | "501"));
        // A client that vanishes in the middle of DATA.
        c.cmd("MAIL FROM:<x@outside.example>").await;
        c.cmd(&format!("RCPT TO:<{a}>")).await;
        assert_eq!(code(&c.cmd("DATA").await), "354");
        c.send(b"Subject: half\r\n\r\nthis never ends").await;
        drop(c);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(newcount(&api, &a).await, "0");
        // The server still works.
        assert_eq!(code(&send_raw(&srv, "x@outside.example", &[&a], "Subject: fine\r\n\r\nok").await), "250");
        assert_eq!(newcount(&api, &a).await, "1");
        let raw = {
            let owner = owner(&srv, &a).await;
            let boxes = srv.running().mailboxes();
            let copies = boxes.list(&owner, 1, 0).await.unwrap();
            boxes.raw(&owner, &copies[0].mail_id).await.unwrap().unwrap()
        };
        let text = String::from_utf8(raw).unwrap();
        assert!(text.starts_with("Received: from "), "a Received header is prepended: {text}");
    }
}

backend_test! {
    async fn the_ehlo_name_cannot_break_the_received_header(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("rcvd", &[]).await;
        let (mut c, _) = Raw::connect(&srv).await;
        assert_eq!(code(&c.cmd("EHLO evil\rX-Injected: yes").await), "250");
        c.cmd("MAIL FROM:<x@outside.example>").await;
        c.cmd(&format!("RCPT TO:<{a}>")).await;
        c.cmd("DATA").await;
        assert_eq!(code(&c.cmd("Subject: hi\r\n\r\nbody\r\n.").await), "250");
        let owner = owner(&srv, &a).await;
        let boxes = srv.running().mailboxes();
        let copy = boxes.list(&owner, 1, 0).await.unwrap().remove(0);
        let raw = String::from_utf8(boxes.raw(&owner, &copy.mail_id).await.unwrap().unwrap()).unwrap();
        let received = raw.split("\r\n").next().unwrap();
        assert!(!received.contains('\r'), "{received:?}");
        assert!(received.starts_with("Received: from evilX-Injected: ("), "{received:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_when_a_certificate_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = self_signed(dir.path());
    let srv = TestServer::builder(bizmail_testkit::Backend::Sqlite)
        .with_config(move |c| {
            c.smtp_tls_cert_file = cert;
            c.smtp_tls_key_file = key;
        })
        .start()
        .await;
    let api = Api::new(&srv).await;
    let a = api.add_member("tls", &[]).await;
    let (mut c, _) = Raw::connect(&srv).await;
    assert!(c.cmd("EHLO client.test").await.contains("250-STARTTLS"));
    // A command pipelined after STARTTLS must not survive into the TLS session.
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@outside.example>\r\n")
        .await;
    assert!(c.reply().await.starts_with("220 2.0.0"));
    let tcp = c.reader.into_inner().reunite(c.writer).unwrap();
    let mut tls = Smtp::over(tls_over(tcp, &der).await);
    let mut say = async |line: &str| tls.cmd(line).await;
    let ehlo = say("EHLO client.test").await;
    assert!(
        ehlo.starts_with("250") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    assert!(say("STARTTLS").await.starts_with("503"));
    // The injected MAIL was discarded: this MAIL is the first of the session.
    assert!(
        say("MAIL FROM:<real@outside.example>")
            .await
            .starts_with("250")
    );
    assert!(say(&format!("RCPT TO:<{a}>")).await.starts_with("250"));
    assert!(say("DATA").await.starts_with("354"));
    assert!(
        say("Subject: over TLS\r\n\r\nsecret\r\n.")
            .await
            .starts_with("250")
    );
    assert_eq!(mailbox(&srv, &a).await[0].subject, "over TLS");
}

#[tokio::test]
async fn without_a_certificate_starttls_is_refused_and_bad_files_stop_the_start() {
    let srv = TestServer::start(bizmail_testkit::Backend::Sqlite).await;
    let (mut c, _) = Raw::connect(&srv).await;
    assert!(!c.cmd("EHLO x").await.contains("STARTTLS"));
    assert!(c.cmd("STARTTLS").await.starts_with("454"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.pem"), "not a certificate").unwrap();
    let mut config = srv.config.clone();
    config.smtp_tls_cert_file = dir.path().join("bad.pem");
    config.smtp_tls_key_file = dir.path().join("bad.pem");
    let err = bizmail_server::Server::start(config)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("SMTP TLS"), "{err}");
}

backend_test! {
    async fn a_dialogue_in_memory(srv) {
        // The session is generic over its stream: the same dialogue over an in-memory pipe.
        let api = Api::new(&srv).await;
        let a = api.add_member("mem", &[]).await;
        let (client, server) = tokio::io::duplex(64 * 1024);
        let mut settings = bizmail_server::smtp::SmtpSettings::from_config(&srv.config).unwrap();
        settings.hostname = "mx.test".into();
        let session = srv.running().smtp_session(server, "192.0.2.1".parse().unwrap(), settings);
        let task = tokio::spawn(async move { matches!(session.run().await, bizmail_server::smtp::session::End::Quit) });
        let (r, mut w) = tokio::io::split(client);
        let mut r = BufReader::new(r);
        w.write_all(format!("EHLO mem\r\nMAIL FROM:<m@outside.example>\r\nRCPT TO:<{a}>\r\nDATA\r\n").as_bytes()).await.unwrap();
        w.write_all(b"Subject: in memory\r\n\r\nhi\r\n.\r\nQUIT\r\n").await.unwrap();
        let mut transcript = String::new();
        let mut line = String::new();
        while r.read_line(&mut line).await.unwrap() > 0 {
            transcript.push_str(&line);
            line.clear();
        }
        let codes: Vec<&str> = transcript.lines().filter(|l| l.as_bytes().get(3) == Some(&b' ')).map(|l| &l[..3]).collect();
        assert_eq!(codes, ["220", "250", "250", "250", "354", "250", "221"], "{transcript}");
        assert!(transcript.starts_with("220 mx.test "));
        assert!(task.await.unwrap());
        let copy = &mailbox(&srv, &a).await[0];
        assert_eq!(copy.subject, "in memory");
    }
}
