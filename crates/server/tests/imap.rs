//! IMAP through the real server on both backends: login, folders, fetch, flags shared with the
//! OpenApi's unread count, copy/move/append with UIDPLUS, expunge, search in Chinese, IDLE woken
//! by SMTP delivery, and two members never seeing each other's folders. Raw dialogues, so every
//! byte of the wire is what is checked; real clients (Python's imaplib, mbsync, offlineimap) have
//! their own test binary, `mail_clients`; logins, TLS, quotas and hostile input are in `imap_access`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::Config;
use bizmail_testkit::{TestServer, backend_test};
use common::{Api, ImapRaw, deliver};
use std::time::Duration;

fn imap_on(c: &mut Config) {
    c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    c.imap_allow_plaintext = true;
}

/// A message with a Chinese subject (RFC 2047, GB2312) and a UTF-8 body.
fn chinese_mail(n: u32) -> String {
    format!(
        "From: Sender <sender@outside.example>\r\nTo: someone\r\n\
Subject: =?GB2312?B?z+7Ev9fKwc8=?= {n}\r\nMessage-ID: <m{n}@outside.example>\r\n\
Date: Mon, 23 Nov 2026 10:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
第{n}封邮件：项目进度\r\n"
    )
}

/// The number after `word` in a transcript (`EXISTS`, `UIDNEXT`, …).
fn number_before(transcript: &str, word: &str) -> Option<u64> {
    transcript.lines().find_map(|l| {
        let parts: Vec<&str> = l.split_whitespace().collect();
        parts
            .windows(2)
            .find(|w| w[1] == word)
            .and_then(|w| w[0].parse().ok())
    })
}

