//! A preflight of a configuration (`bizmail check-config`): everything a start would trip over,
//! found without starting and without changing anything — the data folder and key file, the
//! database and its migrations, the TLS files, the listen addresses.

use crate::config::Config;
use crate::store::{self, schema::SchemaState};
use std::os::unix::fs::PermissionsExt as _;

/// How a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// As it should be.
    Ok,
    /// Works, but should be looked at.
    Warning,
    /// A start would fail, or run unsafely.
    Error,
}

/// One thing checked, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How it weighs.
    pub level: Level,
    /// What was checked (`data folder`, `database`, …).
    pub what: String,
    /// What was found, in a sentence.
    pub detail: String,
}

fn found(level: Level, what: &str, detail: String) -> Finding {
    Finding {
        level,
        what: what.to_owned(),
        detail,
    }
}

/// Checks `config` (already parsed and validated) without changing anything.
pub async fn preflight(config: &Config) -> Vec<Finding> {
    let mut out = vec![found(
        Level::Ok,
        "configuration",
        "parsed and within its limits".into(),
    )];
    out.push(data_folder(config));
    out.push(key_file(config));
    out.push(database(config).await);
    for (name, cert, key) in [
        (
            "HTTP",
            &config.http_tls_cert_file,
            &config.http_tls_key_file,
        ),
        (
            "SMTP",
            &config.smtp_tls_cert_file,
            &config.smtp_tls_key_file,
        ),
    ] {
        if !cert.as_os_str().is_empty() {
            let what = format!("{name} TLS");
            out.push(match crate::tls::acceptor(cert, key) {
                Ok(_) => found(Level::Ok, &what, format!("{} loads", cert.display())),
                Err(e) => found(Level::Error, &what, e.to_string()),
            });
        }
    }
    let listeners = [
        ("HTTP", Some(config.http_addr)),
        ("SMTP", Some(config.smtp_addr)),
        ("IMAP", config.imap_addr),
        ("IMAPS", config.imaps_addr),
        ("POP3", config.pop3_addr),
        ("POP3S", config.pop3s_addr),
        ("submission", config.submission_addr),
        ("submissions", config.submissions_addr),
    ];
    for (name, addr) in listeners {
        if let Some(addr) = addr {
            out.push(listen_address(name, addr).await);
        }
    }
    out
}

fn data_folder(config: &Config) -> Finding {
    let dir = &config.data_dir;
    match std::fs::metadata(dir) {
        Err(_) => found(
            Level::Ok,
            "data folder",
            format!(
                "{} does not exist yet; the first start makes it (0700)",
                dir.display()
            ),
        ),
        Ok(m) if !m.is_dir() => found(
            Level::Error,
            "data folder",
            format!("{} is not a folder", dir.display()),
        ),
        Ok(m) if m.permissions().mode() & 0o077 != 0 => found(
            Level::Warning,
            "data folder",
            format!(
                "{} can be read by others than its owner (mode {:o}); chmod 700 it",
                dir.display(),
                m.permissions().mode() & 0o777
            ),
        ),
        Ok(_) => found(
            Level::Ok,
            "data folder",
            format!("{} (0700)", dir.display()),
        ),
    }
}

fn key_file(config: &Config) -> Finding {
    let path = config.effective_secret_key_file();
    if !path.exists() {
        return found(
            Level::Ok,
            "key file",
            format!(
                "{} does not exist yet; the first start makes it",
                path.display()
            ),
        );
    }
    if crate::auth::vault::key_file_exposed(&path) {
        return found(
            Level::Error,
            "key file",
            format!(
                "{} can be read by others than its owner; it opens every stored secret: chmod 600 it",
                path.display()
            ),
        );
    }
    found(Level::Ok, "key file", format!("{} (0600)", path.display()))
}

async fn database(config: &Config) -> Finding {
    let settings = store::StoreSettings::from_config(config);
    let what = "database";
    match store::schema::state(&settings).await {
        Ok(SchemaState::Missing) => found(
            Level::Ok,
            what,
            "the SQLite file does not exist yet; the first start makes it".into(),
        ),
        Ok(SchemaState::Reached {
            applied,
            known,
            newest,
            latest,
        }) => {
            if newest > latest {
                found(
                    Level::Error,
                    what,
                    format!(
                        "a newer bizmail has migrated it (version {newest}; this release knows \
                         up to {latest}): run that release, or restore a backup"
                    ),
                )
            } else if applied == known {
                found(
                    Level::Ok,
                    what,
                    format!("reached; all {known} migrations of this release applied"),
                )
            } else {
                found(
                    Level::Ok,
                    what,
                    format!(
                        "reached; {applied} of {known} migrations applied, the next start applies \
                         the other {} (back it up first: bizmail backup)",
                        known - applied
                    ),
                )
            }
        }
        Err(e) => found(Level::Error, what, format!("cannot be reached: {e}")),
    }
}

async fn listen_address(name: &str, addr: std::net::SocketAddr) -> Finding {
    let what = format!("{name} address");
    // Port 0 picks a free port at start: nothing to check.
    if addr.port() == 0 {
        return found(Level::Ok, &what, format!("{addr} (a free port at start)"));
    }
    match tokio::net::TcpListener::bind(addr).await {
        Ok(_) => found(Level::Ok, &what, format!("{addr} is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => found(
            Level::Warning,
            &what,
            format!("{addr} is in use (by a running bizmail? then this is expected)"),
        ),
        Err(e) => found(Level::Error, &what, format!("{addr} cannot be used: {e}")),
    }
}
