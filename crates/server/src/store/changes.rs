//! Directory versions and the change log of `user/list` (§7.3).

use super::{Conn, Store, StoreResult, sql};

/// Moves the tenant's directory version to `max(now_ms, last + 1)` (§1) and returns it.
pub async fn bump_version(conn: &mut Conn<'_>, tenant_id: i64, now_ms: i64) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "UPDATE tenants SET dir_version = CASE WHEN $1 > dir_version THEN $1 ELSE dir_version + 1 \
         END WHERE id = $2 RETURNING dir_version",
        &[now_ms.into(), tenant_id.into()],
    )
    .await
}

/// The tenant's current version and the version at or below which changes were pruned.
pub async fn version_and_floor(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<(i64, i64)> {
    sql::one_in::<(i64, i64)>(
        conn,
        "SELECT dir_version, changelog_floor FROM tenants WHERE id = $1",
        &[tenant_id.into()],
    )
    .await
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
    sql::execute_in(
        conn,
        "INSERT INTO dir_changes (tenant_id, ver, seq, address, action) VALUES ($1, $2, $3, $4, \
         $5)",
        &[
            tenant_id.into(),
            ver.into(),
            seq.into(),
            address.into(),
            (i64::from(action)).into(),
        ],
    )
    .await?;
    Ok(())
}

/// Every member change after `ver`, oldest first, as `(address, action)`.
pub async fn changes_since(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    ver: i64,
) -> StoreResult<Vec<(String, i64)>> {
    sql::all_in::<(String, i64)>(
        conn,
        "SELECT address, action FROM dir_changes WHERE tenant_id = $1 AND ver > $2 ORDER BY ver, \
         seq",
        &[tenant_id.into(), ver.into()],
    )
    .await
}

/// Deletes member changes with versions below `cutoff` and raises the floor of the tenants that
/// lost some, so their clients with older versions get the full list (§7.3).
pub async fn prune_changes(store: &Store, cutoff: i64) -> StoreResult<u64> {
    // A sandbox whose clock was moved ahead sees its entries that much older (docs/SANDBOX.md).
    let mut tx = store.begin().await?;
    sql::execute_in(
        &mut tx.conn(),
        "UPDATE tenants SET changelog_floor = $1 + COALESCE((SELECT clock_offset_ms FROM \
         sandboxes s WHERE s.tenant_id = tenants.id), 0) WHERE changelog_floor < $1 + \
         COALESCE((SELECT clock_offset_ms FROM sandboxes s WHERE s.tenant_id = tenants.id), 0) \
         AND id IN (SELECT DISTINCT tenant_id FROM dir_changes d WHERE ver < $1 + \
         COALESCE((SELECT clock_offset_ms FROM sandboxes s WHERE s.tenant_id = d.tenant_id), 0))",
        &[cutoff.into()],
    )
    .await?;
    let n = sql::execute_in(
        &mut tx.conn(),
        "DELETE FROM dir_changes WHERE ver < $1 + COALESCE((SELECT clock_offset_ms FROM \
         sandboxes s WHERE s.tenant_id = dir_changes.tenant_id), 0)",
        &[cutoff.into()],
    )
    .await?;
    tx.commit().await?.no_events();
    Ok(n)
}
