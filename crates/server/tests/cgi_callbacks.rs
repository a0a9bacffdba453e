//! The new-mail callbacks (EXMAIL_API.md §4.7) through the real server on both backends, against
//! a receiver written here as WeCom's SDKs behave: it checks every signature, decrypts, checks the
//! corpid that ends each plaintext, and reads the query as Python's `parse_qs` would (a raw `+`
//! is a space). Covered: the URL check, one Mail notice per mail, UnRead notices, retries, giving
//! up, a restart with notices waiting, two nodes sending each notice once, and the test notice.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use bizmail_protocol::cgi::crypto::{self, CallbackKey};
use bizmail_server::Config;
use bizmail_server::callbacks::{CallbackError, CallbackStatus};
use bizmail_server::mail::Changed;
use bizmail_testkit::{Backend, TestServer, backend_test};
use common::Api;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// WeCom's sample EncodingAESKey and a Token, as a tenant would paste them.
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const TOKEN: &str = "QDG6eKtoken";

/// Quick polls and 300 ms retries, so a test sees the whole retry schedule in about a second.
fn fast(c: &mut Config) {
    c.callback_poll_ms = 100;
    c.callback_retry_ms = vec![300, 300, 300];
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// URL checks answered.
    checks: usize,
    /// Every notice POSTed with a good signature and corpid, as plaintext, in arrival order
    /// (whatever the receiver answered).
    notices: Vec<String>,
    /// Anything a real receiver would have refused.
    problems: Vec<String>,
}

struct Shared {
    key: CallbackKey,
    corp_id: String,
    /// Answer the URL check with something other than the echo.
    wrong_echo: AtomicBool,
    /// Statuses for the next notices; 200 once empty.
    answers: Mutex<VecDeque<u16>>,
    seen: Mutex<Seen>,
}

