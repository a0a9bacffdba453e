//! Mail groups: the groups table, their members (people and nested groups) and allow lists.

use super::GroupRow;
use crate::store::{Conn, StoreResult, sql};

/// Creates a group (its address row is the caller's to claim) and returns its id.
pub async fn insert_group(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    address: &str,
    name: &str,
    status: &str,
    now_ms: i64,
) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "INSERT INTO mail_groups (tenant_id, address, name, status, created_ms) VALUES ($1, $2, \
         $3, $4, $5) RETURNING id",
        &[
            tenant_id.into(),
            address.into(),
            name.into(),
            status.into(),
            now_ms.into(),
        ],
    )
    .await
}

/// A tenant's group by its address.
pub async fn group_by_address(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    address: &str,
) -> StoreResult<Option<GroupRow>> {
    sql::optional_in::<GroupRow>(
        conn,
        "SELECT id, status FROM mail_groups WHERE tenant_id = $1 AND address = $2",
        &[tenant_id.into(), address.into()],
    )
    .await
}

/// Deletes a group; it leaves every group it was in, and its address is freed.
pub async fn delete_group(conn: &mut Conn<'_>, tenant_id: i64, id: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM mail_groups WHERE id = $1 AND tenant_id = $2",
        &[id.into(), tenant_id.into()],
    )
    .await?;
    Ok(())
}

/// Adds a member (`Some(member), None`) or a nested group (`None, Some(group)`); already present
/// is not an error.
pub async fn add_group_member(
    conn: &mut Conn<'_>,
    group_id: i64,
    member: (Option<i64>, Option<i64>),
) -> StoreResult<()> {
    let present = sql::value_in::<bool>(
        conn,
        "SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND (member_id = $2 OR \
         subgroup_id = $3))",
        &[group_id.into(), member.0.into(), member.1.into()],
    )
    .await?;
    if present {
        return Ok(());
    }
    sql::execute_in(
        conn,
        "INSERT INTO group_members (group_id, member_id, subgroup_id, position) VALUES ($1, $2, \
         $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM group_members WHERE group_id = $1))",
        &[group_id.into(), member.0.into(), member.1.into()],
    )
    .await?;
    Ok(())
}

/// Removes a member or nested group; absent is not an error.
pub async fn remove_group_member(
    conn: &mut Conn<'_>,
    group_id: i64,
    member: (Option<i64>, Option<i64>),
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM group_members WHERE group_id = $1 AND (member_id = $2 OR subgroup_id = $3)",
        &[group_id.into(), member.0.into(), member.1.into()],
    )
    .await?;
    Ok(())
}

/// The groups nested directly in a group.
pub async fn subgroups(conn: &mut Conn<'_>, group_id: i64) -> StoreResult<Vec<i64>> {
    sql::column_in::<i64>(
        conn,
        "SELECT subgroup_id FROM group_members WHERE group_id = $1 AND subgroup_id IS NOT NULL \
         ORDER BY position",
        &[group_id.into()],
    )
    .await
}

/// The members placed directly in a group, as `(member id, primary address)`.
pub async fn direct_group_members(
    conn: &mut Conn<'_>,
    group_id: i64,
) -> StoreResult<Vec<(i64, String)>> {
    sql::all_in::<(i64, String)>(
        conn,
        "SELECT m.id, m.address FROM group_members g JOIN members m ON m.id = g.member_id WHERE \
         g.group_id = $1 ORDER BY g.position",
        &[group_id.into()],
    )
    .await
}

/// A group's allow list, in the order given.
pub async fn allow_list(conn: &mut Conn<'_>, group_id: i64) -> StoreResult<Vec<String>> {
    sql::column_in::<String>(
        conn,
        "SELECT address FROM group_allow WHERE group_id = $1 ORDER BY position",
        &[group_id.into()],
    )
    .await
}

/// Adds an address to a group's allow list; already present is not an error.
pub async fn add_allowed(conn: &mut Conn<'_>, group_id: i64, address: &str) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO group_allow (group_id, address, position) VALUES ($1, $2, (SELECT \
         COALESCE(MAX(position), 0) + 1 FROM group_allow WHERE group_id = $1)) ON CONFLICT \
         (group_id, address) DO NOTHING",
        &[group_id.into(), address.into()],
    )
    .await?;
    Ok(())
}

/// Removes an address from a group's allow list; absent is not an error.
pub async fn remove_allowed(conn: &mut Conn<'_>, group_id: i64, address: &str) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM group_allow WHERE group_id = $1 AND address = $2",
        &[group_id.into(), address.into()],
    )
    .await?;
    Ok(())
}

/// A tenant's groups as the console lists them, by address: `(address, name, status, entries)`,
/// `entries` counting the people and nested groups placed in each directly.
pub async fn tenant_groups(
    conn: &mut Conn<'_>,
    tenant_id: i64,
) -> StoreResult<Vec<(String, String, String, i64)>> {
    sql::all_in::<(String, String, String, i64)>(
        conn,
        "SELECT g.address, g.name, g.status, (SELECT COUNT(*) FROM group_members m WHERE \
         m.group_id = g.id) FROM mail_groups g WHERE g.tenant_id = $1 ORDER BY g.address",
        &[tenant_id.into()],
    )
    .await
}
