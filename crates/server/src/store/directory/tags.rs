//! Tags (the newer API's `tag/*`): per-tenant ids and unique names, tagged members and
//! departments.

use crate::store::{Conn, StoreResult, sql};

/// Every tag of a tenant, `(id, name)` by id.
pub async fn tags(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<Vec<(i64, String)>> {
    sql::all_in(
        conn,
        "SELECT tag_id, name FROM tags WHERE tenant_id = $1 ORDER BY tag_id",
        &[tenant_id.into()],
    )
    .await
}

/// A tag's name.
pub async fn tag_name(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    tag_id: i64,
) -> StoreResult<Option<String>> {
    sql::scalar_in(
        conn,
        "SELECT name FROM tags WHERE tenant_id = $1 AND tag_id = $2",
        &[tenant_id.into(), tag_id.into()],
    )
    .await
}

/// The id of the tag with this name.
pub async fn tag_named(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    name: &str,
) -> StoreResult<Option<i64>> {
    sql::scalar_in(
        conn,
        "SELECT tag_id FROM tags WHERE tenant_id = $1 AND name = $2",
        &[tenant_id.into(), name.into()],
    )
    .await
}

/// How many tags a tenant has, and the next free id (one above the largest).
pub async fn count_and_next(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<(i64, i64)> {
    sql::one_in(
        conn,
        "SELECT COUNT(*), COALESCE(MAX(tag_id), 0) + 1 FROM tags WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await
}

/// Creates a tag.
pub async fn insert_tag(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    tag_id: i64,
    name: &str,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO tags (tenant_id, tag_id, name) VALUES ($1, $2, $3)",
        &[tenant_id.into(), tag_id.into(), name.into()],
    )
    .await?;
    Ok(())
}

/// Renames a tag.
pub async fn rename_tag(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    tag_id: i64,
    name: &str,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE tags SET name = $1 WHERE tenant_id = $2 AND tag_id = $3",
        &[name.into(), tenant_id.into(), tag_id.into()],
    )
    .await?;
    Ok(())
}

/// Deletes a tag and its memberships.
pub async fn delete_tag(conn: &mut Conn<'_>, tenant_id: i64, tag_id: i64) -> StoreResult<()> {
    for statement in [
        "DELETE FROM tag_members WHERE tenant_id = $1 AND tag_id = $2",
        "DELETE FROM tags WHERE tenant_id = $1 AND tag_id = $2",
    ] {
        sql::execute_in(conn, statement, &[tenant_id.into(), tag_id.into()]).await?;
    }
    Ok(())
}

/// Tags a member (`Some(member), None`) or a department (`None, Some(department)`); already
/// tagged is not an error.
pub async fn add_tag_member(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    tag_id: i64,
    target: (Option<i64>, Option<i64>),
) -> StoreResult<()> {
    let present = sql::value_in::<bool>(
        conn,
        "SELECT EXISTS (SELECT 1 FROM tag_members WHERE tenant_id = $1 AND tag_id = $2 AND \
         (member_id = $3 OR department_id = $4))",
        &[
            tenant_id.into(),
            tag_id.into(),
            target.0.into(),
            target.1.into(),
        ],
    )
    .await?;
    if present {
        return Ok(());
    }
    sql::execute_in(
        conn,
        "INSERT INTO tag_members (tenant_id, tag_id, member_id, department_id, position) VALUES \
         ($1, $2, $3, $4, (SELECT COALESCE(MAX(position), 0) + 1 FROM tag_members WHERE tenant_id \
         = $1 AND tag_id = $2))",
        &[
            tenant_id.into(),
            tag_id.into(),
            target.0.into(),
            target.1.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Untags a member or a department; absent is not an error.
pub async fn remove_tag_member(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    tag_id: i64,
    target: (Option<i64>, Option<i64>),
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM tag_members WHERE tenant_id = $1 AND tag_id = $2 AND (member_id = $3 OR \
         department_id = $4)",
        &[
            tenant_id.into(),
            tag_id.into(),
            target.0.into(),
            target.1.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A tag's members as `(address, name)` and its departments' ids, each in order.
pub async fn tag_members(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    tag_id: i64,
) -> StoreResult<(Vec<(String, String)>, Vec<i64>)> {
    let users = sql::all_in(
        conn,
        "SELECT m.address, m.name FROM tag_members t JOIN members m ON m.id = t.member_id WHERE \
         t.tenant_id = $1 AND t.tag_id = $2 ORDER BY t.position",
        &[tenant_id.into(), tag_id.into()],
    )
    .await?;
    let parties = sql::column_in(
        conn,
        "SELECT department_id FROM tag_members WHERE tenant_id = $1 AND tag_id = $2 AND \
         department_id IS NOT NULL ORDER BY position",
        &[tenant_id.into(), tag_id.into()],
    )
    .await?;
    Ok((users, parties))
}
