//! The console over plain HTTP, as a hostile client sees it: every page needs a session and sends
//! the strict headers; forms without the anti-forgery token change nothing; unknown names are
//! refused like wrong passwords; codes work once; the allowance per account runs out; a tenant
//! sees only its own log, exported as proper CSV; a disabled tenant's
//! admin is signed out.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::tenants::NewTenant;
use bizmail_testkit::{TestServer, backend_test};
use common::{Browser, hidden_field, location};
use totp_rs::{Algorithm, Secret, TOTP};

/// A tenant that has not applied for the OpenApi: `(admin, password)`.
async fn fresh_tenant(srv: &TestServer, tag: &str) -> (String, String) {
    let (admin, password) = (format!("http-{tag}"), format!("pw-{tag}-Secret1"));
    let new = NewTenant {
        domains: vec![format!("{tag}.http-console.test")],
        admin: admin.clone(),
        admin_password: Some(password.clone()),
        ..NewTenant::default()
    };
    srv.running().admin().create_tenant(new).await.unwrap();
    (admin, password)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Posts the password form; the response.
async fn password_step(b: &mut Browser, name: &str, password: &str) -> reqwest::Response {
    let form = b.page("/admin/login", 200).await;
    let csrf = hidden_field(&form, "csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", name),
        ("password", password),
    ];
    b.post("/admin/login", &fields).await
}

/// Posts a code on the code page; the response.
async fn code_step(b: &mut Browser, code: &str) -> reqwest::Response {
    let page = b.page("/admin/login/code", 200).await;
    let csrf = hidden_field(&page, "csrf");
    b.post(
        "/admin/login/code",
        &[("csrf", csrf.as_str()), ("code", code)],
    )
    .await
}

/// Signs an admin in over HTTP, enrolling; the browser and the authenticator.
async fn signed_in(srv: &TestServer, name: &str, password: &str) -> (Browser, TOTP) {
    let mut b = Browser::new(srv);
    let r = password_step(&mut b, name, password).await;
    assert_eq!(location(&r), "/admin/login/code");
    let page = b.page("/admin/login/code", 200).await;
    let start = page.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let secret = page[start..].split('<').next().unwrap();
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes, None, String::new());
    let r = code_step(&mut b, &totp.generate(now_secs())).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/admin/");
    (b, totp)
}

backend_test! {
    async fn pages_need_a_session_and_forms_their_token(srv) {
        let (admin, password) = fresh_tenant(&srv, "guard").await;
        let mut stranger = Browser::new(&srv);
        for path in ["/admin/", "/admin/openapi", "/admin/log", "/admin/log.csv", "/admin/operator/"] {
            let r = stranger.get(path).await;
            assert_eq!(r.status().as_u16(), 303, "{path}");
            assert!(location(&r).ends_with("/login"), "{path}: {}", location(&r));
        }
        // An action without a session does nothing.
        let r = stranger.post("/admin/openapi/apply", &[("csrf", "x")]).await;
        assert_eq!(r.status().as_u16(), 303);
        // The sign-in page: the strict headers, and a form token the post must repeat.
        let r = stranger.get("/admin/login").await;
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let r = stranger.post("/admin/login", &[("csrf", "forged"), ("name", &admin), ("password", &password)]).await;
        assert_eq!(r.status().as_u16(), 403);

        // The console's cookies (the half-done sign-in's, the session's) stay on /admin, out of
        // scripts' reach and out of other sites' requests.
        let mut fresh = Browser::new(&srv);
        let r = password_step(&mut fresh, &admin, &password).await;
        let cookie = r.headers().get_all("set-cookie").iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("bizmail_console_login="))
            .unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/admin"), "{cookie}");
        let (mut b, _) = signed_in(&srv, &admin, &password).await;
        // A forged token changes nothing and says why.
        let r = b.post("/admin/openapi/apply", &[("csrf", "forged")]).await;
        assert_eq!(r.status().as_u16(), 403);
        assert!(!srv.running().admin().openapi_state(&admin).await.unwrap().applied);
        // The session's own token works.
        let page = b.page("/admin/openapi", 200).await;
        let csrf = hidden_field(&page, "csrf");
        let r = b.post("/admin/openapi/apply", &[("csrf", csrf.as_str())]).await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(srv.running().admin().openapi_state(&admin).await.unwrap().applied);
        // An unknown action is a clear 404, not a 500.
        let r = b.post("/admin/openapi/explode", &[("csrf", csrf.as_str())]).await;
        assert_eq!(r.status().as_u16(), 404);
        // A sign-out needs the token too.
        let r = b.post("/admin/logout", &[("csrf", "forged")]).await;
        assert_eq!(r.status().as_u16(), 403);
        assert_eq!(b.get("/admin/openapi").await.status().as_u16(), 200);
        let r = b.post("/admin/logout", &[("csrf", csrf.as_str())]).await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(b.get("/admin/openapi").await.status().as_u16(), 303);
    }
}

