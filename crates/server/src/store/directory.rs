//! The directory's tables: members, the address namespace (primary addresses, aliases, groups),
//! departments, and mail groups with their members and allow lists. Every query is confined to one
//! tenant by its `tenant_id` (or by an id the caller obtained under that tenant).

use super::{Conn, StoreResult, on_conn};

/// The `kind` of an address row, equal to the `Type` of `user/check`.
pub mod kind {
    /// A member's primary address.
    pub const MEMBER: i64 = 1;
    /// A member's alias.
    pub const ALIAS: i64 = 2;
    /// A mail group's address.
    pub const GROUP: i64 = 3;
}

/// An address in use.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AddressRow {
    /// The address, lower-case.
    pub address: String,
    /// Its tenant.
    pub tenant_id: i64,
    /// [`kind::MEMBER`], [`kind::ALIAS`] or [`kind::GROUP`].
    pub kind: i64,
    /// The member, for a primary address or an alias.
    pub member_id: Option<i64>,
    /// The group, for a group address.
    pub group_id: Option<i64>,
}

/// A member's stored fields.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    /// The member's id.
    pub id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// The primary address.
    pub address: String,
    /// Display name.
    pub name: String,
    /// 0 unset, 1 male, 2 female.
    pub gender: i64,
    /// Position.
    pub position: String,
    /// Telephone.
    pub tel: String,
    /// Mobile.
    pub mobile: String,
    /// External id.
    pub ext_id: String,
    /// argon2id PHC string; empty when no password is set.
    pub password_hash: String,
    /// Whether the hash is of the password's MD5 hex.
    pub password_md5: bool,
    /// OpenType 1 (true) or 2 (false).
    pub enabled: bool,
    /// Whether password logins need a second factor.
    pub second_factor: bool,
}

/// A mail group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    /// The group's id.
    pub id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its own address.
    pub address: String,
    /// Its name.
    pub name: String,
    /// `all`, `inner`, `group` or `list`.
    pub status: String,
}

const MEMBER_COLUMNS: &str = "id, tenant_id, address, name, gender, position, tel, mobile, ext_id, \
                              password_hash, password_md5, enabled, second_factor";

// ---- addresses ------------------------------------------------------------------------------

/// The row of an address, whichever tenant holds it.
pub async fn find_address(conn: &mut Conn<'_>, address: &str) -> StoreResult<Option<AddressRow>> {
    Ok(on_conn!(conn, |c| sqlx::query_as::<_, AddressRow>(
        "SELECT address, tenant_id, kind, member_id, group_id FROM addresses WHERE address = $1"
    )
    .bind(address)
    .fetch_optional(c)
    .await)?)
}

/// Claims an address. An address in use is a unique violation.
pub async fn insert_address(
    conn: &mut Conn<'_>,
    address: &str,
    tenant_id: i64,
    kind: i64,
    owner: (Option<i64>, Option<i64>),
    position: i64,
) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "INSERT INTO addresses (address, tenant_id, kind, member_id, group_id, position) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(address)
    .bind(tenant_id)
    .bind(kind)
    .bind(owner.0)
    .bind(owner.1)
    .bind(position)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Changes the kind and position of an address (swapping a primary address and an alias).
pub async fn set_address_kind(
    conn: &mut Conn<'_>,
    address: &str,
    kind: i64,
    position: i64,
) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "UPDATE addresses SET kind = $1, position = $2 WHERE address = $3"
    )
    .bind(kind)
    .bind(position)
    .bind(address)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Releases a member's aliases.
pub async fn delete_aliases(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM addresses WHERE member_id = $1 AND kind = 2"
    )
    .bind(member_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A member's aliases, in the order they were given.
pub async fn aliases_of(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<Vec<String>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
        "SELECT address FROM addresses WHERE member_id = $1 AND kind = 2 ORDER BY position, address"
    )
    .bind(member_id)
    .fetch_all(c)
    .await)?)
}

// ---- members --------------------------------------------------------------------------------

/// Inserts a member (its address row is the caller's to claim) and returns its id.
pub async fn insert_member(conn: &mut Conn<'_>, m: &MemberRow, now_ms: i64) -> StoreResult<i64> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "INSERT INTO members (tenant_id, address, name, gender, position, tel, mobile, ext_id, \
         password_hash, password_md5, enabled, second_factor, created_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id"
    )
    .bind(m.tenant_id)
    .bind(&m.address)
    .bind(&m.name)
    .bind(m.gender)
    .bind(&m.position)
    .bind(&m.tel)
    .bind(&m.mobile)
    .bind(&m.ext_id)
    .bind(&m.password_hash)
    .bind(m.password_md5)
    .bind(m.enabled)
    .bind(m.second_factor)
    .bind(now_ms)
    .fetch_one(c)
    .await)?)
}

