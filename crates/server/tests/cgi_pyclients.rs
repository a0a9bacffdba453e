//! The two public Python clients of the newer Exmail API (`exmail-sdk` and `TencentExmail`,
//! from PyPI, pinned in `tests/pyclients/requirements.txt`) run unchanged against the real
//! server on both backends: `tests/pyclients/exmail_clients.py` drives every call they offer
//! and checks the answers. Slow (a virtual environment on first use), so a binary of its own.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use bizmail_testkit::backend_test;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One virtual environment for every test of this binary, made once.
static VENV: Mutex<Option<PathBuf>> = Mutex::new(None);

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyclients")
}

fn venv() -> PathBuf {
    let mut slot = VENV
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(p) = slot.as_ref() {
        return p.clone();
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyclients-venv");
    let python = dir.join("bin/python");
    let requirements = here().join("requirements.txt");
    let stamp = dir.join("requirements.installed");
    let wanted = std::fs::read_to_string(&requirements).unwrap();
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let made = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(
            made.success(),
            "python3 -m venv failed (Debian: python3-venv)"
        );
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "-r"])
            .arg(&requirements)
            .status()
            .unwrap();
        assert!(pip.success(), "pip install -r {}", requirements.display());
        std::fs::write(&stamp, wanted).unwrap();
    }
    *slot = Some(python.clone());
    python
}

backend_test! {
    async fn the_public_python_clients_pass(srv) {
        let python = tokio::task::spawn_blocking(venv).await.unwrap();
        let t = srv.tenant().clone();
        let mut cmd = tokio::process::Command::new(python);
        cmd.arg(here().join("exmail_clients.py"))
            .env("BIZMAIL_CGI", srv.url("cgi-bin"))
            .env("BIZMAIL_WEB", &srv.base_url)
            .env("BIZMAIL_CORPID", &t.corp_id)
            .env("BIZMAIL_DOMAIN", &t.domain);
        for (app, secret) in &t.corp_secrets {
            cmd.env(format!("BIZMAIL_SECRET_{}", app.to_uppercase()), secret);
        }
        let out = tokio::time::timeout(std::time::Duration::from_secs(600), cmd.output())
            .await
            .expect("the clients finish within 10 minutes")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.lines().last().is_some_and(|l| l.starts_with("OK ")), "{stdout}");
        // Unused beyond the seeded tenant: keep the server alive until the script is done.
        drop(srv);
    }
}