fn code_value(transcript: &str, code: &str) -> Option<u64> {
    let at = transcript.find(&format!("[{code} "))? + code.len() + 2;
    transcript[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

backend_test! {
    config = imap_on;
    async fn reading_a_mail_marks_it_seen_everywhere(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        deliver(&srv, &bob, &chinese_mail(1)).await;
        assert_eq!(api.new_count(&bob).await, "1");

        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let sel = c.cmd("SELECT INBOX").await;
        assert_eq!(ImapRaw::status(&sel), "OK", "{sel}");
        assert_eq!(number_before(&sel, "EXISTS"), Some(1), "{sel}");
        assert!(sel.contains("[READ-WRITE]"), "{sel}");
        assert!(code_value(&sel, "UIDVALIDITY").is_some(), "{sel}");

        let meta = c.cmd("FETCH 1 (FLAGS UID RFC822.SIZE)").await;
        assert!(meta.contains("FLAGS ()") && meta.contains("UID 1"), "{meta}");
        let size = code_after(&meta, "RFC822.SIZE");

        // PEEK reads the exact bytes (CRLF, RFC822.SIZE long) and leaves the mail unread.
        let peek = c.cmd("FETCH 1 BODY.PEEK[]").await;
        let literal = literal_len(&peek);
        assert_eq!(literal, size, "{peek}");
        assert!(peek.contains("第1封邮件"), "{peek}");
        assert_eq!(api.new_count(&bob).await, "1");

        // BODY[] marks \Seen: the OpenApi's count drops at once.
        let read = c.cmd("FETCH 1 BODY[TEXT]").await;
        assert!(read.contains("\\Seen"), "{read}");
        assert_eq!(api.new_count(&bob).await, "0");

        // And back: unmarking in IMAP raises it again, and `listen` is told.
        let v = api.version().await.to_string();
        let listen = |v: String| {
            let api = &api;
            async move {
                let body = api.post("listen", &[("Ver", &v)]).await;
                serde_json::from_str::<serde_json::Value>(&body).unwrap()
            }
        };
        // A first poll places this client's cursor at the head of the log.
        let _ = tokio::time::timeout(Duration::from_millis(300), listen(v.clone())).await;
        let unmark = c.cmd("STORE 1 -FLAGS (\\Seen)").await;
        assert!(unmark.contains("FLAGS ()"), "{unmark}");
        assert_eq!(api.new_count(&bob).await, "1");
        assert_eq!(listen(v).await, serde_json::json!({"UserName": bob, "NewCount": 1}));

        let envelope = c.cmd("FETCH 1 (ENVELOPE BODYSTRUCTURE)").await;
        assert!(envelope.contains("\"<m1@outside.example>\""), "{envelope}");
        assert!(envelope.contains("(\"Sender\" NIL \"sender\" \"outside.example\")"), "{envelope}");
        assert!(envelope.contains("BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\")"), "{envelope}");
        let out = c.cmd("LOGOUT").await;
        assert!(out.contains("* BYE"), "{out}");
    }
}

fn code_after(transcript: &str, item: &str) -> usize {
    let at = transcript
        .find(item)
        .unwrap_or_else(|| panic!("{item} in {transcript}"))
        + item.len();
    transcript[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after {item} in {transcript}"))
}

fn literal_len(transcript: &str) -> usize {
    let open = transcript.find('{').expect("a literal");
    let close = transcript[open..].find('}').expect("a literal") + open;
    transcript[open + 1..close]
        .parse()
        .expect("a literal length")
}

backend_test! {
    config = imap_on;
    async fn examine_never_marks_seen(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        deliver(&srv, &bob, &chinese_mail(1)).await;
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let ex = c.cmd("EXAMINE INBOX").await;
        assert!(ex.contains("[READ-ONLY]"), "{ex}");
        let f = c.cmd("FETCH 1 (RFC822)").await;
        assert!(!f.contains("\\Seen"), "{f}");
        let store = c.cmd("STORE 1 +FLAGS (\\Seen)").await;
        assert_eq!(ImapRaw::status(&store), "NO", "{store}");
        assert_eq!(api.new_count(&bob).await, "1");
        // fetchmail's way: by sequence number, header only, search for what is new.
        let s = c.cmd("SEARCH UNSEEN UNDELETED").await;
        assert!(s.contains("* SEARCH 1\r\n"), "{s}");
        // Thunderbird's way: chosen header fields, echoed as Dovecot echoes them.
        let tb = c.cmd("UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From Subject Message-ID)])").await;
        assert!(tb.contains("BODY[HEADER.FIELDS (FROM SUBJECT MESSAGE-ID)] {"), "{tb}");
        assert!(tb.contains("From: Sender <sender@outside.example>\r\nSubject: =?GB2312?B?"), "{tb}");
        assert!(!tb.contains("Date:"), "{tb}");
        let h = c.cmd("FETCH 1 RFC822.HEADER").await;
        assert!(h.contains("Message-ID: <m1@outside.example>") && !h.contains("第1封"), "{h}");
    }
}

backend_test! {
    config = imap_on;
    async fn folders_copy_move_and_uids(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        for n in 1..=3 {
            deliver(&srv, &bob, &chinese_mail(n)).await;
        }
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let list = c.cmd("LIST \"\" \"*\"").await;
        for expected in [
            "(\\HasNoChildren) \"/\" \"INBOX\"",
            "(\\HasNoChildren \\Sent) \"/\" \"Sent\"",
            "(\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
            "(\\HasNoChildren \\Trash) \"/\" \"Trash\"",
            "(\\HasNoChildren \\Junk) \"/\" \"Junk\"",
        ] {
            assert!(list.contains(expected), "{expected} in {list}");
        }
        // 项目资料 in modified UTF-7, with a child folder.
        let created = c.cmd("CREATE &mHl27o1EZZk-/2026").await;
        assert_eq!(ImapRaw::status(&created), "OK", "{created}");
        let list = c.cmd("LIST \"\" \"*\"").await;
        assert!(list.contains("(\\HasChildren) \"/\" \"&mHl27o1EZZk-\""), "{list}");
        assert!(list.contains("(\\HasNoChildren) \"/\" \"&mHl27o1EZZk-/2026\""), "{list}");
        let top = c.cmd("LIST \"\" \"%\"").await;
        assert!(!top.contains("2026"), "{top}");

        let status = c.cmd("STATUS &mHl27o1EZZk- (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)").await;
        assert!(status.contains("MESSAGES 0") && status.contains("UIDNEXT 1"), "{status}");
        let validity = code_after(&status, "UIDVALIDITY");

        c.cmd("SELECT INBOX").await;
        let copy = c.cmd("COPY 1:2 &mHl27o1EZZk-").await;
        assert!(copy.contains(&format!("[COPYUID {validity} 1:2 1:2]")), "{copy}");
        let moved = c.cmd("UID MOVE 3 &mHl27o1EZZk-").await;
        assert!(moved.contains(&format!("[COPYUID {validity} 3 3]")), "{moved}");
        assert!(moved.contains("* 3 EXPUNGE"), "{moved}");
        let missing = c.cmd("COPY 1 Nowhere").await;
        assert!(missing.contains("NO [TRYCREATE]"), "{missing}");

        // The folder keeps its UIDVALIDITY when renamed; UIDs are never reused after expunge.
        let renamed = c.cmd("RENAME &mHl27o1EZZk- Projects").await;
        assert_eq!(ImapRaw::status(&renamed), "OK", "{renamed}");
        let sel = c.cmd("SELECT Projects").await;
        assert_eq!(code_value(&sel, "UIDVALIDITY"), Some(validity as u64), "{sel}");
        assert_eq!(number_before(&sel, "EXISTS"), Some(3), "{sel}");
        c.cmd("STORE 3 +FLAGS.SILENT (\\Deleted)").await;
        let gone = c.cmd("EXPUNGE").await;
        assert!(gone.contains("* 3 EXPUNGE"), "{gone}");
        let again = c.cmd("UID COPY 1 Projects").await;
        assert!(again.contains(&format!("[COPYUID {validity} 1 4]")), "{again}");
        let children = c.cmd("LIST Projects/ %").await;
        assert!(children.contains("\"Projects/2026\""), "{children}");

        // Special folders stay; folders with children go only when emptied of children.
        assert_eq!(ImapRaw::status(&c.cmd("DELETE Trash").await), "NO");
        assert_eq!(ImapRaw::status(&c.cmd("DELETE Projects").await), "NO");
        assert_eq!(ImapRaw::status(&c.cmd("DELETE Projects/2026").await), "OK");
        c.cmd("UNSELECT").await;
        assert_eq!(ImapRaw::status(&c.cmd("DELETE Projects").await), "OK");
        // Mail moved out of INBOX is no longer counted as unread in it.
        assert_eq!(api.new_count(&bob).await, "2");
    }
}

backend_test! {
    config = imap_on;
    async fn append_keeps_bytes_and_answers_appenduid(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let message = "Subject: draft\r\nFrom: bob\r\n\r\nline one\r\nline two\r\n";
        let tag = "ap1";
        c.send(format!("{tag} APPEND Drafts (\\Draft \\Seen $Work) {{{}}}\r\n", message.len()).as_bytes()).await;
        let go = c.line().await;
        assert!(go.starts_with('+'), "{go}");
        c.send(format!("{message}\r\n").as_bytes()).await;
        let done = c.until(tag).await;
        assert!(done.contains("[APPENDUID"), "{done}");
        // LITERAL+: no round trip.
        let plus = format!("ap2 APPEND Drafts {{{}+}}\r\n{message}\r\n", message.len());
        c.send(plus.as_bytes()).await;
        let done = c.until("ap2").await;
        assert!(done.contains("OK [APPENDUID"), "{done}");
        c.cmd("SELECT Drafts").await;
        let f = c.cmd("FETCH 1 (FLAGS BODY.PEEK[])").await;
        assert!(f.contains("\\Draft") && f.contains("$Work") && f.contains("\\Seen"), "{f}");
        assert!(f.contains(&format!("{{{}}}\r\n{message}", message.len())), "{f}");
        // Appending elsewhere does not touch the unread count of INBOX.
        assert_eq!(api.new_count(&bob).await, "0");
    }
}

backend_test! {
    config = imap_on;
    async fn search_finds_chinese_text(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        deliver(&srv, &bob, &chinese_mail(1)).await;
        deliver(&srv, &bob, "Subject: plain\r\n\r\nnothing here\r\n").await;
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        c.cmd("SELECT INBOX").await;
        let word = "项目资料";
        c.send(format!("s1 SEARCH CHARSET UTF-8 SUBJECT {{{}+}}\r\n{word}\r\n", word.len()).as_bytes()).await;
        let s = c.until("s1").await;
        assert!(s.contains("* SEARCH 1\r\n"), "{s}");
        let body = "进度";
        c.send(format!("s2 UID SEARCH CHARSET UTF-8 BODY {{{}+}}\r\n{body}\r\n", body.len()).as_bytes()).await;
        let s = c.until("s2").await;
        assert!(s.contains("* SEARCH 1\r\n"), "{s}");
        let s = c.cmd("SEARCH OR SUBJECT plain FROM sender NOT DELETED").await;
        assert!(s.contains("* SEARCH 1 2\r\n"), "{s}");
        let s = c.cmd("SEARCH CHARSET KOI8-R ALL").await;
        assert!(s.contains("NO [BADCHARSET"), "{s}");
    }
}

backend_test! {
    config = imap_on;
    async fn idle_hears_delivery_and_flag_changes(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        deliver(&srv, &bob, &chinese_mail(1)).await;
        let mut idler = ImapRaw::login(&srv, &bob, "secret123").await;
        idler.cmd("SELECT INBOX").await;
        idler.send(b"i1 IDLE\r\n").await;
        assert!(idler.line().await.starts_with('+'));

        let started = std::time::Instant::now();
        deliver(&srv, &bob, &chinese_mail(2)).await;
        let exists = idler.line().await;
        assert_eq!(exists, "* 2 EXISTS\r\n");
        assert!(started.elapsed() < Duration::from_secs(5));
        idler.line().await; // * 0 RECENT

        // A flag set by another client (or the web mailbox) reaches the idler too.
        let mut other = ImapRaw::login(&srv, &bob, "secret123").await;
        other.cmd("SELECT INBOX").await;
        other.cmd("STORE 1 +FLAGS (\\Flagged)").await;
        let fetch = idler.line().await;
        assert!(fetch.starts_with("* 1 FETCH") && fetch.contains("\\Flagged"), "{fetch}");
        idler.send(b"DONE\r\n").await;
        let done = idler.until("i1").await;
        assert!(done.contains("i1 OK"), "{done}");
    }
}

backend_test! {
    config = imap_on;
    async fn members_never_see_each_other(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let eve = api.add_member("eve", &[]).await;
        deliver(&srv, &bob, &chinese_mail(1)).await;
        let mut b = ImapRaw::login(&srv, &bob, "secret123").await;
        b.cmd("CREATE Secret").await;
        let mut e = ImapRaw::login(&srv, &eve, "secret123").await;
        let list = e.cmd("LIST \"\" *").await;
        assert!(!list.contains("Secret"), "{list}");
        let sel = e.cmd("SELECT Secret").await;
        assert_eq!(ImapRaw::status(&sel), "NO", "{sel}");
        let inbox = e.cmd("SELECT INBOX").await;
        assert_eq!(number_before(&inbox, "EXISTS"), Some(0), "{inbox}");

        let (mut c, _) = ImapRaw::connect(&srv).await;
        let wrong = c.cmd(&format!("LOGIN {bob} wrong")).await;
        assert!(wrong.contains("NO [AUTHENTICATIONFAILED]"), "{wrong}");
        let unknown = c.cmd("LOGIN nobody@nowhere.example secret123").await;
        assert!(unknown.contains("NO [AUTHENTICATIONFAILED]"), "{unknown}");
        let before = c.cmd("SELECT INBOX").await;
        assert_eq!(ImapRaw::status(&before), "BAD", "{before}");
        // AUTHENTICATE PLAIN with SASL-IR.
        let plain = base64_plain(&bob, "secret123");
        let auth = c.cmd(&format!("AUTHENTICATE PLAIN {plain}")).await;
        assert_eq!(ImapRaw::status(&auth), "OK", "{auth}");
    }
}

fn base64_plain(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

backend_test! {
    config = imap_on;
    async fn disabled_and_deleted_members_are_shown_out(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let carol = api.add_member("carol", &[]).await;
        let mut idler = ImapRaw::login(&srv, &bob, "secret123").await;
        idler.cmd("SELECT INBOX").await;
        idler.send(b"i1 IDLE\r\n").await;
        assert!(idler.line().await.starts_with('+'));
        let mut busy = ImapRaw::login(&srv, &carol, "secret123").await;

        api.ok("user/sync", &[("Action", "3"), ("Alias", &bob), ("OpenType", "2")]).await;
        assert_eq!(idler.line().await, "* BYE This mailbox is no longer available\r\n");
        assert_eq!(idler.line().await, "", "and the connection is closed");
        let (mut again, _) = ImapRaw::connect(&srv).await;
        let refused = again.cmd(&format!("LOGIN {bob} secret123")).await;
        assert!(refused.contains("NO [AUTHENTICATIONFAILED]"), "{refused}");

        api.ok("user/sync", &[("Action", "1"), ("Alias", &carol)]).await;
        let after = busy.cmd("LIST \"\" *").await;
        assert!(after.starts_with("* BYE This mailbox is no longer available"), "{after}");
    }
}

backend_test! {
    config = imap_on;
    async fn condstore_reports_and_guards_changes(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        for n in 1..=2 {
            deliver(&srv, &bob, &chinese_mail(n)).await;
        }
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let enabled = c.cmd("ENABLE CONDSTORE").await;
        assert!(enabled.contains("* ENABLED CONDSTORE"), "{enabled}");
        let sel = c.cmd("SELECT INBOX").await;
        let highest = code_value(&sel, "HIGHESTMODSEQ").unwrap();
        let stored = c.cmd("STORE 1 +FLAGS (\\Flagged)").await;
        assert!(stored.contains("MODSEQ ("), "{stored}");
        let changed = c.cmd(&format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})")).await;
        assert!(changed.contains("* 1 FETCH") && !changed.contains("* 2 FETCH"), "{changed}");
        // A conditional STORE against a stale modseq is refused for that message.
        let guarded = c.cmd(&format!("STORE 1 (UNCHANGEDSINCE {highest}) +FLAGS (\\Seen)")).await;
        assert!(guarded.contains("[MODIFIED 1]"), "{guarded}");
        let searched = c.cmd(&format!("SEARCH MODSEQ {}", highest + 1)).await;
        assert!(searched.contains("* SEARCH 1 (MODSEQ"), "{searched}");
        let status = c.cmd("STATUS INBOX (HIGHESTMODSEQ)").await;
        assert!(code_after(&status, "HIGHESTMODSEQ") as u64 > highest, "{status}");
    }
}

/// IDLE on one node hears mail delivered through another sharing the PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_hears_other_nodes() {
    let a = TestServer::builder(bizmail_testkit::Backend::Postgres)
        .with_config(imap_on)
        .start()
        .await;
    let b = TestServer::builder(bizmail_testkit::Backend::Postgres)
        .second_node_of(&a)
        .with_config(imap_on)
        .start()
        .await;
    let api = Api::new(&a).await;
    let bob = api.add_member("bob", &[]).await;
    let mut idler = ImapRaw::login(&b, &bob, "secret123").await;
    idler.cmd("SELECT INBOX").await;
    idler.send(b"i1 IDLE\r\n").await;
    assert!(idler.line().await.starts_with('+'));
    deliver(&a, &bob, &chinese_mail(1)).await;
    assert_eq!(idler.line().await, "* 1 EXISTS\r\n");
}
