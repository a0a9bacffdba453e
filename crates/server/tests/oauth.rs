//! `/cgi-bin/token` and the guard of `/openapi/*` (PROTOCOL.md §1, §2, §3, §6, §8), over HTTP
//! against the real server, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use base64::Engine as _;
use bizmail_protocol::ErrorCode;
use bizmail_server::tenants as admin;
use bizmail_testkit::{TestServer, backend_test, error_body};

fn errcode(body: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    v["errcode"]
        .as_str()
        .unwrap_or_else(|| panic!("no errcode in {body}"))
        .to_owned()
}

fn assert_token_answer(body: &str, lifetime: u64) -> String {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "token_type", "expires_in", "refresh_token"],
        "{body}"
    );
    let token = v["access_token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 86);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], lifetime);
    assert_eq!(v["refresh_token"], "");
    token
}

/// An authenticated call that does nothing: 200 and an empty body when the token is good.
async fn ping_ok(srv: &TestServer, token: &str) -> bool {
    let (status, body) = srv.call(token, "openapi/bizmail/ping", &[]).await;
    assert_eq!(status, 200);
    body.is_empty()
}

backend_test! {
    async fn token_by_form_parameters(srv) {
        let t = srv.tenant();
        let body = srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", &t.admin), ("client_secret", &t.key),
        ]).await;
        let token = assert_token_answer(&body, 86_400);
        assert!(ping_ok(&srv, &token).await);
    }
}

backend_test! {
    async fn token_by_basic_auth(srv) {
        let t = srv.tenant();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", t.admin, t.key));
        let resp = srv.http.post(srv.url("cgi-bin/token"))
            .header("Authorization", format!("Basic {basic}"))
            .form(&[("grant_type", "client_credentials")])
            .send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/json; charset=utf-8");
        let token = assert_token_answer(&resp.text().await.unwrap(), 86_400);
        assert!(ping_ok(&srv, &token).await);
    }
}

backend_test! {
    async fn token_with_capitalised_names_in_query_and_get(srv) {
        let t = srv.tenant();
        let url = srv.url(&format!(
            "cgi-bin/token?Client_ID={}&Client_Secret={}&Grant_Type=client_credentials", t.admin, t.key
        ));
        let get = srv.http.get(&url).send().await.unwrap().text().await.unwrap();
        assert_token_answer(&get, 86_400);
        let post_query_only = srv.http.post(&url).send().await.unwrap().text().await.unwrap();
        assert_token_answer(&post_query_only, 86_400);
        // Split between query and body.
        let split = srv.http.post(srv.url(&format!("cgi-bin/token?client_id={}", t.admin)))
            .form(&[("client_secret", t.key.as_str()), ("grant_type", "client_credentials")])
            .send().await.unwrap().text().await.unwrap();
        assert_token_answer(&split, 86_400);
    }
}

backend_test! {
    async fn token_with_body_labelled_json(srv) {
        let t = srv.tenant();
        let urlencoded = format!("grant_type=client_credentials&client_id={}&client_secret={}", t.admin, t.key);
        let resp = srv.http.post(srv.url("cgi-bin/token"))
            .header("Content-Type", "application/json")
            .body(urlencoded).send().await.unwrap().text().await.unwrap();
        assert_token_answer(&resp, 86_400);
        let json = serde_json::json!({"grant_type": "client_credentials", "client_id": t.admin, "client_secret": t.key});
        let resp = srv.http.post(srv.url("cgi-bin/token"))
            .json(&json).send().await.unwrap().text().await.unwrap();
        assert_token_answer(&resp, 86_400);
        let multipart = reqwest::multipart::Form::new()
            .text("grant_type", "client_credentials")
            .text("client_id", t.admin.clone())
            .text("client_secret", t.key.clone());
        let resp = srv.http.post(srv.url("cgi-bin/token"))
            .multipart(multipart).send().await.unwrap().text().await.unwrap();
        assert_token_answer(&resp, 86_400);
    }
}

backend_test! {
    async fn every_request_gets_a_new_token_and_old_ones_stay_valid(srv) {
        let a = srv.token().await;
        let b = srv.token().await;
        assert_ne!(a, b);
        assert!(ping_ok(&srv, &a).await);
        assert!(ping_ok(&srv, &b).await);
    }
}

