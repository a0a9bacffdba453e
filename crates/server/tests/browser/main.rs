//! The web mailbox in a real headless Chromium against the real server, on both backends: SSO
//! lands in the inbox or in one mail, tickets burn, reading a mail sends the unread notice to a
//! held `openapi/listen`, password logins with and without the forced TOTP, the language switch,
//! logging out, and the XSS corpus (no script runs, nothing reaches a remote host).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). With
//! `BIZMAIL_UPDATE_SCREENSHOTS=1` the tests also write the README's screenshots to `docs/`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

#[path = "../common/mod.rs"]
mod common;

mod chrome;
mod compose;
mod console;
mod console_directory;
mod console_mail;
mod console_sandbox;
mod corpus;

use bizmail_testkit::{TestServer, backend_test};
use chrome::Chrome;
use common::Api;
use fantoccini::Locator;
use std::time::Duration;

/// Writes a screenshot to `docs/screenshots/` when asked to (`BIZMAIL_UPDATE_SCREENSHOTS=1`).
fn keep_screenshot(name: &str, png: &[u8]) {
    if std::env::var_os("BIZMAIL_UPDATE_SCREENSHOTS").is_some() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(format!("{dir}/{name}"), png).unwrap();
    }
}

async fn authkey(api: &Api<'_>, alias: &str) -> String {
    api.json("mail/authkey", &[("Alias", alias)]).await["auth_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sso_url(
    srv: &TestServer,
    api: &Api<'_>,
    user: &str,
    ticket: &str,
    mailid: Option<&str>,
) -> String {
    let mut u = srv.url(&format!(
        "cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={}&user={user}&ticket={ticket}",
        api.tenant.admin
    ));
    if let Some(m) = mailid {
        u.push_str(&format!("&mailid={m}"));
    }
    u
}

/// The mail ids linked from the inbox page open in `chrome`, newest first.
async fn inbox_ids(chrome: &Chrome) -> Vec<String> {
    let mut ids = Vec::new();
    for a in chrome
        .client
        .find_all(Locator::Css("a[href^='/mail/read/']"))
        .await
        .unwrap()
    {
        let href = a.attr("href").await.unwrap().unwrap();
        ids.push(href.trim_start_matches("/mail/read/").to_owned());
    }
    ids
}

const NEWSLETTER: &str = "From: =?utf-8?B?5Lq65Yqb6LWE5rqQ6YOo?= <hr@corp.example>\r\n\
To: all-staff@corp.example\r\nDate: Mon, 23 Nov 2026 09:30:00 +0800\r\n\
Subject: =?utf-8?B?5YWs5Y+45bm05Lya6YCa55+l77yaMTLmnIgxOOaXpQ==?=\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=nl\r\n\r\n--nl\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Annual meeting on 18 December.\r\n--nl\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<h2 style=\"color:#0b5cad\">公司年会通知 · Annual meeting</h2><p>各位同事：</p>\
<p>公司年会将于 <b>12 月 18 日（周五）下午 3 点</b>在总部一楼大厅举行，请准时参加。</p>\
<ul><li>签到：14:30</li><li>年度回顾：15:00</li><li>晚宴：18:00</li></ul>\
<p>The annual meeting is on <b>Friday 18 December, 3 pm</b>, in the lobby of the head office.</p>\
<p><a href=\"https://intranet.corp.example/events/annual\">活动详情 · Details</a></p>\
<p>人力资源部 · HR</p>\r\n--nl--\r\n";

backend_test! {
    config = |c| { c.poll_timeout_secs = 10; };
    async fn sso_lands_reads_and_logs_out_in_a_real_browser(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("lin.wei", &[]).await;
        for (from, subject, body) in [
            ("IT <it@corp.example>", "VPN 证书将于周五到期", "请在周五前更新 VPN 证书。"),
            ("Finance <finance@corp.example>", "Expense report approved", "Your November expense report was approved."),
        ] {
            common::deliver(&srv, &a, &format!("From: {from}\r\nSubject: =?utf-8?B?{}?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
                base64_of(subject))).await;
        }
        common::deliver(&srv, &a, NEWSLETTER).await;

        let chrome = Chrome::start().await;
        // SSO lands in the inbox: three unread mails, newest first.
        let ticket = authkey(&api, &a).await;
        chrome.goto(&sso_url(&srv, &api, &a, &ticket, None)).await;
        assert_eq!(chrome.path().await, "/mail/");
        let text = chrome.text().await;
        assert!(text.contains("收件箱") && text.contains(&a), "{text}");
        assert!(text.contains("公司年会通知：12月18日") && text.contains("Expense report approved"), "{text}");
        assert_eq!(chrome.client.find_all(Locator::Css("tr.unread")).await.unwrap().len(), 3);
        keep_screenshot("inbox.png", &chrome.screenshot().await);
        let ids = inbox_ids(&chrome).await;
        assert_eq!(ids.len(), 3);

        // The same ticket again, without the session: refused, and no way in.
        chrome.client.delete_all_cookies().await.unwrap();
        chrome.goto(&sso_url(&srv, &api, &a, &ticket, None)).await;
        assert!(chrome.text().await.contains("此登录链接无效"));
        chrome.goto(&srv.url("mail/")).await;
        assert!(chrome.text().await.contains("请登录"));

        // With mailid: straight into that mail, which a held listen hears being read.
        let v = api.version().await.to_string();
        let _ = tokio::time::timeout(Duration::from_millis(300), api.post("listen", &[("Ver", &v)])).await;
        let fields = [("Ver", v.as_str())];
        let held = api.post("listen", &fields);
        let open = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let ticket = authkey(&api, &a).await;
            chrome.goto(&sso_url(&srv, &api, &a, &ticket, Some(&ids[0]))).await;
        };
        let (notice, ()) = tokio::join!(held, open);
        assert_eq!(chrome.path().await, format!("/mail/read/{}", ids[0]));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&notice).unwrap(), serde_json::json!({"UserName": a, "NewCount": 2}));
        assert_eq!(api.json("mail/newcount", &[("Alias", &a)]).await["NewCount"], "2");
        let text = chrome.text().await;
        assert!(text.contains("公司年会通知") && text.contains("人力资源部"), "{text}");
        chrome.client.enter_frame(0).await.unwrap();
        let framed = chrome.text().await;
        assert!(framed.contains("12 月 18 日"), "the HTML body shows in its frame: {framed}");
        let link = chrome.client.find(Locator::Css("a")).await.unwrap();
        assert_eq!(link.attr("rel").await.unwrap().as_deref(), Some("noopener noreferrer"));
        assert_eq!(link.attr("target").await.unwrap().as_deref(), Some("_blank"));
        chrome.client.enter_parent_frame().await.unwrap();
        keep_screenshot("mail.png", &chrome.screenshot().await);

        // Mark it unread again from the page: the count goes back up.
        chrome.click_button("标为未读").await;
        assert_eq!(chrome.path().await, "/mail/");
        assert_eq!(api.json("mail/newcount", &[("Alias", &a)]).await["NewCount"], "3");

        // The switch to English, kept for the next page.
        chrome.client.find(Locator::LinkText("English")).await.unwrap().click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(chrome.text().await.contains("Inbox"));
        chrome.goto(&srv.url(&format!("mail/read/{}", ids[1]))).await;
        assert!(chrome.text().await.contains("Mark unread"));
        keep_screenshot("mail-en.png", &chrome.screenshot().await);

        // Logging out ends the session.
        chrome.click_button("Log out").await;
        assert!(chrome.text().await.contains("You have logged out."));
        chrome.goto(&srv.url("mail/")).await;
        assert!(chrome.text().await.contains("Please sign in"));
        chrome.close().await;
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