/// A callback receiver on loopback.
struct Receiver {
    url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    async fn start(corp_id: &str) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cb", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            key: CallbackKey::from_encoding_aes_key(KEY).unwrap(),
            corp_id: corp_id.to_owned(),
            wrong_echo: AtomicBool::new(false),
            answers: Mutex::default(),
            seen: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/cb", get(check).post(notice))
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Receiver {
            url,
            shared,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Goes down: the port is closed and kept connections end.
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    fn answer(&self, statuses: &[u16]) {
        self.shared.answers.lock().unwrap().extend(statuses);
    }

    fn notices(&self) -> Vec<String> {
        let seen = self.shared.seen.lock().unwrap();
        assert!(seen.problems.is_empty(), "{:?}", seen.problems);
        seen.notices.clone()
    }

    fn checks(&self) -> usize {
        self.shared.seen.lock().unwrap().checks
    }

    /// Waits until `n` notices arrived (at most 10 s), then returns them all.
    async fn wait_for(&self, n: usize) -> Vec<String> {
        let start = Instant::now();
        loop {
            let got = self.notices();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{} of {n} notices arrived: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asserts that nothing more than `n` notices arrives within a while.
    async fn stays_at(&self, n: usize) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let got = self.notices();
        assert_eq!(got.len(), n, "{got:?}");
        got
    }
}

/// The URL check: the echo decrypted, as the SDKs answer it.
async fn check(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    let mut seen = s.seen.lock().unwrap();
    seen.checks += 1;
    let got = |name: &str| q.get(name).cloned().unwrap_or_default();
    let echostr = got("echostr");
    if crypto::signature(TOKEN, &got("timestamp"), &got("nonce"), &echostr) != got("msg_signature")
    {
        seen.problems.push(format!("bad check signature: {q:?}"));
        return (StatusCode::FORBIDDEN, String::new());
    }
    check_nonce(&mut seen, &got("nonce"), &got("timestamp"));
    match s.key.decrypt(&echostr) {
        Ok((echo, corp)) if corp == s.corp_id => {
            if s.wrong_echo.load(Ordering::SeqCst) {
                (StatusCode::OK, format!("{echo}0"))
            } else {
                (StatusCode::OK, format!("{echo}\n"))
            }
        }
        other => {
            seen.problems.push(format!("bad echostr: {other:?}"));
            (StatusCode::BAD_REQUEST, String::new())
        }
    }
}

/// A notice: signature over the `<Encrypt>` text, the envelope's corpid, the plaintext's corpid.
async fn notice(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: String,
) -> StatusCode {
    let mut seen = s.seen.lock().unwrap();
    let got = |name: &str| q.get(name).cloned().unwrap_or_default();
    let envelope = format!(
        "<xml><CorpID><![CDATA[{}]]></CorpID><AgentID><![CDATA[exmail]]></AgentID><Encrypt>",
        s.corp_id
    );
    if !body.starts_with(&envelope) || headers.get("content-type").is_none_or(|v| v != "text/xml") {
        seen.problems.push(format!("bad envelope: {body}"));
        return StatusCode::BAD_REQUEST;
    }
    let Some(encrypted) = crypto::extract_encrypt(&body) else {
        seen.problems.push(format!("no Encrypt: {body}"));
        return StatusCode::BAD_REQUEST;
    };
    if crypto::signature(TOKEN, &got("timestamp"), &got("nonce"), &encrypted)
        != got("msg_signature")
    {
        seen.problems.push(format!("bad notice signature: {q:?}"));
        return StatusCode::FORBIDDEN;
    }
    check_nonce(&mut seen, &got("nonce"), &got("timestamp"));
    match s.key.decrypt(&encrypted) {
        Ok((xml, corp)) if corp == s.corp_id => seen.notices.push(xml),
        other => {
            seen.problems.push(format!("bad notice: {other:?}"));
            return StatusCode::BAD_REQUEST;
        }
    }
    let status = s.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// `nonce`: 10 digits; `timestamp`: Unix seconds, now.
fn check_nonce(seen: &mut Seen, nonce: &str, timestamp: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let fresh = timestamp.parse::<u64>().is_ok_and(|t| t.abs_diff(now) <= 5);
    if nonce.len() != 10 || !nonce.bytes().all(|b| b.is_ascii_digit()) || !fresh {
        seen.problems
            .push(format!("bad nonce {nonce:?} or timestamp {timestamp:?}"));
    }
}

/// The text of `<tag>` in a notice's XML, CDATA unwrapped.
fn field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no {tag} in {xml}"))
        + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>")).unwrap();
    let value = &xml[start..end];
    match value
        .strip_prefix("<![CDATA[")
        .and_then(|v| v.strip_suffix("]]>"))
    {
        Some(v) => v.replace("]]]]><![CDATA[>", "]]>"),
        None => value.to_owned(),
    }
}

fn now_secs() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Delivers one message over SMTP.
async fn mail(srv: &TestServer, to: &str, subject: &str) {
    let message =
        format!("From: \"Test\" <test@gzdev.com>\r\nSubject: {subject}\r\n\r\nbody of {subject}");
    common::deliver(srv, to, &message).await;
}

/// The seeded tenant's receiver, set and checked.
async fn receiver_for(srv: &TestServer) -> Receiver {
    let t = srv.tenant();
    let receiver = Receiver::start(&t.corp_id).await;
    srv.running()
        .callbacks()
        .set(t.tenant_id, &receiver.url, TOKEN, KEY)
        .await
        .unwrap();
    receiver
}

fn status(url: &str, delivered: u64, dropped: u64, pending: u64) -> Option<CallbackStatus> {
    Some(CallbackStatus {
        url: url.to_owned(),
        delivered,
        dropped,
        pending,
    })
}

/// Waits until the tenant's callback status is `want` (at most 10 s).
async fn status_becomes(srv: &TestServer, tenant_id: i64, want: Option<CallbackStatus>) {
    let start = Instant::now();
    loop {
        let now = srv.running().callbacks().status(tenant_id).await.unwrap();
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "status {now:?}, waiting for {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

backend_test! {
    config = fast;
    async fn the_url_check_keeps_only_a_receiver_that_echoes(srv) {
        let t = srv.tenant().clone();
        let tenant_id = t.tenant_id;
        let callbacks = srv.running().callbacks();
        let receiver = Receiver::start(&t.corp_id).await;
        let set = |url: String, token: &'static str, key: &'static str| {
            let callbacks = callbacks.clone();
            async move { callbacks.set(tenant_id, &url, token, key).await }
        };
        let bad_url = set("ftp://127.0.0.1/cb".into(), TOKEN, KEY).await;
        assert!(matches!(bad_url, Err(CallbackError::InvalidUrl)), "{bad_url:?}");
        let bad_token = set(receiver.url.clone(), "to ken", KEY).await;
        assert!(matches!(bad_token, Err(CallbackError::InvalidToken)), "{bad_token:?}");
        let bad_key = set(receiver.url.clone(), TOKEN, &KEY[1..]).await;
        assert!(matches!(bad_key, Err(CallbackError::InvalidKey)), "{bad_key:?}");
        assert_eq!(receiver.checks(), 0, "nothing is called before the fields are good");
        // A wrong echo, and nobody listening: refused, nothing stored.
        receiver.shared.wrong_echo.store(true, Ordering::SeqCst);
        let wrong = set(receiver.url.clone(), TOKEN, KEY).await;
        assert!(matches!(wrong, Err(CallbackError::Unverified(_))), "{wrong:?}");
        assert_eq!(receiver.checks(), 1);
        let closed = format!("http://127.0.0.1:{}/cb", bizmail_testkit::free_port());
        let down = set(closed, TOKEN, KEY).await;
        assert!(matches!(down, Err(CallbackError::Unverified(_))), "{down:?}");
        assert_eq!(callbacks.status(t.tenant_id).await.unwrap(), None);
        // The right echo (with a trailing newline, trimmed): kept.
        receiver.shared.wrong_echo.store(false, Ordering::SeqCst);
        set(receiver.url.clone(), TOKEN, KEY).await.unwrap();
        assert_eq!(receiver.checks(), 2);
        assert_eq!(callbacks.status(t.tenant_id).await.unwrap(), status(&receiver.url, 0, 0, 0));
        // Another tenant's receiver is its own.
        let other = srv.seed_tenant().await;
        assert_eq!(callbacks.status(other.tenant_id).await.unwrap(), None);
        assert!(matches!(callbacks.test(other.tenant_id, "x@y").await, Err(CallbackError::NotSet)));
        assert!(callbacks.remove(t.tenant_id).await.unwrap());
        assert!(!callbacks.remove(t.tenant_id).await.unwrap());
        assert_eq!(callbacks.status(t.tenant_id).await.unwrap(), None);
        receiver.notices();
    }
}

backend_test! {
    config = fast;
    async fn each_mail_makes_one_mail_notice_in_order(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        // A mail before the callback is set is not announced to it.
        mail(&srv, &bob, "before").await;
        let receiver = receiver_for(&srv).await;
        let before = now_secs();
        for i in 1..=3 {
            mail(&srv, &bob, &format!("m{i} <&> ]]> end")).await;
        }
        let got = receiver.wait_for(3).await;
        for (i, xml) in got.iter().enumerate() {
            assert_eq!(field(xml, "CorpID"), api.tenant.corp_id);
            assert_eq!(field(xml, "MsgType"), "Mail");
            assert_eq!(field(xml, "ToUserID"), bob);
            assert_eq!(field(xml, "FromUser"), "\"Test\"<test@gzdev.com>");
            assert_eq!(field(xml, "Title"), format!("m{} <&> ]]> end", i + 1));
            assert_eq!(field(xml, "NewCount"), (i + 2).to_string(), "the mail before counts too");
            let time: i64 = field(xml, "Time").parse().unwrap();
            assert!((before - 1..=now_secs()).contains(&time), "{time}");
            assert_eq!(field(xml, "MailID").len(), 44);
            assert!(!xml.contains("<UserID>"), "Mail never carries UserID");
        }
        assert_ne!(field(&got[0], "MailID"), field(&got[1], "MailID"));
        receiver.stays_at(3).await;
        status_becomes(&srv, api.tenant.tenant_id, status(&receiver.url, 3, 0, 0)).await;
    }
}

backend_test! {
    config = fast;
    async fn marking_read_makes_an_unread_notice(srv) {
        let api = Api::new(&srv).await;
        let ann = api.add_member("ann", &[]).await;
        let receiver = receiver_for(&srv).await;
        mail(&srv, &ann, "one").await;
        mail(&srv, &ann, "two").await;
        receiver.wait_for(2).await;
        let boxes = srv.running().mailboxes();
        let owner = boxes.owner(&ann).await.unwrap().unwrap();
        let copies = boxes.list(&owner, 10, 0).await.unwrap();
        assert_eq!(boxes.mark(&owner, &copies[0].mail_id, true).await.unwrap(), Changed::Unread(1));
        assert_eq!(boxes.delete(&owner, &copies[1].mail_id).await.unwrap(), Changed::Unread(0));
        let got = receiver.wait_for(4).await;
        for (xml, count) in [(&got[2], "1"), (&got[3], "0")] {
            assert_eq!(field(xml, "MsgType"), "UnRead");
            assert_eq!(field(xml, "UserID"), ann);
            assert_eq!(field(xml, "UnReadCount"), count);
            assert!(!xml.contains("<ToUserID>"), "UnRead never carries ToUserID");
        }
        receiver.stays_at(4).await;
        // The test notice: the member's real count, sent at once.
        srv.running().callbacks().test(api.tenant.tenant_id, &ann).await.unwrap();
        let got = receiver.notices();
        assert_eq!(got.len(), 5);
        assert_eq!((field(&got[4], "UserID"), field(&got[4], "UnReadCount")), (ann.clone(), "0".to_owned()));
        let unknown = srv.running().callbacks().test(api.tenant.tenant_id, "nobody@x.test").await;
        assert!(matches!(unknown, Err(CallbackError::UnknownUser(_))), "{unknown:?}");
        let stranger = Api::other(&srv).await.add_member("stranger", &[]).await;
        let elsewhere = srv.running().callbacks().test(api.tenant.tenant_id, &stranger).await;
        assert!(matches!(elsewhere, Err(CallbackError::UnknownUser(_))), "{elsewhere:?}");
        receiver.answer(&[503]);
        let refused = srv.running().callbacks().test(api.tenant.tenant_id, &ann).await;
        assert!(matches!(refused, Err(CallbackError::NotDelivered(_))), "{refused:?}");
        status_becomes(&srv, api.tenant.tenant_id, status(&receiver.url, 4, 0, 0)).await;
    }
}

backend_test! {
    config = fast;
    async fn a_refused_notice_is_sent_again_after_the_retry_delay(srv) {
        let api = Api::new(&srv).await;
        let cy = api.add_member("cy", &[]).await;
        let receiver = receiver_for(&srv).await;
        receiver.answer(&[500, 502]);
        mail(&srv, &cy, "retried").await;
        let first = receiver.wait_for(1).await;
        let start = Instant::now();
        let got = receiver.wait_for(3).await;
        assert!(start.elapsed() >= Duration::from_millis(500), "two retry delays of 300 ms");
        assert_eq!(got[0], first[0]);
        assert_eq!(got[1], got[0], "a retry sends the same notice, MailID and all");
        assert_eq!(got[2], got[0]);
        receiver.stays_at(3).await;
        status_becomes(&srv, api.tenant.tenant_id, status(&receiver.url, 1, 0, 0)).await;
    }
}

backend_test! {
    config = fast;
    async fn a_receiver_down_past_the_last_retry_loses_the_notice_and_it_is_counted(srv) {
        let api = Api::new(&srv).await;
        let di = api.add_member("di", &[]).await;
        let mut receiver = receiver_for(&srv).await;
        receiver.stop().await;
        mail(&srv, &di, "lost").await;
        // One attempt and three retries, 300 ms apart, all refused at connect.
        status_becomes(&srv, api.tenant.tenant_id, status(&receiver.url, 0, 1, 0)).await;
        assert!(receiver.notices().is_empty());
        // A receiver that refuses with a status is given up on the same way, after 4 tries; a
        // replaced receiver keeps the counts.
        let back = Receiver::start(&api.tenant.corp_id).await;
        let callbacks = srv.running().callbacks();
        callbacks.set(api.tenant.tenant_id, &back.url, TOKEN, KEY).await.unwrap();
        back.answer(&[500, 500, 500, 500]);
        mail(&srv, &di, "refused").await;
        status_becomes(&srv, api.tenant.tenant_id, status(&back.url, 0, 2, 0)).await;
        let titles: Vec<String> = back.notices().iter().map(|x| field(x, "Title")).collect();
        assert_eq!(titles, ["refused"; 4]);
        mail(&srv, &di, "taken").await;
        status_becomes(&srv, api.tenant.tenant_id, status(&back.url, 1, 2, 0)).await;
        assert_eq!(field(&back.notices()[4], "Title"), "taken");
    }
}

/// Stops a server with a notice waiting for its retry; a new server on the same database sends
/// it, the same notice, once.
async fn notices_survive_a_restart(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = move |c: &mut Config| {
        c.data_dir = data.clone();
        fast(c);
        c.callback_retry_ms = vec![1500, 1500, 1500];
    };
    let first = TestServer::builder(backend)
        .with_config(config.clone())
        .start()
        .await;
    let api = Api::new(&first).await;
    let eve = api.add_member("eve", &[]).await;
    let tenant = api.tenant.clone();
    let receiver = receiver_for(&first).await;
    receiver.answer(&[500]);
    mail(&first, &eve, "across a restart").await;
    let before = receiver.wait_for(1).await;
    status_becomes(&first, tenant.tenant_id, status(&receiver.url, 0, 0, 1)).await;
    let second = TestServer::builder(backend)
        .second_node_of(&first)
        .with_config(config);
    drop(api);
    first.shutdown().await;
    let second = second.start().await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1], before[0], "the stored notice, MailID and all");
    assert_eq!(field(&got[1], "Title"), "across a restart");
    receiver.stays_at(2).await;
    status_becomes(&second, tenant.tenant_id, status(&receiver.url, 1, 0, 0)).await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_survive_a_restart_sqlite() {
    notices_survive_a_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_survive_a_restart_postgres() {
    notices_survive_a_restart(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_send_each_notice_once_and_in_order() {
    let a = TestServer::builder(Backend::Postgres)
        .with_config(fast)
        .start()
        .await;
    let b = TestServer::builder(Backend::Postgres)
        .second_node_of(&a)
        .with_config(fast)
        .start()
        .await;
    let api = Api::new(&a).await;
    let fay = api.add_member("fay", &[]).await;
    let receiver = receiver_for(&a).await;
    for i in 0..10 {
        let node = if i % 2 == 0 { &a } else { &b };
        mail(node, &fay, &format!("n{i}")).await;
    }
    let got = receiver.wait_for(10).await;
    let titles: Vec<String> = got.iter().map(|x| field(x, "Title")).collect();
    let want: Vec<String> = (0..10).map(|i| format!("n{i}")).collect();
    assert_eq!(titles, want);
    receiver.stays_at(10).await;
    status_becomes(&b, api.tenant.tenant_id, status(&receiver.url, 10, 0, 0)).await;
}
