//! The sandbox (docs/SANDBOX.md) seen from outside, on both backends: each fault kind as a
//! client meets it (errors in both APIs' shapes, latency, a held poll cut or answered at once,
//! tokens that expire early, SMTP 421/451), reproducible from a seed and marked in the operation
//! log; the moved clock expiring tokens, tickets and the change log; the record exported as HAR
//! with secrets masked; and every switch refused on a tenant that is not a sandbox.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_protocol::sandbox::{Plan, Rule};
use bizmail_testkit::{TestServer, backend_test};
use common::Api;
use serde_json::Value;
use std::time::{Duration, Instant};

fn plan(seed: u64, rules: &[&str]) -> Plan {
    Plan {
        seed,
        token_ttl_secs: None,
        rules: rules.iter().map(|r| Rule::parse_line(r).unwrap()).collect(),
    }
}

/// Marks the seeded tenant as a sandbox; returns its control key.
async fn mark(srv: &TestServer) -> String {
    srv.running()
        .sandbox()
        .mark(srv.tenant().tenant_id)
        .await
        .unwrap()
}

async fn set(srv: &TestServer, p: &Plan) {
    srv.running()
        .sandbox()
        .set_plan(srv.tenant().tenant_id, p)
        .await
        .unwrap();
}

/// A newer-API call: its `errcode`.
async fn cgi(srv: &TestServer, token: &str, path: &str) -> i64 {
    let url = srv.url(&format!("cgi-bin/{path}&access_token={token}"));
    let v: Value = srv
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["errcode"].as_i64().unwrap()
}

/// The reply to RCPT TO, and whether the server closed the session after it.
async fn rcpt(srv: &TestServer, to: &str) -> (String, bool) {
    let (mut s, greeting) = common::Raw::connect(srv).await;
    assert!(greeting.starts_with("220"), "{greeting}");
    s.cmd("EHLO t").await;
    s.cmd("MAIL FROM:<x@outside.example>").await;
    let reply = s.cmd(&format!("RCPT TO:<{to}>")).await;
    // A closed session reads as the end at once; an open one has nothing more to say.
    let closed = tokio::time::timeout(Duration::from_millis(500), s.reply())
        .await
        .is_ok_and(|r| r.is_empty());
    (reply, closed)
}

