//! Members over HTTP on both backends: `user/sync`, `user/get`, `user/list`, `user/check`,
//! `user/swapalias`, `user/openwxtoken` (PROTOCOL.md §7.1–§7.3, §7.6, §7.8, §7.9).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::backend_test;
use common::Api;

backend_test! {
    async fn add_then_get_answers_exactly(srv) {
        let api = Api::new(&srv).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "部门 a")]).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "部门 B/部门 b")]).await;
        let bob = api.addr("bob");
        let (bb, bo) = (api.addr("bb"), api.addr("bo"));
        api.ok("user/sync", &[
            ("Action", "2"), ("Alias", &bob), ("Name", "鲍勃"), ("Gender", "1"), ("Position", "工程师"),
            ("Tel", "62394"), ("Mobile", ""), ("ExtId", "100"), ("Password", "secret123"),
            ("PartyPath", "部门 a"), ("PartyPath", "/部门 B/部门 b"), ("Slave", &bb), ("Slave", &bo),
        ]).await;
        let body = api.post("user/get", &[("Alias", &bob)]).await;
        assert_eq!(body, format!(
            r#"{{"Alias":"{bob}","Name":"鲍勃","Gender":1,"SlaveList":"{bb},{bo}","Position":"工程师","Tel":"62394","Mobile":"","ExtId":"100","Status":1,"PartyList":{{"Count":2,"List":[{{"Value":"部门 a"}},{{"Value":"部门 B/部门 b"}}]}},"OpenType":1}}"#
        ));
        // By alias, in upper case: the answer names the primary address.
        let by_alias = api.json("user/get", &[("alias", &bb.to_uppercase())]).await;
        assert_eq!(by_alias["Alias"], bob.as_str());
        // A member directly under the root.
        let root = api.add_member("rooted", &[]).await;
        let v = api.post("user/get", &[("Alias", &root)]).await;
        assert!(v.contains(r#""PartyList":{"Count":0,"List":[]}"#), "{v}");
        assert!(v.contains(r#""SlaveList":"""#), "{v}");
    }
}

backend_test! {
    async fn an_alias_equal_to_the_own_address_is_ignored(srv) {
        // Decided gap: a public client sends slave=<own address> on every add.
        let api = Api::new(&srv).await;
        let me = api.addr("self.ref");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &me), ("Name", "Me"), ("Password", "secret123"), ("Slave", &me)]).await;
        assert_eq!(api.user(&me).await.slave_list, "");
        // It does not count towards the five aliases, on an add...
        let full = api.addr("self.full");
        let five: Vec<String> = (1..=5).map(|i| api.addr(&format!("full{i}"))).collect();
        let mut add = vec![("Action", "2"), ("Alias", full.as_str()), ("Name", "Full"), ("Password", "secret123"), ("Slave", full.as_str())];
        add.extend(five.iter().map(|a| ("Slave", a.as_str())));
        api.ok("user/sync", &add).await;
        assert_eq!(api.user(&full).await.slave_list, five.join(","));
        // ...nor on a modify that names the member by an alias; alone, it keeps the aliases.
        api.ok("user/sync", &[("Action", "3"), ("Alias", &five[0]), ("Slave", &full), ("Name", "Still full")]).await;
        let got = api.json("user/get", &[("Alias", &full)]).await;
        assert_eq!((got["Name"].as_str(), got["SlaveList"].as_str()), (Some("Still full"), Some(five.join(",").as_str())));
        // Another member's address is still taken.
        assert_eq!(api.err("user/sync", &[("Action", "3"), ("Alias", &me), ("Slave", &full)]).await, "1304");
    }
}

