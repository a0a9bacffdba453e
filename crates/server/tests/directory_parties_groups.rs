//! Departments and mail groups over HTTP on both backends (PROTOCOL.md §7.5, §7.7), and tenant
//! isolation across every directory endpoint.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::backend_test;
use common::Api;

fn values(v: &serde_json::Value) -> Vec<String> {
    let list = v["List"].as_array().unwrap();
    assert_eq!(v["Count"].as_u64(), Some(list.len() as u64));
    list.iter()
        .map(|e| e["Value"].as_str().unwrap().to_owned())
        .collect()
}

backend_test! {
    async fn concurrent_adds_of_one_new_path_all_succeed(srv) {
        // Adding an existing department succeeds (§7.5), so the callers that lose a race for a
        // new path (on PostgreSQL their inserts collide) succeed too: none sees 1304 or 1313.
        let api = Api::new(&srv).await;
        let adds = (0..8).map(|_| api.post("party/sync", &[("Action", "2"), ("DstPath", "竞争/a/b")]));
        let answers = futures_util::future::join_all(adds).await;
        assert!(answers.iter().all(String::is_empty), "{answers:?}");
        assert_eq!(api.parties("竞争/a").await, ["b"]);
    }
}

backend_test! {
    async fn party_add_creates_ancestors_and_is_idempotent(srv) {
        let api = Api::new(&srv).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "/研发/后台/存储/")]).await;
        api.ok("party/sync", &[("action", "2"), ("dstpath", "研发/后台/存储")]).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "研发/前端")]).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "Admin")]).await;
        // The root, spelled every way.
        for root in [vec![("PartyPath", "")], vec![("PartyPath", "/")], vec![]] {
            assert_eq!(values(&api.json("party/list", &root).await), ["Admin", "研发"], "{root:?}");
        }
        let r = srv.http.post(srv.url("openapi/party/list?PartyPath")).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), r#"{"Count":2,"List":[{"Value":"Admin"},{"Value":"研发"}]}"#);
        assert_eq!(api.parties("研发").await, ["前端", "后台"]);
        assert_eq!(api.parties("研发/后台/存储").await, Vec::<String>::new());
        assert_eq!(api.err("party/list", &[("PartyPath", "nowhere")]).await, "1310");
        assert_eq!(api.err("partyuser/list", &[("PartyPath", "nowhere")]).await, "1310");
        assert_eq!(api.err("party/sync", &[("Action", "2"), ("DstPath", "a/b/c/d/e/f")]).await, "1311");
        let long = "名".repeat(65);
        assert_eq!(api.err("party/sync", &[("Action", "2"), ("DstPath", &long)]).await, "1311");
        assert_eq!(api.err("party/sync", &[("Action", "2"), ("DstPath", "a//b")]).await, "1311");
        assert_eq!(api.err("party/sync", &[("Action", "2"), ("DstPath", "/")]).await, "1001");
        assert_eq!(api.err("party/sync", &[("Action", "5"), ("DstPath", "x")]).await, "1001");
    }
}

backend_test! {
    async fn party_delete_refuses_non_empty(srv) {
        let api = Api::new(&srv).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "A/B")]).await;
        assert_eq!(api.err("party/sync", &[("Action", "1"), ("DstPath", "A")]).await, "1312");
        let m = api.add_member("kim", &["A/B"]).await;
        assert_eq!(api.err("party/sync", &[("Action", "1"), ("DstPath", "A/B")]).await, "1312");
        api.ok("user/sync", &[("Action", "3"), ("Alias", &m), ("PartyPath", "/")]).await;
        api.ok("party/sync", &[("Action", "1"), ("DstPath", "A/B")]).await;
        api.ok("party/sync", &[("Action", "1"), ("DstPath", "A")]).await;
        assert_eq!(api.err("party/sync", &[("Action", "1"), ("DstPath", "A")]).await, "1310");
        assert_eq!(api.parties("").await, Vec::<String>::new());
        assert_eq!(api.party_members("").await, [m]);
    }
}

