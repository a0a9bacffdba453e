//! Single sign-on over HTTP on both backends (PROTOCOL.md §4): `mail/authkey`, `/cgi-bin/login`,
//! and the mailbox pages it lands on.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{TestServer, backend_test};
use common::Api;
use std::time::Duration;

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn authkey(api: &Api<'_>, alias: &str) -> String {
    let body = api.post("mail/authkey", &[("Alias", alias)]).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["auth_key", "AuthKey"], "{body}");
    let k = v["auth_key"].as_str().unwrap().to_owned();
    assert_eq!(v["AuthKey"], k.as_str());
    k
}

fn login_url(
    srv: &TestServer,
    agent: &str,
    user: &str,
    ticket: &str,
    mailid: Option<&str>,
) -> String {
    let mut u = srv.url(&format!(
        "cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={agent}&user={user}&ticket={ticket}"
    ));
    if let Some(m) = mailid {
        u.push_str(&format!("&mailid={m}"));
    }
    u
}

/// The session cookie pair from a login answer.
fn cookie(resp: &reqwest::Response) -> String {
    let set = resp
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

async fn mail(srv: &TestServer, to: &str, subject: &str) {
    let message = format!(
        "From: Sender <s@outside.example>
Subject: {subject}

Hello <b>there</b>"
    );
    common::deliver(srv, to, &message).await;
}

backend_test! {
    async fn authkey_answers_both_names_and_refuses_unknown_or_disabled(srv) {
        let api = Api::new(&srv).await;
        let a = api.addr("key");
        let alias = api.addr("key.alias");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "K"), ("Password", "secret123"), ("Slave", &alias)]).await;
        let k = authkey(&api, &alias).await;
        assert_eq!(k.len(), 112);
        assert!(k.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)), "{k}");
        assert_ne!(k, authkey(&api, &a).await);
        assert_eq!(api.err("mail/authkey", &[("Alias", &api.addr("ghost"))]).await, "1301");
        api.ok("user/sync", &[("Action", "3"), ("Alias", &a), ("OpenType", "2")]).await;
        assert_eq!(api.err("mail/authkey", &[("Alias", &a)]).await, "1301");
    }
}

backend_test! {
    async fn login_lands_in_the_inbox_once(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("ann", &[]).await;
        mail(&srv, &a, "Quarterly <script>alert(1)</script> report").await;
        let ticket = authkey(&api, &a).await;
        let b = browser();
        let r = b.get(login_url(&srv, &api.tenant.admin, &a, &ticket, None)).send().await.unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "/mail/", "a relative redirect");
        let session = cookie(&r);
        let inbox = b.get(srv.url("mail/")).header("cookie", &session).send().await.unwrap();
        assert_eq!(inbox.status(), 200);
        let csp = inbox.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(inbox.headers()["x-frame-options"], "DENY");
        let html = inbox.text().await.unwrap();
        assert!(html.contains("Quarterly &#60;script&#62;alert(1)&#60;/script&#62; report") || html.contains("Quarterly &lt;script&gt;"), "subject escaped: {html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains(&a));
        // The same ticket a second time: 403, no session.
        let again = b.get(login_url(&srv, &api.tenant.admin, &a, &ticket, None)).send().await.unwrap();
        assert_eq!(again.status(), 403);
        assert!(again.headers().get("set-cookie").is_none());
        // No cookie: not signed in.
        assert_eq!(b.get(srv.url("mail/")).send().await.unwrap().status(), 401);
    }
}