backend_test! {
    async fn token_refusals(srv) {
        let t = srv.tenant();
        let ask = |id: &str, secret: &str, grant: &str| {
            let fields = [("grant_type", grant.to_owned()), ("client_id", id.to_owned()), ("client_secret", secret.to_owned())];
            let srv = &srv;
            async move {
                let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                srv.form("cgi-bin/token", &f).await
            }
        };
        let wrong_key = ask(&t.admin, "00000000000000000000000000000000", "client_credentials").await;
        assert_eq!(wrong_key, error_body(ErrorCode::InvalidClient));
        assert_eq!(errcode(&ask("nobody", &t.key, "client_credentials").await), "1100");
        assert_eq!(errcode(&ask(&t.admin, &t.key, "password").await), "1101");
        assert_eq!(errcode(&ask(&t.admin, &t.key, "").await), "1001");
        assert_eq!(errcode(&ask("", &t.key, "client_credentials").await), "1001");
        assert_eq!(errcode(&srv.form("cgi-bin/token", &[]).await), "1001");
        // The key is compared case-insensitively as hex, like the 32-hex-character real keys.
        let upper = ask(&t.admin, &t.key.to_uppercase(), "client_credentials").await;
        assert_token_answer(&upper, 86_400);
    }
}

backend_test! {
    async fn sync_switched_off_refuses_tokens_and_calls(srv) {
        let t = srv.tenant().clone();
        let token = srv.token().await;
        // Used once, so its grant is cached: the switch must still take effect on the next call.
        assert!(ping_ok(&srv, &token).await);
        let admin_side = srv.running().admin();
        admin_side.set_enabled(&t.admin, false).await.unwrap();
        let body = srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", &t.admin), ("client_secret", &t.key),
        ]).await;
        assert_eq!(body, error_body(ErrorCode::OpenapiDisabled));
        let (_, body) = srv.call(&token, "openapi/bizmail/ping", &[]).await;
        assert_eq!(errcode(&body), "1102");
        admin_side.set_enabled(&t.admin, true).await.unwrap();
        assert!(ping_ok(&srv, &token).await);
    }
}

backend_test! {
    async fn a_tenant_that_never_applied_gets_openapi_disabled(srv) {
        let running = srv.running();
        running.admin().create_tenant(admin::NewTenant {
            domains: vec!["never-applied.test".into()],
            admin: "never-applied".into(),
            admin_password: Some("long enough password".into()),
            ..Default::default()
        }).await.unwrap();
        let body = srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", "never-applied"),
            ("client_secret", "563a8c6a89d2368194c1c7889c508b34"),
        ]).await;
        assert_eq!(errcode(&body), "1102");
    }
}

backend_test! {
    async fn token_accepted_in_header_query_and_body(srv) {
        let token = srv.token().await;
        let ping = srv.url("openapi/bizmail/ping");
        for header in [format!("Bearer {token}"), format!(" Bearer  {token}"), format!("bearer {token}"), token.clone()] {
            let r = srv.http.post(&ping).header("Authorization", header.clone()).send().await.unwrap();
            assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, String::new()), "{header:?}");
        }
        let r = srv.http.get(format!("{ping}?access_token={token}")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        let r = srv.http.post(&ping).form(&[("access_token", &token)]).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        // Header and parameter differ: the header wins.
        let r = srv.http.post(format!("{ping}?access_token=bogus"))
            .bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        let r = srv.http.post(format!("{ping}?access_token={token}"))
            .bearer_auth("bogus").send().await.unwrap();
        assert_eq!(errcode(&r.text().await.unwrap()), "1200");
    }
}

backend_test! {
    async fn missing_and_unknown_tokens_are_1200(srv) {
        let r = srv.http.post(srv.url("openapi/bizmail/ping")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidToken));
        let (_, body) = srv.call("not-a-token", "openapi/bizmail/ping", &[]).await;
        assert_eq!(errcode(&body), "1200");
    }
}

backend_test! {
    config = |c| c.token_lifetime_secs = 1;
    async fn expired_token_is_1200(srv) {
        let t = srv.tenant();
        let body = srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", &t.admin), ("client_secret", &t.key),
        ]).await;
        let token = assert_token_answer(&body, 1);
        assert!(ping_ok(&srv, &token).await);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (_, body) = srv.call(&token, "openapi/bizmail/ping", &[]).await;
        assert_eq!(errcode(&body), "1200");
    }
}

backend_test! {
    async fn rotating_the_key_kills_old_tokens_and_the_old_key(srv) {
        let t = srv.tenant().clone();
        let old_token = srv.token().await;
        assert!(ping_ok(&srv, &old_token).await, "used once: its grant is cached");
        let running = srv.running();
        let new_key = running.admin().rotate(&t.admin).await.unwrap();
        assert_ne!(new_key, t.key);
        let (_, body) = srv.call(&old_token, "openapi/bizmail/ping", &[]).await;
        assert_eq!(errcode(&body), "1200");
        let old = srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", &t.admin), ("client_secret", &t.key),
        ]).await;
        assert_eq!(errcode(&old), "1100");
        let new = srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", &t.admin), ("client_secret", &new_key),
        ]).await;
        assert_token_answer(&new, 86_400);
        let revealed = running.admin().reveal(&t.admin, &t.admin_password).await.unwrap();
        assert_eq!(revealed, new_key);
        assert!(running.admin().reveal(&t.admin, "wrong password").await.is_err());
    }
}

