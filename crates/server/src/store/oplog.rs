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
        &[
            r.tenant_id.into(),
            r.at_ms.into(),
            (&r.client_ip).into(),
            (&r.admin).into(),
            (&r.endpoint).into(),
            (&r.params).into(),
            r.errcode.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes a batch of rows in one transaction (the log writer batches to keep one commit, and so
/// one fsync, per batch rather than per call).
pub async fn insert_batch(store: &Store, rows: &[OplogEntry]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    for r in rows {
        insert(&mut tx.conn(), r).await?;
    }
    tx.commit().await.map(Committed::no_events)
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

/// The newest `limit` rows of a tenant, newest first.
pub async fn recent(store: &Store, tenant_id: i64, limit: i64) -> StoreResult<Vec<OplogEntry>> {
    sql::all(
        store,
        "SELECT tenant_id, at_ms, client_ip, admin, endpoint, params, errcode FROM oplog WHERE \
         tenant_id = $1 ORDER BY id DESC LIMIT $2",
        &[tenant_id.into(), limit.into()],
    )
    .await
}
