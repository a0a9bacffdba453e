//! Directory versions, the change log of `user/list`, the event log of `listen`, and operation-log
//! rows written inside a change's own transaction.

use super::{Conn, Store, StoreResult, on_conn, on_pool};

/// Moves the tenant's directory version to `max(now_ms, last + 1)` (§1) and returns it.
pub async fn bump_version(conn: &mut Conn<'_>, tenant_id: i64, now_ms: i64) -> StoreResult<i64> {
    Ok(on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(
        "UPDATE tenants SET dir_version = CASE WHEN $1 > dir_version THEN $1 ELSE dir_version + 1 END \
         WHERE id = $2 RETURNING dir_version"
    )
    .bind(now_ms)
    .bind(tenant_id)
    .fetch_one(c)
    .await
    })?)
}

/// The tenant's current version and the version at or below which changes were pruned.
pub async fn version_and_floor(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<(i64, i64)> {
    Ok(on_conn!(conn, |c| sqlx::query_as::<_, (i64, i64)>(
        "SELECT dir_version, changelog_floor FROM tenants WHERE id = $1"
    )
    .bind(tenant_id)
    .fetch_one(c)
    .await)?)
}

/// Appends one member change (`seq` orders the changes of one version).
pub async fn append_change(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    ver: i64,
    seq: i64,
    address: &str,
    action: u8,
) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "INSERT INTO dir_changes (tenant_id, ver, seq, address, action) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(tenant_id)
    .bind(ver)
    .bind(seq)
    .bind(address)
    .bind(i64::from(action))
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every member change after `ver`, oldest first, as `(address, action)`.
pub async fn changes_since(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    ver: i64,
) -> StoreResult<Vec<(String, i64)>> {
    Ok(on_conn!(conn, |c| {
        sqlx::query_as::<_, (String, i64)>(
        "SELECT address, action FROM dir_changes WHERE tenant_id = $1 AND ver > $2 ORDER BY ver, seq"
    )
    .bind(tenant_id)
    .bind(ver)
    .fetch_all(c)
    .await
    })?)
}

/// Appends a notice for `listen` (`kind`: `ver`, `newmail`, `unread`; `payload`: JSON).
pub async fn append_event(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    now_ms: i64,
    kind: &str,
    payload: &str,
) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "INSERT INTO events (tenant_id, at_ms, kind, payload) VALUES ($1, $2, $3, $4)"
    )
    .bind(tenant_id)
    .bind(now_ms)
    .bind(kind)
    .bind(payload)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    // On PostgreSQL, tell every node: the notification is delivered when (and only if) this
    // transaction commits. Identical notifications of one transaction are folded into one.
    if let Conn::Postgres(c) = conn {
        sqlx::query("SELECT pg_notify('bizmail_events', $1)")
            .bind(tenant_id.to_string())
            .execute(&mut **c)
            .await?;
    }
    Ok(())
}

/// Deletes member changes with versions below `cutoff` and raises the floor of the tenants that
/// lost some, so their clients with older versions get the full list (§7.3).
pub async fn prune_changes(store: &Store, cutoff: i64) -> StoreResult<u64> {
    let mut tx = store.begin().await?;
    on_conn!(&mut tx.conn(), |c| sqlx::query(
        "UPDATE tenants SET changelog_floor = $1 WHERE changelog_floor < $1 \
         AND id IN (SELECT DISTINCT tenant_id FROM dir_changes WHERE ver < $1)"
    )
    .bind(cutoff)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    let n = on_conn!(&mut tx.conn(), |c| sqlx::query(
        "DELETE FROM dir_changes WHERE ver < $1"
    )
    .bind(cutoff)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

/// The newest event id of a tenant (0 when none): where a new client's cursor starts.
pub async fn head_event(store: &Store, tenant_id: i64) -> StoreResult<i64> {
    Ok(on_pool!(store, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(MAX(id), 0) FROM events WHERE tenant_id = $1"
    )
    .bind(tenant_id)
    .fetch_one(p)
    .await)?)
}
