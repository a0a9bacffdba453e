//! The project's chores as a library, so the tidy rules run both as `cargo xtask tidy` and as a
//! test of `cargo test --workspace`.

use std::path::{Path, PathBuf};

/// The longest a source file may be: past it, a file usually does two jobs.
pub const MAX_LINES: usize = 600;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Every `.rs` file under `crates/` (build output and fuzz artifacts excluded), sorted.
pub fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.join("crates")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            if path.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The house rules every Rust file breaks, one line per breach: each file opens with a `//!`
/// line saying what it is for, and none is longer than [`MAX_LINES`].
pub fn tidy(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for path in rust_files(root) {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("{shown}: not readable as UTF-8"));
            continue;
        };
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            problems.push(format!(
                "{shown}: no `//!` module doc on its first line (say what the module is for)"
            ));
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!(
                "{shown}: {lines} lines, over {MAX_LINES} (a sign it does two jobs: split it)"
            ));
        }
    }
    problems
}

/// What the tests need from Debian that may be missing: the PostgreSQL server binaries (the test
/// harness runs throwaway clusters with them), Chromium and its WebDriver (the browser tests), and
/// the real mail clients the IMAP tests run (mbsync, offlineimap, fetchmail, getmail), and for
/// sending: swaks (a real submission client), dkimpy (an independent DKIM verifier), rspamd and
/// the redis it keeps its statistics in, and Postfix (a remote domain's MX, and the relay the
/// sending benchmark compares with); Dovecot's IMAP server (the source `bizmail migrate mail` is
/// tested against); and `python3 -m venv` working (the newer API's PyPI clients
/// run from a virtual environment).
pub fn missing_packages() -> Vec<&'static str> {
    let mut missing = Vec::new();
    let has_venv = std::process::Command::new("python3")
        .args(["-c", "import ensurepip, venv"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_venv {
        missing.push("python3-venv");
    }
    let has_initdb = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
        versions
            .flatten()
            .any(|v| v.path().join("bin/initdb").exists())
    });
    if !has_initdb {
        missing.push("postgresql");
    }
    if !Path::new("/usr/bin/chromium").exists() {
        missing.push("chromium");
    }
    if !Path::new("/usr/bin/chromedriver").exists() {
        missing.push("chromium-driver");
    }
    for (program, package) in [
        ("/usr/bin/mbsync", "isync"),
        ("/usr/bin/offlineimap", "offlineimap3"),
        ("/usr/bin/fetchmail", "fetchmail"),
        ("/usr/bin/getmail", "getmail6"),
        ("/usr/bin/swaks", "swaks"),
        ("/usr/bin/rspamd", "rspamd"),
        ("/usr/bin/redis-server", "redis-server"),
        ("/usr/sbin/postfix", "postfix"),
        // The Java worked example of docs/SANDBOX.md runs as a single source file.
        ("/usr/bin/javac", "default-jdk-headless"),
        // The IMAP source of `bizmail migrate mail`'s tests (it brings dovecot-core along).
        ("/usr/lib/dovecot/imap", "dovecot-imapd"),
        (
            "/usr/lib/python3/dist-packages/dkim/__init__.py",
            "python3-dkim",
        ),
    ] {
        if !Path::new(program).exists() {
            missing.push(package);
        }
    }
    missing
}
