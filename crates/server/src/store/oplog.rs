//! The operation log (操作记录): one row per OpenApi call, accepted or refused.

use super::{Committed, Conn, Store, StoreResult, sql};
pub use crate::tenants::oplog::OplogEntry;

/// Writes one row on the caller's connection; a change writes its row inside its own
/// transaction, so a committed change always has its row.
pub async fn insert(conn: &mut Conn<'_>, r: &OplogEntry) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO oplog (tenant_id, at_ms, client_ip, admin, endpoint, params, errcode) VALUES \
         ($1, $2, $3, $4, $5, $6, $7)",
        &row_args(r),
    )
    .await?;
    Ok(())
}

/// A row's values in the columns' order, for one statement or a multi-row one.
fn row_args(r: &OplogEntry) -> [sql::Arg<'_>; 7] {
    [
        r.tenant_id.into(),
        r.at_ms.into(),
        (&r.client_ip).into(),
        (&r.admin).into(),
        (&r.endpoint).into(),
        (&r.params).into(),
        r.errcode.into(),
    ]
}

/// Writes a batch of rows in one transaction (the log writer batches to keep one commit, and so
/// one fsync, per batch rather than per call).
pub async fn insert_batch(store: &Store, rows: &[OplogEntry]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    for chunk in rows.chunks(CHUNK) {
        let mut args: Vec<sql::Arg<'_>> = Vec::with_capacity(chunk.len() * 7);
        for r in chunk {
            args.extend(row_args(r));
        }
        let mut conn = tx.conn();
        let statements = match conn {
            Conn::Sqlite(_) => &SQLITE_ROWS,
            Conn::Postgres(_) => &PG_ROWS,
        };
        sql::execute_in(&mut conn, statements[chunk.len() - 1].as_str(), &args).await?;
    }
    tx.commit().await.map(Committed::no_events)
}

/// Rows per multi-row `INSERT`: one statement (one round trip) for many rows, well inside both
/// backends' limits on bound parameters.
const CHUNK: usize = 64;

/// `INSERT INTO oplog … VALUES (…), (…), …` for 1 to [`CHUNK`] rows, built once; each is a
/// prepared statement the connection keeps. SQLite's are written with anonymous `?` placeholders:
/// for numbered ones, the driver's lookup of each parameter's name scans them all (quadratic in a
/// statement of hundreds).
static PG_ROWS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| multi_row(|n| format!("${n}")));
/// The same for SQLite.
static SQLITE_ROWS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| multi_row(|_| "?".to_owned()));

fn multi_row(placeholder: fn(usize) -> String) -> Vec<String> {
    (1..=CHUNK)
        .map(|n| {
            let rows: Vec<String> = (0..n)
                .map(|i| {
                    let p: Vec<String> = (1..=7).map(|c| placeholder(i * 7 + c)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            format!(
                "INSERT INTO oplog (tenant_id, at_ms, client_ip, admin, endpoint, params, \
                 errcode) VALUES {}",
                rows.join(", ")
            )
        })
        .collect()
}

/// Writes one row on its own.
pub async fn insert_one(store: &Store, r: &OplogEntry) -> StoreResult<()> {
    let mut pooled = store.acquire().await?;
    insert(&mut pooled.conn(), r).await
}

/// Deletes rows older than `before_ms` (retention); returns how many.
pub async fn prune(store: &Store, before_ms: i64) -> StoreResult<u64> {
    sql::execute(
        store,
        "DELETE FROM oplog WHERE at_ms < $1",
        &[before_ms.into()],
    )
    .await
}

/// The newest `limit` rows of a tenant, newest first (by the time of the call, then by the order
/// written: read calls' rows reach the table a few milliseconds after the changes' own).
pub async fn recent(store: &Store, tenant_id: i64, limit: i64) -> StoreResult<Vec<OplogEntry>> {
    sql::all(
        store,
        "SELECT tenant_id, at_ms, client_ip, admin, endpoint, params, errcode FROM oplog WHERE \
         tenant_id = $1 ORDER BY at_ms DESC, id DESC LIMIT $2",
        &[tenant_id.into(), limit.into()],
    )
    .await
}

/// What the console's log page asks for: one tenant's rows in `[from_ms, to_ms)`, optionally only
/// endpoints containing `endpoint`, one `outcome` (`any`, `ok` or `failed`) and one client address.
#[derive(Debug, Clone, Copy)]
pub struct Search<'a> {
    /// The tenant.
    pub tenant_id: i64,
    /// From (inclusive), Unix milliseconds.
    pub from_ms: i64,
    /// To (exclusive), Unix milliseconds.
    pub to_ms: i64,
    /// A part of the endpoint; empty for any.
    pub endpoint: &'a str,
    /// `any`, `ok` or `failed`.
    pub outcome: &'a str,
    /// An exact client address; empty for any.
    pub client_ip: &'a str,
}

/// The rows `search` finds, newest first, `limit` of them after skipping `offset`.
pub async fn search(
    store: &Store,
    search: &Search<'_>,
    offset: i64,
    limit: i64,
) -> StoreResult<Vec<OplogEntry>> {
    let pattern = format!("%{}%", like_escape(search.endpoint));
    sql::all(
        store,
        "SELECT tenant_id, at_ms, client_ip, admin, endpoint, params, errcode FROM oplog WHERE \
         tenant_id = $1 AND at_ms >= $2 AND at_ms < $3 AND ($4 = '' OR endpoint LIKE $5 ESCAPE \
         '\\') AND ($6 = 'any' OR ($6 = 'ok' AND errcode = 0) OR ($6 = 'failed' AND errcode <> \
         0)) AND ($7 = '' OR client_ip = $7) ORDER BY at_ms DESC, id DESC LIMIT $8 OFFSET $9",
        &[
            search.tenant_id.into(),
            search.from_ms.into(),
            search.to_ms.into(),
            search.endpoint.into(),
            pattern.as_str().into(),
            search.outcome.into(),
            search.client_ip.into(),
            limit.into(),
            offset.into(),
        ],
    )
    .await
}

/// `text` with LIKE's wildcards (and the escape character) escaped by a backslash.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
