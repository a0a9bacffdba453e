//! The console's mail groups in Chromium: created with members and with an allow list, a cycle
//! and an unknown address refused, a member removed, a department added as a typed member, the
//! sending permission switched to `list` only with its allow list, the allow list never emptied,
//! a group deleted; each step read back with the newer API's `group/get`.

use super::{admin_console, fill_in, form, group_get, pick, pick_label, submit, text_of};
use crate::common::Api;
use bizmail_testkit::backend_test;
use fantoccini::Locator;
use std::time::Duration;

backend_test! {
    async fn mail_groups_with_members_departments_and_an_allow_list(srv) {
        let api = Api::new(&srv).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "销售/华北")]).await;
        let a = api.add_member("ga", &["销售/华北"]).await;
        let b = api.add_member("gb", &[]).await;
        let token = srv.corp_token("directory").await;
        let chrome = admin_console(&srv).await;
        chrome.goto(&srv.url("admin/directory/groups")).await;
        assert!(chrome.text().await.contains("还没有邮件组"));

        // Create (group/add) with two members; the version moves; group/get sees it.
        let ver0 = api.version().await;
        let create = "/admin/directory/groups";
        fill_in(&chrome, create, "address", "team").await;
        fill_in(&chrome, create, "name", "项目组").await;
        fill_in(&chrome, create, "members", &format!("{a}, {b}")).await;
        submit(&chrome, create).await;
        assert!(chrome.text().await.contains("邮件组已创建"), "{}", chrome.text().await);
        let team = api.addr("team");
        assert_eq!(text_of(&chrome, "group-address").await, team);
        assert!(api.version().await > ver0);
        let g = group_get(&srv, &token, &team).await;
        assert_eq!(g["groupname"], "项目组");
        assert_eq!(g["allow_type"], 0, "inner by default");
        assert_eq!(g["userlist"], serde_json::json!([a, b]));
        // A second group, also with a `list` permission that needs its allow list at once.
        chrome.goto(&srv.url("admin/directory/groups")).await;
        fill_in(&chrome, create, "address", "all-hands").await;
        fill_in(&chrome, create, "name", "全员").await;
        pick(&chrome, create, "status", &["list"]).await;
        fill_in(&chrome, create, "members", &team).await;
        submit(&chrome, create).await;
        assert!(chrome.text().await.contains("白名单不能为空"), "{}", chrome.text().await);
        fill_in(&chrome, create, "address", "all-hands").await;
        fill_in(&chrome, create, "name", "全员").await;
        pick(&chrome, create, "status", &["list"]).await;
        fill_in(&chrome, create, "members", &team).await;
        fill_in(&chrome, create, "allow", "ceo@outside.example").await;
        submit(&chrome, create).await;
        let all = api.addr("all-hands");
        let g = group_get(&srv, &token, &all).await;
        assert_eq!(g["allow_type"], 3);
        assert_eq!(g["grouplist"], serde_json::json!([team]));
        assert_eq!(g["allow_userlist"], serde_json::json!(["ceo@outside.example"]));

        // Back on the team: a cycle is refused; an unknown address too.
        let base = format!("/admin/directory/groups/{}", team);
        chrome.goto(&srv.url(&base)).await;
        let add = format!("{base}/add-members");
        fill_in(&chrome, &add, "members", &all).await;
        submit(&chrome, &add).await;
        assert!(chrome.text().await.contains("1324"), "{}", chrome.text().await);
        fill_in(&chrome, &add, "members", &api.addr("nobody")).await;
        submit(&chrome, &add).await;
        assert!(chrome.text().await.contains("1301"), "{}", chrome.text().await);
        // Remove a member (group/deletemember).
        let row = chrome.client.find(Locator::XPath(&format!("//table[@id='group-members']//tr[td/code[text()='{b}']]//button"))).await.unwrap();
        row.click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(chrome.text().await.contains("已移除"));
        assert_eq!(group_get(&srv, &token, &team).await["userlist"], serde_json::json!([a]));
        // A department as a member (group/update's typed members).
        pick_label(&chrome, &format!("{base}/add-department"), "department", "销售").await;
        submit(&chrome, &format!("{base}/add-department")).await;
        assert!(chrome.text().await.contains("部门已更新"), "{}", chrome.text().await);
        let g = group_get(&srv, &token, &team).await;
        assert_eq!(g["department"].as_array().unwrap().len(), 1, "{g}");
        assert!(text_of(&chrome, "group-departments").await.contains("销售"));

        // The sending permission: `list` needs an allow list; with one it is taken.
        let edit = format!("{base}/edit");
        pick(&chrome, &edit, "status", &["list"]).await;
        submit(&chrome, &edit).await;
        assert!(chrome.text().await.contains("白名单不能为空"), "{}", chrome.text().await);
        assert_eq!(group_get(&srv, &token, &team).await["allow_type"], 0, "unchanged");
        pick(&chrome, &edit, "status", &["list"]).await;
        fill_in(&chrome, &edit, "name", "项目组（核心）").await;
        fill_in(&chrome, &edit, "allow", &format!("{a}\nboss@outside.example")).await;
        submit(&chrome, &edit).await;
        assert!(chrome.text().await.contains("邮件组已保存"), "{}", chrome.text().await);
        let g = group_get(&srv, &token, &team).await;
        assert_eq!((g["allow_type"].as_i64(), g["groupname"].as_str()), (Some(3), Some("项目组（核心）")));
        assert_eq!(g["allow_userlist"], serde_json::json!([a, "boss@outside.example"]));
        // The allow list: one more, then one removed; the last cannot go.
        let allow = format!("{base}/allow");
        fill_in(&chrome, &allow, "entries", "cfo@outside.example").await;
        submit(&chrome, &allow).await;
        assert!(chrome.text().await.contains("白名单已更新"));
        for gone in [a.as_str(), "boss@outside.example"] {
            let row = chrome.client.find(Locator::XPath(&format!("//table[@id='group-allow']//tr[td/code[text()='{gone}']]//button"))).await.unwrap();
            row.click().await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let row = chrome.client.find(Locator::XPath("//table[@id='group-allow']//tr[td/code[text()='cfo@outside.example']]//button")).await.unwrap();
        row.click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(chrome.text().await.contains("1323"), "{}", chrome.text().await);
        assert_eq!(group_get(&srv, &token, &team).await["allow_userlist"], serde_json::json!(["cfo@outside.example"]));

        // The list shows both; delete the outer group.
        chrome.goto(&srv.url("admin/directory/groups")).await;
        let list = text_of(&chrome, "groups").await;
        assert!(list.contains(&team) && list.contains(&all) && list.contains("指定人员"), "{list}");
        let all_base = format!("/admin/directory/groups/{}", all);
        chrome.goto(&srv.url(&all_base)).await;
        chrome.client.find(Locator::Css(&format!("{} input[name='confirm']", form(&format!("{all_base}/delete"))))).await.unwrap().click().await.unwrap();
        submit(&chrome, &format!("{all_base}/delete")).await;
        assert!(chrome.text().await.contains("邮件组已删除"));
        assert_eq!(api.check(&[&all]).await, [(all.clone(), 0)]);

        chrome.goto(&srv.url("admin/log?endpoint=console/directory/group")).await;
        let log = chrome.text().await;
        for endpoint in ["group/create", "group/allow", "group/add-members", "group/remove-member", "group/add-department", "group/edit", "group/deny", "group/delete"] {
            assert!(log.contains(endpoint), "{endpoint}: {log}");
        }
        chrome.close().await;
    }
}
