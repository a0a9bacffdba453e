//! The console's mail settings (邮件设置) and newer-API (新版接口) pages in Chromium, on both
//! backends, each change checked by its real effect: a quota that makes SMTP refuse (and stop
//! refusing), DKIM keys listed by the domain with the same DNS record the page shows, spam
//! thresholds read back; an application secret revealed only with the password and taken by the
//! real `/cgi-bin/gettoken`, rotated (the old secret and token refused), switched off and on; the
//! first-SSO switch; a callback set against a real receiver that checks every signature, its test
//! notice arriving (and a refused one shown with its HTTP status), real notices counted and a
//! refused one waiting for its retry, each attempt in the delivery log; and no secret in the operation log.

use crate::chrome::Chrome;
use crate::common::{self, Api, Raw};
use crate::console::sign_in;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use bizmail_protocol::cgi::crypto::{self, CallbackKey};
use bizmail_testkit::{TestServer, backend_test};
use fantoccini::Locator;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// WeCom's sample EncodingAESKey and a Token, as an admin would paste them.
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const TOKEN: &str = "QDG6eKtoken";

/// Types into the field `name` of the form `#form`.
async fn fill_in(chrome: &Chrome, form: &str, name: &str, value: &str) {
    let css = format!("#{form} [name=\"{name}\"]");
    let input = chrome.client.find(Locator::Css(&css)).await;
    let input = input.unwrap_or_else(|e| panic!("no {css}: {e}"));
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Chooses `value` in the select `name` of the form `#form`.
async fn choose(chrome: &Chrome, form: &str, name: &str, value: &str) {
    let css = format!("#{form} select[name=\"{name}\"]");
    let select = chrome.client.find(Locator::Css(&css)).await.unwrap();
    select.select_by_value(value).await.unwrap();
}

/// Clicks the button labelled `label` inside the element `scope` (a CSS selector).
async fn click_in(chrome: &Chrome, scope: &str, label: &str) {
    let buttons = chrome
        .client
        .find_all(Locator::Css(&format!("{scope} button")))
        .await
        .unwrap();
    for b in buttons {
        if b.text().await.unwrap_or_default().trim() == label {
            b.click().await.unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            chrome
                .client
                .wait()
                .for_element(Locator::Css("body"))
                .await
                .unwrap();
            return;
        }
    }
    panic!("no button {label:?} in {scope}: {}", chrome.text().await);
}

/// The text of the element `css`, or a panic with the page.
async fn text_of(chrome: &Chrome, css: &str) -> String {
    match chrome.client.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap(),
        Err(_) => panic!("no {css} on: {}", chrome.text().await),
    }
}

/// The text of the row of table `#table` that mentions `needle`.
async fn row_of(chrome: &Chrome, table: &str, needle: &str) -> String {
    let xpath = format!("//table[@id='{table}']//tr[contains(., '{needle}')]");
    match chrome.client.find(Locator::XPath(&xpath)).await {
        Ok(e) => e.text().await.unwrap(),
        Err(_) => panic!("no row {needle} in #{table}: {}", chrome.text().await),
    }
}

/// What an SMTP server answers to `RCPT TO:<to>`.
async fn rcpt(srv: &TestServer, to: &str) -> String {
    let (mut smtp, _) = Raw::connect(srv).await;
    smtp.cmd("EHLO console.test").await;
    smtp.cmd("MAIL FROM:<someone@outside.example>").await;
    let answer = smtp.cmd(&format!("RCPT TO:<{to}>")).await;
    smtp.cmd("QUIT").await;
    answer
}

