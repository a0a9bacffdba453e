//! The newer Exmail API through the real server on both backends (EXMAIL_API.md): tokens and
//! their scopes, one directory seen by both APIs, the answer shapes and codes clients depend on,
//! single sign-on, options that the mail-client listeners honour, and the logs.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{TestServer, backend_test};
use common::Api;
use serde_json::{Value, json};

/// Calls `/cgi-bin/<path>` with a JSON body (POST) or none (GET), and checks the envelope every
/// answer has: HTTP 200, JSON, `errcode` a number, `errmsg` present.
async fn cgi(srv: &TestServer, token: &str, path: &str, body: Option<Value>) -> Value {
    let url = if path.contains('?') {
        srv.url(&format!("cgi-bin/{path}&access_token={token}"))
    } else {
        srv.url(&format!("cgi-bin/{path}?access_token={token}"))
    };
    let r = match body {
        Some(b) => srv.http.post(url).json(&b).send().await.unwrap(),
        None => srv.http.get(url).send().await.unwrap(),
    };
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v["errcode"].is_i64(), "{v}");
    assert!(v["errmsg"].is_string(), "{v}");
    v
}

/// Logs in over IMAP (in memory) and returns the tagged answer.
async fn imap_login(srv: &TestServer, user: &str) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (client, server) = tokio::io::duplex(64 * 1024);
    let session = srv
        .running()
        .imap_session(server, "127.0.0.1".parse().unwrap(), true);
    tokio::spawn(session.run(true));
    let (r, mut w) = tokio::io::split(client);
    let mut r = BufReader::new(r);
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    w.write_all(format!("a LOGIN \"{user}\" secret123\r\n").as_bytes())
        .await
        .unwrap();
    loop {
        line.clear();
        r.read_line(&mut line).await.unwrap();
        if line.starts_with("a ") || line.is_empty() {
            return line;
        }
    }
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap()
}

backend_test! {
    async fn tokens_are_scoped_to_their_application(srv) {
        let t = srv.tenant().clone();
        let get = |q: String| {
            let url = srv.url(&format!("cgi-bin/gettoken?{q}"));
            let http = srv.http.clone();
            async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let ok = get(format!("corpid={}&corpsecret={}", t.corp_id, t.corp_secret("directory"))).await;
        let keys: Vec<&str> = ok.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["errcode", "errmsg", "access_token", "expires_in"]);
        assert_eq!(ok["expires_in"], 7200);
        assert_eq!(code(&get(format!("corpid={}&corpsecret=wrong", t.corp_id)).await), 40001);
        assert_eq!(code(&get("corpid=wm0000000000000000&corpsecret=x".into()).await), 40013);
        assert_eq!(code(&get(format!("corpid={}&corpsecret=", t.corp_id)).await), 40091);
        let directory = ok["access_token"].as_str().unwrap().to_owned();
        let mail = srv.corp_token("mail").await;
        let user = format!("user/get?userid=nobody@{}", t.domain);
        assert_eq!(code(&cgi(&srv, &directory, &user, None).await), 60111);
        assert_eq!(code(&cgi(&srv, &mail, &user, None).await), 602005);
        assert_eq!(code(&cgi(&srv, "forged", &user, None).await), 40014);
        // A second token does not end the first.
        let _again = srv.corp_token("directory").await;
        assert_eq!(code(&cgi(&srv, &directory, &user, None).await), 60111);
        // A broken body with a good token is 40092, not 40014 (clients retry on 40014).
        let log = srv.corp_token("log").await;
        let r = srv
            .http
            .post(srv.url(&format!("cgi-bin/log/mail?access_token={log}")))
            .body("{not json")
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(code(&v), 40092);
        // A made-up endpoint is 40092, and names no log row or metric of its own.
        assert_eq!(code(&cgi(&srv, &log, "log/%0Aevil", None).await), 40092);
        // Rotation ends them; switching the application off refuses them.
        let admin = srv.running().admin();
        admin.corp_rotate(&t.admin, "directory").await.unwrap();
        assert_eq!(code(&cgi(&srv, &directory, &user, None).await), 40014);
        admin.corp_enable_app(&t.admin, "mail", false).await.unwrap();
        let q = format!("corpid={}&corpsecret={}", t.corp_id, t.corp_secret("mail"));
        assert_eq!(code(&get(q).await), 40091);
        // The old API's switch covers the newer API too.
        admin.set_enabled(&t.admin, false).await.unwrap();
        let q = format!("corpid={}&corpsecret={}", t.corp_id, t.corp_secret("log"));
        assert_eq!(code(&get(q).await), 50005);
        // Every call left an operation-log row, the refused ones too.
        srv.flush_oplog().await;
        let rows = admin.oplog(&t.admin, 100).await.unwrap();
        assert!(rows.iter().any(|r| r.endpoint == "cgi-bin/user/get" && r.errcode == 602005));
        assert!(rows.iter().all(|r| !r.endpoint.contains('\n')));
    }
}

