//! The members table and the departments each member is in.

use super::{MEMBER_COLUMNS, MemberRow, kind};
use crate::store::{Conn, StoreResult, sql};

/// Inserts a member (its address row is the caller's to claim) and returns its id.
pub async fn insert_member(conn: &mut Conn<'_>, m: &MemberRow, now_ms: i64) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "INSERT INTO members (tenant_id, address, name, gender, position, tel, mobile, ext_id, \
         password_hash, password_md5, enabled, second_factor, created_ms, updated_ms) VALUES ($1, \
         $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        &[
            m.tenant_id.into(),
            (&m.address).into(),
            (&m.name).into(),
            m.gender.into(),
            (&m.position).into(),
            (&m.tel).into(),
            (&m.mobile).into(),
            (&m.ext_id).into(),
            (&m.password_hash).into(),
            m.password_md5.into(),
            m.enabled.into(),
            m.second_factor.into(),
            now_ms.into(),
        ],
    )
    .await
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
            "SELECT {} FROM addresses a JOIN members m ON m.id = a.member_id WHERE a.address = $1 \
             AND a.kind <> $2",
            columns.join(", ")
        )
    });
    // Built once from constant column names: safe SQL that lives as long as the program.
    sql::optional_in(conn, SQL.as_str(), &[address.into(), kind::GROUP.into()]).await
}

/// One member of a tenant by id.
pub async fn member(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    id: i64,
) -> StoreResult<Option<MemberRow>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {MEMBER_COLUMNS} FROM members WHERE tenant_id = $1 AND id = $2")
    });
    sql::optional_in(conn, SQL.as_str(), &[tenant_id.into(), id.into()]).await
}

/// Writes every field of a member back.
pub async fn update_member(conn: &mut Conn<'_>, m: &MemberRow, now_ms: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE members SET address = $1, name = $2, gender = $3, position = $4, tel = $5, mobile \
         = $6, ext_id = $7, password_hash = $8, password_md5 = $9, enabled = $10, second_factor = \
         $11, updated_ms = $12 WHERE id = $13 AND tenant_id = $14",
        &[
            (&m.address).into(),
            (&m.name).into(),
            m.gender.into(),
            (&m.position).into(),
            (&m.tel).into(),
            (&m.mobile).into(),
            (&m.ext_id).into(),
            (&m.password_hash).into(),
            m.password_md5.into(),
            m.enabled.into(),
            m.second_factor.into(),
            now_ms.into(),
            m.id.into(),
            m.tenant_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Deletes a member; its addresses, departments and group memberships go with it.
pub async fn delete_member(conn: &mut Conn<'_>, tenant_id: i64, id: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM members WHERE id = $1 AND tenant_id = $2",
        &[id.into(), tenant_id.into()],
    )
    .await?;
    Ok(())
}

/// Every member's primary address, oldest member first.
pub async fn member_addresses(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<Vec<String>> {
    sql::column_in::<String>(
        conn,
        "SELECT address FROM members WHERE tenant_id = $1 ORDER BY id",
        &[tenant_id.into()],
    )
    .await
}

/// A member's aliases (in their order) and department paths (in the member's order) in one round
/// trip, as `user/get` and the console's member page show them.
pub async fn aliases_and_departments(
    conn: &mut Conn<'_>,
    member_id: i64,
) -> StoreResult<(Vec<String>, Vec<String>)> {
    // Each row says which list it belongs to. Aliases come in their position, then address
    // order (as `aliases_of` gives them); departments in the member's order.
    let rows: Vec<(i64, String, i64, String)> = sql::all_in(
        conn,
        "SELECT CAST(1 AS BIGINT) AS list, address AS value, position, address AS tie FROM \
         addresses WHERE member_id = $1 AND kind = 2 UNION ALL SELECT CAST(2 AS BIGINT), d.path, \
         md.position, '' FROM member_departments md JOIN departments d ON d.id = \
         md.department_id WHERE md.member_id = $1 ORDER BY 1, 3, 4",
        &[member_id.into()],
    )
    .await?;
    let (mut aliases, mut departments) = (Vec::new(), Vec::new());
    for (list, value, _, _) in rows {
        if list == 1 {
            aliases.push(value);
        } else {
            departments.push(value);
        }
    }
    Ok((aliases, departments))
}

/// Replaces a member's departments (empty: directly under the root).
pub async fn set_member_departments(
    conn: &mut Conn<'_>,
    member_id: i64,
    department_ids: &[i64],
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM member_departments WHERE member_id = $1",
        &[member_id.into()],
    )
    .await?;
    for (pos, d) in department_ids.iter().enumerate() {
        sql::execute_in(
            conn,
            "INSERT INTO member_departments (member_id, department_id, position) VALUES ($1, $2, \
             $3)",
            &[
                member_id.into(),
                d.into(),
                (i64::try_from(pos).unwrap_or(i64::MAX)).into(),
            ],
        )
        .await?;
    }
    Ok(())
}
