//! `imap-fetch` and `imap-idle`, side by side with Debian's Dovecot on loopback in the same run.
//!
//! - `imap-fetch`: a full `mbsync` of a mailbox of `--mails` messages (10,000 by default) into an
//!   empty Maildir; one row per server, the median being the whole sync's time.
//! - `imap-idle`: a client idles on INBOX; a mail arrives; the latency is from the moment the
//!   mail is committed — bizmail's SMTP `250`, Dovecot's rename into `new/` (it has no SMTP of
//!   its own) — to the `EXISTS` the idling client reads.
//!
//! Dovecot runs as its own instance in a temporary folder (`dovecot -F -c …`), its mail owned by
//! `nobody` since it refuses to serve mail as root.

use crate::{Args, Outcome};
use anyhow::Context as _;
use bizmail_testkit::TestServer;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The member (and the Dovecot user) the scenarios read.
const PASSWORD: &str = "secret123";

/// A message of about 4 KB, as a mailbox of ordinary mail holds.
fn message(n: usize) -> Vec<u8> {
    let line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
    format!(
        "From: Sender <sender@outside.example>\r\nTo: bench\r\nSubject: message {n}\r\n\
Message-ID: <bench{n}@outside.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\n\r\n{}",
        line.repeat(60)
    )
    .into_bytes()
}

/// A private Dovecot, stopped when dropped.
pub struct Dovecot {
    dir: tempfile::TempDir,
    child: std::process::Child,
    /// Its IMAP port on 127.0.0.1.
    pub port: u16,
}

impl Dovecot {
    /// Starts one with a single user `bench@x`.
    pub async fn start() -> anyhow::Result<Dovecot> {
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        for sub in [
            "run",
            "state",
            "mail/bench@x/new",
            "mail/bench@x/cur",
            "mail/bench@x/tmp",
            "home",
        ] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))?;
        for sub in [
            "mail",
            "mail/bench@x",
            "mail/bench@x/new",
            "mail/bench@x/cur",
            "mail/bench@x/tmp",
            "home",
        ] {
            std::os::unix::fs::chown(d.join(sub), Some(65534), Some(65534))?;
        }
        std::fs::write(
            d.join("passwd"),
            format!("bench@x:{{PLAIN}}{PASSWORD}::::::\n"),
        )?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let p = d.display();
        let conf = format!(
            "base_dir = {p}/run\nstate_dir = {p}/state\nlog_path = {p}/dovecot.log\n\
protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
auth_mechanisms = plain login\nmail_location = maildir:{p}/mail/%u\nfirst_valid_uid = 100\n\
passdb {{\n  driver = passwd-file\n  args = {p}/passwd\n}}\n\
userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={p}/home/%u\n}}\n\
service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = {port}\n  }}\n  \
inet_listener imaps {{\n    port = 0\n  }}\n}}\nservice anvil {{\n  chroot =\n}}\n"
        );
        std::fs::write(d.join("dovecot.conf"), conf)?;
        let child = std::process::Command::new("dovecot")
            .args(["-F", "-c"])
            .arg(d.join("dovecot.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("dovecot (Debian's dovecot-imapd) must be installed")?;
        let dovecot = Dovecot { dir, child, port };
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(dovecot);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!(
            "Dovecot did not start; see its log in {}",
            dovecot.dir.path().display()
        )
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail/bench@x")
    }

    /// Delivers a message as a local delivery agent does: written in `tmp/`, renamed into `new/`.
    pub fn deliver(&self, n: usize, bytes: &[u8]) -> anyhow::Result<()> {
        let name = format!("{}.{n}.bench", 1_795_000_000 + n);
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, bytes)?;
        std::os::unix::fs::chown(&tmp, Some(65534), Some(65534))?;
        std::fs::rename(&tmp, self.maildir().join("new").join(&name))?;
        Ok(())
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds the member `<local>@…` of `srv` and returns their address.
async fn member(srv: &TestServer, local: &str) -> anyhow::Result<String> {
    let address = format!("{local}@{}", srv.tenant().domain);
    let token = srv.token().await;
    let fields = [
        ("Action", "2"),
        ("Alias", address.as_str()),
        ("Name", "IMAP bench"),
        ("Password", PASSWORD),
    ];
    let (_, body) = srv.call(&token, "openapi/user/sync", &fields).await;
    anyhow::ensure!(body.is_empty(), "seeding the member failed: {body}");
    Ok(address)
}

/// Times one full `mbsync` of INBOX from `port` into an empty Maildir.
async fn mbsync(port: u16, user: &str) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let local = dir.path().join("mail");
    std::fs::create_dir_all(&local)?;
    let rc = format!(
        "IMAPAccount a\nHost 127.0.0.1\nPort {port}\nUser {user}\nPass {PASSWORD}\nSSLType None\n\
AuthMechs LOGIN\n\nIMAPStore remote\nAccount a\n\nMaildirStore local\nPath {l}/\nInbox {l}/INBOX\n\n\
Channel c\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Near\nSync Pull\nSyncState *\n",
        l = local.display()
    );
    let rc_file = dir.path().join("mbsyncrc");
    std::fs::write(&rc_file, rc)?;
    let start = Instant::now();
    let out = tokio::process::Command::new("mbsync")
        .arg("-c")
        .arg(&rc_file)
        .args(["-a", "-q"])
        .env("HOME", dir.path())
        .output()
        .await
        .context("mbsync (Debian's isync) must be installed")?;
    let took = start.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "mbsync failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(took)
}

fn one(took: Duration) -> Outcome {
    Outcome {
        latencies_us: vec![u64::try_from(took.as_micros()).unwrap_or(u64::MAX)],
        elapsed: took,
        errors: 0,
    }
}

/// `imap-fetch`: `(bizmail, dovecot)`.
pub async fn fetch(srv: &TestServer, args: &Args) -> anyhow::Result<(Outcome, Outcome)> {
    let address = member(srv, "imap-fetch").await?;
    let boxes = srv.running().mailboxes();
    let owner = boxes.owner(&address).await?.context("the member")?;
    let inbox = boxes
        .folders(&owner)
        .await?
        .into_iter()
        .find(|f| f.name == "INBOX")
        .context("INBOX")?;
    let dovecot = Dovecot::start().await?;
    for n in 0..args.mails {
        let bytes = message(n);
        dovecot.deliver(n, &bytes)?;
        let entry = bizmail_server::mail::folders::Entry::upload(1_795_000_000_000);
        boxes.append(&owner, inbox.id, bytes, entry).await?;
    }
    let port = srv.running().imap_addr.context("IMAP on")?.port();
    let ours = mbsync(port, &address).await?;
    let theirs = mbsync(dovecot.port, "bench@x").await?;
    Ok((one(ours), one(theirs)))
}

/// An IMAP connection idling on INBOX.
async fn idling(port: u16, user: &str) -> anyhow::Result<BufReader<TcpStream>> {
    let mut c = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await?);
    let mut line = String::new();
    c.read_line(&mut line).await?;
    c.get_mut()
        .write_all(format!("a LOGIN {user} {PASSWORD}\r\nb SELECT INBOX\r\nc IDLE\r\n").as_bytes())
        .await?;
    loop {
        line.clear();
        anyhow::ensure!(c.read_line(&mut line).await? > 0, "closed before IDLE");
        anyhow::ensure!(
            !line.starts_with("a NO") && !line.starts_with("b NO"),
            "{line}"
        );
        if line.starts_with('+') {
            return Ok(c);
        }
    }
}

