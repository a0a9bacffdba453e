//! `openapi/listen` against the real server on both backends (PROTOCOL.md §5): versions, notices
//! delivered at once and in order, nothing lost between polls, the grace period, unread notices,
//! several clients, tenant isolation, and the loop a real OA runs.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::mail::Changed;
use bizmail_testkit::{TestServer, backend_test};
use common::Api;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

async fn listen(api: &Api<'_>, ver: &str) -> serde_json::Value {
    let body = api.post("listen", &[("Ver", ver)]).await;
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

/// Delivers one message over SMTP.
async fn mail(srv: &TestServer, to: &str, subject: &str) {
    let message = format!(
        "From: \"Test\" <test@gzdev.com>
Subject: {subject}

body of {subject}"
    );
    common::deliver(srv, to, &message).await;
}

backend_test! {
    config = |c| c.poll_timeout_secs = 1;
    async fn versions(srv) {
        let api = Api::new(&srv).await;
        api.add_member("v", &[]).await;
        let v = api.version().await;
        let answer = listen(&api, "0").await;
        assert_eq!(answer, serde_json::json!({ "Ver": v.to_string() }), "Ver is a string here");
        assert_eq!(listen(&api, &(v - 1).to_string()).await["Ver"], v.to_string());
        assert_eq!(listen(&api, "not-a-number").await["Ver"], v.to_string());
        let start = Instant::now();
        assert_eq!(api.post("listen", &[("Ver", &v.to_string())]).await, r#"{"Ret":0}"#);
        assert!(start.elapsed() >= Duration::from_millis(900), "held until the poll timeout");
        assert_eq!(listen(&api, &(v + 1000).to_string()).await, serde_json::json!({"Ret": 0}));
    }
}

backend_test! {
    config = |c| c.poll_timeout_secs = 10;
    async fn a_held_poll_is_answered_the_moment_mail_arrives(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let v = api.version().await.to_string();
        // Become a client (first poll), then hold a poll while a mail arrives.
        let first = tokio::time::timeout(Duration::from_secs(1), listen(&api, &v)).await;
        assert!(first.is_err(), "nothing to say yet: the poll is held");
        let held = { let v = v.clone(); let api = &api; async move { listen(api, &v).await } };
        let sender = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            mail(&srv, &bob, "TestMail").await;
            Instant::now()
        };
        let (notice, sent_at) = tokio::join!(held, sender);
        assert!(sent_at.elapsed() < Duration::from_secs(2), "answered at once");
        let keys: Vec<&str> = notice.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["UserName", "MailId", "Sender", "Receiver", "Subject", "Summary", "NewCount"]);
        assert_eq!(notice["UserName"], bob.as_str());
        assert_eq!(notice["Receiver"], bob.as_str());
        assert_eq!(notice["Sender"], "\"Test\" <test@gzdev.com>");
        assert_eq!(notice["Subject"], "TestMail");
        assert_eq!(notice["Summary"], "body of TestMail");
        assert_eq!(notice["NewCount"], 1, "a JSON number here");
        assert!(!notice["MailId"].as_str().unwrap().is_empty());
    }
}

backend_test! {
    config = |c| c.poll_timeout_secs = 1;
    async fn mails_between_polls_are_all_delivered_in_order(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("a", &[]).await;
        let v = api.version().await.to_string();
        assert_eq!(listen(&api, &v).await, serde_json::json!({"Ret": 0}));
        for i in 0..5 {
            mail(&srv, &a, &format!("m{i}")).await;
        }
        for i in 0..5 {
            let n = listen(&api, &v).await;
            assert_eq!(n["Subject"], format!("m{i}"));
            assert_eq!(n["NewCount"], i + 1);
        }
        assert_eq!(listen(&api, &v).await, serde_json::json!({"Ret": 0}));
    }
}

backend_test! {
    config = |c| { c.poll_timeout_secs = 1; c.listen_grace_secs = 1; };
    async fn a_client_away_past_the_grace_period_misses_what_happened(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("g", &[]).await;
        let v = api.version().await.to_string();
        assert_eq!(listen(&api, &v).await, serde_json::json!({"Ret": 0}));
        mail(&srv, &a, "within").await;
        assert_eq!(listen(&api, &v).await["Subject"], "within");
        mail(&srv, &a, "while away").await;
        tokio::time::sleep(Duration::from_millis(2200)).await;
        assert_eq!(listen(&api, &v).await, serde_json::json!({"Ret": 0}), "offline: missed");
        mail(&srv, &a, "back").await;
        assert_eq!(listen(&api, &v).await["Subject"], "back");
    }
}

