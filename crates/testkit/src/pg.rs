//! A throwaway PostgreSQL cluster per test process, from the machine's Debian `postgresql` binaries.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Cluster {
    socket_dir: PathBuf,
    // Held open for the life of the process: the watchdog stops PostgreSQL when it reads EOF.
    _watchdog: Mutex<Child>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);
const PORT: u16 = 5432;

/// Creates a new empty database in this process's cluster (starting the cluster on first use) and
/// returns its URL.
pub async fn fresh_database() -> String {
    let cluster = CLUSTER.get_or_init(start_cluster);
    let admin_url = url(&cluster.socket_dir, "postgres");
    let name = format!(
        "bizmail_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = async {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
            // `name` is ours: digits and underscores only.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        match attempt.await {
            Ok(()) => return url(&cluster.socket_dir, &name),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("test PostgreSQL did not accept connections: {e}"),
        }
    }
}

fn url(socket_dir: &Path, db: &str) -> String {
    format!(
        "postgres://postgres@localhost:{PORT}/{db}?host={}",
        socket_dir.display()
    )
}

/// The folder with `initdb` and `postgres`: `BIZMAIL_TEST_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("BIZMAIL_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (Debian package `postgresql`; see .ci/run)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, p)| p)
        .expect("a PostgreSQL server under /usr/lib/postgresql/<version>/bin")
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `program args` as the `postgres` user when we are root (PostgreSQL refuses root).
fn as_pg_user(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn start_cluster() -> Cluster {
    let bin = pg_bin();
    let root = running_as_root();
    let dir = tempfile::Builder::new()
        .prefix("bizmail-pg-")
        .tempdir()
        .expect("temporary folder for PostgreSQL")
        .keep();
    if root {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown runs");
        assert!(
            status.success(),
            "could not hand {} to postgres",
            dir.display()
        );
    }
    let data = dir.join("data");
    let out = as_pg_user(root, &bin.join("initdb"))
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-N",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        .output()
        .expect("initdb runs");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The watchdog: start PostgreSQL, wait for EOF on stdin (our process ending closes it), then
    // stop PostgreSQL fast and remove the folder.
    let script = r#"
        "$1/postgres" -D "$2/data" -k "$2" -p "$3" -c listen_addresses= -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
            -c shared_buffers=32MB >"$2/log" 2>&1 &
        pid=$!
        cat >/dev/null
        kill -INT "$pid" 2>/dev/null
        wait "$pid"
        rm -rf "$2"
    "#;
    let mut child = as_pg_user(root, Path::new("/bin/sh"))
        .args(["-c", script, "watchdog"])
        .arg(&bin)
        .arg(&dir)
        .arg(PORT.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("PostgreSQL watchdog starts");
    // Keep the pipe open; write nothing.
    if let Some(stdin) = child.stdin.as_mut() {
        let _ = stdin.flush();
    }
    let socket = dir.join(format!(".s.PGSQL.{PORT}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start; see {}/log",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Cluster {
        socket_dir: dir,
        _watchdog: Mutex::new(child),
    }
}
