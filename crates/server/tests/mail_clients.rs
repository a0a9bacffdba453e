//! Real mail clients against the real server, on both backends: getmail6 over POP3, and over
//! IMAP Debian's `mbsync` (isync) two-way sync and re-sync after changes on either side, `offlineimap`, `fetchmail` (which reads by
//! sequence number), and Python's `imaplib` for IDLE and SEARCH in Chinese. The test command
//! installs them (`cargo xtask test`); a client that is missing fails the test, never skips it.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::Config;
use bizmail_testkit::{TestServer, backend_test};
use common::{Api, ImapRaw, deliver};
use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncBufReadExt;

fn imap_on(c: &mut Config) {
    c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    c.imap_allow_plaintext = true;
}

fn mail(n: u32) -> String {
    format!(
        "From: Sender <sender@outside.example>\r\nSubject: =?UTF-8?B?6aG555uu6LWE5paZ?= {n}\r\n\
Message-ID: <c{n}@outside.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nbody {n}\r\n"
    )
}

fn port(srv: &TestServer) -> u16 {
    srv.running().imap_addr.expect("IMAP configured").port()
}

/// Runs a client to completion; panics with its output when it fails.
async fn client(program: &str, args: &[&str], dir: &Path) -> String {
    let out = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("{program} must be installed (cargo xtask test installs it): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

/// The messages in a Maildir folder (`new` and `cur`), as file names.
fn maildir(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries.flatten() {
                names.push(format!("{sub}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    names.sort();
    names
}

backend_test! {
    config = imap_on;
    async fn mbsync_syncs_both_ways_and_again(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        for n in 1..=3 {
            deliver(&srv, &bob, &mail(n)).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("mail");
        std::fs::create_dir_all(&local).unwrap();
        let rc = format!(
            "IMAPAccount bizmail\nHost 127.0.0.1\nPort {}\nUser {bob}\nPass secret123\nSSLType None\n\
AuthMechs LOGIN\n\nIMAPStore remote\nAccount bizmail\n\nMaildirStore local\nPath {}/\nInbox {}/INBOX\n\
SubFolders Verbatim\n\nChannel all\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\n\
Expunge Both\nSyncState *\n",
            port(&srv),
            local.display(),
            local.display()
        );
        let rc_file = dir.path().join("mbsyncrc");
        std::fs::write(&rc_file, rc).unwrap();
        let rc_arg = rc_file.to_string_lossy().into_owned();
        client("mbsync", &["-c", &rc_arg, "-a"], dir.path()).await;
        let inbox = maildir(&local.join("INBOX"));
        assert_eq!(inbox.len(), 3, "{inbox:?}");
        for special in ["Sent", "Drafts", "Trash", "Junk"] {
            assert!(local.join(special).is_dir(), "{special} synced");
        }

        // Local changes: one read, one deleted, a new folder with a message in it.
        let first = local.join("INBOX").join(&inbox[0]);
        let seen = format!("{}:2,S", first.display()).replace("/new/", "/cur/");
        std::fs::rename(&first, &seen).unwrap();
        let second = local.join("INBOX").join(&inbox[1]);
        let trashed = format!("{}:2,T", second.display()).replace("/new/", "/cur/");
        std::fs::rename(&second, &trashed).unwrap();
        let folder = local.join("Archive");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(folder.join(sub)).unwrap();
        }
        std::fs::write(
            folder.join("new").join("1700000000.1.local"),
            "Subject: filed locally\r\nFrom: bob\r\n\r\nkept\r\n",
        )
        .unwrap();
        client("mbsync", &["-c", &rc_arg, "-a"], dir.path()).await;

        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let sel = c.cmd("SELECT INBOX").await;
        assert!(sel.contains("* 2 EXISTS"), "{sel}");
        let flags = c.cmd("FETCH 1:* (UID FLAGS)").await;
        assert!(flags.contains("UID 1 FLAGS (\\Seen)"), "{flags}");
        assert!(!flags.contains("UID 2 "), "expunged: {flags}");
        let archive = c.cmd("SELECT Archive").await;
        assert!(archive.contains("* 1 EXISTS"), "{archive}");
        let body = c.cmd("FETCH 1 BODY.PEEK[]").await;
        assert!(body.contains("filed locally"), "{body}");
        assert_eq!(api.new_count(&bob).await, "1");

        // Server-side changes reach the Maildir on the next run; a third run has nothing to do.
        c.cmd("SELECT INBOX").await;
        c.cmd("UID STORE 3 +FLAGS (\\Flagged)").await;
        deliver(&srv, &bob, &mail(4)).await;
        client("mbsync", &["-c", &rc_arg, "-a"], dir.path()).await;
        let inbox = maildir(&local.join("INBOX"));
        assert_eq!(inbox.len(), 3, "{inbox:?}");
        assert!(inbox.iter().any(|n| n.ends_with(",F") || n.contains(":2,F")), "{inbox:?}");
        let quiet = client("mbsync", &["-c", &rc_arg, "-a", "-V"], dir.path()).await;
        assert!(!quiet.contains("UIDVALIDITY"), "{quiet}");
    }
}

backend_test! {
    config = imap_on;
    async fn offlineimap_syncs_every_folder(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        for n in 1..=2 {
            deliver(&srv, &bob, &mail(n)).await;
        }
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        c.cmd("CREATE &mHl27o1EZZk-").await;
        c.cmd("SELECT INBOX").await;
        c.cmd("COPY 1 &mHl27o1EZZk-").await;
        let dir = tempfile::tempdir().unwrap();
        let rc = format!(
            "[general]\naccounts = bizmail\nmetadata = {d}/meta\n\n[Account bizmail]\n\
localrepository = local\nremoterepository = remote\n\n[Repository local]\ntype = Maildir\n\
localfolders = {d}/mail\n\n[Repository remote]\ntype = IMAP\nremotehost = 127.0.0.1\n\
remoteport = {p}\nremoteuser = {bob}\nremotepass = secret123\nssl = no\nstarttls = no\n",
            d = dir.path().display(),
            p = port(&srv)
        );
        let rc_file = dir.path().join("offlineimaprc");
        std::fs::write(&rc_file, rc).unwrap();
        let rc_arg = rc_file.to_string_lossy().into_owned();
        client("offlineimap", &["-c", &rc_arg, "-o", "-u", "basic"], dir.path()).await;
        let mail_dir = dir.path().join("mail");
        assert_eq!(maildir(&mail_dir.join("INBOX")).len(), 2);
        // offlineimap names folders by their wire names (modified UTF-7) unless told otherwise.
        assert_eq!(maildir(&mail_dir.join("&mHl27o1EZZk-")).len(), 1);
        // A second run finds nothing changed and still succeeds.
        client("offlineimap", &["-c", &rc_arg, "-o", "-u", "basic"], dir.path()).await;
        assert_eq!(maildir(&mail_dir.join("INBOX")).len(), 2);
    }
}

backend_test! {
    config = imap_on;
    async fn fetchmail_reads_by_sequence_number(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        for n in 1..=2 {
            deliver(&srv, &bob, &mail(n)).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fetched.mbox");
        let rc = format!(
            "poll 127.0.0.1 service {} protocol IMAP auth password\n  user \"{bob}\" password \
\"secret123\" keep sslproto '' mda \"/bin/sh -c 'cat >> {}'\"\n",
            port(&srv),
            out.display()
        );
        let rc_file = dir.path().join("fetchmailrc");
        std::fs::write(&rc_file, rc).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&rc_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let rc_arg = rc_file.to_string_lossy().into_owned();
        // Run as root, fetchmail keeps its lock in /var/run whatever HOME says, and the two
        // backends' tests at once would refuse each other ("another fetchmail is running").
        let pid = dir.path().join("fetchmail.pid").to_string_lossy().into_owned();
        let args = ["-f", &rc_arg, "--pidfile", &pid, "--nodetach", "--nosyslog"];
        client("fetchmail", &args, dir.path()).await;
        let fetched = std::fs::read_to_string(&out).unwrap();
        assert!(fetched.contains("<c1@outside.example>") && fetched.contains("<c2@outside.example>"));
        // `keep` leaves them on the server, read.
        assert_eq!(api.new_count(&bob).await, "0");
    }
}

backend_test! {
    config = imap_on;
    async fn python_imaplib_idles_and_searches(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        deliver(&srv, &bob, &mail(1)).await;
        let script = format!(
            r#"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", {port})
m.login("{bob}", "secret123")
typ, data = m.select("INBOX")
assert typ == "OK" and data == [b"1"], data
m.literal = "项目资料".encode("utf-8")
typ, data = m.search("UTF-8", "SUBJECT")
assert typ == "OK" and data == [b"1"], data
typ, data = m.uid("SEARCH", "UNSEEN")
assert data == [b"1"], data
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
assert m.readline().startswith(b"+"), "no continuation"
print("IDLING", flush=True)
line = m.readline()
assert line == b"* 2 EXISTS\r\n", line
m.send(b"DONE\r\n")
while True:
    line = m.readline()
    if line.startswith(tag):
        assert b"OK" in line, line
        break
print("WOKEN", flush=True)
m.logout()
"#,
            port = port(&srv)
        );
        let mut child = tokio::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("in time")
            .unwrap();
        assert_eq!(first.as_deref(), Some("IDLING"));
        deliver(&srv, &bob, &mail(2)).await;
        let woken = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("woken in time")
            .unwrap();
        let out = child.wait_with_output().await.unwrap();
        assert_eq!(woken.as_deref(), Some("WOKEN"), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

fn pop3_on(c: &mut Config) {
    imap_on(c);
    c.pop3_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
}

backend_test! {
    config = pop3_on;
    async fn getmail_reads_inbox_over_pop3(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        for n in 1..=3 {
            deliver(&srv, &bob, &mail(n)).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let mbox = dir.path().join("inbox.mbox");
        std::fs::write(&mbox, "").unwrap();
        let rc = format!(
            "[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {}\n\
username = {bob}\npassword = secret123\n\n[destination]\ntype = MDA_external\npath = /bin/sh\n\
arguments = (\"-c\", \"cat >> {}\")\nallow_root_commands = true\nunixfrom = true\n\n\
[options]\nread_all = false\ndelete = false\nverbose = 0\n",
            srv.running().pop3_addr.unwrap().port(),
            mbox.display()
        );
        let rc_file = dir.path().join("getmailrc");
        std::fs::write(&rc_file, rc).unwrap();
        let (rc_arg, dir_arg) = (
            rc_file.to_string_lossy().into_owned(),
            dir.path().to_string_lossy().into_owned(),
        );
        client("getmail", &["--getmaildir", &dir_arg, "--rcfile", &rc_arg], dir.path()).await;
        let got = std::fs::read_to_string(&mbox).unwrap();
        assert_eq!(got.matches("\nMessage-ID: <c").count(), 3, "{got}");
        // (An external command rather than getmail's mbox writer, which refuses to run as root.)
        // getmail remembers what it fetched by UIDL: a second run fetches only what is new.
        deliver(&srv, &bob, &mail(4)).await;
        client("getmail", &["--getmaildir", &dir_arg, "--rcfile", &rc_arg], dir.path()).await;
        let got = std::fs::read_to_string(&mbox).unwrap();
        assert_eq!(got.matches("\nMessage-ID: <c").count(), 4, "{got}");
        // RETR marked them read; delete = false left them on the server.
        assert_eq!(api.new_count(&bob).await, "0");
        let mut c = ImapRaw::login(&srv, &bob, "secret123").await;
        let sel = c.cmd("EXAMINE INBOX").await;
        assert!(sel.contains("* 4 EXISTS"), "{sel}");
    }
}
