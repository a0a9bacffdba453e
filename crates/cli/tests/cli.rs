//! The `bizmail` binary as a newcomer and a script use it: `serve` on an empty folder prints a key
//! that gets a token; `init` and `openapi …` administer tenants, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bizmail() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bizmail"));
    c.env("BIZMAIL_LOG", "warn");
    c
}

/// Runs `bizmail args…` with the store flags, expecting success; returns standard output.
fn run_ok(store: &[String], args: &[&str]) -> String {
    let out = bizmail()
        .args(args)
        .args(store)
        .output()
        .expect("bizmail runs");
    assert!(
        out.status.success(),
        "bizmail {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_err(store: &[String], args: &[&str]) -> String {
    let out = bizmail()
        .args(args)
        .args(store)
        .output()
        .expect("bizmail runs");
    assert!(!out.status.success(), "bizmail {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
        .to_owned()
}

struct Serving {
    child: Child,
    base: String,
    smtp: String,
    first_run: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &std::path::Path, store: &[String]) -> Serving {
    #[allow(clippy::zombie_processes)] // `Serving::drop` kills and waits for it
    let mut child = bizmail()
        .current_dir(dir)
        .args(["serve", "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
        .args(store)
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut first_run = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let line = lines.next().expect("serve prints").expect("utf-8");
        if let Some(rest) = line.strip_prefix("bizmail is serving the OpenApi on ") {
            let base = rest.split_whitespace().next().expect("url").to_owned();
            let smtp = rest
                .split(" and SMTP on ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .expect("SMTP address")
                .to_owned();
            return Serving {
                child,
                base,
                smtp,
                first_run,
            };
        }
        first_run.push_str(&line);
        first_run.push('\n');
    }
    panic!("serve did not report its address; printed:\n{first_run}");
}

/// The flags that point an admin command at the store `serve` used in `dir`: its default data
/// folder there (which holds the key file even with PostgreSQL), plus the database flags.
fn store_flags(dir: &std::path::Path, store: &[String]) -> Vec<String> {
    let mut flags: Vec<String> = vec![
        "--data-dir".into(),
        dir.join("bizmail-data").display().to_string(),
    ];
    flags.extend(store.iter().cloned());
    flags
}

async fn token(base: &str, admin: &str, key: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/cgi-bin/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", admin),
            ("client_secret", key),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("JSON")
}

async fn serve_on_an_empty_folder_then_administer(store: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), &store);
    assert!(s.first_run.contains("example.com"), "{}", s.first_run);
    let key = field(&s.first_run, "interface key");
    let password = field(&s.first_run, "admin password");
    let t = token(&s.base, "admin", &key).await;
    // The SMTP receiver is up too.
    let mut greeting = String::new();
    let smtp = std::net::TcpStream::connect(&s.smtp).expect("SMTP listens");
    BufReader::new(smtp)
        .read_line(&mut greeting)
        .expect("greeting");
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["access_token"].as_str().unwrap().len(), 86);

    // The admin commands work on the same store, and share the key file `serve` created.
    let store_flags = store_flags(dir.path(), &store);
    let revealed = run_ok(
        &store_flags,
        &[
            "openapi",
            "reveal",
            "--admin",
            "admin",
            "--admin-password",
            &password,
        ],
    );
    assert_eq!(revealed.trim(), key);
    assert!(
        run_err(
            &store_flags,
            &[
                "openapi",
                "reveal",
                "--admin",
                "admin",
                "--admin-password",
                "wrong"
            ]
        )
        .contains("wrong admin password")
    );

    let reset = run_err(
        &store_flags,
        &[
            "member",
            "reset-totp",
            "--admin",
            "admin",
            "ghost@example.com",
        ],
    );
    assert!(reset.contains("no member ghost@example.com"), "{reset}");

    // The console: named in the first run's message, and its accounts administered.
    assert!(
        s.first_run.contains("/admin/   sign in as admin"),
        "{}",
        s.first_run
    );
    let added = run_ok(&store_flags, &["operator", "add", "ops", "--generate"]);
    assert!(
        field(&added, "password (shown only now):").len() >= 12,
        "{added}"
    );
    assert_eq!(run_ok(&store_flags, &["operator", "list"]).trim(), "ops");
    let reset = run_ok(&store_flags, &["admin", "reset-totp", "--admin", "admin"]);
    assert!(
        reset.contains("no console authenticator was enrolled"),
        "{reset}"
    );
    let unknown = run_err(&store_flags, &["operator", "reset-totp", "nobody"]);
    assert!(unknown.contains("nobody"), "{unknown}");

    // Client passwords for a member's mail clients: made, listed, removed.
    let synced = reqwest::Client::new()
        .post(format!("{}/openapi/user/sync", s.base))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .form(&[
            ("Action", "2"),
            ("Alias", "pat@example.com"),
            ("Name", "Pat"),
            ("Password", "secret123"),
        ])
        .send()
        .await
        .expect("user/sync")
        .text()
        .await
        .expect("body");
    assert_eq!(synced, "", "success has an empty body");
    fn quota(mb: &str) -> Vec<&str> {
        vec!["member", "quota", "--admin", "admin", "pat@example.com", mb]
    }
    let five = run_ok(&store_flags, &quota("5"));
    assert_eq!(five.trim(), "pat@example.com: 5 MB");
    let bad = run_err(&store_flags, &quota("lots"));
    assert!(bad.contains("a number of MB"), "{bad}");
    run_ok(&store_flags, &quota("default"));
    let app = ["member", "app-password"];
    let who = ["--admin", "admin", "pat@example.com"];
    let made = run_ok(
        &store_flags,
        &[&app[..], &["add"], &who[..], &["Outlook"]].concat(),
    );
    assert!(
        made.contains("Client password \"Outlook\" for pat@example.com: "),
        "{made}"
    );
    let listed = run_ok(&store_flags, &[&app[..], &["list"], &who[..]].concat());
    assert!(listed.starts_with("Outlook\t(made "), "{listed}");
    run_ok(
        &store_flags,
        &[&app[..], &["remove"], &who[..], &["Outlook"]].concat(),
    );
    let again = run_err(
        &store_flags,
        &[&app[..], &["remove"], &who[..], &["Outlook"]].concat(),
    );
    assert!(
        again.contains("no client password called \"Outlook\""),
        "{again}"
    );

    let init = run_ok(
        &store_flags,
        &[
            "init",
            "--domain",
            "corp.example",
            "--domain",
            "corp2.example",
            "--admin",
            "hr-sync",
        ],
    );
    let hr_key = field(&init, "interface key");
    assert!(init.contains("admin password"), "{init}");
    let hr_token = token(&s.base, "hr-sync", &hr_key).await;
    assert_eq!(hr_token["token_type"], "Bearer", "{hr_token} {init}");
    assert!(
        run_err(
            &store_flags,
            &["init", "--domain", "other.example", "--admin", "hr-sync"]
        )
        .contains("already exists")
    );
    assert!(
        run_err(
            &store_flags,
            &["init", "--domain", "corp2.example", "--admin", "someone"]
        )
        .contains("already exists")
    );
    let given = run_ok(
        &store_flags,
        &[
            "init",
            "--domain",
            "given.example",
            "--admin",
            "given",
            "--admin-password",
            "a long password",
            "--openapi-key",
            "563a8c6a89d2368194c1c7889c508b34",
        ],
    );
    assert!(
        !given.contains("a long password"),
        "a given password is not echoed"
    );
    assert_eq!(
        token(&s.base, "given", "563a8c6a89d2368194c1c7889c508b34").await["token_type"],
        "Bearer"
    );

    run_ok(&store_flags, &["openapi", "disable", "--admin", "hr-sync"]);
    assert_eq!(token(&s.base, "hr-sync", &hr_key).await["errcode"], "1102");
    run_ok(&store_flags, &["openapi", "enable", "--admin", "hr-sync"]);
    let rotated = field(
        &run_ok(&store_flags, &["openapi", "rotate", "--admin", "hr-sync"]),
        "interface key",
    );
    assert_eq!(token(&s.base, "hr-sync", &hr_key).await["errcode"], "1100");
    assert_eq!(
        token(&s.base, "hr-sync", &rotated).await["token_type"],
        "Bearer"
    );
    assert!(
        run_ok(
            &store_flags,
            &[
                "openapi",
                "allow-ip",
                "--admin",
                "hr-sync",
                "10.0.0.0/8",
                "192.0.2.7"
            ]
        )
        .contains("192.0.2.7/32")
    );
    assert!(
        run_ok(
            &store_flags,
            &[
                "openapi",
                "deny-ip",
                "--admin",
                "hr-sync",
                "10.0.0.0/8",
                "192.0.2.7"
            ]
        )
        .contains("any address")
    );
    assert!(
        run_err(
            &store_flags,
            &["openapi", "allow-ip", "--admin", "hr-sync", "not-an-ip"]
        )
        .contains("not an IP")
    );
    assert!(
        run_err(&store_flags, &["openapi", "apply", "--admin", "hr-sync"])
            .contains("already applied")
    );
    assert!(
        run_err(&store_flags, &["openapi", "enable", "--admin", "nobody"])
            .contains("no admin account")
    );

    let no_api = run_ok(
        &store_flags,
        &[
            "init",
            "--domain",
            "later.example",
            "--admin",
            "later",
            "--no-openapi",
        ],
    );
    assert!(no_api.contains("openapi apply"), "{no_api}");
    let applied = field(
        &run_ok(&store_flags, &["openapi", "apply", "--admin", "later"]),
        "interface key",
    );
    assert_eq!(
        token(&s.base, "later", &applied).await["token_type"],
        "Bearer"
    );

    // The served token requests are in the operation log (after the server writes its queue).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = run_ok(
            &store_flags,
            &["oplog", "--admin", "hr-sync", "--limit", "10"],
        );
        if log.matches("cgi-bin/token").count() >= 4 {
            assert!(log.contains("client_secret=***"), "{log}");
            assert!(!log.contains(&rotated), "key leaked into the log");
            break;
        }
        assert!(Instant::now() < deadline, "op log incomplete:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sqlite_serve_and_administer() {
    serve_on_an_empty_folder_then_administer(vec![]).await;
}

#[tokio::test]
async fn postgres_serve_and_administer() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    let store = vec!["--database-url".into(), url];
    serve_on_an_empty_folder_then_administer(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bizmail-data");
    let s = serve(dir.path(), &[]);
    let key = field(&s.first_run, "interface key");
    // A call that writes, so the WAL files exist too.
    assert!(token(&s.base, "admin", &key).await["access_token"].is_string());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    for f in [
        "bizmail.sqlite",
        "bizmail.sqlite-wal",
        "bizmail.sqlite-shm",
        "secret.key",
    ] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    drop(s);

    // A key file others can read: `init` refuses to seal a new tenant's key with it, and
    // `serve` says so on standard error (and serves: a running service is not held hostage).
    let key_file = data.join("secret.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let flags = store_flags(dir.path(), &[]);
    let err = run_err(
        &flags,
        &["init", "--domain", "exposed.example", "--admin", "exposed"],
    );
    assert!(err.contains("chmod 600"), "{err}");
    #[allow(clippy::zombie_processes)] // killed and waited for below
    let mut child = bizmail()
        .current_dir(dir.path())
        .args(["serve", "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.contains("warning") && first.contains("chmod 600"),
        "{first}"
    );
}

#[test]
fn help_helps_and_bad_config_is_named() {
    let out = bizmail().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "init", "openapi", "oplog"] {
        assert!(text.contains(cmd), "{text}");
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "http_adr = \"127.0.0.1:1\"\n").unwrap();
    let out = bizmail()
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http_adr"));
}

async fn api_json(
    base: &str,
    token: &str,
    endpoint: &str,
    fields: &[(&str, &str)],
) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/openapi/{endpoint}"))
        .bearer_auth(token)
        .form(fields)
        .send()
        .await
        .expect("API call")
        .json()
        .await
        .expect("JSON")
}

async fn import_an_org_chart(store: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), &store);
    let key = field(&s.first_run, "interface key");
    let token = token(&s.base, "admin", &key).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let flags = store_flags(dir.path(), &store);

    let csv = dir.path().join("org.csv");
    std::fs::write(&csv, "\
Alias,Name,Departments,Aliases,Position,Tel,Mobile,ExtId,Gender,Password,Md5
zhang@example.com,张三,研发/后台;运营,zs@example.com,工程师,6000,,E1,1,secret123,
li@example.com,李四,研发,,经理,,138,E2,2,,e10adc3949ba59abbe56e057f20f883e
wang@example.com,王五,,,,,,E3,,,
bad@example.com,Bad,,,,,,,,123,
far@elsewhere.example,Far,,,,,,,,,
six@example.com,Six,,a1@example.com;a2@example.com;a3@example.com;a4@example.com;a5@example.com;a6@example.com,,,,,,,
").unwrap();
    let mut cmd = bizmail();
    cmd.args(["import"])
        .arg(&csv)
        .args(["--admin", "admin"])
        .args(&flags);
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused row makes the exit non-zero: {text}"
    );
    assert!(
        text.contains("6 rows: 3 added, 0 changed, 0 unchanged, 3 refused"),
        "{text}"
    );
    assert!(
        text.contains("line 5: bad@example.com: 1303 invalid_password"),
        "{text}"
    );
    assert!(
        text.contains("line 6: far@elsewhere.example: 1302 invalid_alias"),
        "{text}"
    );
    assert!(
        text.contains("line 7: six@example.com: 1305 too_many_slaves"),
        "{text}"
    );

    let zhang = api_json(&s.base, &token, "user/get", &[("Alias", "zs@example.com")]).await;
    assert_eq!(zhang["Alias"], "zhang@example.com");
    assert_eq!(zhang["Name"], "张三");
    assert_eq!(zhang["PartyList"]["List"][0]["Value"], "研发/后台");
    assert_eq!(zhang["PartyList"]["List"][1]["Value"], "运营");
    let parties = api_json(&s.base, &token, "party/list", &[("PartyPath", "研发")]).await;
    assert_eq!(parties["List"][0]["Value"], "后台");
    let ver = api_json(&s.base, &token, "user/list", &[("Ver", "0")]).await;
    assert_eq!(ver["Count"], 3);

    // The same file again: nothing changes, the version stays.
    let out = bizmail()
        .args(["import"])
        .arg(&csv)
        .args(["--admin", "admin"])
        .args(&flags)
        .output()
        .unwrap();
    let again = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        again.contains("6 rows: 0 added, 0 changed, 3 unchanged, 3 refused"),
        "{again}"
    );
    let ver2 = api_json(&s.base, &token, "user/list", &[("Ver", "0")]).await;
    assert_eq!(ver2["Ver"], ver["Ver"]);

    // An unknown column is refused before anything loads.
    std::fs::write(&csv, "alias,nickname\nx@example.com,X\n").unwrap();
    let err = run_err(
        &flags,
        &["import", csv.to_str().unwrap(), "--admin", "admin"],
    );
    assert!(err.contains("unknown column \"nickname\""), "{err}");
}

#[tokio::test]
async fn sqlite_import() {
    import_an_org_chart(vec![]).await;
}

#[tokio::test]
async fn postgres_import() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    import_an_org_chart(vec!["--database-url".into(), url]).await;
}
