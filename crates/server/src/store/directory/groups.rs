//! Mail groups: the groups table, their members (people and nested groups) and allow lists.

use super::GroupRow;
use crate::store::{Conn, StoreResult, on_conn};

/// Creates a group (its address row is the caller's to claim) and returns its id.
pub async fn insert_group(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    address: &str,
    name: &str,
    status: &str,
    now_ms: i64,
) -> StoreResult<i64> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "INSERT INTO mail_groups (tenant_id, address, name, status, created_ms) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(tenant_id)
    .bind(address)
    .bind(name)
    .bind(status)
    .bind(now_ms)
    .fetch_one(c)
    .await)?)
}

/// A tenant's group by its address.
pub async fn group_by_address(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    address: &str,
) -> StoreResult<Option<GroupRow>> {
    Ok(on_conn!(conn, |c| {
        sqlx::query_as::<_, GroupRow>(
            "SELECT id, status FROM mail_groups WHERE tenant_id = $1 AND address = $2",
        )
        .bind(tenant_id)
        .bind(address)
        .fetch_optional(c)
        .await
    })?)
}

/// Deletes a group; it leaves every group it was in, and its address is freed.
pub async fn delete_group(conn: &mut Conn<'_>, tenant_id: i64, id: i64) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM mail_groups WHERE id = $1 AND tenant_id = $2"
    )
    .bind(id)
    .bind(tenant_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds a member (`Some(member), None`) or a nested group (`None, Some(group)`); already present
/// is not an error.
pub async fn add_group_member(
    conn: &mut Conn<'_>,
    group_id: i64,
    member: (Option<i64>, Option<i64>),
) -> StoreResult<()> {
    let present = on_conn!(conn, |c| sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND \
         (member_id = $2 OR subgroup_id = $3))"
    )
    .bind(group_id)
    .bind(member.0)
    .bind(member.1)
    .fetch_one(c)
    .await)?;
    if present {
        return Ok(());
    }
    on_conn!(conn, |c| {
        sqlx::query(
        "INSERT INTO group_members (group_id, member_id, subgroup_id, position) VALUES ($1, $2, $3, \
         (SELECT COALESCE(MAX(position), 0) + 1 FROM group_members WHERE group_id = $1))"
    )
    .bind(group_id)
    .bind(member.0)
    .bind(member.1)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Removes a member or nested group; absent is not an error.
pub async fn remove_group_member(
    conn: &mut Conn<'_>,
    group_id: i64,
    member: (Option<i64>, Option<i64>),
) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM group_members WHERE group_id = $1 AND (member_id = $2 OR subgroup_id = $3)"
    )
    .bind(group_id)
    .bind(member.0)
    .bind(member.1)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The groups nested directly in a group.
pub async fn subgroups(conn: &mut Conn<'_>, group_id: i64) -> StoreResult<Vec<i64>> {
    Ok(on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(
        "SELECT subgroup_id FROM group_members WHERE group_id = $1 AND subgroup_id IS NOT NULL ORDER BY position"
    )
    .bind(group_id)
    .fetch_all(c)
    .await
    })?)
}

/// The members placed directly in a group, as `(member id, primary address)`.
pub async fn direct_group_members(
    conn: &mut Conn<'_>,
    group_id: i64,
) -> StoreResult<Vec<(i64, String)>> {
    Ok(on_conn!(conn, |c| sqlx::query_as::<_, (i64, String)>(
        "SELECT m.id, m.address FROM group_members g JOIN members m ON m.id = g.member_id \
         WHERE g.group_id = $1 ORDER BY g.position"
    )
    .bind(group_id)
    .fetch_all(c)
    .await)?)
}

/// A group's allow list, in the order given.
pub async fn allow_list(conn: &mut Conn<'_>, group_id: i64) -> StoreResult<Vec<String>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
        "SELECT address FROM group_allow WHERE group_id = $1 ORDER BY position"
    )
    .bind(group_id)
    .fetch_all(c)
    .await)?)
}

/// Adds an address to a group's allow list; already present is not an error.
pub async fn add_allowed(conn: &mut Conn<'_>, group_id: i64, address: &str) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "INSERT INTO group_allow (group_id, address, position) VALUES ($1, $2, \
         (SELECT COALESCE(MAX(position), 0) + 1 FROM group_allow WHERE group_id = $1)) \
         ON CONFLICT (group_id, address) DO NOTHING"
    )
    .bind(group_id)
    .bind(address)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes an address from a group's allow list; absent is not an error.
pub async fn remove_allowed(conn: &mut Conn<'_>, group_id: i64, address: &str) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM group_allow WHERE group_id = $1 AND address = $2"
    )
    .bind(group_id)
    .bind(address)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
