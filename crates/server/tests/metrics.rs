//! `/metrics`: Prometheus' text format, for allowed addresses only, counting what the server did.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{TestServer, backend_test};
use common::Api;

/// The value of the first sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(srv: &TestServer) -> (u16, String) {
    let r = srv.http.get(srv.url("metrics")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

backend_test! {
    async fn metrics_count_http_api_smtp_and_logins(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("counted", &[]).await;
        api.post("bizmail/ping", &[]).await;
        srv.call("not-a-token", "openapi/made/up-endpoint-4711", &[]).await;
        // Methods outside the closed set are one label, not one series each.
        for m in ["M0", "XYZZY", "BREW"] {
            let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
            srv.http.request(method, srv.url("healthz")).send().await.unwrap();
        }
        common::deliver(&srv, &a, "Subject: counted\r\n\r\nhi").await;
        let ticket = api.json("mail/authkey", &[("Alias", &a)]).await["auth_key"].as_str().unwrap().to_owned();
        let login = format!("cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={}&user={a}&ticket={ticket}", api.tenant.admin);
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        assert_eq!(no_redirects.get(srv.url(&login)).send().await.unwrap().status(), 302);

        let (status, text) = scrape(&srv).await;
        assert_eq!(status, 200);
        let at_least_one = |name: &str, labels: &[&str]| {
            let v = sample(&text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"));
            assert!(v >= 1.0, "{name} {labels:?} = {v}");
        };
        at_least_one("bizmail_api_calls_total", &["endpoint=\"bizmail/ping\"", "errcode=\"0\""]);
        at_least_one("bizmail_api_calls_total", &["endpoint=\"other\"", "errcode=\"1200\""]);
        at_least_one("bizmail_http_requests_total", &["route=\"/openapi/{*endpoint}\"", "status=\"200\""]);
        at_least_one("bizmail_http_requests_total", &["route=\"/cgi-bin/login\"", "status=\"302\""]);
        at_least_one("bizmail_http_request_seconds_count", &["route=\"/cgi-bin/token\""]);
        at_least_one("bizmail_smtp_messages_total", &["outcome=\"accepted\""]);
        at_least_one("bizmail_web_logins_total", &["method=\"sso\"", "outcome=\"ok\""]);
        assert!(sample(&text, "bizmail_listen_polls_held", &[]).is_some(), "{text}");
        assert!(!text.contains("4711"), "a stranger's path is no label value");
        at_least_one("bizmail_http_requests_total", &["route=\"/healthz\"", "method=\"other\"", "status=\"405\""]);
        assert!(!text.contains("XYZZY") && !text.contains("M0"), "a stranger's method is no label value");
    }
}

backend_test! {
    config = |c| { c.metrics_allow = vec!["10.0.0.0/8".parse().unwrap()]; };
    async fn metrics_are_hidden_from_other_addresses(srv) {
        assert_eq!(scrape(&srv).await.0, 404);
    }
}
