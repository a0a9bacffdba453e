//! What the newer API reads and writes by id beside the old API's tables: departments with their
//! sort order, whole-tenant listings of members, their departments and aliases, the newer flags
//! of a member (`cpwd_login`, the IMAP/SMTP and POP/SMTP switches), a group's departments, name and
//! type.

use crate::store::{Conn, Store, StoreResult, sql};

/// One department.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeptRow {
    /// Its id (the newer API shows it plus one: the root is 1).
    pub id: i64,
    /// Its parent (`None`: directly under the root).
    pub parent_id: Option<i64>,
    /// Its name.
    pub name: String,
    /// Names from the root, joined by `/`.
    pub path: String,
    /// Sort key, smaller first.
    pub ord: i64,
}

/// Every department of a tenant, by `(ord, id)`.
pub async fn departments(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<Vec<DeptRow>> {
    sql::all_in(
        conn,
        "SELECT id, parent_id, name, path, ord FROM departments WHERE tenant_id = $1 ORDER BY \
         ord, id",
        &[tenant_id.into()],
    )
    .await
}

/// Sets a department's sort key.
pub async fn set_department_order(conn: &mut Conn<'_>, id: i64, ord: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE departments SET ord = $1 WHERE id = $2",
        &[ord.into(), id.into()],
    )
    .await?;
    Ok(())
}

/// A member as the newer API lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedMember {
    /// The member's id.
    pub id: i64,
    /// The primary address.
    pub address: String,
    /// Display name.
    pub name: String,
    /// Job title.
    pub position: String,
    /// Mobile.
    pub mobile: String,
    /// Telephone.
    pub tel: String,
    /// Staff number.
    pub ext_id: String,
    /// 0, 1, 2.
    pub gender: i64,
    /// Enabled.
    pub enabled: bool,
    /// Must change the password at the next login.
    pub cpwd_login: bool,
}

/// Every member of a tenant, oldest first; `only` narrows it to one member.
pub async fn listed_members(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    only: Option<i64>,
) -> StoreResult<Vec<ListedMember>> {
    sql::all_in(
        conn,
        "SELECT id, address, name, position, mobile, tel, ext_id, gender, enabled, cpwd_login \
         FROM members WHERE tenant_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY id",
        &[tenant_id.into(), only.into()],
    )
    .await
}