backend_test! {
    async fn every_switch_is_refused_on_a_tenant_that_is_not_a_sandbox(srv) {
        let sandbox = srv.running().sandbox();
        let t = srv.tenant().tenant_id;
        fn refused<T>(r: Result<T, bizmail_server::sandbox::SandboxError>) -> bool {
            matches!(r, Err(bizmail_server::sandbox::SandboxError::NotSandbox))
        }
        assert!(refused(sandbox.set_plan(t, &plan(1, &["* latency=1"])).await));
        assert!(refused(sandbox.move_clock(t, 3_600_000, false).await));
        assert!(refused(sandbox.exchanges(t, None, 10).await));
        assert!(refused(sandbox.new_key(t).await));
        // Calls go untouched and unrecorded.
        let api = Api::new(&srv).await;
        api.ok("bizmail/ping", &[]).await;
        // The control endpoint knows no key of this tenant.
        let r = srv.http.get(srv.url("sandbox/v1")).bearer_auth("bzsb_0000").send().await.unwrap();
        assert_eq!(r.status(), 401);
        let r = srv.http.get(srv.url("sandbox/v1")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        // Marked, then unmarked: refused again, and its key is dead.
        let key = mark(&srv).await;
        assert!(sandbox.exchanges(t, None, 10).await.unwrap().is_empty(), "the ping before was not recorded");
        assert_eq!(srv.http.get(srv.url("sandbox/v1")).bearer_auth(&key).send().await.unwrap().status(), 200);
        assert!(sandbox.unmark(t).await.unwrap());
        assert_eq!(srv.http.get(srv.url("sandbox/v1")).bearer_auth(&key).send().await.unwrap().status(), 401);
        assert!(refused(sandbox.move_clock(t, 1000, false).await));
        // Another tenant's sandbox does not make this one a sandbox.
        let other = srv.seed_tenant().await;
        sandbox.mark(other.tenant_id).await.unwrap();
        assert!(refused(sandbox.set_plan(t, &Plan::default()).await));
    }
}

backend_test! {
    async fn errors_in_both_apis_follow_the_seed_and_are_marked_in_the_log(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        mark(&srv).await;
        let p = plan(7, &["openapi/user/get error=1002 share=0.5", "cgi-bin/user/get error=-1 count=2"]);
        set(&srv, &p).await;
        let mut first = Vec::new();
        for _ in 0..16 {
            let body = api.post("user/get", &[("Alias", &bob)]).await;
            first.push(body.contains("\"1002\""));
        }
        let failed = first.iter().filter(|f| **f).count();
        assert!((2..15).contains(&failed), "about half fail: {first:?}");
        // The same plan again (counters start over): the same calls fail.
        set(&srv, &p).await;
        let mut again = Vec::new();
        for _ in 0..16 {
            again.push(api.post("user/get", &[("Alias", &bob)]).await.contains("\"1002\""));
        }
        assert_eq!(first, again, "a seed makes a run reproducible");
        // The newer API: its own code and shape, for exactly `count` calls.
        let corp = srv.corp_token("directory").await;
        let codes = [
            cgi(&srv, &corp, &format!("user/get?userid={bob}")).await,
            cgi(&srv, &corp, &format!("user/get?userid={bob}")).await,
            cgi(&srv, &corp, &format!("user/get?userid={bob}")).await,
        ];
        assert_eq!(codes, [-1, -1, 0]);
        // Other endpoints pass.
        api.ok("bizmail/ping", &[]).await;
        srv.flush_oplog().await;
        let log = srv.running().admin().oplog(&srv.tenant().admin, 200).await.unwrap();
        let marked = log.iter().filter(|r| r.params.contains("[sandbox: error 1002]")).count();
        assert_eq!(marked, 2 * failed, "every injected 1002 is marked");
        assert!(log.iter().all(|r| r.errcode != 1002 || r.params.contains("[sandbox:")));
        let newer = log.iter().filter(|r| r.params.contains("[sandbox: error -1]")).count();
        assert_eq!(newer, 2);
    }
}

backend_test! {
    async fn latency_is_added_and_tokens_fail_before_they_say(srv) {
        let api = Api::new(&srv).await;
        mark(&srv).await;
        set(&srv, &plan(1, &["openapi/bizmail/ping latency=1200ms count=1", "cgi-bin/token error=1002 count=1"])).await;
        let t0 = Instant::now();
        api.ok("bizmail/ping", &[]).await;
        assert!(t0.elapsed() >= Duration::from_millis(1200));
        let t1 = Instant::now();
        api.ok("bizmail/ping", &[]).await;
        assert!(t1.elapsed() < Duration::from_millis(1200), "count=1: only the first waits");
        // The token endpoint itself can be made busy.
        let t = srv.tenant().clone();
        let fields = [("grant_type", "client_credentials"), ("client_id", t.admin.as_str()), ("client_secret", t.key.as_str())];
        let busy = srv.form("cgi-bin/token", &fields).await;
        assert!(busy.contains("\"1002\""), "{busy}");
        // Tokens that expire early: both APIs still say their usual lifetime.
        let mut p = Plan { token_ttl_secs: Some(1), ..Plan::default() };
        set(&srv, &p).await;
        let answer: Value = serde_json::from_str(&srv.form("cgi-bin/token", &fields).await).unwrap();
        assert_eq!(answer["expires_in"], srv.config.token_lifetime_secs);
        let token = answer["access_token"].as_str().unwrap().to_owned();
        let url = srv.url(&format!("cgi-bin/gettoken?corpid={}&corpsecret={}", t.corp_id, t.corp_secret("directory")));
        let corp: Value = srv.http.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(corp["expires_in"], srv.config.corp_token_lifetime_secs);
        let corp = corp["access_token"].as_str().unwrap().to_owned();
        assert_eq!(srv.call(&token, "openapi/bizmail/ping", &[]).await, (200, String::new()));
        assert_eq!(cgi(&srv, &corp, "department/list?id=1").await, 0);
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let (_, body) = srv.call(&token, "openapi/bizmail/ping", &[]).await;
        assert!(body.contains("\"1200\""), "{body}");
        assert_eq!(cgi(&srv, &corp, "department/list?id=1").await, 40014);
        p.token_ttl_secs = None;
        set(&srv, &p).await;
        assert_eq!(Api::new(&srv).await.post("bizmail/ping", &[]).await, "");
    }
}

backend_test! {
    config = |c| { c.poll_timeout_secs = 20; };
    async fn held_polls_are_answered_at_once_or_cut(srv) {
        let api = Api::new(&srv).await;
        mark(&srv).await;
        set(&srv, &plan(1, &["openapi/listen idle count=1", "openapi/listen cut=300ms count=1"])).await;
        let t0 = Instant::now();
        let body = api.post("listen", &[]).await;
        assert_eq!(body, r#"{"Ret":0}"#);
        assert!(t0.elapsed() < Duration::from_secs(5), "answered at once, not held");
        // The second poll: cut after 300 ms, no answer.
        let t1 = Instant::now();
        let cut = async {
            let r = srv.http.post(srv.url("openapi/listen")).bearer_auth(&api.token).send().await?;
            r.text().await
        }.await;
        assert!(cut.is_err(), "the poll was cut: {cut:?}");
        assert!(t1.elapsed() >= Duration::from_millis(300));
        // The third is held as usual.
        let held = tokio::time::timeout(Duration::from_secs(2), api.post("listen", &[])).await;
        assert!(held.is_err(), "held, not answered: {held:?}");
        srv.flush_oplog().await;
        let log = srv.running().admin().oplog(&srv.tenant().admin, 50).await.unwrap();
        assert!(log.iter().any(|r| r.params.contains("[sandbox: idle answer]")));
        assert!(log.iter().any(|r| r.params.contains("[sandbox: cut after 300 ms]")));
    }
}

backend_test! {
    async fn smtp_sessions_are_answered_421_or_451(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        mark(&srv).await;
        set(&srv, &plan(1, &["smtp smtp=451 count=1", "smtp smtp=421 count=1"])).await;
        let (reply, closed) = rcpt(&srv, &bob).await;
        assert!(reply.starts_with("451 "), "{reply}");
        assert!(!closed);
        let (reply, closed) = rcpt(&srv, &bob).await;
        assert!(reply.starts_with("421 "), "{reply}");
        assert!(closed, "421 ends the session");
        let (reply, _) = rcpt(&srv, &bob).await;
        assert!(reply.starts_with("250 "), "{reply}");
        // Another tenant's mail is never touched.
        let other = Api::other(&srv).await;
        let carl = other.add_member("carl", &[]).await;
        set(&srv, &plan(1, &["smtp smtp=421"])).await;
        assert!(rcpt(&srv, &carl).await.0.starts_with("250 "));
        assert!(rcpt(&srv, &bob).await.0.starts_with("421 "));
        let log = srv.running().admin().oplog(&srv.tenant().admin, 50).await.unwrap();
        assert_eq!(log.iter().filter(|r| r.endpoint == "smtp" && r.errcode == 421).count(), 2);
    }
}

backend_test! {
    async fn the_moved_clock_expires_tokens_tickets_and_the_change_log(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let v0 = api.version().await;
        let carl = api.add_member("carl", &[]).await;
        assert_eq!(api.changes_since(v0).await, [(2, carl.clone())]);
        let body = api.post("mail/authkey", &[("Alias", &bob)]).await;
        let ticket: Value = serde_json::from_str(&body).unwrap();
        let ticket = ticket["auth_key"].as_str().unwrap().to_owned();
        let corp = srv.corp_token("directory").await;
        mark(&srv).await;
        let sandbox = srv.running().sandbox();
        let t = srv.tenant().tenant_id;
        // A listen client that polled: it hears of mail while within listen's grace period.
        let ver = api.version().await.to_string();
        let listener = Api::new(&srv).await;
        let fields = [("ver", ver.as_str())];
        let poll = listener.post("listen", &fields);
        let (answer, ()) = tokio::join!(poll, async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            common::deliver(&srv, &bob, "Subject: one\r\n\r\nhi").await;
        });
        assert!(answer.contains("\"MailId\""), "{answer}");
        common::deliver(&srv, &bob, "Subject: two\r\n\r\nhi").await;
        let answer = listener.post("listen", &[("ver", &ver)]).await;
        assert!(answer.contains("\"MailId\""), "within the grace: {answer}");
        // Ten minutes on: the ticket (five minutes) is dead, the tokens live, and the listen
        // client counts as away past its grace: the mail meanwhile is not for it.
        common::deliver(&srv, &bob, "Subject: three\r\n\r\nhi").await;
        assert_eq!(sandbox.move_clock(t, 600_000, false).await.unwrap(), 600_000);
        let held = tokio::time::timeout(Duration::from_secs(2), listener.post("listen", &[("ver", &ver)])).await;
        assert!(held.is_err(), "offline: the mail while away is skipped: {held:?}");
        let login = srv.url(&format!(
            "cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={}&user={bob}&ticket={ticket}",
            srv.tenant().admin
        ));
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        assert_eq!(browser.get(&login).send().await.unwrap().status(), 403);
        api.ok("bizmail/ping", &[]).await;
        // A ticket issued now lives by the moved clock too.
        let fresh = api.post("mail/authkey", &[("Alias", &bob)]).await;
        let fresh: Value = serde_json::from_str(&fresh).unwrap();
        let fresh_login = login.replace(&ticket, fresh["auth_key"].as_str().unwrap());
        assert_eq!(browser.get(&fresh_login).send().await.unwrap().status(), 302);
        // A day on: both APIs' tokens have expired; new ones work.
        sandbox.move_clock(t, 86_400_000, false).await.unwrap();
        assert_eq!(api.err("bizmail/ping", &[]).await, "1200");
        assert_eq!(cgi(&srv, &corp, "department/list?id=1").await, 40014);
        let api = Api::new(&srv).await;
        api.ok("bizmail/ping", &[]).await;
        assert_eq!(cgi(&srv, &srv.corp_token("directory").await, "department/list?id=1").await, 0);
        // Past the change log's retention: housekeeping on the real clock prunes this tenant's
        // log, so a client with an old version gets the full list.
        let days = i64::from(srv.config.changelog_retention_days) + 1;
        sandbox.move_clock(t, days * 86_400_000, true).await.unwrap();
        srv.running().housekeep_at(bizmail_server_now()).await;
        let api = Api::new(&srv).await;
        let mut full = api.changes_since(v0).await;
        full.sort();
        assert_eq!(full, [(2, bob), (2, carl)], "older than the log: every member as ADD");
        // Back to the real clock.
        assert_eq!(sandbox.move_clock(t, 0, true).await.unwrap(), 0);
        assert!(sandbox.move_clock(t, -1000, false).await.is_err(), "never behind the real clock");
    }
}

fn bizmail_server_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

backend_test! {
    async fn the_record_exports_as_har_with_secrets_masked(srv) {
        let key = mark(&srv).await;
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        api.post("user/get", &[("Alias", &bob)]).await;
        let corp = srv.corp_token("directory").await;
        assert_eq!(cgi(&srv, &corp, &format!("user/get?userid={bob}")).await, 0);
        // Faults through the control endpoint, as test code sets them.
        let put = srv.http.put(srv.url("sandbox/v1/faults")).bearer_auth(&key)
            .body(r#"{"seed": 3, "rules": [{"endpoint": "openapi/user/get", "error": 1002, "count": 1}]}"#)
            .send().await.unwrap();
        assert_eq!(put.status(), 200);
        let state: Value = put.json().await.unwrap();
        assert_eq!(state["faults"]["rules"][0]["error"], 1002);
        let bad = srv.http.put(srv.url("sandbox/v1/faults")).bearer_auth(&key)
            .body(r#"{"rules": [{"endpoint": "openapi/user/get", "cut_after_ms": 5}]}"#).send().await.unwrap();
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("openapi/listen only"));
        assert!(api.post("user/get", &[("Alias", &bob)]).await.contains("1002"));
        let clock = srv.http.post(srv.url("sandbox/v1/clock")).bearer_auth(&key)
            .body(r#"{"shift": "+2h"}"#).send().await.unwrap();
        assert_eq!(clock.json::<Value>().await.unwrap()["clock_offset_ms"], 7_200_000);

        let har = srv.http.get(srv.url("sandbox/v1/record.har")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(har.status(), 200);
        let text = har.text().await.unwrap();
        // An independent model of HAR 1.2 reads it.
        let parsed = har::from_str(&text).unwrap();
        let har::Spec::V1_2(log) = parsed.log else { panic!("not HAR 1.2") };
        let urls: Vec<&str> = log.entries.iter().map(|e| e.request.url.as_str()).collect();
        assert!(urls.iter().any(|u| u.ends_with("/cgi-bin/token")), "{urls:?}");
        assert!(urls.iter().any(|u| u.contains("/cgi-bin/gettoken?corpid=")), "{urls:?}");
        assert!(urls.iter().any(|u| u.contains("/cgi-bin/user/get?userid=")), "{urls:?}");
        assert!(log.entries.iter().any(|e| e.response.content.text.as_deref().is_some_and(|t| t.contains("1002"))));
        // No secret of the tenant's is in it.
        let t = srv.tenant();
        for secret in [t.key.as_str(), t.corp_secret("directory"), api.token.as_str(), corp.as_str()] {
            assert!(!text.contains(secret), "a secret leaked into the record");
        }
        assert!(text.contains("client_secret=******"));
        let v: Value = serde_json::from_str(&text).unwrap();
        let faulted: Vec<&Value> = v["log"]["entries"].as_array().unwrap().iter().filter(|e| e["_fault"].is_string()).collect();
        assert_eq!(faulted.len(), 1);
        assert_eq!(faulted[0]["_client"], format!("openapi:{}", t.admin));
        // Per client, as JSON; then forgotten.
        let mine = srv.http.get(srv.url("sandbox/v1/record?client=app:directory")).bearer_auth(&key).send().await.unwrap();
        let mine: Value = mine.json().await.unwrap();
        let list = mine["exchanges"].as_array().unwrap();
        assert!(!list.is_empty() && list.iter().all(|e| e["client"] == "app:directory"));
        let cleared = srv.http.delete(srv.url("sandbox/v1/record")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(cleared.status(), 200);
        let after = srv.running().sandbox().exchanges(t.tenant_id, None, 100).await.unwrap();
        assert!(after.is_empty());
    }
}

backend_test! {
    config = |c| { c.sandbox = true; c.sandbox_record_per_client = 3; };
    async fn a_server_wide_sandbox_says_so_and_bounds_its_record(srv) {
        let health = srv.http.get(srv.url("healthz")).send().await.unwrap().text().await.unwrap();
        assert_eq!(health, "ok (sandbox)\n");
        let page = srv.http.get(srv.url("login")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-bizmail-sandbox"), "the footer says so");
        assert!(page.find("data-bizmail-sandbox") < page.find("</body>"));
        // Every tenant is a sandbox without being marked.
        let api = Api::new(&srv).await;
        for _ in 0..5 {
            api.ok("bizmail/ping", &[]).await;
        }
        let t = srv.tenant();
        let list = srv.running().sandbox().exchanges(t.tenant_id, Some(&format!("openapi:{}", t.admin)), 100).await.unwrap();
        assert_eq!(list.len(), 3, "the last 3 per client");
        assert!(list.iter().all(|e| e.url == "/openapi/bizmail/ping" && e.status == 200));
        srv.running().sandbox().set_plan(t.tenant_id, &plan(1, &["openapi/bizmail/ping error=1002"])).await.unwrap();
        assert_eq!(api.err("bizmail/ping", &[]).await, "1002");
    }
}
