//! Every answer shape of the OpenApi, byte for byte, as insta snapshots shared by both backends:
//! key order, strings versus numbers and empty bodies are the heart of this protocol, and one
//! snapshot file per answer proves SQLite and PostgreSQL answer alike. Calls go through the typed
//! SDK (`bizmail-client`) that integrators use, whose types must also decode every answer.
//!
//! What varies from run to run is replaced before comparing: the tenant's random domain, tokens,
//! tickets, mail ids and versions. `INSTA_UPDATE=always cargo test --test answers` rewrites the
//! snapshots after a deliberate change; review the diff.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_client::{Client, ErrorCode, ListenAnswer, NewGroup, NewMember, Ver};
use bizmail_testkit::{TestServer, backend_test};

/// Compares `body` with the snapshot `name` (one file for both backends), after replacing what
/// varies between runs.
fn snap(srv: &TestServer, name: &str, body: &str) {
    let body = body.replace(&srv.tenant().domain, "corp.test");
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        filters => vec![
            (r#""(access_token)":"[A-Za-z0-9_-]+""#, r#""$1":"[token]""#),
            (r#""(auth_key|AuthKey)":"[0-9A-F]+""#, r#""$1":"[ticket]""#),
            (r#""MailId":"[^"]+""#, r#""MailId":"[mail id]""#),
            // A string in listen answers, a number in user/list: the snapshot keeps which.
            (r#""Ver":"\d{13,}""#, r#""Ver":"[ver]""#),
            (r#""Ver":\d{13,}"#, r#""Ver":[ver]"#),
        ],
    }, {
        insta::assert_snapshot!(name, body);
    });
}

/// The raw body of a call, and the call must succeed.
async fn raw(client: &Client, endpoint: &str, params: &[(&str, &str)]) -> String {
    client.call(endpoint, params).await.unwrap()
}

/// The raw body of a refused call.
async fn refused(srv: &TestServer, token: &str, endpoint: &str, params: &[(&str, &str)]) -> String {
    srv.call(token, &format!("openapi/{endpoint}"), params)
        .await
        .1
}

backend_test! {
    config = |c| c.poll_timeout_secs = 1;
    async fn every_answer_shape(srv) {
        let client = srv.client();
        let d = srv.tenant().domain.clone();
        let at = |local: &str| format!("{local}@{d}");

        // The token, in its two spellings of the request.
        let token = srv.form("cgi-bin/token", &[
            ("grant_type", "client_credentials"), ("client_id", &srv.tenant().admin), ("client_secret", &srv.tenant().key),
        ]).await;
        snap(&srv, "token", &token);

        // Directory writes answer an empty body; the typed calls say so too.
        client.party_add("研发/后台").await.unwrap();
        client.party_add("市场").await.unwrap();
        client.user_add(&NewMember {
            alias: at("bob"), name: "鲍勃".into(), password: "secret123".into(), gender: Some(1),
            position: Some("工程师".into()), tel: Some("62394".into()), ext_id: Some("100".into()),
            parties: vec!["研发/后台".into(), "市场".into()], slaves: vec![at("bb"), at("bo")],
            ..NewMember::default()
        }).await.unwrap();
        client.user_add(&NewMember { alias: at("amy"), name: "Amy".into(), password: "secret123".into(), ..NewMember::default() }).await.unwrap();
        client.group_add(&NewGroup { name: "All".into(), address: at("all"), status: bizmail_client::GroupStatus::List, members: vec![at("bob"), at("amy")] }).await.unwrap();
        assert_eq!(raw(&client, "group/addallowlist", &[("group_alias", &at("all")), ("allow_list", "boss@outside.example")]).await, "");

        let user_get = raw(&client, "user/get", &[("Alias", &at("bb"))]).await;
        snap(&srv, "user_get", &user_get);
        assert_eq!(client.user_get(&at("bb")).await.unwrap().alias, at("bob"));

        let full = raw(&client, "user/list", &[("Ver", "0")]).await;
        snap(&srv, "user_list_full", &full);
        let ver = client.user_list(None).await.unwrap().ver;
        client.user_delete(&at("amy")).await.unwrap();
        let since = raw(&client, "user/list", &[("Ver", &ver.to_string())]).await;
        snap(&srv, "user_list_since", &since);
        assert_eq!(client.user_list(Some(ver)).await.unwrap().count, 1);

        let check_params = [("email", at("bob")), ("email", at("bb")), ("email", at("all")), ("email", at("free")), ("email", "x@elsewhere.example".to_owned())];
        let check_params: Vec<(&str, &str)> = check_params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        snap(&srv, "user_check", &raw(&client, "user/check", &check_params).await);
        assert_eq!(client.user_check(&[&at("all")]).await.unwrap().list[0].kind, 3);

        snap(&srv, "party_list", &raw(&client, "party/list", &[("PartyPath", "")]).await);
        snap(&srv, "partyuser_list", &raw(&client, "partyuser/list", &[("PartyPath", "研发/后台")]).await);
        assert_eq!(client.party_users("市场").await.unwrap().count, 1);

        common::deliver(&srv, &at("bo"), "Subject: =?utf-8?B?5L2g5aW9?=\r\nFrom: \"Test\" <test@outside.example>\r\n\r\nhello there").await;
        snap(&srv, "mail_newcount", &raw(&client, "mail/newcount", &[("Alias", &at("bob"))]).await);
        assert_eq!(client.mail_new_count(&at("bob")).await.unwrap().new_count, "1");
        snap(&srv, "mail_authkey", &raw(&client, "mail/authkey", &[("Alias", &at("bob"))]).await);
        let ticket = client.mail_auth_key(&at("bob")).await.unwrap();
        assert_eq!(ticket.auth_key, ticket.auth_key_doc);
        assert!(client.sso_url(&at("bob"), &ticket.auth_key, None).contains("fun=bizopenssologin&method=bizauth&agent="));

        // listen: a newer version at once; then, with a cursor, idle, a new mail, an unread count.
        snap(&srv, "listen_ver", &raw(&client, "listen", &[("Ver", "0")]).await);
        let now = client.user_list(None).await.unwrap().ver.to_string();
        snap(&srv, "listen_idle", &raw(&client, "listen", &[("Ver", &now)]).await);
        common::deliver(&srv, &at("bob"), "Subject: second\r\nFrom: \"Test\" <test@outside.example>\r\n\r\nsecond mail").await;
        snap(&srv, "listen_newmail", &raw(&client, "listen", &[("Ver", &now)]).await);
        let boxes = srv.running().mailboxes();
        let owner = boxes.owner(&at("bob")).await.unwrap().unwrap();
        let newest = boxes.list(&owner, 1, 0).await.unwrap().remove(0);
        boxes.mark(&owner, &newest.mail_id, true).await.unwrap();
        let unread = raw(&client, "listen", &[("Ver", &now)]).await;
        snap(&srv, "listen_unread", &unread);
        assert!(matches!(serde_json::from_str::<ListenAnswer>(&unread).unwrap(), ListenAnswer::Unread(n) if n.new_count == 1));
        assert!(matches!(client.listen(Some(Ver(0))).await.unwrap(), ListenAnswer::Ver(_)));

        // Errors: the shape of §6, HTTP 200 by default.
        snap(&srv, "error_invalid_token", &refused(&srv, "nope", "user/get", &[("Alias", &at("bob"))]).await);
        let token = srv.token().await;
        snap(&srv, "error_user_not_found", &refused(&srv, &token, "user/get", &[("Alias", &at("nobody"))]).await);
        snap(&srv, "error_alias_exists", &refused(&srv, &token, "user/sync", &[("Action", "2"), ("Alias", &at("bb")), ("Name", "X"), ("Password", "secret123")]).await);
        snap(&srv, "error_unknown_endpoint", &refused(&srv, &token, "user/nothing", &[]).await);
        let e = client.user_get(&at("nobody")).await.unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::UserNotFound));
    }
}
