//! A private Postfix (Debian's package) for tests and benchmarks, on a loopback port, with its
//! configuration, queue and mail in a temporary folder. As a remote domain's MX it delivers every
//! recipient of its domain into one Maildir; as a relay it sends a domain's mail to a given
//! `host:port`. Postfix needs root to start (its daemons drop to the `postfix` user): a runner
//! that is not root starts it through `sudo -n`, and its mail is then delivered as the runner's
//! own user so the test can read it. It is stopped when the value is dropped.

use crate::host::{chmod, own_uid};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A running Postfix instance.
pub struct Postfix {
    /// Where it accepts SMTP.
    pub addr: std::net::SocketAddr,
    /// The Maildir its domain's mail lands in (`new/`).
    pub maildir: PathBuf,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

/// What the instance does with mail.
pub enum Role<'a> {
    /// The MX of `domain`: every recipient there into one Maildir.
    Mx {
        /// The domain it receives for.
        domain: &'a str,
    },
    /// A relay: mail for `domain` from loopback clients goes to `next_hop` (`host:port`).
    Relay {
        /// The destination domain.
        domain: &'a str,
        /// Where its mail goes.
        next_hop: std::net::SocketAddr,
    },
}

const MASTER_CF: &str = "\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
";

impl Postfix {
    /// Starts an instance in `role`; panics with its log when it cannot.
    pub async fn start(role: Role<'_>) -> Postfix {
        let dir = tempfile::Builder::new()
            .prefix("bizmail-postfix-")
            .tempdir()
            .expect("a temporary folder");
        let d = dir.path();
        // Postfix's delivery agent runs as nobody and must reach the Maildir.
        chmod(d, 0o755);
        let (config, queue, data, mail) = (
            d.join("etc"),
            d.join("queue"),
            d.join("data"),
            d.join("mail"),
        );
        for p in [&config, &queue, &data, &mail] {
            std::fs::create_dir_all(p).expect("Postfix folders");
        }
        // Mail is delivered as nobody when we are root (root reads it anyway), else as us.
        let uid = own_uid();
        let owner = if uid == 0 { 65534 } else { uid };
        chown(&data, "postfix");
        chown(&mail, &owner.to_string());
        let port = crate::free_port();
        let (domain_lines, role_lines) = match role {
            Role::Mx { domain } => (
                format!("myhostname = mx.{domain}\nvirtual_mailbox_domains = {domain}\n"),
                format!(
                    "virtual_mailbox_base = {}\nvirtual_mailbox_maps = static:inbox/\n\
                     virtual_uid_maps = static:{owner}\nvirtual_gid_maps = static:{owner}\n\
                     virtual_minimum_uid = 1\n",
                    mail.display()
                ),
            ),
            Role::Relay { domain, next_hop } => (
                "myhostname = relay.test\n".to_owned(),
                format!(
                    "transport_maps = inline:{{ {domain}=smtp:[{}]:{} }}\nrelay_domains = {domain}\n",
                    next_hop.ip(),
                    next_hop.port()
                ),
            ),
        };
        let main_cf = format!(
            "compatibility_level = 3.6\nqueue_directory = {}\ndata_directory = {}\n\
             mail_owner = postfix\nsetgid_group = postdrop\ninet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\nmydestination =\nmynetworks = 127.0.0.0/8\n\
             smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n\
             alias_maps =\nalias_database =\nmaillog_file = {}\nmaillog_file_prefixes = {}\n\
             smtp_dns_support_level = disabled\nsmtp_tls_security_level = may\n\
             default_destination_concurrency_limit = 20\n{domain_lines}{role_lines}",
            queue.display(),
            data.display(),
            d.join("maillog").display(),
            d.display(),
        );
        std::fs::write(config.join("main.cf"), main_cf).expect("main.cf");
        let master = format!("127.0.0.1:{port} inet n - n - - smtpd\n{MASTER_CF}");
        std::fs::write(config.join("master.cf"), master).expect("master.cf");
        let me = Postfix {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            maildir: mail.join("inbox"),
            config,
            _dir: dir,
        };
        me.postfix("set-permissions");
        me.postfix("start");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(me.addr).await.is_ok() {
                return me;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Postfix did not start:\n{}", me.log());
    }

    fn postfix(&self, verb: &str) {
        let out = as_root("postfix")
            .arg("-c")
            .arg(&self.config)
            .arg(verb)
            .output()
            .expect("Debian's postfix (cargo xtask test installs it)");
        assert!(
            out.status.success() || verb == "stop",
            "postfix {verb}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        let dir = self.config.parent().unwrap_or(Path::new("/"));
        std::fs::read_to_string(dir.join("maillog")).unwrap_or_default()
    }

    /// The messages delivered so far (an MX's), oldest first by name.
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        names.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }

    /// How many messages were delivered so far (an MX's).
    pub fn delivered_count(&self) -> usize {
        std::fs::read_dir(self.maildir.join("new")).map_or(0, |d| d.count())
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.postfix("stop");
    }
}

/// `program`, run as root: directly when we are root, else through `sudo -n`.
fn as_root(program: &str) -> Command {
    if own_uid() == 0 {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", program]);
        c
    }
}

fn chown(path: &Path, user: &str) {
    let ok = as_root("chown")
        .arg(user)
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown {user} {}", path.display());
}
