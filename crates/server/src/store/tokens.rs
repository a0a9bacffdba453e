//! Access tokens, stored as SHA-256 hashes of the token: a leaked database holds no usable token.

use super::{Store, StoreResult, on_pool};

/// What an API call learns from its token in one query: whose it is and the tenant's switches.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenGrant {
    /// The tenant the token is scoped to.
    pub tenant_id: i64,
    /// The admin the token was issued to.
    pub admin_id: i64,
    /// That admin's name, for the operation log.
    pub admin_name: String,
    /// When the token expires.
    pub expires_ms: i64,
    /// Whether the tenant's sync is switched on.
    pub openapi_enabled: bool,
    /// The tenant's IP allow list.
    pub ip_allow: String,
}

/// Stores a new token's hash.
pub async fn insert(
    store: &Store,
    token_hash: &[u8],
    tenant_id: i64,
    admin_id: i64,
    now_ms: i64,
    expires_ms: i64,
) -> StoreResult<()> {
    on_pool!(store, |p| {
        sqlx::query(
        "INSERT INTO access_tokens (token_hash, tenant_id, admin_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(token_hash)
    .bind(tenant_id)
    .bind(admin_id)
    .bind(now_ms)
    .bind(expires_ms)
    .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The grant behind a token hash, expired or not (the caller compares `expires_ms`).
pub async fn find(store: &Store, token_hash: &[u8]) -> StoreResult<Option<TokenGrant>> {
    Ok(on_pool!(store, |p| {
        sqlx::query_as::<_, TokenGrant>(
        "SELECT t.tenant_id, t.admin_id, a.name AS admin_name, t.expires_ms, n.openapi_enabled, n.ip_allow \
         FROM access_tokens t JOIN admins a ON a.id = t.admin_id JOIN tenants n ON n.id = t.tenant_id \
         WHERE t.token_hash = $1"
    )
    .bind(token_hash)
    .fetch_optional(p)
    .await
    })?)
}

/// Deletes tokens that expired before `now_ms`; returns how many.
pub async fn purge_expired(store: &Store, now_ms: i64) -> StoreResult<u64> {
    let done = on_pool!(store, |p| sqlx::query(
        "DELETE FROM access_tokens WHERE expires_ms < $1"
    )
    .bind(now_ms)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done)
}