backend_test! {
    config = |c| c.login_attempts_per_account_per_hour = 8;
    async fn strangers_learn_nothing_codes_work_once_and_attempts_run_out(srv) {
        let (admin, password) = fresh_tenant(&srv, "limits").await;
        // An unknown name and a wrong password: the same status and the same words.
        let mut b = Browser::new(&srv);
        let unknown = password_step(&mut b, "nobody-here", "whatever1").await;
        let unknown = (unknown.status().as_u16(), unknown.text().await.unwrap().contains("账号或密码错误"));
        let wrong = password_step(&mut b, &admin, "whatever1").await;
        let wrong = (wrong.status().as_u16(), wrong.text().await.unwrap().contains("账号或密码错误"));
        assert_eq!(unknown, (401, true));
        assert_eq!(wrong, unknown);

        // A code opens one session; the same code again does not.
        let (_, totp) = signed_in(&srv, &admin, &password).await;
        let used = totp.generate(now_secs());
        let mut again = Browser::new(&srv);
        password_step(&mut again, &admin, &password).await;
        let r = code_step(&mut again, &used).await;
        assert_eq!(r.status().as_u16(), 401, "a replayed code");
        assert!(r.text().await.unwrap().contains("验证码错误或已使用"));
        // The next step's code still works.
        let r = code_step(&mut again, &totp.generate(now_secs() + 30)).await;
        assert_eq!(r.status().as_u16(), 303);

        // The account's allowance (8 an hour here, codes included) runs out: then even the
        // right password waits.
        let mut b = Browser::new(&srv);
        let mut statuses = Vec::new();
        while statuses.last() != Some(&429) && statuses.len() < 8 {
            statuses.push(password_step(&mut b, &admin, "wrong-again").await.status().as_u16());
        }
        assert!(statuses[..statuses.len() - 1].iter().all(|&s| s == 401), "{statuses:?}");
        assert_eq!(password_step(&mut b, &admin, &password).await.status().as_u16(), 429);
    }
}

backend_test! {
    async fn each_tenant_sees_its_own_log_and_its_csv_runs_no_formula(srv) {
        let (admin, password) = fresh_tenant(&srv, "logs").await;
        // The seeded tenant's calls: one with a parameter that looks like a formula.
        let seeded = srv.tenant().clone();
        let token = srv.token().await;
        srv.call(&token, "openapi/user/get", &[("Alias", "=HYPERLINK(\"http://evil.example\")")]).await;
        srv.flush_oplog().await;
        let (mut mine, _) = signed_in(&srv, &admin, &password).await;
        let page = mine.page("/admin/log", 200).await;
        assert!(!page.contains("openapi/user/get") && !page.contains(&seeded.admin), "another tenant's rows");

        let (mut theirs, _) = signed_in(&srv, &seeded.admin, &seeded.admin_password).await;
        let page = theirs.page("/admin/log?endpoint=user/get", 200).await;
        assert!(page.contains("openapi/user/get"), "{page}");
        let csv = theirs.get("/admin/log.csv?endpoint=user/get").await;
        assert_eq!(csv.headers()["content-disposition"], "attachment; filename=\"oplog.csv\"");
        let csv = csv.text().await.unwrap();
        let row = csv.lines().find(|l| l.contains("openapi/user/get")).unwrap();
        // The parameter (quotes and all) is one CSV field, quoted, its quotes doubled.
        assert!(row.contains("HYPERLINK(\"\"http://evil.example\"\")"), "{row}");
        // The newer API's log/operation: the console's actions among all operations (type 1),
        // not among interface calls (type 2).
        let page = theirs.page("/admin/openapi", 200).await;
        let csrf = hidden_field(&page, "csrf");
        assert_eq!(theirs.post("/admin/openapi/enable", &[("csrf", csrf.as_str())]).await.status().as_u16(), 200);
        let log_token = srv.corp_token("log").await;
        // The newer API's days are China's (UTC+8): a day either side of today covers now.
        let now = i64::try_from(now_secs()).unwrap();
        let day = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).unwrap().format("%Y-%m-%d").to_string();
        let (from, to) = (day(now - 86_400), day(now + 86_400));
        let remarks = |v: serde_json::Value| -> Vec<String> {
            v["list"].as_array().unwrap().iter().map(|r| r["remark"].as_str().unwrap().to_owned()).collect()
        };
        let mut by_type = Vec::new();
        for kind in [1, 2] {
            let body = serde_json::json!({"begin_date": from, "end_date": to, "type": kind});
            let url = srv.url(&format!("cgi-bin/log/operation?access_token={log_token}"));
            let v: serde_json::Value = srv.http.post(url).json(&body).send().await.unwrap().json().await.unwrap();
            by_type.push(remarks(v));
        }
        assert!(by_type[0].iter().any(|r| r == "console/openapi/enable"), "{by_type:?}");
        assert!(by_type[1].iter().all(|r| !r.starts_with("console/")), "{by_type:?}");
        assert!(by_type[1].iter().any(|r| r == "cgi-bin/token"), "{by_type:?}");

        // Filters: an address that made no call, paging past the end, a bad date.
        assert!(theirs.page("/admin/log?ip=192.0.2.77", 200).await.contains("没有符合条件的记录"));
        assert!(theirs.page("/admin/log?page=999", 200).await.contains("没有符合条件的记录"));
        assert_eq!(theirs.get("/admin/log?from=2026-13-45").await.status().as_u16(), 400);
        assert_eq!(theirs.get("/admin/log.csv?to=soon").await.status().as_u16(), 400);
    }
}