/// `(member, department)` for every member of a tenant, each member's in the order given.
pub async fn memberships(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<Vec<(i64, i64)>> {
    sql::all_in(
        conn,
        "SELECT md.member_id, md.department_id FROM member_departments md JOIN members m ON m.id \
         = md.member_id WHERE m.tenant_id = $1 ORDER BY md.member_id, md.position",
        &[tenant_id.into()],
    )
    .await
}

/// `(member, alias)` for every alias of a tenant, each member's in order.
pub async fn aliases(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<Vec<(i64, String)>> {
    sql::all_in(
        conn,
        "SELECT member_id, address FROM addresses WHERE tenant_id = $1 AND kind = 2 AND member_id \
         IS NOT NULL ORDER BY member_id, position",
        &[tenant_id.into()],
    )
    .await
}

/// A member's newer flags: `(cpwd_login, imap_smtp, pop_smtp)`.
pub async fn member_flags(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<(bool, bool, bool)> {
    sql::one_in(
        conn,
        "SELECT cpwd_login, imap_smtp, pop_smtp FROM members WHERE id = $1",
        &[member_id.into()],
    )
    .await
}

/// Writes a member's newer flags.
pub async fn set_member_flags(
    conn: &mut Conn<'_>,
    member_id: i64,
    (cpwd_login, imap_smtp, pop_smtp): (bool, bool, bool),
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE members SET cpwd_login = $1, imap_smtp = $2, pop_smtp = $3 WHERE id = $4",
        &[
            cpwd_login.into(),
            imap_smtp.into(),
            pop_smtp.into(),
            member_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A group's name and status (the old API's `status`, the newer `allow_type`).
pub async fn group_name_status(
    conn: &mut Conn<'_>,
    group_id: i64,
) -> StoreResult<(String, String)> {
    sql::one_in(
        conn,
        "SELECT name, status FROM mail_groups WHERE id = $1",
        &[group_id.into()],
    )
    .await
}

/// Renames a group and sets its status.
pub async fn update_group(
    conn: &mut Conn<'_>,
    group_id: i64,
    name: &str,
    status: &str,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE mail_groups SET name = $1, status = $2 WHERE id = $3",
        &[name.into(), status.into(), group_id.into()],
    )
    .await?;
    Ok(())
}

/// The nested groups' addresses of a group, in order.
pub async fn subgroup_addresses(conn: &mut Conn<'_>, group_id: i64) -> StoreResult<Vec<String>> {
    sql::column_in(
        conn,
        "SELECT s.address FROM group_members g JOIN mail_groups s ON s.id = g.subgroup_id WHERE \
         g.group_id = $1 ORDER BY g.position",
        &[group_id.into()],
    )
    .await
}

/// Empties a group's members (people and nested groups) and allow list.
pub async fn clear_group(conn: &mut Conn<'_>, group_id: i64, lists: GroupLists) -> StoreResult<()> {
    if lists.members {
        sql::execute_in(
            conn,
            "DELETE FROM group_members WHERE group_id = $1 AND member_id IS NOT NULL",
            &[group_id.into()],
        )
        .await?;
    }
    if lists.groups {
        sql::execute_in(
            conn,
            "DELETE FROM group_members WHERE group_id = $1 AND subgroup_id IS NOT NULL",
            &[group_id.into()],
        )
        .await?;
    }
    if lists.allow {
        sql::execute_in(
            conn,
            "DELETE FROM group_allow WHERE group_id = $1",
            &[group_id.into()],
        )
        .await?;
    }
    Ok(())
}

/// Which of a group's lists [`clear_group`] empties.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupLists {
    /// The people.
    pub members: bool,
    /// The nested groups.
    pub groups: bool,
    /// The allow list.
    pub allow: bool,
}

/// A group's departments, in order.
pub async fn group_departments(conn: &mut Conn<'_>, group_id: i64) -> StoreResult<Vec<i64>> {
    sql::column_in(
        conn,
        "SELECT department_id FROM group_departments WHERE group_id = $1 ORDER BY position",
        &[group_id.into()],
    )
    .await
}

/// Replaces a group's departments.
pub async fn set_group_departments(
    conn: &mut Conn<'_>,
    group_id: i64,
    department_ids: &[i64],
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM group_departments WHERE group_id = $1",
        &[group_id.into()],
    )
    .await?;
    for (pos, d) in department_ids.iter().enumerate() {
        let pos = i64::try_from(pos).unwrap_or(i64::MAX);
        sql::execute_in(
            conn,
            "INSERT INTO group_departments (group_id, department_id, position) VALUES ($1, $2, $3)",
            &[group_id.into(), d.into(), pos.into()],
        )
        .await?;
    }
    Ok(())
}

/// The people of a group's departments (sub-departments included), as `(member id, address)`,
/// each once: what a department in a mail group stands for at delivery.
pub async fn group_department_members(
    conn: &mut Conn<'_>,
    group_id: i64,
) -> StoreResult<Vec<(i64, String)>> {
    sql::all_in(
        conn,
        "SELECT DISTINCT m.id, m.address FROM group_departments gd JOIN departments top ON top.id \
         = gd.department_id JOIN departments d ON d.tenant_id = top.tenant_id AND (d.path = \
         top.path OR substr(d.path, 1, length(top.path) + 1) = top.path || '/') JOIN \
         member_departments md ON md.department_id = d.id JOIN members m ON m.id = md.member_id \
         WHERE gd.group_id = $1 ORDER BY m.id",
        &[group_id.into()],
    )
    .await
}

/// Whether a member has a confirmed TOTP secret (`useroption` type 4).
pub async fn totp_enrolled(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<bool> {
    sql::value_in(
        conn,
        "SELECT EXISTS (SELECT 1 FROM member_totp WHERE member_id = $1 AND confirmed = TRUE)",
        &[member_id.into()],
    )
    .await
}

/// Unread mails in a member's INBOX received in `[from_ms, to_ms)`.
pub async fn unread_between(
    conn: &mut Conn<'_>,
    member_id: i64,
    from_ms: i64,
    to_ms: i64,
) -> StoreResult<i64> {
    sql::value_in(
        conn,
        "SELECT COUNT(*) FROM mailbox b JOIN folders f ON f.id = b.folder_id WHERE b.member_id = \
         $1 AND f.special = 'inbox' AND b.seen = FALSE AND b.received_ms >= $2 AND b.received_ms \
         < $3",
        &[member_id.into(), from_ms.into(), to_ms.into()],
    )
    .await
}

/// Whether a member's first SSO login of the newer API must confirm their password: the tenant's
/// switch is on, the member has not authorized SSO yet, and has a password to confirm.
pub async fn sso_needs_password(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<bool> {
    sql::value_in(
        conn,
        "SELECT t.sso_confirm_password AND NOT m.sso_authorized AND m.password_hash <> '' FROM \
         members m JOIN tenants t ON t.id = m.tenant_id WHERE m.id = $1",
        &[member_id.into()],
    )
    .await
}

/// Marks a member's SSO as authorized (true) or takes it back (false).
pub async fn set_sso_authorized(conn: &mut Conn<'_>, member_id: i64, on: bool) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE members SET sso_authorized = $1 WHERE id = $2",
        &[on.into(), member_id.into()],
    )
    .await?;
    Ok(())
}

/// Takes back every member's SSO authorization in a tenant (a new SSO secret).
pub async fn clear_sso_authorizations(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE members SET sso_authorized = FALSE WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    Ok(())
}

/// Whether a tenant's members confirm their password on their first SSO login of the newer API
/// (the switch [`set_sso_confirm_password`] sets).
pub async fn sso_confirm_password(store: &Store, tenant_id: i64) -> StoreResult<bool> {
    Ok(sql::scalar::<bool>(
        store,
        "SELECT sso_confirm_password FROM tenants WHERE id = $1",
        &[tenant_id.into()],
    )
    .await?
    .unwrap_or(true))
}

/// Switches a tenant's "first SSO login confirms the password" on or off.
pub async fn set_sso_confirm_password(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    on: bool,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE tenants SET sso_confirm_password = $1 WHERE id = $2",
        &[on.into(), tenant_id.into()],
    )
    .await?;
    Ok(())
}