backend_test! {
    async fn party_move_takes_the_subtree_and_logs_its_members(srv) {
        let api = Api::new(&srv).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "Eng/Backend/Storage")]).await;
        api.ok("party/sync", &[("Action", "2"), ("DstPath", "Ops")]).await;
        let a = api.add_member("lee", &["Eng/Backend"]).await;
        let b = api.add_member("max", &["Eng/Backend/Storage", "Ops"]).await;
        let c = api.add_member("ned", &["Ops"]).await;
        let v0 = api.version().await;
        api.ok("party/sync", &[("Action", "3"), ("SrcPath", "Eng/Backend"), ("DstPath", "Platform/Core")]).await;
        assert_eq!(api.parties("Eng").await, Vec::<String>::new());
        assert_eq!(api.parties("Platform/Core").await, ["Storage"]);
        assert_eq!(api.party_members("Platform/Core/Storage").await, std::slice::from_ref(&b));
        let got = api.json("user/get", &[("Alias", &b)]).await;
        assert_eq!(values(&got["PartyList"]), ["Platform/Core/Storage", "Ops"]);
        let mut changed = api.changes_since(v0).await;
        changed.sort();
        assert_eq!(changed, [(3, a.clone()), (3, b.clone())]);
        let _ = c;
        // Onto an existing department, into its own subtree, from nowhere.
        assert_eq!(api.err("party/sync", &[("Action", "3"), ("SrcPath", "Platform"), ("DstPath", "Ops")]).await, "1313");
        assert_eq!(api.err("party/sync", &[("Action", "3"), ("SrcPath", "Platform"), ("DstPath", "Platform/Core/X")]).await, "1313");
        assert_eq!(api.err("party/sync", &[("Action", "3"), ("SrcPath", "Nowhere"), ("DstPath", "Y")]).await, "1310");
        // A move that would make the subtree deeper than 5 levels.
        assert_eq!(api.err("party/sync", &[("Action", "3"), ("SrcPath", "Platform"), ("DstPath", "a/b/c/d")]).await, "1311");
        // A rename in place.
        api.ok("party/sync", &[("Action", "3"), ("srcpath", "Ops"), ("dstpath", "Operations")]).await;
        assert_eq!(api.party_members("Operations").await, [b, c]);
    }
}

backend_test! {
    async fn groups_members_nesting_and_cycles(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("olga", &[]).await;
        let b = api.add_member("pete", &[]).await;
        let pa = api.addr("pa");
        api.ok("user/sync", &[("Action", "3"), ("Alias", &b), ("Slave", &pa)]).await;
        let g1 = api.addr("all-hands");
        let g2 = api.addr("leads");
        // members as repeats, comma-separated, and in array forms.
        api.ok("group/add", &[("group_name", "All hands"), ("group_admin", &g1), ("status", "all"), ("members[]", &a), ("members[]", &pa)]).await;
        let both = format!("{a},{b}");
        api.ok("group/add", &[("group_name", "Leads"), ("group_admin", &g2), ("status", "inner"), ("members", &both)]).await;
        api.ok("group/addmember", &[("group_alias", &g1), ("members[0]", &g2)]).await;
        api.ok("group/addmember", &[("group_alias", &g1), ("members", &a)]).await; // present: fine
        assert_eq!(api.err("group/addmember", &[("group_alias", &g2), ("members", &g1)]).await, "1324");
        assert_eq!(api.err("group/addmember", &[("group_alias", &g1), ("members", &g1)]).await, "1324");
        assert_eq!(api.err("group/addmember", &[("group_alias", &g1), ("members", &api.addr("ghost"))]).await, "1301");
        assert_eq!(api.err("group/addmember", &[("group_alias", &api.addr("nogroup")), ("members", &a)]).await, "1320");
        api.ok("group/deletemember", &[("group_alias", &g1), ("members", &g2)]).await;
        api.ok("group/deletemember", &[("group_alias", &g1), ("members", &g2)]).await; // absent: fine
        api.ok("group/addmember", &[("group_alias", &g2), ("members", &g1)]).await; // no cycle any more
        assert_eq!(api.err("group/deletemember", &[("group_alias", &g1), ("members", &api.addr("ghost"))]).await, "1301");
        // Refusals of group/add.
        assert_eq!(api.err("group/add", &[("group_name", "x"), ("group_admin", &a), ("status", "all")]).await, "1304");
        assert_eq!(api.err("group/add", &[("group_name", "x"), ("group_admin", &api.addr("x")), ("status", "public")]).await, "1321");
        assert_eq!(api.err("group/add", &[("group_name", "x"), ("group_admin", "x@elsewhere.example"), ("status", "all")]).await, "1302");
        assert_eq!(api.err("group/add", &[("group_name", "x"), ("group_admin", &api.addr("x")), ("status", "all"), ("members", &api.addr("ghost"))]).await, "1301");
        assert_eq!(api.err("group/add", &[("group_admin", &api.addr("x")), ("status", "all")]).await, "1001");
        // A refused group/add left nothing behind.
        assert_eq!(api.check(&[&api.addr("x")]).await[0].1, 0);
        // Delete.
        api.ok("group/delete", &[("group_alias", &g1)]).await;
        assert_eq!(api.err("group/delete", &[("group_alias", &g1)]).await, "1320");
        assert_eq!(api.check(&[&g1]).await[0].1, 0);
    }
}

