//! SPF, DKIM and DMARC on received mail, both backends, with a DNS server of the test's own on
//! loopback (`dns_servers`): mail DKIM-signed by another bizmail passes all three and says so in
//! `Authentication-Results`; a forgery of a `p=reject` domain is refused; one of a
//! `p=quarantine` domain lands in Junk, unannounced.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::outbound::dkim::Algorithm;
use bizmail_testkit::{Backend, TestServer};
use common::tls::Smtp;
use common::{Api, Browser, ImapRaw};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

fn loopback() -> Option<std::net::SocketAddr> {
    Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// The bytes of the first literal in an IMAP answer.
fn literal(answer: &str) -> String {
    let open = answer.find('{').unwrap();
    let close = open + answer[open..].find('}').unwrap();
    let n: usize = answer[open + 1..close].parse().unwrap();
    answer[close + 3..close + 3 + n].to_owned()
}

async fn scenario(backend: Backend) {
    let (dns, zone) = common::dns::start().await;
    // The receiving server checks everything that arrives on port 25.
    let receiver = TestServer::builder(backend)
        .with_config(move |c| {
            c.inbound_auth = true;
            c.dns_servers = vec![dns];
            c.imap_addr = loopback();
            c.imap_allow_plaintext = true;
        })
        .start()
        .await;
    let carol = Api::new(&receiver).await.add_member("carol", &[]).await;
    // A sending bizmail whose domain publishes SPF, its DKIM key and a strict DMARC policy.
    let to_receiver = format!(
        "{}=127.0.0.1:{}",
        receiver.tenant().domain,
        receiver.smtp_addr().port()
    );
    let sender = TestServer::builder(Backend::Sqlite)
        .with_config(move |c| {
            c.submission_addr = loopback();
            c.submission_allow_plaintext = true;
            c.outbound_mx_override = vec![to_receiver];
        })
        .start()
        .await;
    let bob = Api::new(&sender).await.add_member("bob", &[]).await;
    let t = sender.tenant();
    let key = sender
        .running()
        .admin()
        .dkim_create(&t.admin, &t.domain, "s1", Algorithm::Ed25519)
        .await
        .unwrap();
    zone.txt(
        &key.dns_name,
        &key.dns_value.replace("\" \"", "").replace('"', ""),
    );
    zone.txt(&t.domain, "v=spf1 ip4:127.0.0.1 -all");
    zone.txt(&format!("_dmarc.{}", t.domain), "v=DMARC1; p=reject");
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sender.running().submission_addr.unwrap().port())
        .credentials(Credentials::new(bob.clone(), "secret123".into()))
        .build();
    let message = lettre::Message::builder()
        .from(bob.parse().unwrap())
        .to(carol.parse().unwrap())
        .subject("Signed and aligned")
        .body(String::from("hello\r\n"))
        .unwrap();
    mailer.send(message).await.unwrap();
    let api = Api::new(&receiver).await;
    for _ in 0..200 {
        if api.new_count(&carol).await == "1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(api.new_count(&carol).await, "1");
    let mut imap = ImapRaw::login(&receiver, &carol, "secret123").await;
    imap.cmd("SELECT INBOX").await;
    let arrived = literal(&imap.cmd("FETCH 1 (BODY.PEEK[])").await);
    assert!(
        arrived.contains("Authentication-Results: localhost;"),
        "{arrived}"
    );
    for verdict in ["dkim=pass", "spf=pass", "dmarc=pass"] {
        assert!(arrived.contains(verdict), "{verdict}: {arrived}");
    }
    // The web mailbox shows the verdicts on the mail's page.
    let mut web = Browser::signed_in(&receiver, &carol).await;
    web.accept_language = Some("en".into());
    let inbox = web.page("/mail/", 200).await;
    let at = inbox.find("/mail/read/").unwrap();
    let link: String = inbox[at..].chars().take_while(|c| *c != '"').collect();
    let page = web.page(&link, 200).await;
    assert!(
        page.contains("Sender checks: DKIM pass · SPF pass · ARC none · DMARC pass"),
        "{page}"
    );
    // A forgery of a domain whose DMARC policy is reject: refused at the end of DATA.
    zone.txt("strict.test", "v=spf1 -all");
    zone.txt("_dmarc.strict.test", "v=DMARC1; p=reject");
    zone.txt("loose.test", "v=spf1 -all");
    zone.txt("_dmarc.loose.test", "v=DMARC1; p=quarantine");
    let tcp = tokio::net::TcpStream::connect(receiver.smtp_addr())
        .await
        .unwrap();
    let mut c = Smtp::over(tcp);
    c.reply().await;
    c.cmd("EHLO forger.example").await;
    for (domain, expect) in [("strict.test", "550 5.7.1"), ("loose.test", "250 ")] {
        assert!(
            c.cmd(&format!("MAIL FROM:<ceo@{domain}>"))
                .await
                .starts_with("250")
        );
        assert!(
            c.cmd(&format!("RCPT TO:<{carol}>"))
                .await
                .starts_with("250")
        );
        assert!(c.cmd("DATA").await.starts_with("354"));
        let end = c
            .cmd(&format!(
                "From: ceo@{domain}\r\nSubject: wire the money\r\n\r\nnow\r\n."
            ))
            .await;
        assert!(end.starts_with(expect), "{domain}: {end}");
    }
    // The quarantined one is in Junk, and INBOX's unread count (0 since the web read) did not
    // move.
    assert_eq!(api.new_count(&carol).await, "0");
    let junk = imap.cmd("SELECT Junk").await;
    assert!(junk.contains("* 1 EXISTS"), "{junk}");
    let filed = literal(&imap.cmd("FETCH 1 (BODY.PEEK[])").await);
    assert!(filed.contains("dmarc=fail"), "{filed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    scenario(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    scenario(Backend::Postgres).await
}