backend_test! {
    config = |c| { c.poll_timeout_secs = 10; };
    async fn mailid_lands_in_the_mail_and_reading_sends_the_unread_notice(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("mia", &[]).await;
        let v = api.version().await.to_string();
        let _ = tokio::time::timeout(Duration::from_millis(300), api.post("listen", &[("Ver", &v)])).await;
        mail(&srv, &a, "Read me").await;
        let notice: serde_json::Value = serde_json::from_str(&api.post("listen", &[("Ver", &v)]).await).unwrap();
        let mail_id = notice["MailId"].as_str().unwrap().to_owned();
        let ticket = authkey(&api, &a).await;
        let b = browser();
        // Parameter names are case-insensitive here too.
        let url = srv.url(&format!("cgi-bin/login?Fun=bizopenssologin&Method=bizauth&Agent={}&User={a}&Ticket={ticket}&MailId={mail_id}", api.tenant.admin));
        let r = b.get(url).send().await.unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], format!("/mail/read/{mail_id}").as_str());
        let session = cookie(&r);
        let fields = [("Ver", v.as_str())];
        let held = api.post("listen", &fields);
        let open = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let page = b.get(srv.url(&format!("mail/read/{mail_id}"))).header("cookie", &session).send().await.unwrap();
            assert_eq!(page.status(), 200);
            page.text().await.unwrap()
        };
        let (unread, html) = tokio::join!(held, open);
        assert!(html.contains("Read me"), "{html}");
        assert!(html.contains("Hello &#60;b&#62;there&#60;/b&#62;") || html.contains("Hello &lt;b&gt;"), "body escaped: {html}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&unread).unwrap(), serde_json::json!({"UserName": a, "NewCount": 0}));
        assert_eq!(api.new_count(&a).await, "0");
        // Another member's mail id is not found in this mailbox.
        let other = b.get(srv.url("mail/read/not-mine")).header("cookie", &session).send().await.unwrap();
        assert_eq!(other.status(), 404);
    }
}

backend_test! {
    config = |c| c.ticket_lifetime_secs = 1;
    async fn expired_and_mismatched_tickets_are_403(srv) {
        let api = Api::new(&srv).await;
        let other = Api::other(&srv).await;
        let a = api.add_member("exp", &[]).await;
        let b2 = api.add_member("someone", &[]).await;
        let b = browser();
        let t = authkey(&api, &a).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(b.get(login_url(&srv, &api.tenant.admin, &a, &t, None)).send().await.unwrap().status(), 403);
        let t = authkey(&api, &a).await;
        assert_eq!(b.get(login_url(&srv, &other.tenant.admin, &a, &t, None)).send().await.unwrap().status(), 403, "another tenant's admin");
        let t = authkey(&api, &a).await;
        assert_eq!(b.get(login_url(&srv, &api.tenant.admin, &b2, &t, None)).send().await.unwrap().status(), 403, "another member");
        assert_eq!(b.get(login_url(&srv, &api.tenant.admin, &a, "00FF", None)).send().await.unwrap().status(), 403);
        assert_eq!(b.get(srv.url("cgi-bin/login")).send().await.unwrap().status(), 403);
    }
}

backend_test! {
    async fn logout_needs_the_csrf_token_and_ends_the_session(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("out", &[]).await;
        let t = authkey(&api, &a).await;
        let b = browser();
        let r = b.get(login_url(&srv, &api.tenant.admin, &a, &t, None)).send().await.unwrap();
        let session = cookie(&r);
        let html = b.get(srv.url("mail/")).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let forged = b.post(srv.url("mail/logout")).header("cookie", &session).form(&[("csrf", "wrong")]).send().await.unwrap();
        assert_eq!(forged.status(), 403);
        assert_eq!(b.get(srv.url("mail/")).header("cookie", &session).send().await.unwrap().status(), 200);
        let out = b.post(srv.url("mail/logout")).header("cookie", &session).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(out.status(), 200);
        assert_eq!(b.get(srv.url("mail/")).header("cookie", &session).send().await.unwrap().status(), 401);
    }
}