backend_test! {
    async fn a_disabled_tenants_admin_is_signed_out(srv) {
        let (admin, password) = fresh_tenant(&srv, "off").await;
        let (mut b, _) = signed_in(&srv, &admin, &password).await;
        assert_eq!(b.get("/admin/openapi").await.status().as_u16(), 200);
        srv.running().admin().set_tenant_disabled("off.http-console.test", true).await.unwrap();
        let r = b.get("/admin/openapi").await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(location(&r), "/admin/login");
        let mut again = Browser::new(&srv);
        assert_eq!(password_step(&mut again, &admin, &password).await.status().as_u16(), 401);
    }
}

backend_test! {
    async fn a_sandbox_tenant_has_its_page_and_others_do_not(srv) {
        let (admin, password) = fresh_tenant(&srv, "sbx").await;
        let (mut b, _) = signed_in(&srv, &admin, &password).await;
        // Not a sandbox: no navigation item, and the page says so.
        let home = b.page("/admin/openapi", 200).await;
        assert!(!home.contains("/admin/sandbox"));
        assert!(b.page("/admin/sandbox", 404).await.contains("bizmail sandbox mark"));
        let tenant = srv.running().admin().tenant_named(&admin).await.unwrap();
        srv.running().sandbox().mark(tenant).await.unwrap();
        let page = b.page("/admin/sandbox", 200).await;
        assert!(page.contains("id=\"no-faults\""));
        let csrf = hidden_field(&page, "csrf");
        // A plan that does not check is refused with its reason, and logged as refused.
        let bad = r#"{"rules": [{"endpoint": "openapi/user/get", "idle": true}]}"#;
        let r = b.post("/admin/sandbox/faults", &[("csrf", csrf.as_str()), ("plan", bad)]).await;
        assert_eq!(r.status().as_u16(), 400);
        assert!(r.text().await.unwrap().contains("openapi/listen only"));
        let plan = r#"{"seed": 5, "rules": [{"endpoint": "openapi/bizmail/ping", "error": 1002}]}"#;
        let r = b.post("/admin/sandbox/faults", &[("csrf", csrf.as_str()), ("plan", plan)]).await;
        assert_eq!(r.status().as_u16(), 200);
        let state = srv.running().sandbox().require(tenant).await.unwrap();
        assert_eq!(state.plan.seed, 5);
        let r = b.post("/admin/sandbox/clock", &[("csrf", csrf.as_str()), ("shift", "+2h")]).await;
        assert!(r.text().await.unwrap().contains("id=\"clock\">2h<"));
        // A form without the token changes nothing.
        let r = b.post("/admin/sandbox/clear", &[("csrf", "forged")]).await;
        assert_eq!(r.status().as_u16(), 403);
        assert!(!srv.running().sandbox().require(tenant).await.unwrap().plan.is_empty());
        let r = b.post("/admin/sandbox/clear", &[("csrf", csrf.as_str())]).await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(srv.running().sandbox().require(tenant).await.unwrap().plan.is_empty());
        // The HAR download is the console session's, and parses.
        let har = b.get("/admin/sandbox/record.har").await;
        assert_eq!(har.status().as_u16(), 200);
        let v: serde_json::Value = har.json().await.unwrap();
        assert_eq!(v["log"]["version"], "1.2");
        srv.flush_oplog().await;
        let log = srv.running().admin().oplog(&admin, 20).await.unwrap();
        for endpoint in ["console/sandbox/faults", "console/sandbox/clock", "console/sandbox/clear"] {
            assert!(log.iter().any(|r| r.endpoint == endpoint), "{endpoint}");
        }
        assert!(log.iter().any(|r| r.endpoint == "console/sandbox/faults" && r.errcode != 0));
    }
}
