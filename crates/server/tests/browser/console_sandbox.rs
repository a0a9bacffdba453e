//! The sandbox page of the console in Chromium: a sandbox tenant's admin finds it in the
//! navigation, sees the exchanges its integration made (a faulted one marked, bodies masked),
//! saves a fault plan that the API applies at once, and moves the clock.

use crate::chrome::Chrome;
use crate::common::Api;
use crate::console::sign_in;
use bizmail_testkit::backend_test;
use fantoccini::Locator;

backend_test! {
    async fn a_sandbox_admin_reads_the_record_and_sets_faults(srv) {
        let t = srv.tenant().clone();
        srv.running().sandbox().mark(t.tenant_id).await.unwrap();
        let plan = bizmail_protocol::sandbox::Plan {
            seed: 1,
            token_ttl_secs: None,
            rules: vec![bizmail_protocol::sandbox::Rule::parse_line("openapi/user/get error=1002 count=1").unwrap()],
        };
        srv.running().sandbox().set_plan(t.tenant_id, &plan).await.unwrap();
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        assert_eq!(api.err("user/get", &[("Alias", &bob)]).await, "1002");
        api.post("user/get", &[("Alias", &bob)]).await;

        let chrome = Chrome::start().await;
        sign_in(&chrome, &srv, ("admin/login", &t.admin, &t.admin_password), None).await;
        chrome.client.find(Locator::Css("nav.console a[href=\"/admin/sandbox\"]")).await.unwrap().click().await.unwrap();
        assert_eq!(chrome.path().await, "/admin/sandbox");
        let rows = chrome.client.find_all(Locator::Css("#record tbody tr")).await.unwrap();
        assert!(rows.len() >= 4, "token, user/sync, two user/get: {}", rows.len());
        let text = chrome.text().await;
        assert!(text.contains("error 1002") && text.contains("/openapi/user/get"), "{text}");
        assert!(!text.contains(&t.key), "the interface key is masked");
        crate::keep_screenshot("console-sandbox.png", &chrome.screenshot().await);

        // A plan saved here applies to the next call.
        chrome.fill("plan", r#"{"seed": 2, "rules": [{"endpoint": "openapi/bizmail/ping", "error": 1002}]}"#).await;
        chrome.click_button("保存计划").await;
        assert!(chrome.text().await.contains("故障计划已保存"));
        assert_eq!(api.err("bizmail/ping", &[]).await, "1002");
        chrome.click_button("清除故障").await;
        assert_eq!(api.post("bizmail/ping", &[]).await, "");
        chrome.fill("shift", "+3h").await;
        chrome.click_button("调整时钟").await;
        assert_eq!(chrome.client.find(Locator::Id("clock")).await.unwrap().text().await.unwrap(), "3h");
    }
}