backend_test! {
    async fn one_directory_two_apis(srv) {
        let api = Api::new(&srv).await;
        let d = srv.tenant().domain.clone();
        let tok = srv.corp_token("directory").await;
        let created = cgi(&srv, &tok, "department/create", Some(json!({"name": "研发", "parentid": 1, "order": 5}))).await;
        assert_eq!(created["errmsg"], "created");
        let id = created["id"].as_i64().unwrap();
        assert!((2..(1 << 53)).contains(&id));
        let child = cgi(&srv, &tok, "department/create", Some(json!({"name": "后端", "parentid": id.to_string()}))).await;
        let child_id = child["id"].as_i64().unwrap();
        assert_eq!(code(&cgi(&srv, &tok, "department/create", Some(json!({"name": "后端", "parentid": id}))).await), 60008);
        assert_eq!(code(&cgi(&srv, &tok, "department/create", Some(json!({"name": "x", "parentid": ""}))).await), 60124);
        // The old API sees the same tree by path.
        assert_eq!(api.parties("研发").await, ["后端"]);
        let ver_before = api.client.user_list(None).await.unwrap().ver;
        // A member made with the newer API is in the old change log and reads back in both.
        let user = json!({"userid": format!("ann@{d}"), "name": "Ann", "department": [child_id],
            "password": "secret123", "gender": "2", "slaves": [format!("a@{d}")], "cpwd_login": 1});
        assert_eq!(cgi(&srv, &tok, "user/create", Some(user.clone())).await["errmsg"], "created");
        assert_eq!(code(&cgi(&srv, &tok, "user/create", Some(user)).await), 60102);
        let list = api.client.user_list(Some(ver_before)).await.unwrap();
        assert!(list.list.iter().any(|c| c.alias == format!("ann@{d}")));
        assert_eq!(api.user(&format!("a@{d}")).await.name, "Ann");
        let got = cgi(&srv, &tok, &format!("user/get?userid=a@{d}"), None).await;
        let keys: Vec<&str> = got.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["errcode", "errmsg", "userid", "name", "department", "position", "mobile",
            "tel", "extid", "gender", "enable", "slaves", "cpwd_login"]);
        assert_eq!(got["department"], json!([child_id]));
        assert_eq!(got["gender"], "2");
        assert_eq!(got["enable"], 1);
        assert_eq!(got["cpwd_login"], 1);
        // `""` is "not given" (TencentExmail's updates); `enable` 0 disables.
        let upd = json!({"userid": format!("ann@{d}"), "name": "", "department": "", "password": "", "enable": 0});
        assert_eq!(cgi(&srv, &tok, "user/update", Some(upd)).await["errmsg"], "updated");
        let got = cgi(&srv, &tok, &format!("user/get?userid=ann@{d}"), None).await;
        assert_eq!((got["name"].as_str(), got["enable"].as_i64()), (Some("Ann"), Some(0)));
        // Listings by department, with and without the sub-departments.
        let direct = cgi(&srv, &tok, &format!("user/simplelist?department_id={id}&fetch_child=0"), None).await;
        assert_eq!(direct["userlist"], json!([]));
        let all = cgi(&srv, &tok, &format!("user/list?department_id={id}&fetch_child=1"), None).await;
        assert_eq!(all["userlist"][0]["userid"], format!("ann@{d}"));
        // department/list: the subtree by (order, id), parent ids on the wire.
        let listed = cgi(&srv, &tok, "department/list?id=1", None).await;
        let ids: Vec<i64> = listed["department"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [child_id, id]);
        assert_eq!(listed["department"][1]["parentid"], 1);
        assert_eq!(listed["department"][0]["parentid"], id);
        assert_eq!(code(&cgi(&srv, &tok, "department/update", Some(json!({"id": id, "parentid": child_id}))).await), 60010);
        assert_eq!(code(&cgi(&srv, &tok, &format!("department/delete?id={child_id}"), None).await), 60005);
        assert_eq!(code(&cgi(&srv, &tok, &format!("department/delete?id={id}"), None).await), 60006);
        assert_eq!(code(&cgi(&srv, &tok, "department/delete?id=1", None).await), 60007);
        let found = cgi(&srv, &tok, "department/search", Some(json!({"name": "后", "fuzzy": 0}))).await;
        assert_eq!(found["department"][0]["path"], "研发/后端");
        // Groups with typed members; a department stands for its people at delivery.
        let g = json!({"groupid": format!("team@{d}"), "groupname": "Team", "allow_type": 1, "department": [id]});
        assert_eq!(cgi(&srv, &tok, "group/create", Some(g)).await["errmsg"], "created");
        let got = cgi(&srv, &tok, &format!("group/get?groupid=team@{d}"), None).await;
        assert_eq!((got["department"].clone(), got["allow_type"].clone()), (json!([id]), json!(1)));
        assert_eq!(api.check(&[&format!("team@{d}")]).await, [(format!("team@{d}"), 3)]);
        // A group never contains itself, not even at its creation.
        let selfish = json!({"groupid": format!("loop@{d}"), "groupname": "L", "allow_type": 0, "grouplist": [format!("loop@{d}")]});
        assert_eq!(code(&cgi(&srv, &tok, "group/create", Some(selfish)).await), 600020);
        // Tag ids stay below 2^31.
        let huge = json!({"tagname": "huge", "tagid": 9_007_199_254_740_991_i64});
        assert_eq!(code(&cgi(&srv, &tok, "tag/create", Some(huge)).await), 60201);
        // Tags, and X's tag.delete (a GET of tag/update) deleting nothing.
        let tag = cgi(&srv, &tok, "tag/create", Some(json!({"tagname": "vip"}))).await;
        let tagid = tag["tagid"].as_i64().unwrap();
        let add = cgi(&srv, &tok, "tag/addtagusers", Some(json!({"tagid": tagid, "userlist": [format!("ann@{d}"), "x@nowhere.test"]}))).await;
        assert_eq!((code(&add), add["invalidlist"].as_str()), (0, Some("x@nowhere.test")));
        assert_eq!(code(&cgi(&srv, &tok, &format!("tag/update?tagid={tagid}"), None).await), 60203);
        let got = cgi(&srv, &tok, &format!("tag/get?tagid={tagid}"), None).await;
        assert_eq!(got["userlist"], json!([{"userid": format!("ann@{d}"), "name": "Ann"}]));
        // Deleting through the newer API is a DEL in the old change log.
        assert_eq!(cgi(&srv, &tok, &format!("user/delete?userid=ann@{d}"), None).await["errmsg"], "deleted");
        let list = api.client.user_list(Some(ver_before)).await.unwrap();
        assert!(list.list.iter().any(|c| c.alias == format!("ann@{d}") && c.action == 1));
    }
}

