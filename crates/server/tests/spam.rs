//! Spam scoring through a real rspamd on loopback, both backends: GTUBE is refused, ordinary mail
//! arrives with its `X-Spam-*` headers, a tenant's own Junk threshold files mail in Junk without
//! announcing it, and members' verdicts teach rspamd: "spam" on the mail's page, and an IMAP MOVE
//! out of Junk.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{Backend, TestServer};
use common::rspamd::Rspamd;
use common::tls::Smtp;
use common::{Api, Browser, ImapRaw, hidden_field};
use std::time::Duration;

const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// A mail of ordinary words, long enough for rspamd's Bayes (11 tokens or more).
fn ordinary(n: u32) -> String {
    format!(
        "From: partner{n}@outside.example\r\nSubject: meeting {n}\r\nMessage-ID: <m{n}@outside.example>\r\n\
         Date: Sat, 28 Nov 2026 10:00:00 +0800\r\n\r\nDear colleague, the quarterly planning meeting \
         moves to Thursday afternoon in the second floor room, agenda number {n} attached below.\r\n"
    )
}

/// One SMTP transaction; the reply to the end of DATA.
async fn send(srv: &TestServer, to: &str, message: &str) -> String {
    let tcp = tokio::net::TcpStream::connect(srv.smtp_addr())
        .await
        .unwrap();
    let mut c = Smtp::over(tcp);
    c.reply().await;
    c.cmd("EHLO mx.outside.example").await;
    assert!(
        c.cmd("MAIL FROM:<partner@outside.example>")
            .await
            .starts_with("250")
    );
    assert!(c.cmd(&format!("RCPT TO:<{to}>")).await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    c.cmd(&format!("{message}\r\n.")).await
}

async fn eventually_learned(rspamd: &Rspamd, n: u64) {
    for _ in 0..100 {
        if rspamd.learned().await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "rspamd learned {} messages, not {n}",
        rspamd.learned().await
    );
}

async fn scenario(backend: Backend) {
    let (dns, _zone) = common::dns::start().await;
    let rspamd = Rspamd::start(dns).await;
    let (url, controller) = (rspamd.url.clone(), rspamd.controller.clone());
    let srv = TestServer::builder(backend)
        .with_config(move |c| {
            c.rspamd_url = url;
            c.rspamd_controller_url = controller;
            c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
            c.imap_allow_plaintext = true;
        })
        .start()
        .await;
    let api = Api::new(&srv).await;
    let carol = api.add_member("carol", &[]).await;
    let gtube = send(&srv, &carol, &format!("Subject: test\r\n\r\n{GTUBE}\r\n")).await;
    assert!(gtube.starts_with("550 5.7.1"), "{gtube}");
    assert_eq!(
        common::mail_log(&srv, 2).await,
        [(carol.clone(), 11)],
        "logged as blocked"
    );
    assert!(send(&srv, &carol, &ordinary(1)).await.starts_with("250"));
    assert_eq!(api.new_count(&carol).await, "1");
    let mut imap = ImapRaw::login(&srv, &carol, "secret123").await;
    imap.cmd("SELECT INBOX").await;
    let arrived = imap.cmd("FETCH 1 (BODY.PEEK[HEADER])").await;
    assert!(arrived.contains("X-Spam-Status: No, score="), "{arrived}");
    assert!(arrived.contains("X-Spam-Symbols: "), "{arrived}");
    // This tenant files everything in Junk from a score of -100: unannounced, not unread.
    let t = srv.tenant();
    srv.running()
        .admin()
        .set_spam_thresholds(&t.admin, Some(-100.0), None)
        .await
        .unwrap();
    assert!(send(&srv, &carol, &ordinary(2)).await.starts_with("250"));
    assert_eq!(api.new_count(&carol).await, "1");
    let junk = imap.cmd("SELECT Junk").await;
    assert!(junk.contains("* 1 EXISTS"), "{junk}");
    srv.running()
        .admin()
        .set_spam_thresholds(&t.admin, None, None)
        .await
        .unwrap();
    // "Spam" on the INBOX mail's page: into Junk, and rspamd learns it.
    let before = rspamd.learned().await;
    let mut web = Browser::signed_in(&srv, &carol).await;
    let inbox = web.page("/mail/", 200).await;
    let at = inbox.find("/mail/read/").unwrap() + "/mail/read/".len();
    let id: String = inbox[at..].chars().take_while(|c| *c != '"').collect();
    let page = web.page(&format!("/mail/read/{id}"), 200).await;
    let csrf = hidden_field(&page, "csrf");
    let moved = web
        .post(&format!("/mail/spam/{id}"), &[("csrf", &csrf)])
        .await;
    assert_eq!(moved.status().as_u16(), 303);
    eventually_learned(&rspamd, before + 1).await;
    let junk = imap.cmd("SELECT Junk").await;
    assert!(junk.contains("* 2 EXISTS"), "{junk}");
    // Moving one back to INBOX over IMAP: rspamd learns it is not spam.
    let moved = imap.cmd("MOVE 1 INBOX").await;
    assert!(moved.contains("OK"), "{moved}");
    eventually_learned(&rspamd, before + 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rspamd_scores_files_and_learns_sqlite() {
    scenario(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rspamd_scores_files_and_learns_postgres() {
    scenario(Backend::Postgres).await
}
