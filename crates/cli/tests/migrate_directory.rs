//! `bizmail migrate directory` with bizmail's own newer API as the source (a second real server
//! standing in for Exmail): departments with their order, members with aliases, positions,
//! mobiles and enabled state, a mail group, a tag; written into another store's tenant for the
//! same domain on both backends; run again (nothing changes), after a change at the source (only
//! that changes), with a new member and single sign-on access; a wrong secret is reported without
//! being printed.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod migrate_common;

use bizmail_server::tenants::NewTenant;
use bizmail_testkit::{TestServer, backend_test};
use migrate_common::{bizmail_env, cgi, store_args};
use serde_json::json;

backend_test! {
    async fn a_directory_moves_in_and_a_second_run_changes_nothing(srv) {
        // The source: departments, members, a group and a tag made through its newer API.
        let source = TestServer::start(bizmail_testkit::Backend::Sqlite).await;
        let d = source.tenant().domain.clone();
        let tok = source.corp_token("directory").await;
        let rd = cgi(&source, &tok, "department/create", json!({"name": "研发部", "parentid": 1, "order": 2})).await["id"].clone();
        let backend = cgi(&source, &tok, "department/create", json!({"name": "后端", "parentid": rd})).await["id"].clone();
        let market = cgi(&source, &tok, "department/create", json!({"name": "市场部", "parentid": 1, "order": 1})).await["id"].clone();
        cgi(&source, &tok, "user/create", json!({"userid": format!("ann@{d}"), "name": "安妮",
            "department": [backend], "password": "secret123", "position": "工程师",
            "mobile": "13800000000", "gender": "2", "slaves": [format!("a@{d}")]})).await;
        cgi(&source, &tok, "user/create", json!({"userid": format!("bo@{d}"), "name": "Bo",
            "department": [market, rd], "password": "secret123"})).await;
        cgi(&source, &tok, "user/update", json!({"userid": format!("bo@{d}"), "enable": 0})).await;
        cgi(&source, &tok, "user/create", json!({"userid": format!("cy@{d}"), "name": "Cy",
            "department": [1], "password": "secret123", "extid": "E7"})).await;
        cgi(&source, &tok, "group/create", json!({"groupid": format!("all@{d}"), "groupname": "全体",
            "userlist": [format!("ann@{d}")], "department": [market], "allow_type": 1})).await;
        let tag = cgi(&source, &tok, "tag/create", json!({"tagname": "经理"})).await["tagid"].clone();
        cgi(&source, &tok, "tag/addtagusers", json!({"tagid": tag, "userlist": [format!("ann@{d}")], "partylist": [rd]})).await;

        // The target: a tenant for the same domain in the store under test.
        let admin = srv.running().admin();
        let mut new = NewTenant { domains: vec![d.clone()], admin: "mover".into(), ..NewTenant::default() };
        new.admin_password = Some("mover-password".into());
        admin.create_tenant(new).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let passwords = dir.path().join("passwords.csv");
        let passwords_arg = passwords.display().to_string();
        let secret = source.tenant().corp_secret("directory").to_owned();
        let groups = format!("all@{d}");
        let args = ["migrate", "directory", "--from-exmail", "--corpid", &source.tenant().corp_id,
            "--base-url", &source.base_url, "--admin", "mover", "--access", "password",
            "--passwords", &passwords_arg, "--groups", &groups];
        let store = store_args(&srv);
        let env = [("EXMAIL_SECRET", secret.as_str())];
        let out = bizmail_env(&args, &store, &env).await;
        assert!(out.ok, "{}", out.text);
        for line in ["departments: 3 created, 0 changed, 0 unchanged, 0 failed",
            "members: 3 created, 0 changed, 0 unchanged, 0 failed",
            "groups: 1 created, 0 changed, 0 unchanged, 0 failed",
            "tags: 1 created, 0 changed, 0 unchanged, 0 failed"] {
            assert!(out.text.contains(line), "{line}\n{}", out.text);
        }
        assert!(!out.text.contains(&secret));
        // Generated passwords went to the file (owner only), never to the terminal.
        use std::os::unix::fs::PermissionsExt as _;
        let written = std::fs::read_to_string(&passwords).unwrap();
        assert_eq!(written.lines().count(), 3, "{written}");
        assert_eq!(std::fs::metadata(&passwords).unwrap().permissions().mode() & 0o777, 0o600);
        let ann_password = written.lines().find(|l| l.starts_with("ann@")).unwrap().split(',').nth(1).unwrap();
        assert!(!out.text.contains(ann_password));

        // What arrived, read through the target's own newer API rules.
        let here = admin.corp_directory("mover").await.unwrap();
        let ann = here.call("user/get", json!({"userid": format!("ann@{d}")})).await.unwrap();
        assert_eq!((ann["name"].as_str(), ann["position"].as_str(), ann["mobile"].as_str()),
            (Some("安妮"), Some("工程师"), Some("13800000000")));
        assert_eq!(ann["slaves"], json!([format!("a@{d}")]));
        assert_eq!(ann["cpwd_login"], 1);
        let depts = here.call("department/list", json!({"id": 1})).await.unwrap();
        let names: Vec<(String, i64)> = depts["department"].as_array().unwrap().iter()
            .map(|x| (x["name"].as_str().unwrap().to_owned(), x["order"].as_i64().unwrap())).collect();
        assert!(names.contains(&("研发部".into(), 2)) && names.contains(&("市场部".into(), 1)), "{names:?}");
        let backend_here = depts["department"].as_array().unwrap().iter().find(|x| x["name"] == "后端").unwrap();
        assert_eq!(ann["department"], json!([backend_here["id"]]));
        let bo = here.call("user/get", json!({"userid": format!("bo@{d}")})).await.unwrap();
        assert_eq!(bo["enable"], 0);
        assert_eq!(bo["department"].as_array().unwrap().len(), 2);
        let group = here.call("group/get", json!({"groupid": format!("all@{d}")})).await.unwrap();
        assert_eq!((group["groupname"].as_str(), group["allow_type"].as_i64()), (Some("全体"), Some(1)));
        let tags = here.call("tag/list", json!({})).await.unwrap();
        assert_eq!(tags["taglist"][0]["tagname"], "经理");

        // Again: nothing changes.
        let out = bizmail_env(&args, &store, &env).await;
        assert!(out.ok, "{}", out.text);
        for line in ["departments: 0 created, 0 changed, 3 unchanged, 0 failed",
            "members: 0 created, 0 changed, 3 unchanged, 0 failed",
            "groups: 0 created, 0 changed, 1 unchanged, 0 failed",
            "tags: 0 created, 0 changed, 1 unchanged, 0 failed"] {
            assert!(out.text.contains(line), "{line}\n{}", out.text);
        }
        assert_eq!(std::fs::read_to_string(&passwords).unwrap(), written);

        // A change at the source: only it is copied.
        cgi(&source, &tok, "user/update", json!({"userid": format!("cy@{d}"), "position": "经理"})).await;
        let out = bizmail_env(&args, &store, &env).await;
        assert!(out.text.contains("members: 0 created, 1 changed, 2 unchanged, 0 failed"), "{}", out.text);
        let cy = here.call("user/get", json!({"userid": format!("cy@{d}")})).await.unwrap();
        assert_eq!(cy["position"], "经理");

        // A member new at the source, with the default access: single sign-on only, no password
        // generated (the passwords file is as it was).
        cgi(&source, &tok, "user/create", json!({"userid": format!("di@{d}"), "name": "Di",
            "department": [market], "password": "secret123"})).await;
        let sso_args: Vec<&str> = args.iter().copied().filter(|a| !["--access", "password", "--passwords", passwords_arg.as_str()].contains(a)).collect();
        let out = bizmail_env(&sso_args, &store, &env).await;
        assert!(out.text.contains("members: 1 created, 0 changed, 3 unchanged, 0 failed"), "{}", out.text);
        assert_eq!(std::fs::read_to_string(&passwords).unwrap(), written);
        let di = here.call("user/get", json!({"userid": format!("di@{d}")})).await.unwrap();
        assert_eq!((di["name"].as_str(), di["cpwd_login"].as_i64()), (Some("Di"), Some(0)));

        // A wrong secret: a clear error, and the secret is not in it.
        let out = bizmail_env(&args, &store, &[("EXMAIL_SECRET", "not-the-secret-42")]).await;
        assert!(!out.ok);
        assert!(out.text.contains("gettoken") && out.text.contains("40001"), "{}", out.text);
        assert!(!out.text.contains("not-the-secret-42"), "{}", out.text);
    }
}
