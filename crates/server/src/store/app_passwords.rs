//! Client-specific passwords of members (`bizmail member app-password`): stored as SHA-256
//! hashes of generated passwords, looked up by hash within the member.

use super::{Store, StoreResult, sql};

/// Most client passwords a member may have.
pub const MAX_PER_MEMBER: i64 = 20;

/// Adds one; false when the name is taken or the member has too many already.
pub async fn insert(
    store: &Store,
    member_id: i64,
    name: &str,
    hash: &[u8],
    now_ms: i64,
) -> StoreResult<bool> {
    let count: i64 = sql::value(
        store,
        "SELECT COUNT(*) FROM app_passwords WHERE member_id = $1",
        &[member_id.into()],
    )
    .await?;
    if count >= MAX_PER_MEMBER {
        return Ok(false);
    }
    match sql::execute(
        store,
        "INSERT INTO app_passwords (member_id, name, hash, created_ms) VALUES ($1, $2, $3, $4)",
        &[member_id.into(), name.into(), hash.into(), now_ms.into()],
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// A member's client passwords: `(name, created_ms)`, by name.
pub async fn list(store: &Store, member_id: i64) -> StoreResult<Vec<(String, i64)>> {
    sql::all(
        store,
        "SELECT name, created_ms FROM app_passwords WHERE member_id = $1 ORDER BY name",
        &[member_id.into()],
    )
    .await
}

/// Removes one; false when there was none of that name.
pub async fn delete(store: &Store, member_id: i64, name: &str) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "DELETE FROM app_passwords WHERE member_id = $1 AND name = $2",
        &[member_id.into(), name.into()],
    )
    .await?;
    Ok(n > 0)
}

/// Whether the member has a client password with this hash.
pub async fn matches(store: &Store, member_id: i64, hash: &[u8]) -> StoreResult<bool> {
    let found: i64 = sql::value(
        store,
        "SELECT COUNT(*) FROM app_passwords WHERE member_id = $1 AND hash = $2",
        &[member_id.into(), hash.into()],
    )
    .await?;
    Ok(found > 0)
}
