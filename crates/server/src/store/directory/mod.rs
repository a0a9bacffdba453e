//! The directory's tables: members, the address namespace (primary addresses, aliases, groups),
//! departments, and mail groups with their members and allow lists. Every query is confined to one
//! tenant by its `tenant_id` (or by an id the caller obtained under that tenant). One file per
//! group of tables; this one holds the rows and the address namespace.

mod departments;
mod groups;
pub mod ids;
mod members;
pub mod tags;

pub use departments::*;
pub use groups::*;
pub use members::*;

use super::{Conn, StoreResult, sql};

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

/// The profile fields of a member write, each `None` when not given.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Display name.
    pub name: Option<String>,
    /// 0, 1 or 2.
    pub gender: Option<i64>,
    /// Position.
    pub position: Option<String>,
    /// Telephone.
    pub tel: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// External id.
    pub ext_id: Option<String>,
}

impl MemberRow {
    /// Takes the given profile fields, keeping the others (both APIs' updates change only what
    /// they are given).
    pub fn take_profile(&mut self, p: Profile) {
        let fields = [
            (&mut self.name, p.name),
            (&mut self.position, p.position),
            (&mut self.tel, p.tel),
            (&mut self.mobile, p.mobile),
            (&mut self.ext_id, p.ext_id),
        ];
        for (field, value) in fields {
            if let Some(v) = value {
                *field = v;
            }
        }
        if let Some(g) = p.gender {
            self.gender = g;
        }
    }
}

/// A mail group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    /// The group's id.
    pub id: i64,
    /// `all`, `inner`, `group` or `list`.
    pub status: String,
}

const MEMBER_COLUMNS: &str = "id, tenant_id, address, name, gender, position, tel, mobile, ext_id, \
                              password_hash, password_md5, enabled, second_factor";

// ---- addresses ------------------------------------------------------------------------------

/// The row of an address, whichever tenant holds it.
pub async fn find_address(conn: &mut Conn<'_>, address: &str) -> StoreResult<Option<AddressRow>> {
    sql::optional_in::<AddressRow>(
        conn,
        "SELECT tenant_id, kind, member_id, group_id FROM addresses WHERE address = $1",
        &[address.into()],
    )
    .await
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
    sql::execute_in(
        conn,
        "INSERT INTO addresses (address, tenant_id, kind, member_id, group_id, position) VALUES \
         ($1, $2, $3, $4, $5, $6)",
        &[
            address.into(),
            tenant_id.into(),
            kind.into(),
            owner.0.into(),
            owner.1.into(),
            position.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Changes the kind and position of an address (swapping a primary address and an alias).
pub async fn set_address_kind(
    conn: &mut Conn<'_>,
    address: &str,
    kind: i64,
    position: i64,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE addresses SET kind = $1, position = $2 WHERE address = $3",
        &[kind.into(), position.into(), address.into()],
    )
    .await?;
    Ok(())
}

/// Releases a member's aliases.
pub async fn delete_aliases(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM addresses WHERE member_id = $1 AND kind = 2",
        &[member_id.into()],
    )
    .await?;
    Ok(())
}

/// A member's aliases, in the order they were given.
pub async fn aliases_of(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<Vec<String>> {
    sql::column_in::<String>(
        conn,
        "SELECT address FROM addresses WHERE member_id = $1 AND kind = 2 ORDER BY position, \
         address",
        &[member_id.into()],
    )
    .await
}
