//! The console in Chromium: an admin's first sign-in enrols the authenticator, then the open
//! protocol's whole walk (apply → reveal with the password → rotate → disable → the log, checked
//! against the real token endpoint at each step), the IP allow list, the log's filters and CSV,
//! a reset authenticator, and the operator's tenants.

use crate::chrome::Chrome;
use bizmail_server::tenants::NewTenant;
use bizmail_server::tenants::console::ConsoleKind;
use bizmail_testkit::{TestServer, backend_test};
use fantoccini::Locator;
use totp_rs::{Algorithm, Secret, TOTP};

/// A console account's authenticator, as the test holds it after enrolling.
pub struct Authenticator {
    totp: TOTP,
    /// Time steps ahead of now of the next code to use: a code is accepted once per step, and
    /// the server takes one step ahead, so a second sign-in within 30 s uses the next step's.
    ahead: u64,
}

impl Authenticator {
    fn from_secret(secret: &str) -> Authenticator {
        let bytes = Secret::Encoded(secret.trim().to_owned())
            .to_bytes()
            .unwrap();
        Authenticator {
            totp: TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()),
            ahead: 0,
        }
    }

    /// The next unused code.
    pub fn code(&mut self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = self.totp.generate(now + 30 * self.ahead);
        self.ahead += 1;
        code
    }
}

/// Signs in at `login_path` (`admin/login` or `admin/operator/login`) with a name and password;
/// enrols the authenticator when the page offers one (returned), else uses `known`.
pub async fn sign_in(
    chrome: &Chrome,
    srv: &TestServer,
    (login_path, name, password): (&str, &str, &str),
    known: Option<Authenticator>,
) -> Authenticator {
    chrome.goto(&srv.url(login_path)).await;
    chrome.fill("name", name).await;
    chrome.fill("password", password).await;
    chrome.click_button("登录").await;
    assert_eq!(
        chrome.path().await,
        "/admin/login/code",
        "{}",
        chrome.text().await
    );
    let mut auth = match chrome.client.find(Locator::Id("totp-secret")).await {
        Ok(e) => Authenticator::from_secret(&e.text().await.unwrap()),
        Err(_) => known.expect("an enrolled authenticator"),
    };
    chrome.fill("code", &auth.code()).await;
    chrome.click_button("验证").await;
    assert!(
        chrome.path().await.starts_with("/admin/"),
        "{}",
        chrome.text().await
    );
    assert_ne!(
        chrome.path().await,
        "/admin/login/code",
        "{}",
        chrome.text().await
    );
    auth
}

/// Asks the real token endpoint for a token with `key`; the answer's body.
async fn token_answer(srv: &TestServer, admin: &str, key: &str) -> String {
    srv.form(
        "cgi-bin/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", admin),
            ("client_secret", key),
        ],
    )
    .await
}

/// The key shown after revealing it as the seed documents say: 查看明文, the admin password, 确定.
/// (After a wrong password the prompt is already there.)
async fn reveal(chrome: &Chrome, password: &str) -> String {
    if chrome.client.find(Locator::Id("reveal")).await.is_err() {
        chrome.click_button("查看明文").await;
    }
    chrome.fill("password", password).await;
    chrome.click_button("确定").await;
    let key = chrome.client.find(Locator::Id("interface-key")).await;
    match key {
        Ok(k) => k.text().await.unwrap(),
        Err(_) => panic!("no key shown: {}", chrome.text().await),
    }
}

/// A tenant that has not applied for the OpenApi: `(admin, password)`.
async fn fresh_tenant(srv: &TestServer, tag: &str) -> (String, String) {
    let (admin, password) = (format!("console-{tag}"), format!("pw-{tag}-Secret1"));
    srv.running()
        .admin()
        .create_tenant(NewTenant {
            domains: vec![format!("{tag}.console.test")],
            admin: admin.clone(),
            admin_password: Some(password.clone()),
            ..NewTenant::default()
        })
        .await
        .unwrap();
    (admin, password)
}