/// Posts the login form as `address` and answers the response.
async fn sign_in(b: &mut common::Browser, address: &str, password: &str) -> reqwest::Response {
    let form = b.page("/login", 200).await;
    let csrf = common::hidden_field(&form, "csrf");
    b.post(
        "/login",
        &[
            ("csrf", csrf.as_str()),
            ("address", address),
            ("password", password),
        ],
    )
    .await
}

backend_test! {
    async fn cpwd_login_asks_for_a_new_password_once(srv) {
        let d = srv.tenant().domain.clone();
        let dir = srv.corp_token("directory").await;
        let address = format!("dee@{d}");
        let user = json!({"userid": address, "name": "Dee", "department": [1], "password": "secret123", "cpwd_login": 1});
        assert_eq!(code(&cgi(&srv, &dir, "user/create", Some(user)).await), 0);
        let mut b = common::Browser::new(&srv);
        let r = sign_in(&mut b, &address, "secret123").await;
        assert_eq!(r.headers()["location"], "/login/password");
        let page = b.page("/login/password", 200).await;
        assert!(page.contains(&address), "{page}");
        let csrf = common::hidden_field(&page, "csrf");
        let post = |pw: &'static str, repeat: &'static str| {
            [("csrf", csrf.clone()), ("password", pw.to_owned()), ("repeat", repeat.to_owned())]
        };
        let form = post("newsecret1", "newsecret2");
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(b.post("/login/password", &fields).await.status(), 422);
        let form = post("secret123", "secret123");
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(b.post("/login/password", &fields).await.status(), 422, "the same password");
        let form = post("newsecret1", "newsecret1");
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let done = b.post("/login/password", &fields).await;
        assert_eq!(done.headers()["location"], "/mail/");
        b.page("/mail/", 200).await;
        // Cleared, as on the real service; the new password opens the mailbox directly.
        let got = cgi(&srv, &dir, &format!("user/get?userid={address}"), None).await;
        assert_eq!(got["cpwd_login"], 0);
        let mut again = common::Browser::new(&srv);
        let r = sign_in(&mut again, &address, "newsecret1").await;
        assert_eq!(r.headers()["location"], "/mail/");
    }
}