backend_test! {
    config = |c| c.poll_timeout_secs = 10;
    async fn unread_notices_follow_read_unread_and_delete(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("u", &[]).await;
        let v = api.version().await.to_string();
        let _ = tokio::time::timeout(Duration::from_millis(300), listen(&api, &v)).await;
        mail(&srv, &a, "one").await;
        mail(&srv, &a, "two").await;
        assert_eq!(listen(&api, &v).await["Subject"], "one");
        assert_eq!(listen(&api, &v).await["Subject"], "two");
        let boxes = srv.running().mailboxes();
        let owner = boxes.owner(&a).await.unwrap().expect("a's mailbox");
        assert_eq!((owner.tenant_id, owner.address.as_str()), (api.tenant.tenant_id, a.as_str()));
        let copies = boxes.list(&owner, 10, 0).await.unwrap();
        // A held poll receives the notice of a mark-read.
        let held = { let v = v.clone(); let api = &api; async move { listen(api, &v).await } };
        let change = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            boxes.mark(&owner, &copies[0].mail_id, true).await.unwrap()
        };
        let (notice, changed) = tokio::join!(held, change);
        assert_eq!(changed, Changed::Unread(1));
        assert_eq!(notice, serde_json::json!({"UserName": a, "NewCount": 1}));
        assert_eq!(boxes.mark(&owner, &copies[0].mail_id, true).await.unwrap(), Changed::Unchanged);
        assert_eq!(boxes.mark(&owner, &copies[0].mail_id, false).await.unwrap(), Changed::Unread(2));
        assert_eq!(listen(&api, &v).await["NewCount"], 2);
        assert_eq!(boxes.delete(&owner, &copies[1].mail_id).await.unwrap(), Changed::Unread(1));
        assert_eq!(listen(&api, &v).await["NewCount"], 1);
        assert_eq!(boxes.delete(&owner, "no-such-mail").await.unwrap(), Changed::NotFound);
        let n = api.json("mail/newcount", &[("Alias", &a)]).await;
        assert_eq!(n["NewCount"], "1");
    }
}

backend_test! {
    config = |c| c.poll_timeout_secs = 1;
    async fn every_client_gets_every_notice_and_tenants_see_only_their_own(srv) {
        let one = Api::new(&srv).await;
        let two = Api { srv: &srv, token: srv.token().await, tenant: one.tenant.clone(), client: srv.client() };
        let other = Api::other(&srv).await;
        let a = one.add_member("shared", &[]).await;
        let b = other.add_member("elsewhere", &[]).await;
        let (v1, v2) = (one.version().await.to_string(), other.version().await.to_string());
        for api in [&one, &two] {
            assert_eq!(listen(api, &v1).await, serde_json::json!({"Ret": 0}));
        }
        assert_eq!(listen(&other, &v2).await, serde_json::json!({"Ret": 0}));
        mail(&srv, &a, "for tenant one").await;
        mail(&srv, &b, "for tenant two").await;
        assert_eq!(listen(&one, &v1).await["Subject"], "for tenant one");
        assert_eq!(listen(&two, &v1).await["Subject"], "for tenant one");
        assert_eq!(listen(&one, &v1).await, serde_json::json!({"Ret": 0}));
        assert_eq!(listen(&other, &v2).await["Subject"], "for tenant two");
        assert_eq!(listen(&other, &v2).await, serde_json::json!({"Ret": 0}));
    }
}

backend_test! {
    config = |c| c.poll_timeout_secs = 1;
    async fn the_loop_a_real_oa_runs(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("oa1", &[]).await;
        // Start from nothing: listen with Ver=0, get the version, fetch the list from the old Ver.
        let mut held_ver = "0".to_owned();
        let first = listen(&api, &held_ver).await;
        let new_ver = first["Ver"].as_str().unwrap().to_owned();
        let list = api.json("user/list", &[("Ver", &held_ver)]).await;
        assert_eq!(list["List"][0]["Alias"], a.as_str());
        held_ver = new_ver;
        assert_eq!(listen(&api, &held_ver).await, serde_json::json!({"Ret": 0}));
        // A directory change: the next listen says so, user/list from the held Ver shows it.
        let b = api.add_member("oa2", &[]).await;
        let changed = listen(&api, &held_ver).await;
        let newer = changed["Ver"].as_str().unwrap().to_owned();
        let list = api.json("user/list", &[("Ver", &held_ver)]).await;
        assert_eq!(list["List"], serde_json::json!([{"Action": 2, "Alias": b}]));
        assert_eq!(list["Ver"].to_string(), newer);
        held_ver = newer;
        // New mail comes as notices.
        mail(&srv, &a, "for the OA").await;
        assert_eq!(listen(&api, &held_ver).await["Subject"], "for the OA");
        assert_eq!(listen(&api, &held_ver).await, serde_json::json!({"Ret": 0}));
    }
}

backend_test! {
    config = |c| c.poll_timeout_secs = 2;
    async fn polls_woken_together_share_one_read_yet_each_client_hears_every_notice_once(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("burst", &[]).await;
        let v = api.version().await.to_string();
        let mut clients = Vec::new();
        for _ in 0..6 {
            let token = srv.token().await;
            clients.push(Api { srv: &srv, token, tenant: api.tenant.clone(), client: srv.client() });
        }
        let first = futures_util::future::join_all(clients.iter().map(|c| listen(c, &v))).await;
        for answer in first {
            assert_eq!(answer, serde_json::json!({"Ret": 0}), "a new client starts at the head");
        }
        let subjects: Vec<String> = (0..5).map(|i| format!("burst {i}")).collect();
        let send = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            for s in &subjects {
                mail(&srv, &a, s).await;
            }
        };
        let listening = futures_util::future::join_all(clients.iter().map(|c| hear_all(c, &v, 5)));
        let (heard, ()) = tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(listening, send) })
            .await
            .expect("every client heard every mail");
        for all in heard {
            assert_eq!(all, subjects, "each notice exactly once per client");
        }
    }
}

