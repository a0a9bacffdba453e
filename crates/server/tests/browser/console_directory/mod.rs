//! The console's directory pages (通讯录) in Chromium, each step checked against the APIs: the
//! department tree (create, rename, move, refused and allowed deletes, seen by `party/list`),
//! members (create with a typed and a generated password, edit, disable, reset the password and
//! sign in at `/login` with it, aliases up to the limit, the forced second factor and a reset
//! authenticator), each change in `user/list`'s change log and the operation log with no
//! password; mail groups (members, nested groups and the cycle refused, departments, the sending
//! permission and its allow list, as `group/get` of the newer API reads them: `groups`); and a
//! CSV import whose progress page refreshes itself to the summary (`import`).

use crate::chrome::Chrome;
use crate::common::Api;
use bizmail_testkit::{TestServer, backend_test};
use fantoccini::Locator;
use serde_json::Value;
use std::time::Duration;

mod groups;
mod import;

/// Signs the seeded tenant's admin in to the console.
async fn admin_console(srv: &TestServer) -> Chrome {
    let chrome = Chrome::start().await;
    let t = srv.tenant();
    crate::console::sign_in(
        &chrome,
        srv,
        ("admin/login", &t.admin, &t.admin_password),
        None,
    )
    .await;
    chrome
}

/// The CSS of the form posting to `action`.
fn form(action: &str) -> String {
    format!("form[method='post'][action='{action}']")
}

