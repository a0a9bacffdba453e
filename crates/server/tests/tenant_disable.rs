//! The operator's switch (`bizmail tenant disable`): a disabled tenant's old API answers 1102, its
//! newer API 50005, its members sign in nowhere (web, SSO, IMAP) and lose their sessions, its
//! domains refuse mail; another tenant is untouched, and enabling brings it all back.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::backend_test;
use common::{Api, Browser};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The reply to `RCPT TO:<to>` on the SMTP receiver.
async fn rcpt(srv: &bizmail_testkit::TestServer, to: &str) -> String {
    let s = tokio::net::TcpStream::connect(srv.smtp_addr())
        .await
        .unwrap();
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    for cmd in ["EHLO t", "MAIL FROM:<x@outside.example>"] {
        w.write_all(format!("{cmd}\r\n").as_bytes()).await.unwrap();
        loop {
            line.clear();
            r.read_line(&mut line).await.unwrap();
            if line.as_bytes().get(3) == Some(&b' ') {
                break;
            }
        }
    }
    w.write_all(format!("RCPT TO:<{to}>\r\n").as_bytes())
        .await
        .unwrap();
    line.clear();
    r.read_line(&mut line).await.unwrap();
    line
}

backend_test! {
    async fn a_disabled_tenant_is_refused_everywhere(srv) {
        let api = Api::new(&srv).await;
        let other = Api::other(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let carl = other.add_member("carl", &[]).await;
        let domain = srv.tenant().domain.clone();
        let corp = srv.corp_token("directory").await;
        let mut web = Browser::signed_in(&srv, &bob).await;
        web.page("/mail/", 200).await;
        assert!(rcpt(&srv, &bob).await.starts_with("250"));

        srv.running().admin().set_tenant_disabled(&domain, true).await.unwrap();
        let old = api.err("user/get", &[("Alias", &bob)]).await;
        assert!(old.contains("1102"), "{old}");
        let url = srv.url(&format!("cgi-bin/user/get?access_token={corp}&userid={bob}"));
        let v: serde_json::Value = srv.http.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["errcode"], 50005);
        let t = srv.tenant();
        let url = srv.url(&format!(
            "cgi-bin/gettoken?corpid={}&corpsecret={}",
            t.corp_id,
            t.corp_secret("directory")
        ));
        let v: serde_json::Value = srv.http.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["errcode"], 50005);
        // Signed out, and no new sign-in.
        assert_ne!(web.get("/mail/").await.status(), 200);
        let mut again = Browser::new(&srv);
        let form = again.page("/login", 200).await;
        let csrf = common::hidden_field(&form, "csrf");
        let fields = [("csrf", csrf.as_str()), ("address", bob.as_str()), ("password", "secret123")];
        assert_ne!(again.post("/login", &fields).await.status(), 303);
        assert!(rcpt(&srv, &bob).await.starts_with("550"));
        // The other tenant goes on.
        assert!(rcpt(&srv, &carl).await.starts_with("250"));
        assert_eq!(other.user(&carl).await.alias, carl);

        srv.running().admin().set_tenant_disabled(&domain, false).await.unwrap();
        assert_eq!(api.user(&bob).await.alias, bob);
        assert!(rcpt(&srv, &bob).await.starts_with("250"));
        Browser::signed_in(&srv, &bob).await.page("/mail/", 200).await;
    }
}
