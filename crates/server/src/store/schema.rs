//! The database's schema as a check sees it, without changing anything: can it be reached, and
//! how many of this release's migrations has it had (`bizmail check-config`).

use super::{StoreResult, StoreSettings};
use crate::config::Backend;
use sqlx::Connection as _;
use std::str::FromStr as _;

/// Where a database stands against this release's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// The SQLite file does not exist yet: the first start creates it.
    Missing,
    /// Reached; `applied` of this release's `known` migrations are in it, and `newest` is the
    /// highest version recorded (above `known` when a newer release has used it).
    Reached {
        /// Migrations of this release already applied.
        applied: usize,
        /// Migrations this release has.
        known: usize,
        /// The highest migration version in the database (0: none).
        newest: i64,
        /// The highest migration version this release has.
        latest: i64,
    },
}

/// Reaches the database read-only and compares its migrations with this release's.
pub async fn state(settings: &StoreSettings) -> StoreResult<SchemaState> {
    let migrator = match settings.backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    let recorded: Vec<i64> = match settings.backend {
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&settings.url)?
                .read_only(true)
                .create_if_missing(false);
            let mut conn = match sqlx::SqliteConnection::connect_with(&options).await {
                Ok(c) => c,
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("14") => {
                    return Ok(SchemaState::Missing);
                }
                Err(e) => return Err(e.into()),
            };
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '_sqlx_migrations')",
            )
            .fetch_one(&mut conn)
            .await?;
            if exists {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&mut conn)
                    .await?
            } else {
                Vec::new()
            }
        }
        Backend::Postgres => {
            let options = sqlx::postgres::PgConnectOptions::from_str(&settings.url)?;
            let mut conn = sqlx::PgConnection::connect_with(&options).await?;
            let exists: bool =
                sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(&mut conn)
                    .await?;
            if exists {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&mut conn)
                    .await?
            } else {
                Vec::new()
            }
        }
    };
    Ok(SchemaState::Reached {
        applied: known.iter().filter(|v| recorded.contains(v)).count(),
        known: known.len(),
        newest: recorded.iter().copied().max().unwrap_or(0),
        latest: known.iter().copied().max().unwrap_or(0),
    })
}