backend_test! {
    config = |c| { c.ticket_lifetime_secs = 1; };
    async fn an_expired_ticket_is_refused_in_a_real_browser(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("late", &[]).await;
        let ticket = authkey(&api, &a).await;
        let chrome = Chrome::start().await;
        tokio::time::sleep(Duration::from_millis(1300)).await;
        chrome.goto(&sso_url(&srv, &api, &a, &ticket, None)).await;
        assert!(chrome.text().await.contains("此登录链接无效"));
        assert!(chrome.client.get_all_cookies().await.unwrap().iter().all(|c| c.name() != "bizmail_session"));
        chrome.goto(&srv.url("mail/")).await;
        assert!(chrome.text().await.contains("请登录"));
        chrome.close().await;
    }
}

backend_test! {
    async fn password_logins_with_and_without_totp_in_a_real_browser(srv) {
        let api = Api::new(&srv).await;
        let plain = api.addr("plain");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &plain), ("Name", "Plain"), ("Password", "secret123")]).await;
        let guarded = api.addr("guarded");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &guarded), ("Name", "Guarded"), ("Password", "secret456")]).await;
        api.ok("user/openwxtoken", &[("Alias", &guarded)]).await;
        let chrome = Chrome::start().await;

        // Without a second factor: the password alone.
        chrome.goto(&srv.url("login")).await;
        keep_screenshot("login.png", &chrome.screenshot().await);
        chrome.fill("address", &plain).await;
        chrome.fill("password", "wrong-one").await;
        chrome.click_button("登录").await;
        assert!(chrome.text().await.contains("邮箱地址或密码不正确"));
        chrome.fill("password", "secret123").await;
        chrome.click_button("登录").await;
        assert_eq!(chrome.path().await, "/mail/");
        assert!(chrome.text().await.contains(&plain));
        chrome.click_button("退出").await;

        // With the forced second factor: enrol from the QR page, then sign in with a code.
        chrome.goto(&srv.url("login")).await;
        chrome.fill("address", &guarded).await;
        chrome.fill("password", "secret456").await;
        chrome.click_button("登录").await;
        assert_eq!(chrome.path().await, "/login/code");
        let qr_width = chrome.client.execute("return document.querySelector('img').naturalWidth", vec![]).await.unwrap();
        assert!(qr_width.as_u64().unwrap() > 100, "the QR code is drawn: {qr_width}");
        let secret = chrome.client.find(Locator::Id("totp-secret")).await.unwrap().text().await.unwrap();
        keep_screenshot("totp-enrolment.png", &chrome.screenshot().await);
        let bytes = totp_rs::Secret::Encoded(secret.trim().to_owned()).to_bytes().unwrap();
        let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new());
        chrome.fill("code", "123456").await;
        chrome.click_button("验证").await;
        assert!(chrome.text().await.contains("验证码不正确"));
        chrome.fill("code", &totp.generate_current().unwrap()).await;
        chrome.click_button("验证").await;
        assert_eq!(chrome.path().await, "/mail/");
        assert!(chrome.text().await.contains(&guarded));
        chrome.close().await;
    }
}

