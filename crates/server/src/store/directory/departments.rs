//! The departments table: paths, the tree, moving subtrees, and who is in a department.

use crate::store::{Conn, StoreResult, sql};

/// The id of the department at `path` (not the root: that has no row).
pub async fn department_id(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    path: &str,
) -> StoreResult<Option<i64>> {
    sql::scalar_in::<i64>(
        conn,
        "SELECT id FROM departments WHERE tenant_id = $1 AND path = $2",
        &[tenant_id.into(), path.into()],
    )
    .await
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
    let inserted = sql::scalar_in::<i64>(
        conn,
        "INSERT INTO departments (tenant_id, parent_id, name, path) VALUES ($1, $2, $3, $4) ON \
         CONFLICT (tenant_id, path) DO NOTHING RETURNING id",
        &[tenant_id.into(), parent_id.into(), name.into(), path.into()],
    )
    .await?;
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
    sql::column_in::<String>(
        conn,
        "SELECT name FROM departments WHERE tenant_id = $1 AND (parent_id = $2 OR (parent_id IS \
         NULL AND $2 IS NULL)) ORDER BY name",
        &[tenant_id.into(), parent_id.into()],
    )
    .await
}

/// Whether a department has sub-departments or members.
pub async fn department_in_use(conn: &mut Conn<'_>, id: i64) -> StoreResult<bool> {
    sql::value_in::<bool>(
        conn,
        "SELECT EXISTS (SELECT 1 FROM departments WHERE parent_id = $1) OR EXISTS (SELECT 1 FROM \
         member_departments WHERE department_id = $1)",
        &[id.into()],
    )
    .await
}

/// Deletes an (empty) department.
pub async fn delete_department(conn: &mut Conn<'_>, tenant_id: i64, id: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM departments WHERE id = $1 AND tenant_id = $2",
        &[id.into(), tenant_id.into()],
    )
    .await?;
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
        Some(d) => {
            sql::column_in::<String>(
                conn,
                "SELECT m.address FROM member_departments md JOIN members m ON m.id = \
                 md.member_id WHERE md.department_id = $1 AND m.tenant_id = $2 ORDER BY m.id",
                &[d.into(), tenant_id.into()],
            )
            .await?
        }
        None => {
            sql::column_in::<String>(
                conn,
                "SELECT m.address FROM members m WHERE m.tenant_id = $1 AND NOT EXISTS (SELECT 1 \
                 FROM member_departments md WHERE md.member_id = m.id) ORDER BY m.id",
                &[tenant_id.into()],
            )
            .await?
        }
    })
}

/// The addresses of every member placed anywhere in the subtree at `path`.
pub async fn members_in_subtree(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    path: &str,
) -> StoreResult<Vec<String>> {
    sql::column_in::<String>(
        conn,
        "SELECT DISTINCT m.address FROM member_departments md JOIN departments d ON d.id = \
         md.department_id JOIN members m ON m.id = md.member_id WHERE d.tenant_id = $1 AND \
         (d.path = $2 OR substr(d.path, 1, length($2) + 1) = $2 || '/') ORDER BY m.address",
        &[tenant_id.into(), path.into()],
    )
    .await
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
    sql::execute_in(
        conn,
        "UPDATE departments SET path = $1 || substr(path, length($2) + 1) WHERE tenant_id = $3 \
         AND (path = $2 OR substr(path, 1, length($2) + 1) = $2 || '/')",
        &[new.into(), old.into(), tenant_id.into()],
    )
    .await?;
    sql::execute_in(
        conn,
        "UPDATE departments SET parent_id = $1, name = $2 WHERE id = $3",
        &[new_parent.into(), new_name.into(), id.into()],
    )
    .await?;
    Ok(())
}

/// The ids of a member's departments, in the order given.
pub async fn member_department_ids(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<Vec<i64>> {
    sql::column_in::<i64>(
        conn,
        "SELECT department_id FROM member_departments WHERE member_id = $1 ORDER BY position",
        &[member_id.into()],
    )
    .await
}

/// The paths of the subtree at `path`, itself included.
pub async fn subtree_paths(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    path: &str,
) -> StoreResult<Vec<String>> {
    sql::column_in::<String>(
        conn,
        "SELECT path FROM departments WHERE tenant_id = $1 AND (path = $2 OR substr(path, 1, \
         length($2) + 1) = $2 || '/')",
        &[tenant_id.into(), path.into()],
    )
    .await
}