backend_test! {
    async fn sync_refusals_change_nothing(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("alice", &[]).await;
        let v0 = api.version().await;
        let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
            (vec![("Action", "2".into()), ("Alias", a.clone()), ("Name", "x".into()), ("Password", "secret123".into())], "1304"),
            (vec![("Action", "2".into()), ("Alias", "x@not-ours.example".into()), ("Name", "x".into()), ("Password", "secret123".into())], "1302"),
            (vec![("Action", "2".into()), ("Alias", "not an address".into()), ("Name", "x".into()), ("Password", "secret123".into())], "1302"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".into()), ("Password", "123".into())], "1303"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".into()), ("Password", "nothex".into()), ("Md5", "1".into())], "1303"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".repeat(65)), ("Password", "secret123".into())], "1306"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".into()), ("Password", "secret123".into()), ("Gender", "7".into())], "1306"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".into()), ("Password", "secret123".into()), ("PartyPath", "nowhere".into())], "1310"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".into()), ("Password", "secret123".into()), ("PartyPath", "a/b/c/d/e/f".into())], "1311"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".into()), ("Password", "secret123".into()), ("Slave", a.clone())], "1304"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Name", "x".into()), ("Password", "secret123".into()), ("Slave", "s@not-ours.example".into())], "1302"),
            (vec![("Action", "2".into()), ("Alias", api.addr("n1")), ("Password", "secret123".into())], "1001"),
            (vec![("Action", "9".into()), ("Alias", api.addr("n1"))], "1001"),
            (vec![("Action", "3".into()), ("Alias", api.addr("nobody"))], "1301"),
            (vec![("Action", "1".into()), ("Alias", api.addr("nobody"))], "1301"),
        ];
        for (fields, code) in &cases {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(api.err("user/sync", &f).await, *code, "{f:?}");
        }
        let six: Vec<String> = (1..=6).map(|i| api.addr(&format!("s{i}"))).collect();
        let mut f = vec![("Action", "2"), ("Alias", "n1"), ("Name", "x"), ("Password", "secret123")];
        let n1 = api.addr("n1");
        f[1].1 = &n1;
        for s in &six {
            f.push(("Slave", s));
        }
        assert_eq!(api.err("user/sync", &f).await, "1305");
        // Nothing was created by any refused call, and the version did not move.
        assert_eq!(api.version().await, v0);
        let check = api.json("user/check", &[("email", &n1), ("email", &six[0])]).await;
        assert_eq!(check["List"][0]["Type"], 0);
        assert_eq!(check["List"][1]["Type"], 0);
    }
}

backend_test! {
    async fn mod_changes_only_given_fields_and_every_field_empty_is_a_no_op(srv) {
        let api = Api::new(&srv).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "IT")]).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "HR")]).await;
        let a = api.addr("carol");
        let s1 = api.addr("c1");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "Carol"), ("Password", "secret123"),
            ("Position", "dev"), ("PartyPath", "IT"), ("Slave", &s1)]).await;
        let before = api.post("user/get", &[("Alias", &a)]).await;
        // A recorded client sends every field on every call, empty when unset.
        let q = format!("openapi/user/sync?action=3&alias={a}&name=&gender=&partyPath=&slave=&openType=&password=&md5=&position=&tel=&mobile=&extid=");
        let r = srv.http.post(srv.url(&q)).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        assert_eq!(api.post("user/get", &[("Alias", &a)]).await, before);
        // Given fields change; PartyPath and Slave replace the lists.
        let s2 = api.addr("c2");
        api.ok("user/sync", &[("Action", "3"), ("Alias", &s1), ("Tel", "123"), ("PartyPath", "HR"), ("PartyPath", "IT"), ("Slave", &s2)]).await;
        let v = api.json("user/get", &[("Alias", &a)]).await;
        assert_eq!(v["Position"], "dev");
        assert_eq!(v["Tel"], "123");
        assert_eq!(v["SlaveList"], s2.as_str());
        assert_eq!(v["PartyList"]["List"][0]["Value"], "HR");
        assert_eq!(v["PartyList"]["List"][1]["Value"], "IT");
        // The old alias is free again.
        let check = api.json("user/check", &[("email", &s1)]).await;
        assert_eq!(check["List"][0]["Type"], 0);
        // PartyPath=/ moves the member to the root.
        api.ok("user/sync", &[("Action", "3"), ("Alias", &a), ("PartyPath", "/")]).await;
        assert_eq!(api.user(&a).await.party_list.count, 0);
    }
}

