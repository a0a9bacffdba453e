//! The operation log as an audit trail that cannot be abused, and text with control characters,
//! on both backends: strangers' calls are counted, not stored; values are capped; a NUL in one
//! call's parameters neither fails that call nor drops anyone else's row; department names and
//! mail fields never hold control characters.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_protocol::ErrorCode;
use bizmail_testkit::{Backend, backend_test, error_body};
use common::Api;

backend_test! {
    async fn strangers_are_not_stored_and_values_are_capped(srv) {
        let api = Api::new(&srv).await;
        let big = "x".repeat(300_000);
        let db_file = srv.config.data_dir.join("bizmail.sqlite");
        let size = || std::fs::metadata(&db_file).map(|m| m.len()).unwrap_or(0);
        srv.flush_oplog().await;
        let before = size();
        for _ in 0..20 {
            let (_, body) = srv.call("no-such-token", "openapi/bizmail/ping", &[("x", &big)]).await;
            assert_eq!(body, error_body(ErrorCode::InvalidToken));
        }
        srv.flush_oplog().await;
        if srv.config.backend() == Some(Backend::Sqlite) {
            // 6 MB of strangers' parameters left (next to) nothing behind.
            assert!(size() < before + 1_000_000, "{before} -> {}", size());
        }
        // A tenant's own call is logged, its values capped and marked.
        api.ok("bizmail/ping", &[("x", &big)]).await;
        srv.flush_oplog().await;
        let rows = srv.running().admin().oplog(&api.tenant.admin, 1).await.unwrap();
        assert_eq!(rows[0].endpoint, "openapi/bizmail/ping");
        assert!(rows[0].params.len() < 400 && rows[0].params.ends_with("…(cut)"), "{}", rows[0].params);
    }
}

backend_test! {
    async fn a_nul_in_parameters_fails_nothing_and_drops_nothing(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("nul", &[]).await;
        // An unknown parameter with a NUL: the call succeeds (it was 1002 on PostgreSQL), and
        // the log line shows the NUL escaped.
        api.ok("user/sync", &[("Action", "3"), ("Alias", &a), ("Name", "Nul"), ("Status", "x\0")]).await;
        srv.flush_oplog().await;
        let rows = srv.running().admin().oplog(&api.tenant.admin, 1).await.unwrap();
        assert!(rows[0].params.contains("status=x%00"), "{}", rows[0].params);
        // Concurrent calls, some with a NUL: every one of them is logged (a batch with a bad
        // row used to lose the others on PostgreSQL).
        let calls = (0..12).map(|i| {
            let note = if i % 4 == 0 { "a\0b" } else { "plain" };
            let a = a.clone();
            let api = &api;
            async move { api.json("mail/authkey", &[("Alias", &a), ("note", note)]).await }
        });
        let answers = futures_util::future::join_all(calls).await;
        assert!(answers.iter().all(|v| v["auth_key"].is_string()), "{answers:?}");
        srv.flush_oplog().await;
        let rows = srv.running().admin().oplog(&api.tenant.admin, 50).await.unwrap();
        assert_eq!(rows.iter().filter(|r| r.endpoint == "openapi/mail/authkey").count(), 12);
    }
}

backend_test! {
    async fn control_characters_are_refused_in_department_names(srv) {
        let api = Api::new(&srv).await;
        for bad in ["a\0b", "a\nb", "a\rb", "a\x1b[31mb", "ok/a\u{7f}"] {
            let code = api.err("party/sync", &[("Action", "2"), ("DstPath", bad)]).await;
            assert_eq!(code, "1311", "{bad:?}");
        }
        assert!(api.parties("").await.is_empty(), "nothing was created");
        // A member field with one is refused the same way (1306), as before.
        let code = api.err("user/sync", &[("Action", "2"), ("Alias", &api.addr("c")), ("Name", "a\0b"), ("Password", "secret123")]).await;
        assert_eq!(code, "1306");
    }
}

backend_test! {
    async fn mail_with_nul_or_escapes_in_its_headers_is_stored(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("headers", &[]).await;
        // `=?utf-8?B?YQBi?=` decodes to "a\0b"; a raw NUL and an escape sequence in the From line.
        // All were 451 forever on PostgreSQL; the fields are stored without control characters.
        common::deliver(&srv, &a, "Subject: =?utf-8?B?YQBi?=\r\nFrom: \"Eve\x1b[0m\" <eve@outside.example>\r\n\r\nbody").await;
        common::deliver(&srv, &a, "Subject: raw\0nul\r\n\r\nbody").await;
        let boxes = srv.running().mailboxes();
        let owner = boxes.owner(&a).await.unwrap().unwrap();
        let mut subjects: Vec<String> = boxes.list(&owner, 10, 0).await.unwrap().into_iter().map(|c| c.subject).collect();
        subjects.sort();
        assert_eq!(subjects, ["ab", "rawnul"]);
        assert_eq!(api.new_count(&a).await, "2");
    }
}

backend_test! {
    config = |c| { c.oplog_retention_days = 1; };
    async fn the_operation_log_is_pruned_after_its_retention(srv) {
        let api = Api::new(&srv).await;
        api.ok("bizmail/ping", &[]).await;
        srv.flush_oplog().await;
        let admin = srv.running().admin();
        assert!(!admin.oplog(&api.tenant.admin, 10).await.unwrap().is_empty());
        let later = rows_newest_ms(&srv, &api).await + 86_400_000 + 1;
        srv.running().housekeep_at(later).await;
        assert!(admin.oplog(&api.tenant.admin, 10).await.unwrap().is_empty());
    }
}

async fn rows_newest_ms(srv: &bizmail_testkit::TestServer, api: &Api<'_>) -> i64 {
    let rows = srv
        .running()
        .admin()
        .oplog(&api.tenant.admin, 1)
        .await
        .unwrap();
    rows[0].at_ms
}