backend_test! {
    async fn without_the_switch_sso_goes_straight_in(srv) {
        let t = srv.tenant().clone();
        srv.running().admin().corp_sso_confirm(&t.admin, false).await.unwrap();
        let dir = srv.corp_token("directory").await;
        let user = json!({"userid": format!("cy@{}", t.domain), "name": "Cy", "department": 1, "password": "secret123"});
        assert_eq!(code(&cgi(&srv, &dir, "user/create", Some(user)).await), 0);
        let sso = srv.corp_token("sso").await;
        let v = cgi(&srv, &sso, &format!("service/get_login_url?userid=cy@{}", t.domain), None).await;
        let mut browser = common::Browser::new(&srv);
        let r = browser.get(v["login_url"].as_str().unwrap()).await;
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (302, "/mail/"));
        browser.page("/mail/", 200).await;
    }
}

backend_test! {
    async fn sso_newcount_options_and_logs(srv) {
        let d = srv.tenant().domain.clone();
        let dir = srv.corp_token("directory").await;
        let user = json!({"userid": format!("bo+x@{d}"), "name": "Bo", "department": [1], "password": "secret123"});
        assert_eq!(code(&cgi(&srv, &dir, "user/create", Some(user)).await), 0);
        // SSO: a URL on this host, single use, `+` kept.
        let sso = srv.corp_token("sso").await;
        let v = cgi(&srv, &sso, &format!("service/get_login_url?userid=bo+x@{d}"), None).await;
        let url = v["login_url"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&format!("{}/cgi-bin/login?fun=bizopenssologin&method=openapi&userid=bo%2Bx%40", srv.base_url)), "{url}");
        assert_eq!(v["expires_in"], 300);
        // The first SSO login asks for the password once, with the address filled in.
        let mut browser = common::Browser::new(&srv);
        let first = browser.get(&url).await;
        assert_eq!(first.status(), 303);
        assert_eq!(first.headers()["location"], "/login");
        assert_eq!(browser.get(&url).await.status(), 403, "a ticket works once");
        let form = browser.page("/login", 200).await;
        assert!(form.contains(&format!("value=\"bo+x@{d}\"")), "{form}");
        assert!(form.contains("class=\"notice\""), "{form}");
        let csrf = common::hidden_field(&form, "csrf");
        let address = format!("bo+x@{d}");
        let fields = [("csrf", csrf.as_str()), ("address", address.as_str()), ("password", "secret123")];
        assert_eq!(browser.post("/login", &fields).await.status(), 303);
        // From then on a login URL goes straight into the mailbox.
        let again = cgi(&srv, &sso, &format!("service/get_login_url?userid=bo+x@{d}"), None).await;
        let url = again["login_url"].as_str().unwrap().to_owned();
        let mut other = common::Browser::new(&srv);
        let straight = other.get(&url).await;
        assert_eq!(straight.status(), 302);
        assert_eq!(straight.headers()["location"], "/mail/");
        // A ticket opens only its own URL form: the old form cannot skip the first-login password.
        let v = cgi(&srv, &sso, &format!("service/get_login_url?userid=bo+x@{d}"), None).await;
        let authkey = v["login_url"].as_str().unwrap().rsplit("authkey=").next().unwrap().to_owned();
        let old_form = format!(
            "/cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={}&user=bo%2Bx%40{d}&ticket={authkey}",
            srv.tenant().admin
        );
        assert_eq!(common::Browser::new(&srv).get(&old_form).await.status(), 403);
        // A new password takes the authorization back.
        let pw = json!({"userid": format!("bo+x@{d}"), "password": "secret123"});
        assert_eq!(code(&cgi(&srv, &dir, "user/update", Some(pw)).await), 0);
        let v = cgi(&srv, &sso, &format!("service/get_login_url?userid=bo+x@{d}"), None).await;
        let mut third = common::Browser::new(&srv);
        assert_eq!(third.get(v["login_url"].as_str().unwrap()).await.headers()["location"], "/login");
        let none = cgi(&srv, &sso, &format!("service/get_login_url?userid=nobody@{d}"), None).await;
        assert_eq!(code(&none), 60111);
        // newcount counts a delivered mail, with and without dates.
        let mail = srv.corp_token("mail").await;
        assert_eq!(cgi(&srv, &mail, &format!("mail/newcount?userid=bo+x@{d}"), None).await["count"], 0);
        common::deliver(&srv, &format!("bo+x@{d}"), "From: <sender@outside.example>\r\nSubject: hello\r\n\r\nhi").await;
        assert_eq!(cgi(&srv, &mail, &format!("mail/newcount?userid=bo+x@{d}"), None).await["count"], 1);
        let ranged = cgi(&srv, &mail, "mail/newcount", Some(json!({"userid": format!("bo+x@{d}"), "begin_date": "2020-01-01", "end_date": "2020-01-02"}))).await;
        assert_eq!(ranged["count"], 0);
        // Options: IMAP off refuses the member's IMAP login.
        let opt = srv.corp_token("option").await;
        let got = cgi(&srv, &opt, "useroption/get", Some(json!({"userid": format!("bo+x@{d}"), "type": [1, 2, 3, 4]}))).await;
        assert_eq!(got["option"], json!([{"type":1,"value":"0"},{"type":2,"value":"1"},{"type":3,"value":"1"},{"type":4,"value":"0"}]));
        let off = json!({"userid": format!("bo+x@{d}"), "option": [{"type": 2, "value": "0"}]});
        assert_eq!(cgi(&srv, &opt, "useroption/update", Some(off)).await["errmsg"], "update");
        assert!(imap_login(&srv, &format!("bo+x@{d}")).await.starts_with("a NO"));
        let on = json!({"userid": format!("bo+x@{d}"), "option": [{"type": 2, "value": "1"}]});
        assert_eq!(code(&cgi(&srv, &opt, "useroption/update", Some(on)).await), 0);
        assert!(imap_login(&srv, &format!("bo+x@{d}")).await.starts_with("a OK"));
        // Logs: the delivery, the web login, the operations.
        let log = srv.corp_token("log").await;
        let day = "2021-06-01";
        let range = |extra: Value| {
            let mut b = json!({"begin_date": "2020-01-01", "end_date": "2099-12-31"});
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };
        let mails = cgi(&srv, &log, "log/mail", Some(range(json!({"mailtype": 2, "userid": ""})))).await;
        assert_eq!(mails["list"][0]["receiver"], format!("bo+x@{d}"));
        assert_eq!(mails["list"][0]["status"], 13);
        let by_subject = cgi(&srv, &log, "log/mail", Some(range(json!({"mailtype": 0, "subject": "ell"})))).await;
        assert_eq!(by_subject["list"].as_array().unwrap().len(), 1);
        let wildcard = cgi(&srv, &log, "log/mail", Some(range(json!({"mailtype": 0, "subject": "h_llo"})))).await;
        assert_eq!(wildcard["list"], json!([]), "a subject filter is literal, not a pattern");
        let sent = cgi(&srv, &log, "log/mail", Some(range(json!({"mailtype": 1})))).await;
        assert_eq!(sent["list"], json!([]));
        let status = cgi(&srv, &log, "log/mailstatus", Some(range(json!({"domain": d})))).await;
        assert_eq!(status["recvsum"], 1);
        let logins = cgi(&srv, &log, "log/login", Some(range(json!({"userid": format!("bo+x@{d}")})))).await;
        let kinds: Vec<i64> = logins["list"].as_array().unwrap().iter().map(|r| r["type"].as_i64().unwrap()).collect();
        assert_eq!(kinds, [1, 1, 4], "the password that authorized SSO, an SSO login, IMAP");
        srv.flush_oplog().await;
        let ops = cgi(&srv, &log, "log/operation", Some(range(json!({"type": 8})))).await;
        assert!(ops["list"].as_array().unwrap().iter().any(|r| r["type"] == 19));
        assert_eq!(code(&cgi(&srv, &log, "log/mail", Some(json!({"begin_date": day, "end_date": "2020-01-01", "mailtype": 0}))).await), 601001);
        assert_eq!(code(&cgi(&srv, &log, "log/mailstatus", Some(range(json!({"domain": "other.test"})))).await), 601004);
        // A second mail to the same member (on PostgreSQL the one-statement delivery; the first
        // created the folders on the transaction path): one more row, one more unread, nothing twice.
        common::deliver(&srv, &format!("bo+x@{d}"), "From: <sender@outside.example>\r\nSubject: again\r\n\r\nhi").await;
        let mails = cgi(&srv, &log, "log/mail", Some(range(json!({"mailtype": 2, "userid": ""})))).await;
        let subjects: Vec<&str> = mails["list"].as_array().unwrap().iter().map(|r| r["subject"].as_str().unwrap()).collect();
        assert_eq!(subjects.len(), 2, "{subjects:?}");
        assert!(subjects.contains(&"again") && subjects.contains(&"hello"), "{subjects:?}");
        assert_eq!(cgi(&srv, &mail, &format!("mail/newcount?userid=bo+x@{d}"), None).await["count"], 2);
        let status = cgi(&srv, &log, "log/mailstatus", Some(range(json!({"domain": d})))).await;
        assert_eq!(status["recvsum"], 2);
    }
}