backend_test! {
    async fn hostile_mail_runs_no_script_and_reaches_no_remote_host(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("target", &[]).await;
        let chrome = Chrome::start().await;
        let corpus = corpus::corpus(&chrome.canary);
        assert!(corpus.len() >= 50, "{} mails", corpus.len());
        for h in corpus.iter().rev() {
            common::deliver(&srv, &a, &h.message).await;
        }
        let ticket = authkey(&api, &a).await;
        chrome.goto(&sso_url(&srv, &api, &a, &ticket, None)).await;
        // Two pages of fifty.
        let mut ids = inbox_ids(&chrome).await;
        chrome.goto(&srv.url("mail/?page=1")).await;
        ids.extend(inbox_ids(&chrome).await);
        assert_eq!(ids.len(), corpus.len());
        let origin = srv.url("");
        let mut requested = Vec::new();
        for (id, h) in ids.iter().zip(&corpus) {
            // The read page (headers, text, the framed body), then the body on its own.
            for path in [format!("mail/read/{id}"), format!("mail/body/{id}")] {
                chrome.goto(&srv.url(&path)).await;
                assert!(!chrome.dialog_open().await, "{}: a dialog opened on {path}", h.name);
            }
            let (urls, dialog) = chrome.network().await;
            assert!(!dialog, "{}: a dialog opened", h.name);
            requested.extend(urls.into_iter().map(|u| (h.name.clone(), u)));
        }
        chrome.goto(&srv.url("mail/")).await;
        assert!(!chrome.dialog_open().await, "the inbox opened a dialog");
        tokio::time::sleep(Duration::from_millis(500)).await;

        let (urls, dialog) = chrome.network().await;
        assert!(!dialog);
        requested.extend(urls.into_iter().map(|u| ("inbox".to_owned(), u)));
        let remote: Vec<_> = requested
            .iter()
            // Anything on the network (http, https, ws, wss, ftp) that is not bizmail itself; the
            // browser's own chrome:// pages and data: URLs never leave the machine.
            .filter(|(_, u)| {
                ["http:", "https:", "ws:", "wss:", "ftp:"].iter().any(|s| u.starts_with(s))
                    && !u.starts_with(&origin)
            })
            .collect();
        assert!(remote.is_empty(), "requests left for other hosts: {remote:#?}");
        assert!(requested.len() >= corpus.len() * 2, "the network log was read: {}", requested.len());
        assert_eq!(chrome.canary.hits(), Vec::<String>::new(), "the canary was reached");
        let console = chrome.log("browser").await;
        let ran: Vec<_> = console.iter().filter(|e| e.message.contains("XSS-RAN")).collect();
        assert!(ran.is_empty(), "script ran: {ran:#?}");

        // Controls: the harness does see script and remote loads when they happen. A console
        // message from the test itself shows up, and "show images" (the person's own choice)
        // lets a remote image reach the canary.
        chrome.client.execute("console.error('bizmail-control')", vec![]).await.unwrap();
        assert!(chrome.log("browser").await.iter().any(|e| e.message.contains("bizmail-control")));
        let image = corpus.iter().position(|h| h.name == "remote image").unwrap();
        chrome.goto(&srv.url(&format!("mail/read/{}", ids[image]))).await;
        // Waited for, not just looked up: on a loaded machine the page may still be rendering.
        let show = chrome.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::LinkText("显示图片")).await;
        match show {
            Ok(link) => link.click().await.unwrap(),
            Err(e) => panic!("no \"显示图片\" link ({e}) on: {}", chrome.text().await),
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        let hits = chrome.canary.hits();
        assert!(hits.iter().any(|h| h.contains("/url/")), "show images loads the image: {hits:?}");
        // (The network log does not show that load: Chromium runs sandboxed frames in their own
        // process, whose events chromedriver's log leaves out. So the log checks the pages, and
        // the canary, which every corpus URL points at, checks the frames.)
        chrome.close().await;
    }
}