backend_test! {
    async fn posting_the_user_get_answer_back_disables_the_member(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("dave", &[]).await;
        let answer = api.post("user/get", &[("Alias", &a)]).await;
        // As a JSON object body, with Action and OpenType in the query.
        let r = srv.http.post(srv.url("openapi/user/sync?Action=3&OpenType=2"))
            .bearer_auth(&api.token).header("Content-Type", "application/json").body(answer.clone())
            .send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        let v = api.json("user/get", &[("Alias", &a)]).await;
        assert_eq!((v["Status"].as_u64(), v["OpenType"].as_u64()), (Some(2), Some(2)));
        // As form fields (every key of the answer), re-enabling.
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&answer).unwrap();
        let mut form: Vec<(String, String)> = obj.iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .filter(|(k, _)| k != "OpenType")
            .collect();
        form.push(("Action".into(), "3".into()));
        form.push(("OpenType".into(), "1".into()));
        let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        api.ok("user/sync", &f).await;
        assert_eq!(api.user(&a).await.open_type, 1);
    }
}

backend_test! {
    async fn delete_frees_the_member_and_its_aliases(srv) {
        let api = Api::new(&srv).await;
        let a = api.addr("erin");
        let s = api.addr("e1");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "Erin"), ("Password", "secret123"), ("Slave", &s)]).await;
        api.ok("group/add", &[("group_name", "g"), ("group_admin", &api.addr("g")), ("status", "all"), ("members", &a)]).await;
        api.ok("user/sync", &[("Action", "1"), ("Alias", &s)]).await;
        assert_eq!(api.err("user/get", &[("Alias", &a)]).await, "1301");
        let check = api.json("user/check", &[("email", &a), ("email", &s)]).await;
        assert_eq!((check["List"][0]["Type"].as_i64(), check["List"][1]["Type"].as_i64()), (Some(0), Some(0)));
        // The address can be added again.
        api.add_member("erin", &[]).await;
    }
}

backend_test! {
    async fn user_list_by_version(srv) {
        let api = Api::new(&srv).await;
        let full = api.post("user/list", &[("Ver", "0")]).await;
        let v: serde_json::Value = serde_json::from_str(&full).unwrap();
        assert!(v["Ver"].is_u64(), "Ver is a JSON number: {full}");
        assert_eq!(full, format!(r#"{{"Ver":{},"Count":0,"List":[]}}"#, v["Ver"]));
        let a = api.add_member("a", &[]).await;
        let b = api.add_member("b", &[]).await;
        let v1 = api.version().await;
        assert!(v1 > v["Ver"].as_u64().unwrap());
        assert!(v1 > 1_000_000_000_000, "looks like Unix milliseconds: {v1}");
        assert_eq!(api.changes_since(v1).await, []);
        let c = api.add_member("c", &[]).await;
        api.ok("user/sync", &[("Action", "3"), ("Alias", &c), ("Name", "C")]).await;
        api.ok("user/sync", &[("Action", "3"), ("Alias", &a), ("Name", "A")]).await;
        api.ok("user/sync", &[("Action", "1"), ("Alias", &b)]).await;
        let d = api.add_member("d", &[]).await;
        api.ok("user/sync", &[("Action", "1"), ("Alias", &d)]).await;
        api.ok("user/sync", &[("Action", "1"), ("Alias", &a)]).await;
        api.add_member("a", &[]).await;
        assert_eq!(api.changes_since(v1).await, [
            (2, c.clone()), (1, b.clone()), (1, d.clone()), (3, a.clone()),
        ]);
        // Ver=0, absent, non-numeric, from the future: the full list, every member as ADD.
        let expect_full = vec![(2, c.clone()), (2, a.clone())];
        assert_eq!(api.changes_since(0).await, expect_full);
        for ver in ["abc", "99999999999999", "", "-5"] {
            let v = api.json("user/list", &[("Ver", ver)]).await;
            assert_eq!(v["Count"], 2, "{ver:?}");
        }
        let v = api.json("user/list", &[]).await;
        assert_eq!(v["Count"], 2);
    }
}

backend_test! {
    async fn user_check_types(srv) {
        let api = Api::new(&srv).await;
        let a = api.addr("frank");
        let s = api.addr("f1");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "F"), ("Password", "secret123"), ("Slave", &s)]).await;
        let g = api.addr("team");
        api.ok("group/add", &[("group_name", "team"), ("group_admin", &g), ("status", "all")]).await;
        let free = api.addr("free");
        let padded = format!(" {} ", a.to_uppercase());
        let v = api.json("user/check", &[
            ("email", &padded), ("email", &s), ("email", &g), ("email", &free), ("email", "bad"), ("email", "x@other.example"),
        ]).await;
        let got: Vec<(String, i64)> = v["List"].as_array().unwrap().iter()
            .map(|e| (e["Email"].as_str().unwrap().to_owned(), e["Type"].as_i64().unwrap())).collect();
        assert_eq!(got, [
            (a.to_uppercase(), 1), (s, 2), (g, 3), (free.clone(), 0), ("bad".into(), -1), ("x@other.example".into(), -1),
        ]);
        assert_eq!(v["Count"], 6);
        let twenty: Vec<String> = (0..21).map(|i| api.addr(&format!("u{i}"))).collect();
        let f: Vec<(&str, &str)> = twenty.iter().map(|e| ("email", e.as_str())).collect();
        assert_eq!(api.err("user/check", &f).await, "1001");
        assert_eq!(api.json("user/check", &f[..20]).await["Count"], 20);
        assert_eq!(api.err("user/check", &[]).await, "1001");
        // Comma-separated works too.
        let both = format!("{a},{free}");
        assert_eq!(api.json("user/check", &[("email", &both)]).await["Count"], 2);
    }
}

