//! The departments table: paths, the tree, moving subtrees, and who is in a department.

use crate::store::{Conn, StoreResult, on_conn};

/// The id of the department at `path` (not the root: that has no row).
pub async fn department_id(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    path: &str,
) -> StoreResult<Option<i64>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM departments WHERE tenant_id = $1 AND path = $2"
    )
    .bind(tenant_id)
    .bind(path)
    .fetch_optional(c)
    .await)?)
}

/// Creates a department under `parent_id` (`None`: the root), or finds the one a concurrent call
/// just created at the same path; returns its id.
pub async fn insert_department(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    parent_id: Option<i64>,
    name: &str,
    path: &str,
) -> StoreResult<i64> {
    // A concurrent call that created the same path first (PostgreSQL: its commit is waited for)
    // makes this insert do nothing; the path exists then, which is all an ADD asks (§7.5).
    let inserted = on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO departments (tenant_id, parent_id, name, path) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, path) DO NOTHING RETURNING id",
        )
        .bind(tenant_id)
        .bind(parent_id)
        .bind(name)
        .bind(path)
        .fetch_optional(c)
        .await
    })?;
    match inserted {
        Some(id) => Ok(id),
        None => department_id(conn, tenant_id, path)
            .await?
            .ok_or(sqlx::Error::RowNotFound.into()),
    }
}

/// The names of the direct children of `parent_id` (`None`: the root), by name.
pub async fn child_names(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    parent_id: Option<i64>,
) -> StoreResult<Vec<String>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
        "SELECT name FROM departments WHERE tenant_id = $1 AND \
         (parent_id = $2 OR (parent_id IS NULL AND $2 IS NULL)) ORDER BY name"
    )
    .bind(tenant_id)
    .bind(parent_id)
    .fetch_all(c)
    .await)?)
}

/// Whether a department has sub-departments or members.
pub async fn department_in_use(conn: &mut Conn<'_>, id: i64) -> StoreResult<bool> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM departments WHERE parent_id = $1) \
         OR EXISTS (SELECT 1 FROM member_departments WHERE department_id = $1)"
    )
    .bind(id)
    .fetch_one(c)
    .await)?)
}

/// Deletes an (empty) department.
pub async fn delete_department(conn: &mut Conn<'_>, tenant_id: i64, id: i64) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM departments WHERE id = $1 AND tenant_id = $2"
    )
    .bind(id)
    .bind(tenant_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The addresses of the members placed directly in a department (`None`: the root, i.e. members
/// without any department), oldest member first.
pub async fn members_directly_in(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    department_id: Option<i64>,
) -> StoreResult<Vec<String>> {
    Ok(match department_id {
        Some(d) => on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
            "SELECT m.address FROM member_departments md JOIN members m ON m.id = md.member_id \
             WHERE md.department_id = $1 AND m.tenant_id = $2 ORDER BY m.id"
        )
        .bind(d)
        .bind(tenant_id)
        .fetch_all(c)
        .await)?,
        None => on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
            "SELECT m.address FROM members m WHERE m.tenant_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM member_departments md WHERE md.member_id = m.id) ORDER BY m.id"
        )
        .bind(tenant_id)
        .fetch_all(c)
        .await)?,
    })
}

/// The addresses of every member placed anywhere in the subtree at `path`.
pub async fn members_in_subtree(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    path: &str,
) -> StoreResult<Vec<String>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
        "SELECT DISTINCT m.address FROM member_departments md \
         JOIN departments d ON d.id = md.department_id JOIN members m ON m.id = md.member_id \
         WHERE d.tenant_id = $1 AND (d.path = $2 OR substr(d.path, 1, length($2) + 1) = $2 || '/') \
         ORDER BY m.address"
    )
    .bind(tenant_id)
    .bind(path)
    .fetch_all(c)
    .await)?)
}

/// Moves the subtree at `old` to `new` (under `new_parent`, renamed to `new_name`): every path in
/// it is rewritten; ids stay.
pub async fn move_subtree(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    id: i64,
    old: &str,
    new: &str,
    new_parent: Option<i64>,
    new_name: &str,
) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "UPDATE departments SET path = $1 || substr(path, length($2) + 1) \
         WHERE tenant_id = $3 AND (path = $2 OR substr(path, 1, length($2) + 1) = $2 || '/')"
    )
    .bind(new)
    .bind(old)
    .bind(tenant_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    on_conn!(conn, |c| sqlx::query(
        "UPDATE departments SET parent_id = $1, name = $2 WHERE id = $3"
    )
    .bind(new_parent)
    .bind(new_name)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The ids of a member's departments, in the order given.
pub async fn member_department_ids(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<Vec<i64>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT department_id FROM member_departments WHERE member_id = $1 ORDER BY position"
    )
    .bind(member_id)
    .fetch_all(c)
    .await)?)
}

/// The paths of the subtree at `path`, itself included.
pub async fn subtree_paths(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    path: &str,
) -> StoreResult<Vec<String>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
        "SELECT path FROM departments WHERE tenant_id = $1 \
         AND (path = $2 OR substr(path, 1, length($2) + 1) = $2 || '/')"
    )
    .bind(tenant_id)
    .bind(path)
    .fetch_all(c)
    .await)?)
}
