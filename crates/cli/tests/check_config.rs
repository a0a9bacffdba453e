//! `bizmail check-config`: a fresh folder passes and says what the first start will make; a store
//! it can read reports its migrations; a certificate that does not load fails it (exit 1) with the
//! file named; a folder others can read is a warning; nothing is created or changed.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

fn check(dir: &std::path::Path, env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bizmail"))
        .env("BIZMAIL_LOG", "warn")
        .envs(env.iter().copied())
        .current_dir(dir)
        .args(["check-config", "--data-dir"])
        .arg(dir.join("data"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn check_config_finds_what_a_start_would_trip_over() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(dir.path(), &[("BIZMAIL_HTTP_ADDR", "127.0.0.1:0")]);
    assert!(ok, "{text}");
    assert!(text.contains("does not exist yet"), "{text}");
    assert!(!dir.path().join("data").exists(), "nothing is created");

    let init = Command::new(env!("CARGO_BIN_EXE_bizmail"))
        .args(["init", "--domain", "c.test", "--admin", "c1", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(init.status.success());
    let (ok, text) = check(dir.path(), &[("BIZMAIL_HTTP_ADDR", "127.0.0.1:0")]);
    assert!(ok, "{text}");
    assert!(
        text.contains("migrations of this release applied"),
        "{text}"
    );

    std::fs::set_permissions(
        dir.path().join("data"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let (ok, text) = check(dir.path(), &[("BIZMAIL_HTTP_ADDR", "127.0.0.1:0")]);
    assert!(ok, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("warning") && l.contains("chmod 700")),
        "{text}"
    );

    let missing = dir.path().join("nope.pem");
    let missing = missing.to_str().unwrap();
    let env = [
        ("BIZMAIL_HTTP_ADDR", "127.0.0.1:0"),
        ("BIZMAIL_HTTP_TLS_CERT_FILE", missing),
        ("BIZMAIL_HTTP_TLS_KEY_FILE", missing),
    ];
    let (ok, text) = check(dir.path(), &env);
    assert!(!ok, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("ERROR") && l.contains(missing)),
        "{text}"
    );
}