backend_test! {
    async fn caller_not_on_the_allow_list_is_10001(srv) {
        let t = srv.tenant().clone();
        let token = srv.token().await;
        let admin_side = srv.running().admin();
        admin_side.allow_ips(&t.admin, &["10.0.0.0/8".into()]).await.unwrap();
        let (_, body) = srv.call(&token, "openapi/bizmail/ping", &[]).await;
        assert_eq!(body, error_body(ErrorCode::IpNotAllowed));
        // A blocked address gets no token either (it used to).
        let refused = srv.form("cgi-bin/token", &[("grant_type", "client_credentials"), ("client_id", &t.admin), ("client_secret", &t.key)]).await;
        assert_eq!(refused, error_body(ErrorCode::IpNotAllowed));
        admin_side.allow_ips(&t.admin, &["127.0.0.1".into()]).await.unwrap();
        assert!(srv.token().await.len() > 20, "an allowed address gets one");
        assert!(ping_ok(&srv, &token).await);
        admin_side.deny_ips(&t.admin, &["127.0.0.1".into()]).await.unwrap();
        let (_, body) = srv.call(&token, "openapi/bizmail/ping", &[]).await;
        assert_eq!(errcode(&body), "10001");
        admin_side.deny_ips(&t.admin, &["10.0.0.0/8".into()]).await.unwrap();
        assert!(ping_ok(&srv, &token).await, "an empty list allows any address");
    }
}

backend_test! {
    async fn operation_log_rows_are_written_with_secrets_masked(srv) {
        let t = srv.tenant().clone();
        let token = srv.token().await;
        srv.call(&token, "openapi/bizmail/ping", &[("Password", "hunter22"), ("name", "Zhang")]).await;
        let r = srv.http.get(srv.url(&format!("openapi/bizmail/ping?access_token={token}"))).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        srv.call("bogus-token", "openapi/bizmail/ping", &[]).await;
        srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", &t.admin), ("client_secret", "bad"),
        ]).await;
        srv.flush_oplog().await;
        let rows = srv.running().admin().oplog(&t.admin, 50).await.unwrap();
        // Newest first: the failed token request, the two pings, the first token request.
        let summary: Vec<(&str, i64)> = rows.iter().map(|r| (r.endpoint.as_str(), r.errcode)).collect();
        assert_eq!(summary, [
            ("cgi-bin/token", 1100),
            ("openapi/bizmail/ping", 0),
            ("openapi/bizmail/ping", 0),
            ("cgi-bin/token", 0),
        ]);
        for r in &rows {
            assert_eq!(r.admin, t.admin);
            assert_eq!(r.client_ip, "127.0.0.1");
            assert!(r.at_ms > 0);
            assert!(!r.params.contains(&token), "token leaked: {}", r.params);
            assert!(!r.params.contains(&t.key), "key leaked: {}", r.params);
            assert!(!r.params.contains("hunter22"), "password leaked: {}", r.params);
        }
        assert_eq!(rows[0].params, "grant_type=client_credentials&client_id={}&client_secret=***".replace("{}", &t.admin));
        assert_eq!(rows[1].params, "access_token=***");
        assert_eq!(rows[2].params, "password=***&name=Zhang");
        // The call with an unknown token belongs to no tenant, so this tenant's log does not show it.
        assert!(rows.iter().all(|r| r.tenant_id == Some(t.tenant_id)));
    }
}

backend_test! {
    config = |c| c.token_requests_per_minute = 3;
    async fn token_requests_are_rate_limited_per_ip(srv) {
        let t = srv.tenant();
        let fields = [("grant_type", "client_credentials"), ("client_id", t.admin.as_str()), ("client_secret", t.key.as_str())];
        // The seeded tenant took no token yet; three go through, the fourth is blocked.
        for _ in 0..3 {
            assert_token_answer(&srv.form("cgi-bin/token", &fields).await, 86_400);
        }
        assert_eq!(srv.form("cgi-bin/token", &fields).await, error_body(ErrorCode::IpFreqBlock));
    }
}

backend_test! {
    config = |c| c.http_error_status = true;
    async fn http_error_status_switch(srv) {
        let r = srv.http.post(srv.url("openapi/bizmail/ping")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidToken));
        let r = srv.http.post(srv.url("cgi-bin/token")).form(&[("grant_type", "x"), ("client_id", "a")]).send().await.unwrap();
        assert_eq!(r.status(), 400);
    }
}

