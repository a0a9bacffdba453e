//! `bizmail backup` while the server runs, then `bizmail restore` into a fresh store, on SQLite
//! and on PostgreSQL: the directory and the mail come back, no access token of the old store
//! works, and the interface key still opens (and is revealed) with the copied key file.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{call, first_run_key, mail, start, token};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn bizmail(args: &[&str], store: &[String]) -> String {
    common::bizmail(Path::new("."), args, store)
}

fn flags(dir: &Path, database: &[String]) -> Vec<String> {
    let mut f = vec![
        "--data-dir".to_owned(),
        dir.join("bizmail-data").display().to_string(),
    ];
    f.extend(database.iter().cloned());
    f
}

async fn round_trip(from: Vec<String>, to: Vec<String>) {
    let (dir, dir2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node = start(dir.path(), &from);
    let key = first_run_key(&node);
    let password = node
        .first_run
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin password"))
        .unwrap()
        .trim()
        .to_owned();
    let old_token = token(&node.base, &key).await;
    assert_eq!(
        call(
            &node.base,
            &old_token,
            "party/sync",
            &[("Action", "2"), ("DstPath", "研发")]
        )
        .await,
        ""
    );
    let add = [
        ("Action", "2"),
        ("Alias", "kept@example.com"),
        ("Name", "Kept"),
        ("Password", "secret123"),
        ("PartyPath", "研发"),
    ];
    assert_eq!(call(&node.base, &old_token, "user/sync", &add).await, "");
    mail(&node.smtp, "kept@example.com", "before the backup").await;

    // Taken while the server is serving.
    let file = dir.path().join("bizmail.backup");
    let said = bizmail(
        &["backup", file.to_str().unwrap()],
        &flags(dir.path(), &from),
    );
    assert!(said.contains("secret.key"), "{said}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    drop(node);

    // Restored into a fresh store that has the old key file.
    let data2 = dir2.path().join("bizmail-data");
    std::fs::create_dir_all(&data2).unwrap();
    std::fs::copy(
        dir.path().join("bizmail-data/secret.key"),
        data2.join("secret.key"),
    )
    .unwrap();
    std::fs::set_permissions(
        data2.join("secret.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_bizmail"))
        .args(["restore", file.to_str().unwrap()])
        .args(flags(dir2.path(), &to))
        .output()
        .unwrap();
    assert!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("--force")
    );
    bizmail(
        &["restore", file.to_str().unwrap(), "--force"],
        &flags(dir2.path(), &to),
    );

    let node2 = start(dir2.path(), &to);
    assert!(
        node2.first_run.is_empty(),
        "not a new store: {}",
        node2.first_run
    );
    let stale = call(&node2.base, &old_token, "bizmail/ping", &[]).await;
    assert!(stale.contains("1200"), "the old token is gone: {stale}");
    let new_token = token(&node2.base, &key).await;
    let got = call(
        &node2.base,
        &new_token,
        "user/get",
        &[("Alias", "kept@example.com")],
    )
    .await;
    assert!(
        got.contains(r#""Name":"Kept""#) && got.contains("研发"),
        "{got}"
    );
    let count = call(
        &node2.base,
        &new_token,
        "mail/newcount",
        &[("Alias", "kept@example.com")],
    )
    .await;
    assert!(count.contains(r#""NewCount":"1""#), "{count}");
    let revealed = bizmail(
        &[
            "openapi",
            "reveal",
            "--admin",
            "admin",
            "--admin-password",
            &password,
        ],
        &flags(dir2.path(), &to),
    );
    assert_eq!(revealed.trim(), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_and_restore() {
    round_trip(vec![], vec![]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backup_and_restore() {
    let from = bizmail_testkit::fresh_postgres_database().await;
    let to = bizmail_testkit::fresh_postgres_database().await;
    round_trip(
        vec!["--database-url".into(), from],
        vec!["--database-url".into(), to],
    )
    .await;
}
