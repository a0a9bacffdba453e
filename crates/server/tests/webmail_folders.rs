//! The web mailbox's folders on both backends: the folder list, search in Chinese, moving mail,
//! Delete into Trash and emptying it — and the same state seen from IMAP at once, both ways.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::Config;
use bizmail_testkit::backend_test;
use common::{Api, Browser, ImapRaw, deliver, hidden_field};

fn imap_on(c: &mut Config) {
    c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    c.imap_allow_plaintext = true;
}

/// The MailIds a folder page links to, in order.
fn mail_ids(page: &str) -> Vec<String> {
    page.match_indices("/mail/read/")
        .map(|(i, _)| page[i + 11..].split('"').next().unwrap().to_owned())
        .collect()
}

/// The id of the folder a page's navigation names `name`.
fn folder_id(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("\">{name}</a>"))
        .unwrap_or_else(|| panic!("{name} in {page}"));
    let start = page[..at].rfind("folder=").unwrap() + 7;
    page[start..at].to_owned()
}

backend_test! {
    config = imap_on;
    async fn folders_search_move_and_trash(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        deliver(&srv, &bob, "Subject: =?UTF-8?B?6aG555uu6L+b5bqm?=\r\n\r\nweekly\r\n").await;
        deliver(&srv, &bob, "Subject: lunch\r\n\r\nnoodles\r\n").await;
        let mut b = Browser::signed_in(&srv, &bob).await;
        let inbox = b.page("/mail/", 200).await;
        // Shown in the reader's language (Chinese unless they chose English).
        for name in ["收件箱", "已发送", "草稿箱", "已删除", "垃圾箱"] {
            assert!(inbox.contains(&format!("\">{name}</a>")), "{name} in {inbox}");
        }
        assert_eq!(mail_ids(&inbox).len(), 2);
        let csrf = hidden_field(&inbox, "csrf");
        let (trash, junk) = (folder_id(&inbox, "已删除"), folder_id(&inbox, "垃圾箱"));

        let found = b.page("/mail/?q=%E9%A1%B9%E7%9B%AE", 200).await; // 项目
        assert_eq!(mail_ids(&found).len(), 1, "{found}");
        assert!(found.contains("项目进度"), "{found}");
        let none = b.page("/mail/?q=%25", 200).await; // a LIKE wildcard is searched for as text
        assert!(mail_ids(&none).is_empty(), "{none}");

        // Move the unread lunch mail to Junk: INBOX's unread count follows, IMAP sees it there.
        let lunch = mail_ids(&b.page("/mail/?q=lunch", 200).await).remove(0);
        let r = b.post(&format!("/mail/move/{lunch}"), &[("csrf", &csrf), ("to", &junk)]).await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(api.new_count(&bob).await, "1");
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let sel = c.cmd("SELECT Junk").await;
        assert!(sel.contains("* 1 EXISTS"), "{sel}");
        // A flag set in IMAP shows on the page at once.
        c.cmd("STORE 1 +FLAGS (\\Seen)").await;
        let junk_page = b.page(&format!("/mail/?folder={junk}"), 200).await;
        assert!(!junk_page.contains("class=\"unread\""), "{junk_page}");

        // Delete: into Trash (still readable), then Empty Trash removes it for good.
        let r = b.post(&format!("/mail/delete/{lunch}"), &[("csrf", &csrf), ("back", &junk)]).await;
        assert_eq!(r.status().as_u16(), 303);
        let trash_page = b.page(&format!("/mail/?folder={trash}"), 200).await;
        assert_eq!(mail_ids(&trash_page), vec![lunch.clone()]);
        assert!(trash_page.contains("/mail/empty-trash"), "{trash_page}");
        b.page(&format!("/mail/read/{lunch}"), 200).await;
        let r = b.post("/mail/empty-trash", &[("csrf", &csrf)]).await;
        assert_eq!(r.status().as_u16(), 303);
        b.page(&format!("/mail/read/{lunch}"), 404).await;
        let r = b.post("/mail/empty-trash", &[("csrf", "forged")]).await;
        assert_eq!(r.status().as_u16(), 403);

        // Another member's folder id shows one's own INBOX, never theirs.
        let eve = api.add_member("eve", &[]).await;
        let mut e = Browser::signed_in(&srv, &eve).await;
        let theirs = e.page(&format!("/mail/?folder={junk}"), 200).await;
        assert!(mail_ids(&theirs).is_empty(), "{theirs}");
        let r = e.post(&format!("/mail/move/{lunch}"), &[("csrf", &hidden_field(&theirs, "csrf")), ("to", &junk)]).await;
        assert_eq!(r.status().as_u16(), 400, "not her folder");
    }
}