backend_test! {
    config = |c| c.corp_token_requests_per_second = 1;
    async fn gettoken_is_rate_limited_per_corp(srv) {
        let t = srv.tenant().clone();
        let url = srv.url(&format!(
            "cgi-bin/gettoken?corpid={}&corpsecret={}",
            t.corp_id,
            t.corp_secret("log")
        ));
        let mut codes = Vec::new();
        for _ in 0..3 {
            let v: Value = srv.http.get(&url).send().await.unwrap().json().await.unwrap();
            codes.push(code(&v));
        }
        assert_eq!(codes[0], 0);
        assert!(codes[1..].contains(&45009), "{codes:?}");
        // Another corp has its own allowance.
        let other = srv.seed_tenant().await;
        let url = srv.url(&format!(
            "cgi-bin/gettoken?corpid={}&corpsecret={}",
            other.corp_id,
            other.corp_secret("log")
        ));
        let v: Value = srv.http.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(code(&v), 0);
    }
}

backend_test! {
    config = |c| c.public_url = "https://mail.example.test/".into();
    async fn login_urls_use_the_public_url(srv) {
        let d = srv.tenant().domain.clone();
        let dir = srv.corp_token("directory").await;
        let user = json!({"userid": format!("eve@{d}"), "name": "Eve", "department": [1], "password": "secret123"});
        assert_eq!(code(&cgi(&srv, &dir, "user/create", Some(user)).await), 0);
        let sso = srv.corp_token("sso").await;
        let v = cgi(&srv, &sso, &format!("service/get_login_url?userid=eve@{d}"), None).await;
        let url = v["login_url"].as_str().unwrap();
        assert!(url.starts_with("https://mail.example.test/cgi-bin/login?fun=bizopenssologin&method=openapi&userid=eve%40"), "{url}");
    }
}
