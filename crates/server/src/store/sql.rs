//! One way to run a statement on either backend: the SQL (in the dialect both accept), its
//! arguments as a slice of [`Arg`], and an executor (the pool or a connection). This replaces the
//! bind-by-bind boilerplate each store function used to repeat once per backend.
//!
//! ```ignore
//! sql::execute(store, "DELETE FROM web_sessions WHERE id_hash = $1", &[hash.into()]).await?;
//! let sql = "SELECT id FROM admins WHERE name = $1";
//! let id: Option<i64> = sql::scalar(store, sql, &[name.into()]).await?;
//! ```

use super::{Conn, Store, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, FromRow, Postgres, Sqlite, Type};

/// One argument of a statement, bound in order to `$1`, `$2`, …
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// An integer (every id, time and count column).
    Int(i64),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// Text.
    Text(&'a str),
    /// Bytes (hashes, sealed secrets, raw messages).
    Bytes(&'a [u8]),
    /// A boolean.
    Bool(bool),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<&i64> for Arg<'_> {
    fn from(v: &i64) -> Self {
        Arg::Int(*v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(v)
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// Binds arguments to any of sqlx's query kinds, per backend (one generic function per backend,
/// since each has its own argument buffer).
macro_rules! binder {
    ($name:ident, $db:ty) => {
        fn $name<'q, Q: BindArg<'q, $db>>(mut q: Q, args: &[Arg<'q>]) -> Q {
            for a in args {
                q = match *a {
                    Arg::Int(v) => q.bind_arg(v),
                    Arg::OptInt(v) => q.bind_arg(v),
                    Arg::Text(v) => q.bind_arg(v),
                    Arg::Bytes(v) => q.bind_arg(v),
                    Arg::Bool(v) => q.bind_arg(v),
                };
            }
            q
        }
    };
}

binder!(bind_sqlite, Sqlite);
binder!(bind_pg, Postgres);

/// What `query`, `query_as` and `query_scalar` have in common: `bind`.
trait BindArg<'q, DB: sqlx::Database>: Sized {
    fn bind_arg<T: 'q + sqlx::Encode<'q, DB> + Type<DB>>(self, v: T) -> Self;
}

impl<'q, DB: sqlx::Database> BindArg<'q, DB> for Query<'q, DB, <DB as sqlx::Database>::Arguments> {
    fn bind_arg<T: 'q + sqlx::Encode<'q, DB> + Type<DB>>(self, v: T) -> Self {
        self.bind(v)
    }
}

impl<'q, DB: sqlx::Database, O> BindArg<'q, DB>
    for QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>
{
    fn bind_arg<T: 'q + sqlx::Encode<'q, DB> + Type<DB>>(self, v: T) -> Self {
        self.bind(v)
    }
}

impl<'q, DB: sqlx::Database, O> BindArg<'q, DB>
    for QueryScalar<'q, DB, O, <DB as sqlx::Database>::Arguments>
{
    fn bind_arg<T: 'q + sqlx::Encode<'q, DB> + Type<DB>>(self, v: T) -> Self {
        self.bind(v)
    }
}

/// A row type both backends can decode.
pub trait Row: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}

impl<T> Row for T where T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{}

/// A column type both backends can decode.
pub trait Value:
    Send
    + Unpin
    + for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
{
}
impl<T> Value for T where
    T: Send
        + Unpin
        + for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
{
}

/// Runs a statement on a pooled connection; returns the rows it affected.
///
/// On SQLite it goes through the process's writer slot, as a transaction does, and shares a
/// commit with the writes queued beside it (see [`super::group_commit`]): a write that skipped the
/// slot would meet the one in progress in SQLite's busy handler, whose growing sleeps (up to
/// 100 ms at a time) made the slow tail of every autocommit write. So never call it while holding
/// a transaction of the same store.
pub async fn execute(store: &Store, sql: &'static str, args: &[Arg<'_>]) -> StoreResult<u64> {
    match store {
        Store::Sqlite {
            pool,
            writer,
            batch,
            ..
        } => super::group_commit::execute(pool, writer, batch, sql, args).await,
        Store::Postgres { .. } => execute_in(&mut store.acquire().await?.conn(), sql, args).await,
    }
}

/// Runs a statement on a connection (inside a transaction, say); returns the rows it affected.
pub async fn execute_in(
    conn: &mut Conn<'_>,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<u64> {
    Ok(match conn {
        Conn::Sqlite(c) => bind_sqlite(sqlx::query(sql), args)
            .execute(&mut **c)
            .await?
            .rows_affected(),
        Conn::Postgres(c) => bind_pg(sqlx::query(sql), args)
            .execute(&mut **c)
            .await?
            .rows_affected(),
    })
}

/// At most one row, on a pooled connection.
pub async fn optional<T: Row>(
    store: &Store,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Option<T>> {
    optional_in(&mut store.acquire().await?.conn(), sql, args).await
}

/// At most one row, on a connection.
pub async fn optional_in<T: Row>(
    conn: &mut Conn<'_>,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Option<T>> {
    Ok(match conn {
        Conn::Sqlite(c) => {
            bind_sqlite(sqlx::query_as::<_, T>(sql), args)
                .fetch_optional(&mut **c)
                .await?
        }
        Conn::Postgres(c) => {
            bind_pg(sqlx::query_as::<_, T>(sql), args)
                .fetch_optional(&mut **c)
                .await?
        }
    })
}

/// Every row, on a pooled connection.
pub async fn all<T: Row>(
    store: &Store,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<T>> {
    all_in(&mut store.acquire().await?.conn(), sql, args).await
}

/// At most one value of one column, on a pooled connection.
pub async fn scalar<T: Value>(
    store: &Store,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Option<T>> {
    scalar_in(&mut store.acquire().await?.conn(), sql, args).await
}

/// At most one value of one column, on a connection.
pub async fn scalar_in<T: Value>(
    conn: &mut Conn<'_>,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Option<T>> {
    Ok(match conn {
        Conn::Sqlite(c) => {
            bind_sqlite(sqlx::query_scalar::<_, T>(sql), args)
                .fetch_optional(&mut **c)
                .await?
        }
        Conn::Postgres(c) => {
            bind_pg(sqlx::query_scalar::<_, T>(sql), args)
                .fetch_optional(&mut **c)
                .await?
        }
    })
}

/// Exactly one value of one column, on the pool (an aggregate, a `RETURNING`); no row is an error.
pub async fn value<T: Value>(store: &Store, sql: &'static str, args: &[Arg<'_>]) -> StoreResult<T> {
    scalar(store, sql, args)
        .await?
        .ok_or(super::StoreError::Db(sqlx::Error::RowNotFound))
}

/// Exactly one value of one column, on a connection.
pub async fn value_in<T: Value>(
    conn: &mut Conn<'_>,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<T> {
    scalar_in(conn, sql, args)
        .await?
        .ok_or(super::StoreError::Db(sqlx::Error::RowNotFound))
}

/// Every value of one column, on a pooled connection.
pub async fn column<T: Value>(
    store: &Store,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<T>> {
    column_in(&mut store.acquire().await?.conn(), sql, args).await
}

/// Every value of one column, on a connection.
pub async fn column_in<T: Value>(
    conn: &mut Conn<'_>,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<T>> {
    Ok(match conn {
        Conn::Sqlite(c) => {
            bind_sqlite(sqlx::query_scalar::<_, T>(sql), args)
                .fetch_all(&mut **c)
                .await?
        }
        Conn::Postgres(c) => {
            bind_pg(sqlx::query_scalar::<_, T>(sql), args)
                .fetch_all(&mut **c)
                .await?
        }
    })
}

/// Every row, on a connection.
pub async fn all_in<T: Row>(
    conn: &mut Conn<'_>,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<T>> {
    Ok(match conn {
        Conn::Sqlite(c) => {
            bind_sqlite(sqlx::query_as::<_, T>(sql), args)
                .fetch_all(&mut **c)
                .await?
        }
        Conn::Postgres(c) => {
            bind_pg(sqlx::query_as::<_, T>(sql), args)
                .fetch_all(&mut **c)
                .await?
        }
    })
}

/// Exactly one row, on a connection; no row is an error.
pub async fn one_in<T: Row>(
    conn: &mut Conn<'_>,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<T> {
    optional_in(conn, sql, args)
        .await?
        .ok_or(super::StoreError::Db(sqlx::Error::RowNotFound))
}
