//! Backups: a consistent copy of the whole database taken while the server runs, and putting one
//! back. SQLite copies itself with `VACUUM INTO` (one read transaction: a consistent snapshot,
//! writers go on); PostgreSQL is dumped and restored with Debian's `pg_dump` and `pg_restore`.
//!
//! A backup holds the directory, the mail, the operation log and the sealed interface keys, but
//! never the key file that opens them (`secret.key`: keep it apart) — and after a restore no
//! access token, SSO ticket, web session, login challenge or listen cursor of the old database
//! works: clients sign in again rather than inherit credentials from a file.

use super::{Store, StoreError, StoreResult, StoreSettings, sql};
use crate::config::Backend;
use std::path::Path;

/// The tables of live credentials and client state, emptied after a restore.
const LIVE_STATE: [&str; 7] = [
    "DELETE FROM access_tokens",
    "DELETE FROM sso_tickets",
    "DELETE FROM web_sessions",
    "DELETE FROM login_challenges",
    "DELETE FROM listen_cursors",
    "DELETE FROM console_sessions",
    "DELETE FROM console_challenges",
];

fn io(e: std::io::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Io(e))
}

fn other(what: String) -> StoreError {
    io(std::io::Error::other(what))
}

impl Store {
    /// Writes a consistent copy of the database to `file` (which must not exist), readable by the
    /// owner only.
    pub async fn backup_to(&self, settings: &StoreSettings, file: &Path) -> StoreResult<()> {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Created empty and private first: VACUUM INTO fills an empty file, and pg_dump writes
        // into the one we opened; either way no other user can read it at any moment.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
            .map_err(io)?;
        let path = file.to_string_lossy().into_owned();
        let done = match self {
            // On a connection of its own, outside the writers' queue: VACUUM cannot run inside
            // the transaction a group commit would put it in, and it only reads the database.
            Store::Sqlite { .. } => match self.acquire().await {
                Ok(mut pooled) => sql::execute_in(
                    &mut pooled.conn(),
                    "VACUUM INTO $1",
                    &[path.as_str().into()],
                )
                .await
                .map(drop),
                Err(e) => Err(e),
            },
            Store::Postgres { .. } => {
                run(
                    "pg_dump",
                    &[
                        "--format=custom",
                        "--no-owner",
                        "--file",
                        &path,
                        &settings.url,
                    ],
                )
                .await
            }
        };
        if done.is_err() {
            let _ = std::fs::remove_file(file);
        }
        done
    }
}

/// Puts the backup in `file` back as the database `settings` name, then empties the live
/// credentials. With SQLite the server must be stopped (its file is replaced); with PostgreSQL
/// the database's tables are replaced.
pub async fn restore(settings: &StoreSettings, file: &Path) -> StoreResult<()> {
    let path = file.to_string_lossy().into_owned();
    match settings.backend {
        Backend::Sqlite => {
            let target = sqlite_file(&settings.url)
                .ok_or_else(|| other(format!("{} is not a SQLite file URL", settings.url)))?;
            let mut header = [0u8; 16];
            std::io::Read::read_exact(&mut std::fs::File::open(file).map_err(io)?, &mut header)
                .map_err(|_| other(format!("{path} is not a SQLite backup")))?;
            if &header != b"SQLite format 3\0" {
                return Err(other(format!("{path} is not a SQLite backup")));
            }
            if let Some(dir) = &settings.private_dir {
                super::private_data_dir(dir).map_err(io)?;
            }
            // Copied next to the database and renamed over it: never half a database.
            let staged = target.with_extension("restoring");
            std::fs::copy(file, &staged).map_err(io)?;
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
            std::fs::File::open(&staged)
                .and_then(|f| f.sync_all())
                .map_err(io)?;
            for stale in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{stale}", target.display()));
            }
            std::fs::rename(&staged, &target).map_err(io)?;
        }
        Backend::Postgres => {
            run(
                "pg_restore",
                &[
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--dbname",
                    &settings.url,
                    &path,
                ],
            )
            .await?;
        }
    }
    let store = Store::connect(settings).await?;
    for statement in LIVE_STATE {
        sql::execute(&store, statement, &[]).await?;
    }
    // Servers still running on a PostgreSQL database forget the grants they cached.
    store.auth_changed().await;
    store.close().await;
    Ok(())
}

/// The file of a `sqlite://…` URL (query string dropped).
pub(super) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then(|| std::path::PathBuf::from(path))
}

/// Runs a PostgreSQL client program; its error output becomes the error.
async fn run(program: &str, args: &[&str]) -> StoreResult<()> {
    let out = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .map_err(|e| {
            other(format!(
                "{program}: {e} (install Debian's postgresql-client)"
            ))
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(other(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(
            sqlite_file("sqlite:///d/bizmail.sqlite?mode=rwc"),
            Some("/d/bizmail.sqlite".into())
        );
        assert_eq!(
            sqlite_file("sqlite://./x.sqlite"),
            Some("./x.sqlite".into())
        );
        assert_eq!(sqlite_file("postgres://x"), None);
    }
}