async fn exists(c: &mut BufReader<TcpStream>) -> anyhow::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        let read = tokio::time::timeout(Duration::from_secs(60), c.read_line(&mut line)).await;
        anyhow::ensure!(
            read.context("no EXISTS within a minute")?? > 0,
            "closed while idling"
        );
        if line.ends_with("EXISTS\r\n") {
            return Ok(());
        }
    }
}

/// `imap-idle`: `(bizmail, dovecot)`, `--rounds` mails each.
pub async fn idle(srv: &TestServer, args: &Args) -> anyhow::Result<(Outcome, Outcome)> {
    let address = member(srv, "imap-idle").await?;
    let port = srv.running().imap_addr.context("IMAP on")?.port();
    let mut ours = idling(port, &address).await?;
    let smtp = TcpStream::connect(srv.smtp_addr()).await?;
    let (r, mut w) = smtp.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    r.read_line(&mut line).await?;
    w.write_all(b"EHLO bench\r\n").await?;
    loop {
        line.clear();
        r.read_line(&mut line).await?;
        if line.starts_with("250 ") {
            break;
        }
    }
    let start = Instant::now();
    let mut lat = Vec::with_capacity(args.rounds);
    for n in 0..args.rounds {
        let body = String::from_utf8_lossy(&message(n)).into_owned();
        let data =
            format!("MAIL FROM:<b@outside.example>\r\nRCPT TO:<{address}>\r\nDATA\r\n{body}.\r\n");
        w.write_all(data.as_bytes()).await?;
        let mut replies = 0;
        while replies < 4 {
            line.clear();
            anyhow::ensure!(r.read_line(&mut line).await? > 0, "SMTP closed");
            replies += 1;
        }
        anyhow::ensure!(line.starts_with("250"), "not delivered: {line}");
        let t = Instant::now();
        exists(&mut ours).await?;
        lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    let ours = Outcome {
        latencies_us: lat,
        elapsed: start.elapsed(),
        errors: 0,
    };
    let dovecot = Dovecot::start().await?;
    let mut theirs_conn = idling(dovecot.port, "bench@x").await?;
    let start = Instant::now();
    let mut lat = Vec::with_capacity(args.rounds);
    for n in 0..args.rounds {
        let bytes = message(n);
        let t = Instant::now();
        dovecot.deliver(n, &bytes)?;
        exists(&mut theirs_conn).await?;
        lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    let theirs = Outcome {
        latencies_us: lat,
        elapsed: start.elapsed(),
        errors: 0,
    };
    Ok((ours, theirs))
}

/// Whether a path is an executable on `PATH` (for a clear error before a long fill).
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|p| Path::new(&p).join(program).exists())
    })
}