backend_test! {
    async fn swap_alias_and_second_factor(srv) {
        let api = Api::new(&srv).await;
        let a = api.addr("gina");
        let s = api.addr("g1");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "G"), ("Password", "secret123"), ("Slave", &s)]).await;
        let v0 = api.version().await;
        api.ok("user/swapalias", &[("alias", &a), ("slavealias", &s)]).await;
        let v = api.json("user/get", &[("Alias", &a)]).await;
        assert_eq!(v["Alias"], s.as_str());
        assert_eq!(v["SlaveList"], a.as_str());
        assert_eq!(api.changes_since(v0).await, [(3, s.clone())]);
        assert_eq!(api.err("user/swapalias", &[("alias", &a), ("slavealias", &s)]).await, "1301");
        // The forced second factor: idempotent, bumps the version, unknown member refused.
        let v1 = api.version().await;
        api.ok("user/openwxtoken", &[("alias", &s)]).await;
        api.ok("user/openwxtoken", &[("alias", &s)]).await;
        let v2 = api.version().await;
        assert!(v2 > v1);
        api.ok("user/closewxtoken", &[("alias", &a)]).await;
        assert!(api.version().await > v2);
        assert_eq!(api.err("user/openwxtoken", &[("alias", &api.addr("nobody"))]).await, "1301");
    }
}

backend_test! {
    async fn every_change_bumps_the_version_and_writes_its_oplog_row(srv) {
        let api = Api::new(&srv).await;
        let mut last = api.version().await;
        let a = api.addr("hank");
        let steps: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("party/sync", vec![("Action", "2"), ("DstPath", "X/Y")]),
            ("user/sync", vec![("Action", "2"), ("Alias", &a), ("Name", "H"), ("Password", "hunter2hunter2")]),
            ("user/openwxtoken", vec![("alias", &a)]),
        ];
        for (ep, f) in &steps {
            api.ok(ep, f).await;
            let v = api.version().await;
            assert!(v > last, "{ep} did not bump the version");
            last = v;
        }
        srv.flush_oplog().await;
        let rows = srv.running().admin().oplog(&api.tenant.admin, 20).await.unwrap();
        let sync = rows.iter().find(|r| r.endpoint == "openapi/user/sync").expect("user/sync logged");
        assert_eq!(sync.errcode, 0);
        assert!(sync.params.contains("password=***"), "{}", sync.params);
        assert!(!sync.params.contains("hunter2"), "{}", sync.params);
        assert!(rows.iter().any(|r| r.endpoint == "openapi/party/sync"));
    }
}

backend_test! {
    async fn client_forms_of_section_8(srv) {
        let api = Api::new(&srv).await;
        // Query-only POST with raw unencoded UTF-8 department names and a leading slash.
        let url = srv.url("openapi/party/sync?Action=2&DstPath=/IT部/IT产品部");
        let r = srv.http.post(url).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        // Raw UTF-8 in a form body.
        let a = api.addr("ivy");
        let body = format!("Action=2&Alias={a}&Name=艾薇&Password=secret123&PartyPath=IT部/IT产品部");
        let r = srv.http.post(srv.url("openapi/user/sync")).bearer_auth(&api.token)
            .header("Content-Type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
        // Multipart, with the token in the body.
        let form = reqwest::multipart::Form::new()
            .text("access_token", api.token.clone()).text("partypath", "IT部");
        let r = srv.http.post(srv.url("openapi/party/list")).multipart(form).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), r#"{"Count":1,"List":[{"Value":"IT产品部"}]}"#);
        let v = api.json("partyuser/list", &[("PartyPath", "/IT部/IT产品部/")]).await;
        assert_eq!(v["List"][0]["Value"], a.as_str());
        let got = api.json("user/get", &[("Alias", &a)]).await;
        assert_eq!(got["Name"], "艾薇");
    }
}