/// The member that an address (primary or alias) names, whichever tenant holds it; `None` for an
/// unknown address or a group's. One query, since every member endpoint and every password login
/// starts here; callers confine it to a tenant by the row's `tenant_id`.
pub async fn member_by_address(
    conn: &mut Conn<'_>,
    address: &str,
) -> StoreResult<Option<MemberRow>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let columns: Vec<String> = MEMBER_COLUMNS
            .split(',')
            .map(|c| format!("m.{}", c.trim()))
            .collect();
        format!(
            "SELECT {} FROM addresses a JOIN members m ON m.id = a.member_id \
             WHERE a.address = $1 AND a.kind <> $2",
            columns.join(", ")
        )
    });
    Ok(on_conn!(conn, |c| sqlx::query_as::<_, MemberRow>(
        sqlx::AssertSqlSafe(SQL.as_str())
    )
    .bind(address)
    .bind(kind::GROUP)
    .fetch_optional(c)
    .await)?)
}

/// One member of a tenant by id.
pub async fn member(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    id: i64,
) -> StoreResult<Option<MemberRow>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE tenant_id = $1 AND id = $2");
    Ok(on_conn!(conn, |c| sqlx::query_as::<_, MemberRow>(
        sqlx::AssertSqlSafe(sql)
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// Writes every field of a member back.
pub async fn update_member(conn: &mut Conn<'_>, m: &MemberRow, now_ms: i64) -> StoreResult<()> {
    on_conn!(conn, |c| {
        sqlx::query(
        "UPDATE members SET address = $1, name = $2, gender = $3, position = $4, tel = $5, mobile = $6, \
         ext_id = $7, password_hash = $8, password_md5 = $9, enabled = $10, second_factor = $11, \
         updated_ms = $12 WHERE id = $13 AND tenant_id = $14"
    )
    .bind(&m.address)
    .bind(&m.name)
    .bind(m.gender)
    .bind(&m.position)
    .bind(&m.tel)
    .bind(&m.mobile)
    .bind(&m.ext_id)
    .bind(&m.password_hash)
    .bind(m.password_md5)
    .bind(m.enabled)
    .bind(m.second_factor)
    .bind(now_ms)
    .bind(m.id)
    .bind(m.tenant_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Deletes a member; its addresses, departments and group memberships go with it.
pub async fn delete_member(conn: &mut Conn<'_>, tenant_id: i64, id: i64) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM members WHERE id = $1 AND tenant_id = $2"
    )
    .bind(id)
    .bind(tenant_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every member's primary address, oldest member first.
pub async fn member_addresses(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<Vec<String>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
        "SELECT address FROM members WHERE tenant_id = $1 ORDER BY id"
    )
    .bind(tenant_id)
    .fetch_all(c)
    .await)?)
}

/// The paths of a member's departments, in the order given.
pub async fn member_department_paths(
    conn: &mut Conn<'_>,
    member_id: i64,
) -> StoreResult<Vec<String>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, String>(
        "SELECT d.path FROM member_departments md JOIN departments d ON d.id = md.department_id \
         WHERE md.member_id = $1 ORDER BY md.position"
    )
    .bind(member_id)
    .fetch_all(c)
    .await)?)
}

/// Replaces a member's departments (empty: directly under the root).
pub async fn set_member_departments(
    conn: &mut Conn<'_>,
    member_id: i64,
    department_ids: &[i64],
) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM member_departments WHERE member_id = $1"
    )
    .bind(member_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for (pos, d) in department_ids.iter().enumerate() {
        on_conn!(conn, |c| {
            sqlx::query(
            "INSERT INTO member_departments (member_id, department_id, position) VALUES ($1, $2, $3)"
        )
        .bind(member_id)
        .bind(d)
        .bind(i64::try_from(pos).unwrap_or(i64::MAX))
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

// ---- departments ----------------------------------------------------------------------------

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

/// Creates a department under `parent_id` (`None`: the root) and returns its id.
pub async fn insert_department(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    parent_id: Option<i64>,
    name: &str,
    path: &str,
) -> StoreResult<i64> {
    Ok(on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(
        "INSERT INTO departments (tenant_id, parent_id, name, path) VALUES ($1, $2, $3, $4) RETURNING id"
    )
    .bind(tenant_id)
    .bind(parent_id)
    .bind(name)
    .bind(path)
    .fetch_one(c)
    .await
    })?)
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

// ---- mail groups ----------------------------------------------------------------------------

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
        "SELECT id, tenant_id, address, name, status FROM mail_groups WHERE tenant_id = $1 AND address = $2"
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