/// Types into a field of the form posting to `action`.
async fn fill_in(chrome: &Chrome, action: &str, name: &str, value: &str) {
    let css = format!("{} [name='{name}']", form(action));
    let input = chrome
        .client
        .find(Locator::Css(&css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"));
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Picks exactly `values` in a select of the form posting to `action` (one for a plain select).
async fn pick(chrome: &Chrome, action: &str, name: &str, values: &[&str]) {
    let select = format!("{} select[name='{name}']", form(action));
    let multiple = chrome
        .client
        .find(Locator::Css(&select))
        .await
        .unwrap_or_else(|_| panic!("no {select}"))
        .attr("multiple")
        .await
        .unwrap()
        .is_some();
    let css = format!("{select} option");
    let options = chrome.client.find_all(Locator::Css(&css)).await.unwrap();
    for o in &options {
        let value = o.attr("value").await.unwrap().unwrap_or_default();
        let want = values.contains(&value.as_str());
        if o.is_selected().await.unwrap() != want && (multiple || want) {
            o.click().await.unwrap();
        }
    }
    for o in &options {
        let value = o.attr("value").await.unwrap().unwrap_or_default();
        let want = values.contains(&value.as_str());
        assert_eq!(o.is_selected().await.unwrap(), want, "{css} {value}");
    }
}

/// Picks the option shown as `label` in a plain select of the form posting to `action`.
async fn pick_label(chrome: &Chrome, action: &str, name: &str, label: &str) {
    let css = format!("{} select[name='{name}'] option", form(action));
    for o in chrome.client.find_all(Locator::Css(&css)).await.unwrap() {
        if o.text().await.unwrap().trim() == label {
            o.click().await.unwrap();
            assert!(o.is_selected().await.unwrap());
            return;
        }
    }
    panic!("no option {label} in {css}");
}

/// Submits the form posting to `action` with its button, and waits for the next page.
async fn submit(chrome: &Chrome, action: &str) {
    let css = format!("{} button", form(action));
    let button = chrome
        .client
        .find(Locator::Css(&css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"));
    button.click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    chrome
        .client
        .wait()
        .for_element(Locator::Css("body"))
        .await
        .unwrap();
}

/// The text of the element with this id.
async fn text_of(chrome: &Chrome, id: &str) -> String {
    match chrome.client.find(Locator::Id(id)).await {
        Ok(e) => e.text().await.unwrap(),
        Err(_) => panic!("no #{id} on {}", chrome.text().await),
    }
}

/// A member's page.
fn member_path(address: &str) -> String {
    format!("/admin/directory/members/{address}")
}

/// A member signs in at `/login` with a password; the path they land on.
async fn member_login(chrome: &Chrome, srv: &TestServer, address: &str, password: &str) -> String {
    chrome.goto(&srv.url("login")).await;
    chrome.fill("address", address).await;
    chrome.fill("password", password).await;
    chrome.click_button("登录").await;
    chrome.path().await
}

/// Signs the member out of the web mailbox (the console's session stays).
async fn member_logout(chrome: &Chrome) {
    assert_eq!(chrome.path().await, "/mail/");
    chrome.click_button("退出").await;
}

/// The newer API's `group/get`.
async fn group_get(srv: &TestServer, token: &str, group: &str) -> Value {
    let url = srv.url(&format!(
        "cgi-bin/group/get?access_token={token}&groupid={group}"
    ));
    let v: Value = srv
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["errcode"], 0, "{v}");
    v
}

backend_test! {
    async fn departments_and_members_go_through_the_apis_rules(srv) {
        let api = Api::new(&srv).await;
        let chrome = admin_console(&srv).await;
        let ver0 = api.version().await;
        chrome.goto(&srv.url("admin/directory")).await;
        assert!(chrome.text().await.contains("还没有部门"));

        // Departments: two levels, seen by party/list.
        let create = "/admin/directory/departments/create";
        fill_in(&chrome, create, "name", "研发").await;
        submit(&chrome, create).await;
        assert!(chrome.text().await.contains("部门已创建"), "{}", chrome.text().await);
        pick(&chrome, create, "parent", &["研发"]).await;
        fill_in(&chrome, create, "name", "后台").await;
        submit(&chrome, create).await;
        fill_in(&chrome, create, "name", "运营").await;
        submit(&chrome, create).await;
        assert_eq!(api.parties("研发").await, ["后台"]);
        let tree = text_of(&chrome, "tree").await;
        assert!(tree.contains("研发") && tree.contains("后台") && tree.contains("运营"), "{tree}");
        assert!(chrome.client.find(Locator::Css("#tree li[data-path='研发'] > ul > li[data-path='研发/后台']")).await.is_ok(), "nested");
        // A name with a slash and a sixth level are refused, with the reason.
        fill_in(&chrome, create, "name", "a/b").await;
        submit(&chrome, create).await;
        assert!(chrome.text().await.contains("部门名称不能包含“/”"));

        // A member with a typed password, in 研发/后台.
        chrome.goto(&srv.url("admin/directory/members")).await;
        let add = "/admin/directory/members";
        fill_in(&chrome, add, "address", "zhang.san").await;
        fill_in(&chrome, add, "name", "张三").await;
        fill_in(&chrome, add, "password", "Initial-Pass1").await;
        pick(&chrome, add, "department", &["研发/后台"]).await;
        fill_in(&chrome, add, "position", "工程师").await;
        fill_in(&chrome, add, "mobile", "13800000000").await;
        submit(&chrome, add).await;
        let zhang = api.addr("zhang.san");
        assert_eq!(text_of(&chrome, "member-address").await, zhang);
        assert!(chrome.text().await.contains("成员已添加"));
        assert!(chrome.client.find(Locator::Id("new-password")).await.is_err(), "a typed password is not shown");
        let user = api.json("user/get", &[("Alias", &zhang)]).await;
        assert_eq!(user["Name"], "张三");
        assert_eq!(user["Position"], "工程师");
        assert_eq!(user["Mobile"], "13800000000");
        assert_eq!(api.party_members("研发/后台").await, std::slice::from_ref(&zhang));
        assert!(api.changes_since(ver0).await.contains(&(2, zhang.clone())));
        assert_eq!(member_login(&chrome, &srv, &zhang, "Initial-Pass1").await, "/mail/");
        member_logout(&chrome).await;

        // The same address again is refused with the API's reason; nothing is created.
        chrome.goto(&srv.url("admin/directory/members")).await;
        fill_in(&chrome, add, "address", &zhang).await;
        fill_in(&chrome, add, "name", "又一个").await;
        submit(&chrome, add).await;
        let text = chrome.text().await;
        assert!(text.contains("该地址已被成员、别名或邮件组占用") && text.contains("1304"), "{text}");

        // Edit: name, position, and departments (研发 and 运营 instead of 研发/后台).
        let ver1 = api.version().await;
        chrome.goto(&srv.url(&member_path(&zhang))).await;
        let base = member_path(&zhang);
        let edit = format!("{base}/edit");
        fill_in(&chrome, &edit, "name", "张三丰").await;
        fill_in(&chrome, &edit, "position", "架构师").await;
        pick(&chrome, &edit, "department", &["研发", "运营"]).await;
        submit(&chrome, &edit).await;
        assert!(chrome.text().await.contains("资料已保存"));
        assert_eq!(text_of(&chrome, "member-name").await, "张三丰");
        let user = api.json("user/get", &[("Alias", &zhang)]).await;
        assert_eq!(user["Name"], "张三丰");
        assert_eq!(user["Position"], "架构师");
        assert_eq!(user["PartyList"]["Count"], 2, "{user}");
        assert_eq!(api.changes_since(ver1).await, [(3, zhang.clone())]);

        // Aliases: up to five, the sixth refused; one removed; the last removed too.
        for i in 1..=5 {
            fill_in(&chrome, &format!("{base}/alias-add"), "alias", &format!("zs{i}")).await;
            submit(&chrome, &format!("{base}/alias-add")).await;
            assert!(chrome.text().await.contains("别名已添加"), "{}", chrome.text().await);
        }
        fill_in(&chrome, &format!("{base}/alias-add"), "alias", &api.addr("zs6")).await;
        submit(&chrome, &format!("{base}/alias-add")).await;
        assert!(chrome.text().await.contains("别名最多 5 个"), "{}", chrome.text().await);
        let user = api.json("user/get", &[("Alias", &api.addr("zs3"))]).await;
        assert_eq!(user["Alias"], zhang.as_str(), "an alias finds the member");
        assert_eq!(user["SlaveList"].as_str().unwrap().split(',').count(), 5);
        for i in 1..=5 {
            let gone = api.addr(&format!("zs{i}"));
            let row = chrome.client.find(Locator::XPath(&format!("//table[@id='aliases']//tr[td/code[text()='{gone}']]//button"))).await.unwrap();
            row.click().await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(chrome.text().await.contains("别名已删除"), "{}", chrome.text().await);
        }
        assert_eq!(api.json("user/get", &[("Alias", &zhang)]).await["SlaveList"], "");
        assert_eq!(text_of(&chrome, "member-aliases").await, "无");

        // Disable: the API says OpenType 2 and the password no longer opens the mailbox.
        submit(&chrome, &format!("{base}/disable")).await;
        assert!(chrome.text().await.contains("成员已停用"));
        assert_eq!(api.json("user/get", &[("Alias", &zhang)]).await["OpenType"], 2);
        assert_eq!(member_login(&chrome, &srv, &zhang, "Initial-Pass1").await, "/login");
        chrome.goto(&srv.url(&base)).await;
        submit(&chrome, &format!("{base}/enable")).await;
        assert_eq!(api.json("user/get", &[("Alias", &zhang)]).await["OpenType"], 1);

        // Search and the department filter (sub-departments included).
        chrome.goto(&srv.url("admin/directory/members?q=%E5%BC%A0%E4%B8%89")).await;
        assert_eq!(text_of(&chrome, "matching").await, "1");
        chrome.goto(&srv.url("admin/directory/members?dept=%E8%BF%90%E8%90%A5")).await;
        assert!(text_of(&chrome, "members").await.contains(&zhang));
        chrome.goto(&srv.url("admin/directory/members?dept=%2F")).await;
        assert_eq!(text_of(&chrome, "matching").await, "0");

        // Rename and move departments: the members below are logged as MOD.
        chrome.goto(&srv.url("admin/directory")).await;
        let ver2 = api.version().await;
        let rename = "/admin/directory/departments/rename";
        pick(&chrome, rename, "path", &["研发"]).await;
        fill_in(&chrome, rename, "name", "技术部").await;
        submit(&chrome, rename).await;
        assert!(chrome.text().await.contains("部门已重命名"));
        assert!(api.parties("").await.contains(&"技术部".to_owned()));
        assert_eq!(api.parties("技术部").await, ["后台"]);
        assert_eq!(api.changes_since(ver2).await, [(3, zhang.clone())]);
        let mv = "/admin/directory/departments/move";
        pick(&chrome, mv, "path", &["技术部/后台"]).await;
        pick(&chrome, mv, "parent", &["运营"]).await;
        submit(&chrome, mv).await;
        assert!(chrome.text().await.contains("部门已移动"), "{}", chrome.text().await);
        assert_eq!(api.parties("运营").await, ["后台"]);
        // Moving a department into itself is refused.
        pick(&chrome, mv, "path", &["运营"]).await;
        pick(&chrome, mv, "parent", &["运营/后台"]).await;
        submit(&chrome, mv).await;
        assert!(chrome.text().await.contains("1313"), "{}", chrome.text().await);
        // A department with a member cannot be deleted; an empty one can.
        let delete = "/admin/directory/departments/delete";
        pick(&chrome, delete, "path", &["技术部"]).await;
        submit(&chrome, delete).await;
        assert!(chrome.text().await.contains("部门中还有成员或下级部门"), "{}", chrome.text().await);
        pick(&chrome, delete, "path", &["运营/后台"]).await;
        submit(&chrome, delete).await;
        assert!(chrome.text().await.contains("部门已删除"));
        assert!(api.parties("运营").await.is_empty());
        assert!(text_of(&chrome, "tree").await.contains("技术部"));

        // The operation log: every action, refusals with their codes, never a password.
        chrome.goto(&srv.url("admin/log?endpoint=console/directory")).await;
        let log = chrome.text().await;
        for endpoint in ["console/directory/department/create", "console/directory/department/rename", "console/directory/department/move", "console/directory/department/delete", "console/directory/member/create", "console/directory/member/edit", "console/directory/member/alias-add", "console/directory/member/alias-remove", "console/directory/member/disable", "console/directory/member/enable"] {
            assert!(log.contains(endpoint), "{endpoint}: {log}");
        }
        assert!(log.contains("1305") && log.contains("1312"), "{log}");
        assert!(log.contains("password=***") && !log.contains("Initial-Pass1"), "{log}");

        // Delete the member: user/get no longer finds them; user/list says DEL.
        let ver3 = api.version().await;
        chrome.goto(&srv.url(&base)).await;
        chrome.client.find(Locator::Css(&format!("{} input[name='confirm']", form(&format!("{base}/delete"))))).await.unwrap().click().await.unwrap();
        submit(&chrome, &format!("{base}/delete")).await;
        assert!(chrome.text().await.contains("成员已删除"));
        assert_eq!(api.err("user/get", &[("Alias", &zhang)]).await, "1301");
        assert_eq!(api.changes_since(ver3).await, [(1, zhang.clone())]);
        chrome.close().await;
    }
}

backend_test! {
    async fn passwords_and_the_second_factor_of_a_member(srv) {
        let api = Api::new(&srv).await;
        let chrome = admin_console(&srv).await;
        // A member with a generated password, shown once, which opens the mailbox.
        chrome.goto(&srv.url("admin/directory/members")).await;
        let add = "/admin/directory/members";
        fill_in(&chrome, add, "address", "li.si").await;
        fill_in(&chrome, add, "name", "李四").await;
        submit(&chrome, add).await;
        let first = text_of(&chrome, "new-password").await;
        assert!(first.len() >= 12, "{first}");
        assert!(chrome.text().await.contains("只显示这一次"));
        let li = api.addr("li.si");
        assert_eq!(member_login(&chrome, &srv, &li, &first).await, "/mail/");
        member_logout(&chrome).await;
        chrome.goto(&srv.url(&member_path(&li))).await;
        assert!(chrome.client.find(Locator::Id("new-password")).await.is_err(), "shown only once");

        // Reset it to a typed one: the old stops, the new opens the mailbox.
        let base = member_path(&li);
        let reset = format!("{base}/password");
        fill_in(&chrome, &reset, "password", "short").await;
        submit(&chrome, &reset).await;
        assert!(chrome.text().await.contains("密码须为 6–32 个字符"), "{}", chrome.text().await);
        fill_in(&chrome, &reset, "password", "Reset-Pass-2").await;
        submit(&chrome, &reset).await;
        assert!(chrome.text().await.contains("密码已重置"));
        assert_eq!(member_login(&chrome, &srv, &li, &first).await, "/login");
        assert_eq!(member_login(&chrome, &srv, &li, "Reset-Pass-2").await, "/mail/");
        member_logout(&chrome).await;
        // Reset to a generated one.
        chrome.goto(&srv.url(&base)).await;
        submit(&chrome, &reset).await;
        let generated = text_of(&chrome, "new-password").await;
        assert_eq!(member_login(&chrome, &srv, &li, &generated).await, "/mail/");
        member_logout(&chrome).await;

        // Force the second factor (user/openwxtoken): the next sign-in enrols an authenticator.
        chrome.goto(&srv.url(&base)).await;
        submit(&chrome, &format!("{base}/2fa-on")).await;
        assert!(text_of(&chrome, "member-2fa").await.contains("已强制"));
        assert_eq!(member_login(&chrome, &srv, &li, &generated).await, "/login/code");
        let secret = text_of(&chrome, "totp-secret").await;
        let bytes = totp_rs::Secret::Encoded(secret.trim().to_owned()).to_bytes().unwrap();
        let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new());
        chrome.fill("code", &totp.generate_current().unwrap()).await;
        chrome.click_button("验证").await;
        assert_eq!(chrome.path().await, "/mail/");
        member_logout(&chrome).await;
        chrome.goto(&srv.url(&base)).await;
        assert!(text_of(&chrome, "member-2fa").await.contains("已绑定身份验证器"));
        // A lost phone: reset the authenticator; the next sign-in shows a new QR code.
        submit(&chrome, &format!("{base}/reset-totp")).await;
        assert!(chrome.text().await.contains("身份验证器已重置"));
        assert!(text_of(&chrome, "member-2fa").await.contains("未绑定身份验证器"));
        assert_eq!(member_login(&chrome, &srv, &li, &generated).await, "/login/code");
        let again = text_of(&chrome, "totp-secret").await;
        assert_ne!(again.trim(), secret.trim(), "a new enrolment");
        // Stop forcing it: the password alone opens the mailbox again.
        chrome.goto(&srv.url(&base)).await;
        submit(&chrome, &format!("{base}/2fa-off")).await;
        assert!(text_of(&chrome, "member-2fa").await.contains("未强制"));
        assert_eq!(member_login(&chrome, &srv, &li, &generated).await, "/mail/");
        member_logout(&chrome).await;

        // A stale form is refused and changes nothing; an unknown member is a message, not a 500.
        chrome.goto(&srv.url("admin/directory/members/nobody%40nowhere.test")).await;
        assert!(chrome.text().await.contains("本企业没有这个成员"));
        let cookie = chrome.client.get_named_cookie("bizmail_console").await.unwrap();
        let forged = srv.http.post(srv.url(&format!("{base}/disable")))
            .header("cookie", format!("bizmail_console={}", cookie.value()))
            .form(&[("csrf", "forged")]).send().await.unwrap();
        assert_eq!(forged.status(), 403);
        assert!(forged.text().await.unwrap().contains("页面已过期"));
        assert_eq!(api.json("user/get", &[("Alias", &li)]).await["OpenType"], 1);

        // The same pages in English.
        chrome.goto(&srv.url(&format!("lang/en?back={base}"))).await;
        let text = chrome.text().await;
        assert!(text.contains("Reset the password") && text.contains("Second factor"), "{text}");
        chrome.goto(&srv.url("admin/directory/members/nobody@nowhere.test")).await;
        assert!(chrome.text().await.contains("No such member in this company"));
        chrome.goto(&srv.url("lang/zh?back=/admin/directory")).await;

        // The log names each step and never a password.
        chrome.goto(&srv.url("admin/log?endpoint=console/directory/member")).await;
        let log = chrome.text().await;
        for endpoint in ["member/password", "member/2fa-on", "member/2fa-off", "member/reset-totp"] {
            assert!(log.contains(endpoint), "{endpoint}: {log}");
        }
        for secret in [first.as_str(), generated.as_str(), "Reset-Pass-2"] {
            assert!(!log.contains(secret), "{secret} in the log");
        }
        chrome.close().await;
    }
}