backend_test! {
    async fn hostile_html_mail_is_sanitized_and_framed(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("html", &[]).await;
        let hostile = "Subject: Hostile\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p onmouseover=\"alert(1)\">Hello<script>alert(2)</script></p>\
<a href=\"javascript:alert(3)\">x</a><a href=\"https://example.com/doc\">doc</a>\
<img src=\"https://tracker.example/pixel.gif\" onerror=\"alert(4)\"><svg><script>alert(5)</script></svg>\
<form action=\"https://phish.example\"><input name=p></form><meta http-equiv=\"refresh\" content=\"0;url=https://phish.example\">";
        common::deliver(&srv, &a, hostile).await;
        let t = authkey(&api, &a).await;
        let b = browser();
        let session = cookie(&b.get(login_url(&srv, &api.tenant.admin, &a, &t, None)).send().await.unwrap());
        let inbox = b.get(srv.url("mail/")).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        let mail_id = inbox.split("/mail/read/").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let read = b.get(srv.url(&format!("mail/read/{mail_id}"))).header("cookie", &session).send().await.unwrap();
        let csp = read.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-src 'self'") && !csp.contains("script-src"), "{csp}");
        let page = read.text().await.unwrap();
        assert!(page.contains(r#"<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" src="/mail/body/"#), "{page}");
        assert!(!page.contains("allow-scripts") && !page.contains("allow-same-origin"));
        assert!(page.contains("?images=1"), "offers to show the blocked images");
        // The frame's document: nothing hostile left, its own locked-down policy.
        let body = b.get(srv.url(&format!("mail/body/{mail_id}"))).header("cookie", &session).send().await.unwrap();
        let fcsp = body.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(fcsp.contains("sandbox") && fcsp.contains("default-src 'none'") && fcsp.contains("img-src data:;"), "{fcsp}");
        assert_eq!(body.headers()["x-content-type-options"], "nosniff");
        let html = body.text().await.unwrap().to_ascii_lowercase();
        for bad in ["<script", "onmouseover", "onerror", "javascript:", "<form", "phish.example", "tracker.example", "refresh"] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
        assert!(html.contains(r#"href="https://example.com/doc""#) && html.contains("noopener noreferrer"), "{html}");
        // Images only when asked for.
        let with = b.get(srv.url(&format!("mail/body/{mail_id}?images=1"))).header("cookie", &session).send().await.unwrap();
        assert!(with.headers()["content-security-policy"].to_str().unwrap().contains("img-src https:"));
        assert!(with.text().await.unwrap().contains("tracker.example/pixel.gif"));
        // Without a session, or for a mail that is not yours: nothing.
        assert_eq!(b.get(srv.url(&format!("mail/body/{mail_id}"))).send().await.unwrap().status(), 401);
        assert_eq!(b.get(srv.url("mail/body/not-mine")).header("cookie", &session).send().await.unwrap().status(), 404);
    }
}

backend_test! {
    async fn attachments_are_listed_and_only_downloaded(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("att", &[]).await;
        // An HTML file named in Chinese, base64 ("<script>alert(1)</script>").
        let msg = "Subject: With attachment\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n\
--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n\
--XX\r\nContent-Type: text/html; name=\"=?UTF-8?B?5oql5ZGKLmh0bWw=?=\"\r\nContent-Disposition: attachment; filename=\"=?UTF-8?B?5oql5ZGKLmh0bWw=?=\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nPHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\r\n--XX--";
        common::deliver(&srv, &a, msg).await;
        let t = authkey(&api, &a).await;
        let b = browser();
        let session = cookie(&b.get(login_url(&srv, &api.tenant.admin, &a, &t, None)).send().await.unwrap());
        let inbox = b.get(srv.url("mail/")).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        let mail_id = inbox.split("/mail/read/").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let page = b.get(srv.url(&format!("mail/read/{mail_id}"))).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("报告.html"), "{page}");
        assert!(page.contains(&format!("/mail/attachment/{mail_id}/0")));
        assert!(page.contains("See attached."));
        let file = b.get(srv.url(&format!("mail/attachment/{mail_id}/0"))).header("cookie", &session).send().await.unwrap();
        assert_eq!(file.status(), 200);
        assert_eq!(file.headers()["content-type"], "application/octet-stream");
        assert_eq!(file.headers()["x-content-type-options"], "nosniff");
        let disposition = file.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("attachment;") && disposition.contains("UTF-8''%E6%8A%A5%E5%91%8A%2Ehtml"), "{disposition}");
        assert_eq!(file.bytes().await.unwrap().as_ref(), b"<script>alert(1)</script>");
        assert_eq!(b.get(srv.url(&format!("mail/attachment/{mail_id}/1"))).header("cookie", &session).send().await.unwrap().status(), 404);
        assert_eq!(b.get(srv.url(&format!("mail/attachment/{mail_id}/0"))).send().await.unwrap().status(), 401);
    }
}
