//! `bizmail corp …` against a real `bizmail serve` on both backends: the first run prints the
//! corp id and the secrets of the newer API once; `show` lists the applications, `reveal` needs
//! the admin password, `rotate` ends the old secret's tokens at once, `disable-app` refuses the
//! application's `gettoken`; `init` prints a new tenant's credentials; `callback set` keeps no
//! receiver that fails its check; `tenant list|disable|enable` switch a whole tenant.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{bizmail, start};
use std::process::{Command, Stdio};

/// The value after `label` in the first-run banner.
fn printed(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {label} in:\n{text}"))
        .to_owned()
}

async fn gettoken(base: &str, corp_id: &str, secret: &str) -> serde_json::Value {
    reqwest::get(format!(
        "{base}/cgi-bin/gettoken?corpid={corp_id}&corpsecret={secret}"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

async fn user_get(base: &str, token: &str) -> i64 {
    let v: serde_json::Value = reqwest::get(format!(
        "{base}/cgi-bin/user/get?access_token={token}&userid=nobody@example.com"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    v["errcode"].as_i64().unwrap()
}

async fn corp_credentials(store: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), &store);
    let corp_id = printed(&node.first_run, "corp id");
    let secret = printed(&node.first_run, "directory secret");
    let password = printed(&node.first_run, "admin password");
    assert!(
        corp_id.starts_with("wm") && corp_id.len() == 18,
        "{corp_id}"
    );
    let token = gettoken(&node.base, &corp_id, &secret).await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(user_get(&node.base, &token).await, 60111);

    let mut flags = vec![
        "--data-dir".to_owned(),
        dir.path().join("bizmail-data").display().to_string(),
    ];
    flags.extend(store.iter().cloned());
    let shown = bizmail(dir.path(), &["corp", "show", "--admin", "admin"], &flags);
    assert!(shown.contains(&corp_id), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("directory") && l.ends_with("on")),
        "{shown}"
    );

    // reveal: the password from standard input; a wrong one is refused.
    let reveal = |pw: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bizmail"))
            .current_dir(dir.path())
            .args(["corp", "reveal", "--admin", "admin", "--app", "directory"])
            .args(&flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        writeln!(child.stdin.take().unwrap(), "{pw}").unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = reveal(&password);
    assert!(ok.status.success());
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), secret);
    assert!(!reveal("wrong-password").status.success());

    // rotate: the old secret and its tokens stop at once; the new secret works.
    let rotated = bizmail(
        dir.path(),
        &["corp", "rotate", "--admin", "admin", "--app", "directory"],
        &flags,
    );
    let new_secret = printed(&rotated, "new directory secret");
    assert_eq!(user_get(&node.base, &token).await, 40014);
    assert_eq!(
        gettoken(&node.base, &corp_id, &secret).await["errcode"],
        40001
    );
    assert_eq!(
        gettoken(&node.base, &corp_id, &new_secret).await["errcode"],
        0
    );

    // disable-app / enable-app.
    let off = [
        "corp",
        "disable-app",
        "--admin",
        "admin",
        "--app",
        "directory",
    ];
    bizmail(dir.path(), &off, &flags);
    assert_eq!(
        gettoken(&node.base, &corp_id, &new_secret).await["errcode"],
        40091
    );
    let on = [
        "corp",
        "enable-app",
        "--admin",
        "admin",
        "--app",
        "directory",
    ];
    bizmail(dir.path(), &on, &flags);
    assert_eq!(
        gettoken(&node.base, &corp_id, &new_secret).await["errcode"],
        0
    );

    // The callback: none yet; a receiver that does not answer the check is not kept.
    let status = bizmail(
        dir.path(),
        &["callback", "status", "--admin", "admin"],
        &flags,
    );
    assert_eq!(status.trim(), "no callback is set");
    let closed = format!("http://127.0.0.1:{}/cb", bizmail_testkit::free_port());
    let set = Command::new(env!("CARGO_BIN_EXE_bizmail"))
        .current_dir(dir.path())
        .args([
            "callback", "set", "--admin", "admin", "--url", &closed, "--token", "tok123",
        ])
        .args(["--aes-key", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"])
        .args(&flags)
        .output()
        .unwrap();
    assert!(!set.status.success());
    let err = String::from_utf8_lossy(&set.stderr);
    assert!(err.contains("failed its check"), "{err}");
    let status = bizmail(
        dir.path(),
        &["callback", "status", "--admin", "admin"],
        &flags,
    );
    assert_eq!(status.trim(), "no callback is set");

    // The operator: list the tenants, disable one (its gettoken answers 50005), enable it.
    let listed = bizmail(dir.path(), &["tenant", "list"], &flags);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("enabled") && l.contains("example.com")),
        "{listed}"
    );
    let off = ["tenant", "disable", "--domain", "example.com"];
    bizmail(dir.path(), &off, &flags);
    assert_eq!(
        gettoken(&node.base, &corp_id, &new_secret).await["errcode"],
        50005
    );
    let listed = bizmail(dir.path(), &["tenant", "list"], &flags);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("disabled") && l.contains("example.com")),
        "{listed}"
    );
    bizmail(
        dir.path(),
        &["tenant", "enable", "--domain", "example.com"],
        &flags,
    );
    assert_eq!(
        gettoken(&node.base, &corp_id, &new_secret).await["errcode"],
        0
    );

    // init prints a new tenant's corp id and five secrets.
    let init = bizmail(
        dir.path(),
        &["init", "--domain", "corp2.test", "--admin", "admin2"],
        &flags,
    );
    let corp2 = printed(&init, "corp id");
    assert_ne!(corp2, corp_id);
    let mail = printed(&init, "mail secret");
    let v = gettoken(&node.base, &corp2, &mail).await;
    assert_eq!(v["errcode"], 0, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_corp_credentials() {
    corp_credentials(vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_corp_credentials() {
    let url = bizmail_testkit::fresh_postgres_database().await;
    corp_credentials(vec!["--database-url".into(), url]).await;
}
