//! The web mailbox under load: one member with fifty mails, signed in by SSO, and `concurrency`
//! browsers' worth of requests for the inbox page (`inbox`) or for one mail's read page
//! (`read-mail`, which parses the stored message and renders it each time).

use crate::{Args, Outcome, load, push};
use bizmail_testkit::TestServer;
use std::sync::Arc;

/// A signed-in session of a member with fifty mails, and one of their mail ids.
async fn session(srv: &TestServer) -> anyhow::Result<(String, String)> {
    let token = srv.token().await;
    let tenant = srv.tenant().clone();
    let to = push::member(srv, &tenant, &token, "reader").await?;
    for _ in 0..50 {
        push::mail(srv.smtp_addr(), &to).await?;
    }
    let (_, body) = srv
        .call(&token, "openapi/mail/authkey", &[("Alias", &to)])
        .await;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    let ticket = v["auth_key"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no ticket: {body}"))?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let r = http
        .get(srv.url(&format!(
            "cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={}&user={to}&ticket={ticket}",
            tenant.admin
        )))
        .send()
        .await?;
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?
        .to_owned();
    let inbox = http
        .get(srv.url("mail/"))
        .header("cookie", &cookie)
        .send()
        .await?
        .text()
        .await?;
    let start = inbox
        .find("/mail/read/")
        .ok_or_else(|| anyhow::anyhow!("an empty inbox"))?
        + "/mail/read/".len();
    let mail_id = inbox[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok((cookie, mail_id))
}

/// `GET /mail/`: the inbox page of fifty mails.
pub async fn inbox(srv: &TestServer, args: &Args) -> anyhow::Result<Outcome> {
    let (cookie, _) = session(srv).await?;
    page(srv.url("mail/"), cookie, "/mail/read/", args).await
}

/// `GET /mail/read/{id}`: one mail's page.
pub async fn read(srv: &TestServer, args: &Args) -> anyhow::Result<Outcome> {
    let (cookie, mail_id) = session(srv).await?;
    page(
        srv.url(&format!("mail/read/{mail_id}")),
        cookie,
        "push",
        args,
    )
    .await
}

/// Loads one page with the session; an answer counts when it is a 200 that contains `expect`.
async fn page(
    url: String,
    cookie: String,
    expect: &'static str,
    args: &Args,
) -> anyhow::Result<Outcome> {
    let cookie = Arc::new(cookie);
    load(args, move |http| {
        let (url, cookie) = (url.clone(), cookie.clone());
        async move {
            let r = http
                .get(&url)
                .header("cookie", cookie.as_str())
                .send()
                .await?;
            Ok(r.status() == 200 && r.text().await?.contains(expect))
        }
    })
    .await
}