backend_test! {
    config = |c| { c.mailbox_quota_mb = 50; };
    async fn quotas_dkim_keys_and_spam_thresholds_in_the_console(srv) {
        let api = Api::new(&srv).await;
        let t = srv.tenant().clone();
        let admin = srv.running().admin();
        let big = api.add_member("quota.big", &[]).await;
        let small = api.add_member("quota.small", &[]).await;
        // About 1.2 MB in the mailbox before any quota of its own.
        let line = format!("{}\r\n", "x".repeat(76));
        let message = format!("From: a@outside.example\r\nSubject: big\r\n\r\n{}", line.repeat(16_000));
        common::deliver(&srv, &big, &message).await;
        let chrome = Chrome::start().await;
        chrome.goto(&srv.url("admin/mail")).await;
        assert_eq!(chrome.path().await, "/admin/login", "signed out: the sign-in");
        sign_in(&chrome, &srv, ("admin/login", &t.admin, &t.admin_password), None).await;
        chrome.goto(&srv.url("admin/mail")).await;
        let text = chrome.text().await;
        assert!(text.contains("成员配额与用量") && text.contains(&small), "{text}");
        assert_eq!(text_of(&chrome, "#default-quota").await, "50 MB");
        let row = row_of(&chrome, "quotas", &big).await;
        assert!(row.contains("1.2 MB") && row.contains("50 MB") && row.contains("默认") && row.contains("2%"), "{row}");

        // 1 MB: the page shows it full, the domain has it, and SMTP refuses the next mail.
        fill_in(&chrome, "quota-form", "member", &big).await;
        fill_in(&chrome, "quota-form", "mb", "1").await;
        chrome.click_button("设置配额").await;
        assert!(text_of(&chrome, ".notice").await.contains("配额已更新"));
        let row = row_of(&chrome, "quotas", &big).await;
        assert!(row.contains("1 MB") && !row.contains("默认") && row.contains("119%"), "{row}");
        assert!(chrome.client.find(Locator::Css("#quotas td.full")).await.is_ok(), "shown full");
        let boxes = srv.running().mailboxes();
        let owner = boxes.owner(&big).await.unwrap().unwrap();
        assert_eq!(boxes.quota(&owner).await.unwrap().limit, Some(1 << 20));
        let refused = rcpt(&srv, &big).await;
        assert!(refused.starts_with("452"), "{refused}");
        assert!(rcpt(&srv, &small).await.starts_with("250"), "another member still gets mail");

        // 0: no limit; SMTP takes mail again.
        fill_in(&chrome, "quota-form", "member", &big).await;
        fill_in(&chrome, "quota-form", "mb", "0").await;
        chrome.click_button("设置配额").await;
        assert!(row_of(&chrome, "quotas", &big).await.contains("不限"));
        assert_eq!(boxes.quota(&owner).await.unwrap().limit, Some(i64::MAX));
        assert!(rcpt(&srv, &big).await.starts_with("250"));

        // Back to the server's default.
        fill_in(&chrome, "quota-form", "member", &big).await;
        chrome.click_button("恢复默认").await;
        let row = row_of(&chrome, "quotas", &big).await;
        assert!(row.contains("50 MB") && row.contains("默认"), "{row}");
        assert_eq!(boxes.quota(&owner).await.unwrap().limit, Some(50 << 20));

        // Refusals, in words; nothing changes.
        fill_in(&chrome, "quota-form", "member", &big).await;
        fill_in(&chrome, "quota-form", "mb", "-3").await;
        chrome.click_button("设置配额").await;
        assert!(text_of(&chrome, ".error").await.contains("配额应为 0"));
        fill_in(&chrome, "quota-form", "member", &format!("nobody@{}", t.domain)).await;
        fill_in(&chrome, "quota-form", "mb", "5").await;
        chrome.click_button("设置配额").await;
        assert!(text_of(&chrome, ".error").await.contains("本企业没有这个成员"));
        assert_eq!(boxes.quota(&owner).await.unwrap().limit, Some(50 << 20));
        // The search.
        chrome.goto(&srv.url("admin/mail?q=quota.sm")).await;
        let table = text_of(&chrome, "#quotas").await;
        assert!(table.contains(&small) && !table.contains(&big), "{table}");

        // DKIM: none yet; a key for the domain shows the record the domain lists, exactly.
        assert!(chrome.text().await.contains("还没有 DKIM 密钥"));
        fill_in(&chrome, "dkim-form", "selector", "console1").await;
        chrome.click_button("生成密钥").await;
        assert!(text_of(&chrome, ".notice").await.contains("密钥已生成"));
        let keys = admin.dkim_list(&t.admin).await.unwrap();
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert!(key.active && key.selector == "console1" && key.domain == t.domain);
        assert_eq!(text_of(&chrome, "#created-key code.dns").await, format!("console1._domainkey.{}", t.domain));
        let shown = text_of(&chrome, "#dkim-keys code.dns-value").await;
        assert_eq!(shown, key.dns_value);
        assert!(shown.starts_with("\"v=DKIM1; k=rsa; p="), "{shown}");
        // A second key (Ed25519) signs from now on; the first is retired, then removed.
        fill_in(&chrome, "dkim-form", "selector", "console2").await;
        choose(&chrome, "dkim-form", "algorithm", "ed25519").await;
        chrome.click_button("生成密钥").await;
        let keys = admin.dkim_list(&t.admin).await.unwrap();
        let active: Vec<(&str, bool)> = keys.iter().map(|k| (k.selector.as_str(), k.active)).collect();
        assert!(active.contains(&("console2", true)) && active.contains(&("console1", false)), "{active:?}");
        assert!(row_of(&chrome, "dkim-keys", "console1").await.contains("已停用"));
        assert!(row_of(&chrome, "dkim-keys", "console2").await.contains("ed25519"));
        fill_in(&chrome, "dkim-form", "selector", "bad selector!").await;
        chrome.click_button("生成密钥").await;
        assert!(text_of(&chrome, ".error").await.contains("未能生成密钥"));
        let xpath = "//table[@id='dkim-keys']//tr[contains(., 'console1')]//button";
        chrome.client.find(Locator::XPath(xpath)).await.unwrap().click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(text_of(&chrome, ".notice").await.contains("密钥已删除"));
        let left: Vec<String> = admin.dkim_list(&t.admin).await.unwrap().into_iter().map(|k| k.selector).collect();
        assert_eq!(left, ["console2"]);

        // Spam thresholds: saved and read back; refused when they make no sense; cleared.
        fill_in(&chrome, "spam-form", "junk", "4.5").await;
        fill_in(&chrome, "spam-form", "reject", "12").await;
        chrome.click_button("保存").await;
        assert!(text_of(&chrome, ".notice").await.contains("垃圾邮件阈值已保存"));
        let own = admin.spam_thresholds(&t.admin).await.unwrap();
        assert_eq!((own.junk, own.reject), (Some(4.5), Some(12.0)));
        fill_in(&chrome, "spam-form", "junk", "13").await;
        chrome.click_button("保存").await;
        assert!(text_of(&chrome, ".error").await.contains("应低于"));
        fill_in(&chrome, "spam-form", "junk", "lots").await;
        chrome.click_button("保存").await;
        assert!(text_of(&chrome, ".error").await.contains("分数应为数字"));
        fill_in(&chrome, "spam-form", "junk", "").await;
        fill_in(&chrome, "spam-form", "reject", "").await;
        chrome.click_button("保存").await;
        let own = admin.spam_thresholds(&t.admin).await.unwrap();
        assert_eq!((own.junk, own.reject), (None, None));

        // Every action is in the operation log, the refused ones marked failed.
        chrome.goto(&srv.url("admin/log?endpoint=console/mail/")).await;
        let text = chrome.text().await;
        for endpoint in ["console/mail/quota", "console/mail/dkim-create", "console/mail/dkim-remove", "console/mail/spam"] {
            assert!(text.contains(endpoint), "{endpoint}: {text}");
        }
        assert!(text.contains("mb=default") && text.contains("selector=console1"), "{text}");

        // In English.
        chrome.goto(&srv.url("admin/mail")).await;
        chrome.client.find(Locator::LinkText("English")).await.unwrap().click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let text = chrome.text().await;
        assert!(text.contains("Member quotas and usage") && text.contains("DKIM signing") && text.contains("Spam thresholds"), "{text}");
        fill_in(&chrome, "quota-form", "member", &big).await;
        fill_in(&chrome, "quota-form", "mb", "many").await;
        chrome.click_button("Set quota").await;
        assert!(text_of(&chrome, ".error").await.contains("whole number of MB"));
        chrome.close().await;
    }
}