backend_test! {
    async fn the_open_protocol_walk_apply_reveal_rotate_disable_and_the_log(srv) {
        let (admin, password) = fresh_tenant(&srv, "walk").await;
        let chrome = Chrome::start().await;
        // Unsigned: every page leads to the sign-in; a wrong password is refused.
        chrome.goto(&srv.url("admin/openapi")).await;
        assert_eq!(chrome.path().await, "/admin/login");
        crate::keep_screenshot("console-login.png", &chrome.screenshot().await);
        chrome.fill("name", &admin).await;
        chrome.fill("password", "not-the-password").await;
        chrome.click_button("登录").await;
        assert!(chrome.text().await.contains("账号或密码错误"));
        // First sign-in: the QR code, a wrong code refused, then the right one.
        chrome.fill("password", &password).await;
        chrome.click_button("登录").await;
        assert_eq!(chrome.path().await, "/admin/login/code");
        let qr = chrome.client.execute("return document.querySelector('img').naturalWidth", vec![]).await.unwrap();
        assert!(qr.as_u64().unwrap() > 100, "the QR code is drawn");
        let secret = chrome.client.find(Locator::Id("totp-secret")).await.unwrap().text().await.unwrap();
        let mut auth = Authenticator::from_secret(&secret);
        chrome.fill("code", "000000").await;
        chrome.click_button("验证").await;
        assert!(chrome.text().await.contains("验证码错误"));
        chrome.fill("code", &auth.code()).await;
        chrome.click_button("验证").await;
        assert_eq!(chrome.path().await, "/admin/openapi");

        // Apply (立即申请): the key exists, masked; nothing works with a guess.
        assert!(chrome.text().await.contains("立即申请"));
        chrome.click_button("立即申请").await;
        let text = chrome.text().await;
        assert!(text.contains("你已申请成功"), "{text}");
        assert!(text.contains(&admin));
        assert!(chrome.client.find(Locator::Id("interface-key-masked")).await.is_ok());
        assert!(chrome.client.find(Locator::Id("interface-key")).await.is_err());

        // Reveal (查看明文): the wrong password shows nothing; the right one shows the key,
        // which the real token endpoint takes.
        assert!(chrome.client.find(Locator::Id("reveal")).await.is_err(), "no prompt before 查看明文");
        chrome.click_button("查看明文").await;
        chrome.fill("password", "wrong-password").await;
        chrome.click_button("确定").await;
        assert!(chrome.text().await.contains("管理员密码错误"));
        assert!(chrome.client.find(Locator::Id("reveal")).await.is_ok(), "asked again");
        assert!(chrome.client.find(Locator::Id("interface-key")).await.is_err());
        let key = reveal(&chrome, &password).await;
        assert_eq!(key.len(), 32, "{key}");
        crate::keep_screenshot("console-openapi.png", &chrome.screenshot().await);
        let answer = token_answer(&srv, &admin, &key).await;
        assert!(answer.contains("access_token"), "{answer}");
        let token = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["access_token"].as_str().unwrap().to_owned();

        // Rotate: the old key and its token stop at once; the new key works.
        chrome.click_button("更换 key").await;
        assert!(chrome.text().await.contains("接口 key 已更换"));
        let old = token_answer(&srv, &admin, &key).await;
        assert!(old.contains("1100"), "the old key: {old}");
        let (_, body) = srv.call(&token, "openapi/user/get", &[("Alias", "nobody@walk.console.test")]).await;
        assert!(body.contains("1200"), "the old token: {body}");
        let new_key = reveal(&chrome, &password).await;
        assert_ne!(new_key, key);
        assert!(token_answer(&srv, &admin, &new_key).await.contains("access_token"));

        // Disable sync: the API answers 1102; enable it again.
        chrome.click_button("关闭同步").await;
        assert!(chrome.text().await.contains("同步已关闭"));
        assert!(token_answer(&srv, &admin, &new_key).await.contains("1102"));
        chrome.click_button("启用同步").await;
        assert!(token_answer(&srv, &admin, &new_key).await.contains("access_token"));
        chrome.click_button("关闭同步").await;

        // The IP allow list: an entry is added and listed, a bad one refused, then removed.
        chrome.fill("entry", "203.0.113.0/24").await;
        chrome.click_button("添加").await;
        assert!(chrome.text().await.contains("203.0.113.0/24"));
        assert_eq!(srv.running().admin().allowed_ips(&admin).await.unwrap().len(), 1);
        chrome.fill("entry", "not-an-address").await;
        chrome.click_button("添加").await;
        assert!(chrome.text().await.contains("不是有效的 IP 地址或网段"));
        chrome.click_button("删除").await;
        assert!(srv.running().admin().allowed_ips(&admin).await.unwrap().is_empty());

        // The log (操作记录): every step, the failed reveal marked failed, newest first.
        chrome.goto(&srv.url("admin/log")).await;
        let text = chrome.text().await;
        for endpoint in ["console/openapi/apply", "console/openapi/reveal", "console/openapi/rotate", "console/openapi/disable", "console/openapi/allow", "console/openapi/deny", "cgi-bin/token"] {
            assert!(text.contains(endpoint), "{endpoint} in the log: {text}");
        }
        assert!(!text.contains(&password) && !text.contains(&key) && !text.contains(&new_key), "no secret in the log");
        crate::keep_screenshot("console-log.png", &chrome.screenshot().await);
        let rows = chrome.client.find_all(Locator::Css("#oplog tbody tr")).await.unwrap();
        let newest = rows[0].text().await.unwrap();
        assert!(newest.contains("console/openapi/deny"), "newest first: {newest}");
        // Only failures: the wrong reveal, the bad entry and the refused token calls.
        chrome.goto(&srv.url("admin/log?outcome=failed&endpoint=console/")).await;
        let text = chrome.text().await;
        assert!(text.contains("console/openapi/reveal") && text.contains("console/openapi/allow"), "{text}");
        assert!(!text.contains("console/openapi/rotate"), "{text}");
        // A day range that excludes today finds nothing; a bad date says so.
        chrome.goto(&srv.url("admin/log?to=2001-01-01")).await;
        assert!(chrome.text().await.contains("没有符合条件的记录"));
        chrome.goto(&srv.url("admin/log?from=yesterday")).await;
        assert!(chrome.text().await.contains("YYYY-MM-DD"));

        // The CSV of the same selection, fetched with the browser's session.
        let cookie = chrome.client.get_named_cookie("bizmail_console").await.unwrap();
        let csv = reqwest::Client::new()
            .get(srv.url("admin/log.csv?endpoint=console/openapi/rotate"))
            .header("cookie", format!("bizmail_console={}", cookie.value()))
            .send().await.unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = csv.text().await.unwrap();
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "time_utc,client_ip,admin,endpoint,params,errcode");
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[1].contains("console/openapi/rotate") && lines[1].ends_with(",0"));

        // Signing out ends the session; the next sign-in needs a new code, not the QR.
        chrome.click_button("退出").await;
        assert!(chrome.text().await.contains("已退出管理端"));
        chrome.goto(&srv.url("admin/log")).await;
        assert_eq!(chrome.path().await, "/admin/login");
        let auth = sign_in(&chrome, &srv, ("admin/login", &admin, &password), Some(auth)).await;
        drop(auth);
        // A lost phone: `bizmail admin reset-totp` signs the admin out and enrols anew.
        assert!(srv.running().admin().reset_console_totp(ConsoleKind::Admin, &admin).await.unwrap());
        chrome.goto(&srv.url("admin/openapi")).await;
        assert_eq!(chrome.path().await, "/admin/login");
        chrome.fill("name", &admin).await;
        chrome.fill("password", &password).await;
        chrome.click_button("登录").await;
        assert!(chrome.client.find(Locator::Id("totp-secret")).await.is_ok(), "a new enrolment");
        chrome.close().await;
    }
}

