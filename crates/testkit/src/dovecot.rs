//! A private Dovecot (Debian's `dovecot-imapd`) for tests and measurements: IMAP on a loopback
//! port, users from a passwd-file (plus master users for delegated logins), Maildirs in a
//! temporary folder. The special folders carry SPECIAL-USE attributes as a hosted service's do.
//! Run as root (here and in CI), its mail belongs to `nobody`, since Dovecot refuses mail access
//! as root; otherwise everything runs as the caller. Stopped when the value is dropped.

use crate::host::{chmod, own_uid};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

/// A running Dovecot instance.
pub struct Dovecot {
    /// Where it serves IMAP (plain, LOGIN and AUTHENTICATE PLAIN allowed).
    pub addr: std::net::SocketAddr,
    /// Its folder (configuration, log, mail).
    pub dir: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

/// The folders that carry a SPECIAL-USE attribute at this source, as Exmail names them. Other
/// special folders (已发送, 垃圾邮件) are known here only by their names.
const SPECIAL: &str = "  mailbox \"Sent Messages\" {\n    special_use = \\Sent\n  }\n  \
                       mailbox Drafts {\n    special_use = \\Drafts\n  }\n";

impl Dovecot {
    /// Starts an instance with `users` (`login`, `password`) and `masters` (master users, who
    /// may sign in as anyone with SASL PLAIN); panics with its log when it cannot.
    pub async fn start(users: &[(&str, &str)], masters: &[(&str, &str)]) -> Dovecot {
        let dir = tempfile::Builder::new()
            .prefix("bizmail-dovecot-")
            .tempdir()
            .expect("a temporary folder");
        let d = dir.path().to_path_buf();
        // Dovecot's auth worker (its own user) reads the passwd-files; mail runs as `owner`.
        chmod(&d, 0o755);
        let mail = d.join("mail");
        std::fs::create_dir_all(&mail).expect("mail folder");
        let uid = own_uid();
        let (owner, internal, login) = if uid == 0 {
            (65534, "dovecot".to_owned(), "dovenull".to_owned())
        } else {
            let me = user_name();
            (uid, me.clone(), me)
        };
        let status = Command::new("chown")
            .arg(format!("{owner}:{owner}"))
            .arg(&mail)
            .status()
            .expect("chown");
        assert!(status.success(), "chown of the mail folder");
        let passwd = |list: &[(&str, &str)]| -> String {
            list.iter()
                .map(|(u, p)| format!("{u}:{{PLAIN}}{p}::::::\n"))
                .collect()
        };
        write(&d.join("users"), &passwd(users));
        write(&d.join("masters"), &passwd(masters));
        let port = crate::free_port();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
             auth_mechanisms = plain login\ndefault_internal_user = {internal}\n\
             default_internal_group = {internal}\ndefault_login_user = {login}\n\
             first_valid_uid = 1\nmail_location = maildir:~/Maildir\nmail_fsync = never\n\
             namespace inbox {{\n  inbox = yes\n  separator = /\n{SPECIAL}}}\n\
             passdb {{\n  driver = passwd-file\n  args = {d}/masters\n  master = yes\n}}\n\
             passdb {{\n  driver = passwd-file\n  args = {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid={owner} gid={owner} home={d}/mail/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    \
             port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n  chroot =\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            d = d.display()
        );
        write(&d.join("dovecot.conf"), &conf);
        let child = Command::new("/usr/sbin/dovecot")
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .spawn()
            .expect("Debian's dovecot (cargo xtask test installs dovecot-imapd)");
        let me = Dovecot {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            dir: d,
            child,
            _dir: dir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(me.addr).await.is_ok() {
                return me;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Dovecot did not start:\n{}", me.log());
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its children; a kill would leave them behind.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("a Dovecot file");
    chmod(path, 0o644);
}

fn user_name() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