/// What the receiver saw and will answer.
#[derive(Default)]
struct Seen {
    /// Every notice with a good signature, as plaintext.
    notices: Vec<String>,
    /// Anything a real receiver would have refused (not counting the test's own wrong Token).
    problems: Vec<String>,
    /// Statuses for the next notices; 200 once empty.
    answers: VecDeque<u16>,
}

/// A callback receiver on loopback that checks as WeCom's SDKs do.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

type Shared = (Arc<Mutex<Seen>>, Arc<CallbackKey>, String);

impl Receiver {
    async fn start(corp_id: &str) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cb", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let key = Arc::new(CallbackKey::from_encoding_aes_key(KEY).unwrap());
        let shared: Shared = (seen.clone(), key, corp_id.to_owned());
        let app = axum::Router::new()
            .route("/cb", get(check).post(notice))
            .with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, seen }
    }

    fn answer(&self, statuses: &[u16]) {
        self.seen.lock().unwrap().answers.extend(statuses);
    }

    fn notices(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        assert!(seen.problems.is_empty(), "{:?}", seen.problems);
        seen.notices.clone()
    }

    /// Waits until `n` notices arrived (at most 15 s), then returns them all.
    async fn wait_for(&self, n: usize) -> Vec<String> {
        let start = Instant::now();
        loop {
            let got = self.notices();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{} of {n} notices: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The URL check: a bad signature is refused (403), a good one answered with the echo.
async fn check(
    State((_, key, corp)): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    let got = |name: &str| q.get(name).cloned().unwrap_or_default();
    let echostr = got("echostr");
    if crypto::signature(TOKEN, &got("timestamp"), &got("nonce"), &echostr) != got("msg_signature")
    {
        return (StatusCode::FORBIDDEN, String::new());
    }
    match key.decrypt(&echostr) {
        Ok((echo, c)) if c == corp => (StatusCode::OK, echo),
        _ => (StatusCode::BAD_REQUEST, String::new()),
    }
}

/// A notice: the signature over `<Encrypt>`, the plaintext's corpid; then the next answer.
async fn notice(
    State((seen, key, corp)): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> StatusCode {
    let mut seen = seen.lock().unwrap();
    let got = |name: &str| q.get(name).cloned().unwrap_or_default();
    let Some(encrypted) = crypto::extract_encrypt(&body) else {
        seen.problems.push(format!("no Encrypt: {body}"));
        return StatusCode::BAD_REQUEST;
    };
    if crypto::signature(TOKEN, &got("timestamp"), &got("nonce"), &encrypted)
        != got("msg_signature")
    {
        seen.problems.push(format!("bad signature: {q:?}"));
        return StatusCode::FORBIDDEN;
    }
    match key.decrypt(&encrypted) {
        Ok((xml, c)) if c == corp => seen.notices.push(xml),
        other => {
            seen.problems.push(format!("bad notice: {other:?}"));
            return StatusCode::BAD_REQUEST;
        }
    }
    let status = seen.answers.pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// The text of `<tag>` in a notice, CDATA unwrapped.
fn field(xml: &str, tag: &str) -> String {
    let start = xml
        .find(&format!("<{tag}>"))
        .unwrap_or_else(|| panic!("no {tag} in {xml}"))
        + tag.len()
        + 2;
    let end = start + xml[start..].find(&format!("</{tag}>")).unwrap();
    let value = &xml[start..end];
    value
        .strip_prefix("<![CDATA[")
        .and_then(|v| v.strip_suffix("]]>"))
        .unwrap_or(value)
        .to_owned()
}

/// `/cgi-bin/gettoken` with an application's secret: the answer.
async fn gettoken(srv: &TestServer, corp_id: &str, secret: &str) -> Value {
    let url = srv.url(&format!(
        "cgi-bin/gettoken?corpid={corp_id}&corpsecret={secret}"
    ));
    srv.http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A newer-API GET with a token: the answer.
async fn cgi(srv: &TestServer, token: &str, path: &str) -> Value {
    let url = srv.url(&format!("cgi-bin/{path}&access_token={token}"));
    srv.http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Reveals an application's secret with `password` on the page; the secret shown, if any.
async fn reveal(chrome: &Chrome, app: &str, password: &str) -> Option<String> {
    choose(chrome, "reveal-form", "app", app).await;
    fill_in(chrome, "reveal-form", "password", password).await;
    click_in(chrome, "#reveal-form", "确定").await;
    match chrome
        .client
        .find(Locator::Id(&format!("secret-{app}")))
        .await
    {
        Ok(e) => Some(e.text().await.unwrap()),
        Err(_) => None,
    }
}

/// Reloads the apps page until `css` reads `want` (at most 15 s).
async fn page_shows(chrome: &Chrome, srv: &TestServer, css: &str, want: &str) -> String {
    let start = Instant::now();
    loop {
        chrome.goto(&srv.url("admin/apps")).await;
        if let Ok(e) = chrome.client.find(Locator::Css(css)).await {
            let text = e.text().await.unwrap();
            if text.contains(want) {
                return text;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{css} never showed {want}: {}",
            chrome.text().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

backend_test! {
    config = |c| { c.callback_poll_ms = 100; c.callback_retry_ms = vec![600_000]; };
    async fn application_secrets_switches_and_the_callback_in_the_console(srv) {
        let api = Api::new(&srv).await;
        let t = srv.tenant().clone();
        let admin = srv.running().admin();
        let ann = api.add_member("cb.ann", &[]).await;
        let chrome = Chrome::start().await;
        sign_in(&chrome, &srv, ("admin/login", &t.admin, &t.admin_password), None).await;
        chrome.goto(&srv.url("admin/apps")).await;
        assert_eq!(text_of(&chrome, "#corp-id").await, t.corp_id);
        for app in ["directory", "sso", "mail", "log", "option"] {
            assert!(text_of(&chrome, &format!("#app-{app} td.state")).await.contains("已启用"), "{app}");
        }
        assert!(chrome.client.find(Locator::Css("code.secret")).await.is_err(), "every secret masked");

        // Reveal: the wrong password shows nothing; the right one shows the secret gettoken takes.
        assert_eq!(reveal(&chrome, "mail", "not-the-password").await, None);
        assert!(text_of(&chrome, ".error").await.contains("管理员密码错误"));
        let secret = reveal(&chrome, "mail", &t.admin_password).await.unwrap();
        assert_eq!(secret, t.corp_secret("mail"));
        let answer = gettoken(&srv, &t.corp_id, &secret).await;
        let token = answer["access_token"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
        let count = format!("mail/newcount?userid={ann}");
        assert_eq!(cgi(&srv, &token, &count).await["errcode"], 0);

        // Rotate: the old secret and its token are refused; the new one works.
        click_in(&chrome, "#app-mail", "更换 secret").await;
        assert!(text_of(&chrome, ".notice").await.contains("secret 已更换"));
        assert!(chrome.client.find(Locator::Id("secret-mail")).await.is_err(), "not shown without the password");
        assert_eq!(gettoken(&srv, &t.corp_id, &secret).await["errcode"], 40001);
        assert_eq!(cgi(&srv, &token, &count).await["errcode"], 40014);
        let new_secret = reveal(&chrome, "mail", &t.admin_password).await.unwrap();
        assert_ne!(new_secret, secret);
        let answer = gettoken(&srv, &t.corp_id, &new_secret).await;
        let token = answer["access_token"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
        assert_eq!(cgi(&srv, &token, &count).await["errcode"], 0);

        // Switch mail off: gettoken and its token are refused; on again, both work.
        click_in(&chrome, "#app-mail", "停用").await;
        assert!(text_of(&chrome, "#app-mail td.state").await.contains("已停用"));
        let off = gettoken(&srv, &t.corp_id, &new_secret).await;
        assert!(off["access_token"].is_null() && off["errcode"] == 40091, "{off}");
        assert_eq!(cgi(&srv, &token, &count).await["errcode"], 602005);
        click_in(&chrome, "#app-mail", "启用").await;
        assert!(text_of(&chrome, "#app-mail td.state").await.contains("已启用"));
        assert_eq!(cgi(&srv, &token, &count).await["errcode"], 0);

        // A forged form (the session's cookie, not its anti-CSRF token) changes nothing.
        let cookie = chrome.client.get_named_cookie("bizmail_console").await.unwrap();
        let forged = srv.http.post(srv.url("admin/apps/rotate"))
            .header("cookie", format!("bizmail_console={}", cookie.value()))
            .form(&[("csrf", "forged"), ("app", "mail")])
            .send().await.unwrap();
        assert_eq!(forged.status(), 403);
        assert_eq!(gettoken(&srv, &t.corp_id, &new_secret).await["errcode"], 0);

        // The first-SSO password switch.
        assert_eq!(text_of(&chrome, "#sso-state").await, "已开启");
        chrome.click_button("关闭首次确认").await;
        assert_eq!(text_of(&chrome, "#sso-state").await, "已关闭");
        assert!(!admin.corp_sso_confirm_state(&t.admin).await.unwrap());
        chrome.click_button("开启首次确认").await;
        assert!(admin.corp_sso_confirm_state(&t.admin).await.unwrap());

        // The callback: a receiver that does not share the Token fails the check, nothing kept.
        assert!(chrome.client.find(Locator::Id("callback-none")).await.is_ok());
        let receiver = Receiver::start(&t.corp_id).await;
        fill_in(&chrome, "callback-form", "url", &receiver.url).await;
        fill_in(&chrome, "callback-form", "token", "WrongToken1").await;
        fill_in(&chrome, "callback-form", "aes_key", KEY).await;
        chrome.click_button("校验并保存").await;
        let error = text_of(&chrome, ".error").await;
        assert!(error.contains("回调 URL 校验失败") && error.contains("403"), "{error}");
        assert_eq!(srv.running().callbacks().status(t.tenant_id).await.unwrap(), None);
        fill_in(&chrome, "callback-form", "token", TOKEN).await;
        fill_in(&chrome, "callback-form", "aes_key", "too-short").await;
        chrome.click_button("校验并保存").await;
        assert!(text_of(&chrome, ".error").await.contains("EncodingAESKey 应为 43 位"));
        fill_in(&chrome, "callback-form", "token", TOKEN).await;
        fill_in(&chrome, "callback-form", "aes_key", KEY).await;
        chrome.click_button("校验并保存").await;
        assert!(text_of(&chrome, ".notice").await.contains("回调已设置"));
        assert_eq!(text_of(&chrome, "#callback-url").await, receiver.url);

        // The test notice arrives, and the log says so; a refused one shows its HTTP status.
        fill_in(&chrome, "test-form", "user", &ann).await;
        chrome.click_button("发送测试通知").await;
        assert!(text_of(&chrome, ".notice").await.contains("测试通知已送达"));
        let got = receiver.notices();
        assert_eq!(got.len(), 1);
        assert_eq!((field(&got[0], "MsgType"), field(&got[0], "UserID")), ("UnRead".to_owned(), ann.clone()));
        let newest = text_of(&chrome, "#callback-log tbody tr").await;
        assert!(newest.contains("测试通知") && newest.contains(&ann) && newest.contains("成功"), "{newest}");
        receiver.answer(&[503]);
        fill_in(&chrome, "test-form", "user", &ann).await;
        chrome.click_button("发送测试通知").await;
        let error = text_of(&chrome, ".error").await;
        assert!(error.contains("接收端未接受测试通知") && error.contains("HTTP 503"), "{error}");
        let newest = text_of(&chrome, "#callback-log tbody tr").await;
        assert!(newest.contains("HTTP 503") && newest.contains("失败"), "{newest}");
        fill_in(&chrome, "test-form", "user", &format!("nobody@{}", t.domain)).await;
        chrome.click_button("发送测试通知").await;
        assert!(text_of(&chrome, ".error").await.contains("本企业没有这个成员"));

        // A real mail: its notice arrives and is counted.
        common::deliver(&srv, &ann, "From: a@outside.example\r\nSubject: first\r\n\r\nhello").await;
        let got = receiver.wait_for(3).await;
        assert_eq!((field(&got[2], "MsgType"), field(&got[2], "ToUserID")), ("Mail".to_owned(), ann.clone()));
        page_shows(&chrome, &srv, "#callback-delivered", "1").await;
        // A refused one waits for its retry, listed with its attempt.
        receiver.answer(&[500]);
        common::deliver(&srv, &ann, "From: a@outside.example\r\nSubject: second\r\n\r\nagain").await;
        receiver.wait_for(4).await;
        let waiting = page_shows(&chrome, &srv, "#waiting tbody tr", "下次尝试").await;
        assert!(waiting.contains("新邮件") && waiting.contains(&ann), "{waiting}");
        assert_eq!(text_of(&chrome, "#callback-pending").await, "1");
        // The delivery log: the refused attempt (newest) with the receiver's answer, then the
        // delivered one, each with its event and member.
        let rows = chrome.client.find_all(Locator::Css("#attempts tbody tr")).await.unwrap();
        let mut texts = Vec::new();
        for r in &rows {
            texts.push(r.text().await.unwrap());
        }
        assert!(texts.len() >= 2, "{texts:?}");
        assert!(texts[0].contains("失败，将重试") && texts[0].contains("500") && texts[0].contains(&ann), "{texts:?}");
        assert!(texts[1].contains("已送达") && texts[1].contains("新邮件"), "{texts:?}");
        crate::keep_screenshot("console-apps.png", &chrome.screenshot().await);

        // Removed: no receiver, nothing waiting.
        chrome.click_button("删除回调").await;
        assert!(text_of(&chrome, ".notice").await.contains("回调已删除"));
        assert!(chrome.client.find(Locator::Id("callback-none")).await.is_ok());
        assert_eq!(srv.running().callbacks().status(t.tenant_id).await.unwrap(), None);

        // The operation log has every action and none of the secrets.
        chrome.goto(&srv.url("admin/log?endpoint=console/apps/")).await;
        let text = chrome.text().await;
        for endpoint in ["reveal", "rotate", "disable", "enable", "sso-confirm-off", "sso-confirm-on", "callback-set", "callback-test", "callback-remove"] {
            assert!(text.contains(&format!("console/apps/{endpoint}")), "{endpoint}: {text}");
        }
        for secret in [secret.as_str(), &new_secret, &t.admin_password, TOKEN, KEY, "not-the-password"] {
            assert!(!text.contains(secret), "{secret} in the log: {text}");
        }

        // In English.
        chrome.goto(&srv.url("admin/apps")).await;
        chrome.client.find(Locator::LinkText("English")).await.unwrap().click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let text = chrome.text().await;
        assert!(text.contains("Applications") && text.contains("New-mail callback") && text.contains("Callback deliveries"), "{text}");
        chrome.close().await;
    }
}
