//! A private rspamd (Debian's package) for a test: its scanner and controller on free loopback
//! ports, a private redis for its Bayes statistics, its DNS pointed at the test's own server (so
//! no lookup waits on the network), its files in a temporary folder. Both stop when the value is
//! dropped. `cargo xtask test` installs rspamd and redis-server.

use bizmail_testkit::free_port;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running rspamd with its redis.
pub struct Rspamd {
    /// `http://127.0.0.1:<port>` of the scanner.
    pub url: String,
    /// `http://127.0.0.1:<port>` of the controller.
    pub controller: String,
    rspamd: Child,
    redis: Child,
    _dir: tempfile::TempDir,
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

impl Rspamd {
    /// Starts redis and rspamd; waits until the scanner answers `/ping`.
    pub async fn start(dns: std::net::SocketAddr) -> Rspamd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (normal, controller, proxy, redis_port) =
            (free_port(), free_port(), free_port(), free_port());
        let conf = d.join("conf");
        write(
            &conf.join("override.d/worker-normal.inc"),
            &format!("bind_socket = \"127.0.0.1:{normal}\";\ncount = 1;\n"),
        );
        write(
            &conf.join("override.d/worker-controller.inc"),
            &format!(
                "bind_socket = \"127.0.0.1:{controller}\";\ncount = 1;\nsecure_ip = \"127.0.0.1\";\n"
            ),
        );
        write(
            &conf.join("override.d/worker-proxy.inc"),
            &format!("bind_socket = \"127.0.0.1:{proxy}\";\ncount = 1;\n"),
        );
        write(
            &conf.join("local.d/redis.conf"),
            &format!("servers = \"127.0.0.1:{redis_port}\";\n"),
        );
        write(
            &conf.join("local.d/options.inc"),
            &format!("dns {{ nameserver = [\"{dns}\"]; timeout = 1s; retransmits = 1; }}\n"),
        );
        let log = d.join("rspamd.log");
        write(
            &conf.join("override.d/logging.inc"),
            &format!(
                "type = \"file\";\nfilename = \"{}\";\nlevel = \"warning\";\n",
                log.display()
            ),
        );
        for sub in ["db", "run"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let redis = Command::new("redis-server")
            .args([
                "--port",
                &redis_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (cargo xtask test installs it)");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        let mut cmd = Command::new("rspamd");
        cmd.args(["-f", "-i", "-c", "/etc/rspamd/rspamd.conf"]);
        if root {
            cmd.args(["-u", "root", "-g", "root"]);
        }
        for (var, path) in [
            ("LOCAL_CONFDIR", &conf),
            ("DBDIR", &d.join("db")),
            ("RUNDIR", &d.join("run")),
            ("LOGDIR", &d.to_path_buf()),
        ] {
            cmd.arg(format!("--var={var}={}", path.display()));
        }
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let rspamd = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rspamd (cargo xtask test installs it)");
        let me = Rspamd {
            url: format!("http://127.0.0.1:{normal}"),
            controller: format!("http://127.0.0.1:{controller}"),
            rspamd,
            redis,
            _dir: dir,
        };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            let ping = http.get(format!("{}/ping", me.url)).send().await;
            let ready = http.get(format!("{}/ping", me.controller)).send().await;
            if ping.is_ok() && ready.is_ok() {
                return me;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "rspamd did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// How many messages rspamd has learned (`/stat`).
    pub async fn learned(&self) -> u64 {
        let v: serde_json::Value = reqwest::get(format!("{}/stat", self.controller))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["learned"].as_u64().unwrap_or(0)
    }
}

impl Drop for Rspamd {
    fn drop(&mut self) {
        // The main process stops its workers on SIGTERM; the whole group goes in any case.
        let group = format!("-{}", self.rspamd.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.rspamd.wait();
        let _ = self.redis.kill();
        let _ = self.redis.wait();
    }
}