backend_test! {
    async fn allow_lists(srv) {
        let api = Api::new(&srv).await;
        let g = api.addr("board");
        let open = api.addr("open");
        api.ok("group/add", &[("group_name", "Board"), ("group_admin", &g), ("status", "list")]).await;
        api.ok("group/add", &[("group_name", "Open"), ("group_admin", &open), ("status", "all")]).await;
        assert_eq!(api.err("group/addallowlist", &[("group_alias", &open), ("allow_list", "x@y.com")]).await, "1322");
        assert_eq!(api.err("group/delallowlist", &[("group_alias", &open), ("allow_list", "x@y.com")]).await, "1322");
        api.ok("group/addallowlist", &[("group_alias", &g), ("allow_list", "ceo@partner.example,cfo@partner.example")]).await;
        api.ok("group/addallowlist", &[("group_alias", &g), ("allow_list", "coo@partner.example"), ("allow_list", "ceo@partner.example")]).await;
        assert_eq!(api.err("group/addallowlist", &[("group_alias", &g), ("allow_list", "not-an-address")]).await, "1302");
        assert_eq!(api.err("group/addallowlist", &[("group_alias", &g), ("allow_list", "")]).await, "1001");
        api.ok("group/delallowlist", &[("group_alias", &g), ("allow_list", "cfo@partner.example")]).await;
        assert_eq!(
            api.err("group/delallowlist", &[("group_alias", &g), ("allow_list", "ceo@partner.example,coo@partner.example")]).await,
            "1323"
        );
        // Nothing was removed by the refused call: removing one still works.
        api.ok("group/delallowlist", &[("group_alias", &g), ("allow_list", "coo@partner.example")]).await;
        assert_eq!(api.err("group/delallowlist", &[("group_alias", &g), ("allow_list", "ceo@partner.example")]).await, "1323");
        assert_eq!(api.err("group/addallowlist", &[("group_alias", &api.addr("none")), ("allow_list", "a@b.com")]).await, "1320");
    }
}

backend_test! {
    async fn tenants_see_and_change_nothing_of_each_other(srv) {
        let a = Api::new(&srv).await;
        let b = Api::other(&srv).await;
        b.ok("party/sync", &[("Action", "2"), ("DstPath", "Secret")]).await;
        let bm = b.add_member("victim", &["Secret"]).await;
        let bs = b.addr("victim2");
        b.ok("user/sync", &[("Action", "3"), ("Alias", &bm), ("Slave", &bs)]).await;
        let bg = b.addr("bgroup");
        b.ok("group/add", &[("group_name", "B"), ("group_admin", &bg), ("status", "list"), ("members", &bm)]).await;
        b.ok("group/addallowlist", &[("group_alias", &bg), ("allow_list", "x@y.com")]).await;
        let before = b.post("user/get", &[("Alias", &bm)]).await;
        let b_ver = b.version().await;

        // Every endpoint, with tenant A's token against B's directory.
        assert_eq!(a.err("user/get", &[("Alias", &bm)]).await, "1301");
        assert_eq!(a.err("user/get", &[("Alias", &bs)]).await, "1301");
        assert_eq!(a.err("user/sync", &[("Action", "3"), ("Alias", &bm), ("Name", "pwned")]).await, "1301");
        assert_eq!(a.err("user/sync", &[("Action", "1"), ("Alias", &bm)]).await, "1301");
        assert_eq!(a.err("user/sync", &[("Action", "2"), ("Alias", &b.addr("new")), ("Name", "x"), ("Password", "secret123")]).await, "1302");
        assert_eq!(a.err("user/swapalias", &[("alias", &bm), ("slavealias", &bs)]).await, "1301");
        assert_eq!(a.err("user/openwxtoken", &[("alias", &bm)]).await, "1301");
        assert_eq!(a.err("user/closewxtoken", &[("alias", &bm)]).await, "1301");
        assert_eq!(a.err("party/list", &[("PartyPath", "Secret")]).await, "1310");
        assert_eq!(a.err("partyuser/list", &[("PartyPath", "Secret")]).await, "1310");
        assert_eq!(a.err("party/sync", &[("Action", "1"), ("DstPath", "Secret")]).await, "1310");
        assert_eq!(a.err("party/sync", &[("Action", "3"), ("SrcPath", "Secret"), ("DstPath", "Mine")]).await, "1310");
        assert_eq!(a.err("group/delete", &[("group_alias", &bg)]).await, "1320");
        assert_eq!(a.err("group/addmember", &[("group_alias", &bg), ("members", &bm)]).await, "1320");
        assert_eq!(a.err("group/deletemember", &[("group_alias", &bg), ("members", &bm)]).await, "1320");
        assert_eq!(a.err("group/addallowlist", &[("group_alias", &bg), ("allow_list", "z@y.com")]).await, "1320");
        assert_eq!(a.err("group/delallowlist", &[("group_alias", &bg), ("allow_list", "x@y.com")]).await, "1320");
        assert_eq!(a.err("group/add", &[("group_name", "x"), ("group_admin", &b.addr("g2")), ("status", "all")]).await, "1302");
        let mine = a.addr("mine");
        assert_eq!(a.err("group/add", &[("group_name", "x"), ("group_admin", &mine), ("status", "all"), ("members", &bm)]).await, "1301");
        let check = a.json("user/check", &[("email", &bm), ("email", &bs), ("email", &bg)]).await;
        for i in 0..3 {
            assert_eq!(check["List"][i]["Type"], -1);
        }
        assert_eq!(a.json("user/list", &[("Ver", "0")]).await["Count"], 0);
        assert!(a.json("party/list", &[]).await["List"].as_array().unwrap().is_empty());
        assert!(a.json("partyuser/list", &[]).await["List"].as_array().unwrap().is_empty());
        // B is untouched.
        assert_eq!(b.post("user/get", &[("Alias", &bm)]).await, before);
        assert_eq!(b.version().await, b_ver);
    }
}