backend_test! {
    async fn md5_passwords_are_accepted(srv) {
        let api = Api::new(&srv).await;
        let a = api.addr("jack");
        // md5("123456")
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "J"), ("Password", "E10ADC3949BA59ABBE56E057F20F883E"), ("Md5", "1")]).await;
        api.ok("user/sync", &[("Action", "3"), ("Alias", &a), ("Password", "newpassword"), ("Md5", "0")]).await;
        assert_eq!(api.user(&a).await.name, "J");
    }
}

backend_test! {
    async fn a_version_older_than_the_retained_log_gets_the_full_list(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("old", &[]).await;
        let v0 = api.version().await;
        let b = api.add_member("new", &[]).await;
        assert_eq!(api.changes_since(v0).await, [(2, b.clone())]);
        // Housekeeping once the retention period has passed after the last change prunes the
        // whole log (versions are Unix milliseconds). Tokens have expired by then too.
        let retention = i64::from(srv.config.changelog_retention_days) * 86_400_000;
        let last = i64::try_from(api.version().await).unwrap();
        srv.running().housekeep_at(last + 1 + retention).await;
        let api = Api::new(&srv).await;
        let mut full = api.changes_since(v0).await;
        full.sort();
        assert_eq!(full, [(2, b), (2, a)], "older than the log: every member as ADD");
    }
}

backend_test! {
    async fn cached_members_follow_every_change_here_and_elsewhere(srv) {
        // `user/get` answers from memory until the tenant's directory changes
        // (docs/PERFORMANCE.md). Changes through this server show on the very next call;
        // changes by another process (the CLI's import; on PostgreSQL, another node) on the next
        // call on SQLite and within one NOTIFY's delivery on PostgreSQL.
        let api = Api::new(&srv).await;
        let bob = api.addr("bob");
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "研发")]).await;
        api.ok("user/sync", &[
            ("Action", "2"), ("Alias", &bob), ("Name", "鲍勃"), ("Password", "secret123"),
            ("PartyPath", "研发"),
        ]).await;
        let get = || async { api.json("user/get", &[("Alias", &bob)]).await };
        assert_eq!(get().await["Name"], "鲍勃");
        assert_eq!(get().await["Name"], "鲍勃", "now from the cache");
        api.ok("user/sync", &[("Action", "3"), ("Alias", &bob), ("Name", "鲍勃二"), ("OpenType", "2")]).await;
        let after = get().await;
        assert_eq!((after["Name"].as_str(), after["OpenType"].as_i64()), (Some("鲍勃二"), Some(2)));
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "测试")]).await;
        api.ok("user/sync", &[("Action", "3"), ("Alias", &bob), ("PartyPath", "测试")]).await;
        assert_eq!(get().await["PartyList"]["List"][0]["Value"], "测试");

        let other = bizmail_server::tenants::Admin::open(&srv.config).await.unwrap();
        let importer = other.importer(&srv.tenant().admin).await.unwrap();
        let row = bizmail_server::directory::import::ImportRow {
            line: 1,
            alias: bob.clone(),
            name: "鲍勃三".into(),
            departments: vec!["测试".into()],
            ..Default::default()
        };
        let report = importer.apply_batch(&[row]).await.unwrap();
        assert_eq!(report.changed, 1, "{:?}", report.refused);
        let strict = srv.config.backend() != Some(bizmail_server::config::Backend::Postgres);
        let mut asks = 1;
        while get().await["Name"] != "鲍勃三" {
            assert!(!strict, "SQLite: the very next call sees another process's change");
            asks += 1;
            assert!(asks <= 200, "PostgreSQL: the change never came");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        other.close().await;
    }
}
