//! The store: the only module with SQL, over an embedded SQLite file or a PostgreSQL server.
//!
//! [`Store`] is an enum over two concrete sqlx pools rather than `sqlx::Any` (whose type support is
//! thin). Most SQL is written once in the dialect both accept (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`) and run on either backend through [`sql`]: the statement, its arguments, and the
//! pool or a connection. Where the dialects differ, a function matches on the backend itself.
//! One submodule per group of tables. The module is private to the crate: the domain rooms call
//! it, and nothing outside the crate sees a pool or a row.

pub mod activity;
pub mod app_passwords;
pub mod auth_cache;
pub mod backup;
pub mod callbacks;
mod chain;
pub mod changes;
mod checkpoint;
pub mod console;
pub mod corp;
pub mod dir_cache;
pub mod directory;
pub mod events;
pub mod folders;
mod group_commit;
pub mod inbox_fast;
pub mod mail;
pub mod migration;
pub mod oplog;
pub mod outbound;
pub mod sandbox;
pub mod schema;
pub mod secrets;
pub mod sql;
mod sqlite_tx;
pub mod stamp_file;
pub mod tenants;
pub mod totp;

use crate::config::{Backend, Config};
use auth_cache::AuthCache;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// A borrowed connection on either backend: inside a [`Tx`] or from the pool ([`PoolConn`]).
/// Store functions that must work both inside a write transaction (checks before a change) and
/// outside one (read endpoints) take this.
pub enum Conn<'c> {
    /// A SQLite connection.
    Sqlite(&'c mut sqlx::SqliteConnection),
    /// A PostgreSQL connection.
    Postgres(&'c mut sqlx::PgConnection),
}

/// A connection checked out of the pool for a series of reads.
pub enum PoolConn {
    /// From the SQLite pool.
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    /// From the PostgreSQL pool.
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl PoolConn {
    /// The connection, for store functions.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PoolConn::Sqlite(c) => Conn::Sqlite(c),
            PoolConn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A failure of the store. Callers turn it into `temporarily_unavailable` (§6) unless they
/// recognise it (a unique violation, say); its text is logged, never sent to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered with an error or could not be reached.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// A failure the store's own machinery reports (a shared commit or read that failed for the
    /// caller), with what happened.
    pub fn unavailable(text: impl Into<String>) -> StoreError {
        StoreError::Db(sqlx::Error::Io(std::io::Error::other(text.into())))
    }

    /// Whether this is a unique-constraint violation (an insert of something that exists).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Shorthand for results of store functions.
pub type StoreResult<T> = Result<T, StoreError>;

/// What the store needs to know to open: where the database is and how many connections to keep.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// SQLite or PostgreSQL.
    pub backend: Backend,
    /// The database URL (`sqlite://…` or `postgres://…`).
    pub url: String,
    /// The data folder to create and keep private, when the database is the default SQLite file
    /// in it.
    pub private_dir: Option<std::path::PathBuf>,
    /// The pool's size.
    pub max_connections: u32,
}

impl StoreSettings {
    /// The store settings of a server configuration.
    pub fn from_config(config: &Config) -> StoreSettings {
        let default_file = config.database_url.trim().is_empty();
        StoreSettings {
            backend: config.backend().unwrap_or(Backend::Sqlite),
            url: config.effective_database_url(),
            private_dir: default_file.then(|| config.data_dir.clone()),
            max_connections: config.db_max_connections,
        }
    }
}

/// A connection pool over one of the two backends. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Store {
    /// The embedded SQLite file.
    Sqlite {
        /// The connections.
        pool: SqlitePool,
        /// Queues this process's writers, and lets those that queue together share a commit
        /// (see [`chain`]). SQLite allows one writer at a time; without the queue, concurrent
        /// writers spin in SQLite's busy handler, whose growing sleeps put a long tail on
        /// latency. Writers in other processes (the CLI) still wait on the busy timeout.
        writer: std::sync::Arc<chain::Writer>,
        /// Single-statement writes waiting to share a commit (see [`group_commit`]).
        batch: std::sync::Arc<group_commit::Queue>,
        /// The grants behind access tokens, kept until a change (see [`auth_cache`]).
        auth: std::sync::Arc<AuthCache>,
    },
    /// A PostgreSQL server.
    Postgres {
        /// The connections.
        pool: PgPool,
        /// The grants behind access tokens, kept until a change (see [`auth_cache`]).
        auth: std::sync::Arc<AuthCache>,
    },
}

/// An open write transaction on either backend; dropped without [`Tx::commit`], it rolls back.
/// It remembers the tenants whose events it appended, so that its commit can say whom to wake.
pub struct Tx {
    inner: TxInner,
    woken: Vec<i64>,
    /// The tenants whose directory this transaction changed, forgotten by the members' cache
    /// once it commits (see [`dir_cache`]).
    directory: Vec<i64>,
    caches: std::sync::Arc<AuthCache>,
}

/// The transaction itself, on one backend.
pub enum TxInner {
    /// A SQLite transaction, begun `IMMEDIATE`, holding this process's writer slot.
    Sqlite(sqlite_tx::SqliteTx),
    /// A PostgreSQL transaction.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// What a committed transaction changed that others wait for: the tenants whose events it
/// appended. Hand it to `push::publish`, which wakes their held polls; dropping it unpublished
/// only delays those polls until their next wake-up or timeout, never loses a notice.
#[derive(Debug, Default)]
#[must_use = "publish the commit (push::publish) so held polls see its events at once"]
pub struct Committed {
    /// The tenants whose event logs grew, each once.
    pub tenants: Vec<i64>,
}

impl Committed {
    /// Says that a transaction was never meant to append events (a store-internal one): nothing
    /// to publish.
    pub fn no_events(self) {
        debug_assert!(
            self.tenants.is_empty(),
            "a commit with events went unpublished"
        );
    }
}

impl Tx {
    /// The transaction's connection, for store functions that take a [`Conn`].
    pub fn conn(&mut self) -> Conn<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Conn::Sqlite(t.conn()),
            TxInner::Postgres(t) => Conn::Postgres(t),
        }
    }

    /// Notes that this transaction appended events of `tenant_id` (the events module calls it).
    /// Returns whether this is the first time in this transaction, so that the cross-node
    /// notification is sent once per tenant rather than once per row.
    fn wakes(&mut self, tenant_id: i64) -> bool {
        if self.woken.contains(&tenant_id) {
            return false;
        }
        self.woken.push(tenant_id);
        true
    }

    /// Notes that this transaction changed the directory of `tenant_id`, so that what the
    /// members' cache holds of it is forgotten when it commits: here at once, in other processes
    /// through the stamp file (SQLite) or a notice sent with the commit (PostgreSQL).
    pub async fn directory_changed(&mut self, tenant_id: i64) -> StoreResult<()> {
        if self.directory.contains(&tenant_id) {
            return Ok(());
        }
        self.directory.push(tenant_id);
        if matches!(self.inner, TxInner::Postgres(_)) {
            sql::execute_in(
                &mut self.conn(),
                "SELECT pg_notify('bizmail_dir', CAST($1 AS TEXT))",
                &[tenant_id.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Commits; only after this returns is the change durable. Returns whom to wake.
    pub async fn commit(self) -> StoreResult<Committed> {
        let sqlite = matches!(self.inner, TxInner::Sqlite(_));
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        if !self.directory.is_empty() {
            self.caches.directory.changed(&self.directory);
            if sqlite {
                self.caches.directory.bump_file();
            }
        }
        Ok(Committed {
            tenants: self.woken,
        })
    }
}

impl Store {
    /// Connects to the database `settings` name and applies pending migrations. For the default
    /// SQLite file, makes the data folder private first (see [`private_data_dir`]).
    pub async fn connect(settings: &StoreSettings) -> StoreResult<Store> {
        let store = match settings.backend {
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(&settings.url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Store::Postgres {
                    pool,
                    auth: std::sync::Arc::new(AuthCache::postgres()),
                }
            }
            Backend::Sqlite => {
                if let Some(dir) = &settings.private_dir {
                    private_data_dir(dir).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
                }
                let options = SqliteConnectOptions::from_str(&settings.url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
                    // loss, and a client that was told "done" (an SMTP 250, a sync call) must
                    // never lose it.
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // Checkpoints run mostly in a task of their own (see `checkpoint`); SQLite's
                    // own (its default, past 1,000 pages) stays as the backstop.
                    .pragma("journal_size_limit", checkpoint::WAL_SIZE_LIMIT);
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    // sqlx pings every connection it hands out by default, to weed out ones a
                    // server dropped. An embedded file has no server to drop them, and the ping
                    // is a round trip to the connection's thread: half of a `user/get`'s reads.
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                checkpoint::spawn(pool.clone());
                Store::Sqlite {
                    pool,
                    writer: std::sync::Arc::default(),
                    batch: std::sync::Arc::default(),
                    auth: std::sync::Arc::new(AuthCache::sqlite(backup::sqlite_file(
                        &settings.url,
                    ))),
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite { pool, .. } => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Store::Postgres { pool: p, .. } => {
                sqlx::migrate!("./migrations/postgres").run(p).await?
            }
        }
        Ok(())
    }

    /// The grants cache shared by this store's clones.
    pub fn auth_cache(&self) -> &AuthCache {
        match self {
            Store::Sqlite { auth, .. } | Store::Postgres { auth, .. } => auth,
        }
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite { .. } => Backend::Sqlite,
            Store::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> StoreResult<Tx> {
        let inner = match self {
            Store::Sqlite { pool, writer, .. } => {
                TxInner::Sqlite(Box::pin(sqlite_tx::SqliteTx::begin(pool, writer)).await?)
            }
            // Boxed for the reason `acquire` gives.
            Store::Postgres { pool: p, .. } => TxInner::Postgres(Box::pin(p.begin()).await?),
        };
        Ok(Tx {
            inner,
            woken: Vec::new(),
            directory: Vec::new(),
            caches: match self {
                Store::Sqlite { auth, .. } | Store::Postgres { auth, .. } => auth.clone(),
            },
        })
    }

    /// Checks a connection out of the pool for a series of reads.
    ///
    /// The pool's own future is boxed: it is some 8.5 KB, and unboxed it made every future that
    /// touches the store that large for its whole life, a held `listen` poll's included (found
    /// with `-Zprint-type-sizes`; one allocation per checkout costs nothing beside a query).
    pub async fn acquire(&self) -> StoreResult<PoolConn> {
        Ok(match self {
            Store::Sqlite { pool, .. } => PoolConn::Sqlite(Box::pin(pool.acquire()).await?),
            Store::Postgres { pool: p, .. } => PoolConn::Postgres(Box::pin(p.acquire()).await?),
        })
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sql::value::<i64>(self, "SELECT CAST(1 AS BIGINT)", &[])
            .await
            .map(drop)
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        match self {
            Store::Sqlite { pool, .. } => pool.close().await,
            Store::Postgres { pool, .. } => pool.close().await,
        }
    }
}

/// Makes the data folder private to its owner: created (with its parents) as 0700, an existing
/// one tightened to 0700, and the SQLite file created 0600 before SQLite opens it. SQLite gives
/// its `-wal` and `-shm` files the database file's mode, so every mail and password hash stays
/// readable by the owner only. Files of older versions are tightened too.
pub fn private_data_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    tighten(dir, 0o700)?;
    let db = dir.join(SQLITE_FILE);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&db)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("{SQLITE_FILE}{suffix}"));
        if file.exists() {
            tighten(&file, 0o600)?;
        }
    }
    return Ok(());

    fn tighten(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
        let meta = std::fs::metadata(path)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
        Ok(())
    }
}

/// The SQLite file's name in the data folder.
pub const SQLITE_FILE: &str = "bizmail.sqlite";

pub use crate::clock::{now_ms, secs_to_ms};
