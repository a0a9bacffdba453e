//! The members table and the departments each member is in.

use super::{MEMBER_COLUMNS, MemberRow, kind};
use crate::store::{Conn, StoreResult, on_conn};

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