backend_test! {
    async fn the_operator_lists_creates_and_disables_tenants(srv) {
        let admin = srv.running().admin();
        admin.set_operator("ops", Some("operator-Secret1".into())).await.unwrap();
        let chrome = Chrome::start().await;
        // An admin's sign-in does not take an operator's name, nor the other way round.
        chrome.goto(&srv.url("admin/login")).await;
        chrome.fill("name", "ops").await;
        chrome.fill("password", "operator-Secret1").await;
        chrome.click_button("登录").await;
        assert!(chrome.text().await.contains("账号或密码错误"));
        sign_in(&chrome, &srv, ("admin/operator/login", "ops", "operator-Secret1"), None).await;
        assert_eq!(chrome.path().await, "/admin/operator/");
        let text = chrome.text().await;
        assert!(text.contains(&srv.tenant().domain), "{text}");
        // An operator has no tenant pages.
        chrome.goto(&srv.url("admin/openapi")).await;
        assert_eq!(chrome.path().await, "/admin/operator/");

        // Create a tenant: its admin's password is shown once and signs in.
        chrome.fill("domains", "created.console.test second.console.test").await;
        chrome.fill("admin", "created-admin").await;
        chrome.click_button("创建").await;
        let password = chrome.client.find(Locator::Id("admin-password")).await.unwrap().text().await.unwrap();
        assert!(password.len() >= 12, "{password}");
        assert!(chrome.text().await.contains("created.console.test second.console.test"));
        crate::keep_screenshot("console-tenants.png", &chrome.screenshot().await);
        let created = admin.tenant_of("created-admin").await.unwrap();
        // A domain another tenant has is refused, with the reason.
        chrome.fill("domains", &srv.tenant().domain).await;
        chrome.fill("admin", "another-admin").await;
        chrome.click_button("创建").await;
        assert!(chrome.text().await.contains("already exists"), "{}", chrome.text().await);

        // Disable it: listed as disabled; its admin can no longer sign in.
        let row = chrome.client.find(Locator::XPath("//tr[td[contains(., 'created.console.test')]]")).await.unwrap();
        row.find(Locator::Css("button")).await.unwrap().click().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let row = chrome.client.find(Locator::XPath("//tr[td[contains(., 'created.console.test')]]")).await.unwrap();
        assert!(row.text().await.unwrap().contains("已停用"));
        assert!(admin.tenants().await.unwrap().iter().any(|t| t.tenant_id == created && t.disabled));
        chrome.click_button("退出").await;
        chrome.goto(&srv.url("admin/login")).await;
        chrome.fill("name", "created-admin").await;
        chrome.fill("password", &password).await;
        chrome.click_button("登录").await;
        assert!(chrome.text().await.contains("账号或密码错误"));
        chrome.close().await;
    }
}