/// Holds two polls of one client at once (its token racing itself), each polling again until the
/// client heard `n` notices; returns their subjects, sorted. Each poll's own must come in order.
async fn hear_all(c: &Api<'_>, v: &str, n: usize) -> Vec<String> {
    let heard = std::sync::Mutex::new(Vec::<String>::new());
    let lane = || async {
        let mut mine = Vec::new();
        while heard.lock().unwrap().len() < n {
            if let Some(s) = listen(c, v).await["Subject"].as_str() {
                mine.push(s.to_owned());
                heard.lock().unwrap().push(s.to_owned());
            }
        }
        mine
    };
    let (one, two) = tokio::join!(lane(), lane());
    for lane in [one, two] {
        let mut sorted = lane.clone();
        sorted.sort();
        assert_eq!(
            sorted, lane,
            "one poll after another, notices come in order"
        );
    }
    let mut all = heard.into_inner().unwrap();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_held_polls() {
    let srv = TestServer::builder(bizmail_testkit::Backend::Sqlite)
        .with_config(|c| c.poll_timeout_secs = 30)
        .start()
        .await;
    let api = Api::new(&srv).await;
    api.add_member("s", &[]).await;
    let v = api.version().await.to_string();
    let url = srv.url("openapi/listen");
    let http = srv.http.clone();
    let token = api.token.clone();
    let held = tokio::spawn(async move {
        let r = http
            .post(url)
            .bearer_auth(token)
            .form(&[("Ver", v.as_str())])
            .send()
            .await
            .unwrap();
        r.text().await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    srv.shutdown().await;
    assert_eq!(held.await.unwrap(), r#"{"Ret":0}"#);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_whose_client_disconnects_is_dropped() {
    let srv = TestServer::builder(bizmail_testkit::Backend::Sqlite)
        .with_config(|c| c.poll_timeout_secs = 60)
        .start()
        .await;
    let api = Api::new(&srv).await;
    api.add_member("d", &[]).await;
    let v = api.version().await.to_string();
    // A raw HTTP/1.1 client that sends a poll and then goes away.
    let mut s = tokio::net::TcpStream::connect(srv.base_url.trim_start_matches("http://"))
        .await
        .unwrap();
    let body = format!("Ver={v}");
    let req = format!(
        "POST /openapi/listen HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        api.token,
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while srv.running().held_polls() == 0 {
        assert!(Instant::now() < deadline, "the poll was never held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(3);
    while srv.running().held_polls() > 0 {
        assert!(Instant::now() < deadline, "the poll outlived its client");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

backend_test! {
    config = |c| c.poll_timeout_secs = 3;
    async fn two_polls_of_one_token_never_share_a_notice(srv) {
        let api = Api::new(&srv).await;
        let a = api.add_member("twice", &[]).await;
        let v = api.version().await.to_string();
        assert_eq!(listen(&api, &v).await, serde_json::json!({"Ret": 0}));
        mail(&srv, &a, "first").await;
        mail(&srv, &a, "second").await;
        let (x, y) = tokio::join!(listen(&api, &v), listen(&api, &v));
        let mut got = vec![x["Subject"].as_str().unwrap().to_owned(), y["Subject"].as_str().unwrap().to_owned()];
        got.sort();
        assert_eq!(got, ["first", "second"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_listen_connection_loses_no_wake_up() {
    // Two nodes on one PostgreSQL; node A's LISTEN connection is killed by the database. A poll
    // held on A must still be answered when mail arrives at node B: after reconnecting, A
    // re-wakes every poll, which re-reads the event log.
    let a = TestServer::builder(bizmail_testkit::Backend::Postgres)
        .with_config(|c| c.poll_timeout_secs = 30)
        .start()
        .await;
    let b = TestServer::builder(bizmail_testkit::Backend::Postgres)
        .second_node_of(&a)
        .start()
        .await;
    let api = Api::new(&a).await;
    let to = api.add_member("resilient", &[]).await;
    let v = api.version().await.to_string();
    let _ = tokio::time::timeout(Duration::from_millis(300), listen(&api, &v)).await;
    let held = listen(&api, &v);
    let disrupt = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The test's own connection to the database both nodes share.
        let pool = sqlx::PgPool::connect(&a.config.database_url).await.unwrap();
        let killed: i64 = sqlx::query_scalar(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        assert!(killed >= 1, "a LISTEN connection was terminated");
        mail(&b, &to, "after the outage").await;
        Instant::now()
    };
    let (notice, sent) = tokio::join!(held, disrupt);
    assert_eq!(notice["Subject"], "after the outage");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "not left to the poll timeout"
    );
}