backend_test! {
    async fn healthz_answers(srv) {
        let r = srv.http.get(srv.url("healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "ok\n");
    }
}

/// `openapi/bizmail/ping` as the client at `xff` (an `X-Forwarded-For` value).
async fn ping_from(srv: &TestServer, token: &str, xff: &str) -> String {
    srv.http
        .post(srv.url("openapi/bizmail/ping"))
        .bearer_auth(token)
        .header("x-forwarded-for", xff)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

backend_test! {
    config = |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.token_requests_per_minute = 2;
    };
    async fn behind_a_trusted_proxy_the_forwarded_client_counts(srv) {
        let t = srv.tenant().clone();
        let token = srv.token().await; // 203.0.113.x below are other clients than this one
        let admin_side = srv.running().admin();
        admin_side.allow_ips(&t.admin, &["203.0.113.0/24".into()]).await.unwrap();
        assert_eq!(ping_from(&srv, &token, "203.0.113.9").await, "");
        assert_eq!(errcode(&ping_from(&srv, &token, "198.51.100.1").await), "10001");
        assert_eq!(
            errcode(&ping_from(&srv, &token, "203.0.113.9, 198.51.100.1").await),
            "10001",
            "the right-most entry is the one the proxy saw; the rest can be forged"
        );
        // The token limit is per forwarded client, not per proxy.
        let token_from = |xff: &'static str| {
            let srv = &srv;
            let t = t.clone();
            async move {
                srv.http
                    .post(srv.url("cgi-bin/token"))
                    .header("x-forwarded-for", xff)
                    .form(&[("grant_type", "client_credentials"), ("client_id", t.admin.as_str()), ("client_secret", t.key.as_str())])
                    .send().await.unwrap().text().await.unwrap()
            }
        };
        assert_token_answer(&token_from("203.0.113.7").await, 86_400);
        assert_token_answer(&token_from("203.0.113.7").await, 86_400);
        assert_eq!(token_from("203.0.113.7").await, error_body(ErrorCode::IpFreqBlock));
        assert_token_answer(&token_from("203.0.113.8").await, 86_400);
        srv.flush_oplog().await;
        let rows = admin_side.oplog(&t.admin, 1).await.unwrap();
        assert_eq!(rows[0].client_ip, "203.0.113.8", "the operation log names the real client");
    }
}

backend_test! {
    async fn forwarded_for_is_ignored_without_trusted_proxies(srv) {
        let t = srv.tenant().clone();
        let token = srv.token().await;
        srv.running().admin().allow_ips(&t.admin, &["203.0.113.0/24".into()]).await.unwrap();
        assert_eq!(errcode(&ping_from(&srv, &token, "203.0.113.9").await), "10001");
    }
}

/// The errcode a ping with `token` gets, asked again every 10 ms for up to two seconds until it
/// is `code` (empty: success); returns how many asks that took.
async fn asks_until(srv: &TestServer, token: &str, code: &str) -> usize {
    for ask in 1..=200 {
        let (_, body) = srv.call(token, "openapi/bizmail/ping", &[]).await;
        if (code.is_empty() && body.is_empty()) || (!body.is_empty() && errcode(&body) == code) {
            return ask;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{code} never came");
}

backend_test! {
    async fn changes_made_by_another_process_reach_cached_grants(srv) {
        // Another process on the same database (the CLI; on PostgreSQL, another node's admin
        // side): its own store, its own cache. A grant this server cached before each change
        // must not outlive it. On SQLite the next call sees it (the stamp file is read on every
        // call); on PostgreSQL within one NOTIFY's delivery (docs/PERFORMANCE.md).
        let t = srv.tenant().clone();
        let token = srv.token().await;
        let other = admin::Admin::open(&srv.config).await.unwrap();
        let strict = srv.config.backend() != Some(bizmail_server::config::Backend::Postgres);
        let within = |asks: usize, what: &str| {
            if strict {
                assert_eq!(asks, 1, "{what}: the very next call");
            } else {
                assert!(asks <= 50, "{what}: took {asks} asks");
            }
        };
        assert!(ping_ok(&srv, &token).await);
        other.set_enabled(&t.admin, false).await.unwrap();
        within(asks_until(&srv, &token, "1102").await, "sync off");
        other.set_enabled(&t.admin, true).await.unwrap();
        within(asks_until(&srv, &token, "").await, "sync on");
        assert!(ping_ok(&srv, &token).await);
        other.allow_ips(&t.admin, &["203.0.113.0/24".into()]).await.unwrap();
        within(asks_until(&srv, &token, "10001").await, "allow list");
        other.deny_ips(&t.admin, &["203.0.113.0/24".into()]).await.unwrap();
        within(asks_until(&srv, &token, "").await, "allow list emptied");
        other.rotate(&t.admin).await.unwrap();
        within(asks_until(&srv, &token, "1200").await, "rotation");
        other.close().await;
    }
}
