//! The newer API's credentials: each tenant's corp id, one sealed secret per application, and
//! the tokens issued for them (stored as SHA-256 hashes, scoped to a tenant and an application).

use super::sql;
use super::{Conn, Store, StoreResult};

/// What `gettoken` needs of a corp id's tenant and one of its applications.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CorpApp {
    /// The application's name.
    pub app: String,
    /// The tenant.
    pub tenant_id: i64,
    /// The application's sealed secret.
    pub secret_sealed: Vec<u8>,
    /// Whether the application is switched on.
    pub enabled: bool,
    /// Whether the tenant's API switch is on (it covers both APIs).
    pub openapi_enabled: bool,
    /// The tenant's IP allow list.
    pub ip_allow: String,
}

/// A tenant's corp id, if it has one.
pub async fn corp_id(store: &Store, tenant_id: i64) -> StoreResult<Option<String>> {
    sql::scalar::<String>(
        store,
        "SELECT corp_id FROM tenants WHERE id = $1 AND corp_id IS NOT NULL",
        &[tenant_id.into()],
    )
    .await
}

/// Gives a tenant its corp id (only if it has none; true when this call set it).
pub async fn set_corp_id(conn: &mut Conn<'_>, tenant_id: i64, corp_id: &str) -> StoreResult<bool> {
    let n = sql::execute_in(
        conn,
        "UPDATE tenants SET corp_id = $1 WHERE id = $2 AND corp_id IS NULL",
        &[corp_id.into(), tenant_id.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Stores (or replaces) an application's sealed secret; a replaced secret's tokens die with it.
/// Inside a transaction: the caller says [`Store::auth_changed`] after its commit.
pub async fn put_app(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    app: &str,
    sealed: &[u8],
    now_ms: i64,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO corp_apps (tenant_id, app, secret_sealed, enabled, rotated_ms) VALUES ($1, \
         $2, $3, TRUE, $4) ON CONFLICT (tenant_id, app) DO UPDATE SET secret_sealed = \
         excluded.secret_sealed, rotated_ms = excluded.rotated_ms",
        &[tenant_id.into(), app.into(), sealed.into(), now_ms.into()],
    )
    .await?;
    sql::execute_in(
        conn,
        "DELETE FROM corp_tokens WHERE tenant_id = $1 AND app = $2",
        &[tenant_id.into(), app.into()],
    )
    .await?;
    Ok(())
}

/// Switches an application on or off; false when the tenant has no such application.
pub async fn set_app_enabled(
    store: &Store,
    tenant_id: i64,
    app: &str,
    enabled: bool,
) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE corp_apps SET enabled = $1 WHERE tenant_id = $2 AND app = $3",
        &[enabled.into(), tenant_id.into(), app.into()],
    )
    .await?;
    store.auth_changed().await;
    Ok(n == 1)
}

/// A tenant's applications: name, sealed secret, switch.
pub async fn apps(store: &Store, tenant_id: i64) -> StoreResult<Vec<(String, Vec<u8>, bool)>> {
    sql::all(
        store,
        "SELECT app, secret_sealed, enabled FROM corp_apps WHERE tenant_id = $1 ORDER BY app",
        &[tenant_id.into()],
    )
    .await
}

/// Every application of the tenant behind a corp id (gettoken tries the secret against each).
pub async fn apps_of_corp(store: &Store, corp_id: &str) -> StoreResult<Vec<CorpApp>> {
    sql::all(
        store,
        "SELECT a.app, t.id AS tenant_id, a.secret_sealed, a.enabled, t.openapi_enabled AND NOT \
         t.disabled AS openapi_enabled, t.ip_allow FROM tenants t JOIN corp_apps a ON \
         a.tenant_id = t.id WHERE t.corp_id = $1 ORDER BY a.app",
        &[corp_id.into()],
    )
    .await
}

/// Live tokens kept per application: the newest ones (a client calling gettoken in a loop, as one
/// recorded client does, must not fill the table).
pub const MAX_TOKENS_PER_APP: i64 = 1000;

/// Stores a new token's hash; beyond [`MAX_TOKENS_PER_APP`] live tokens of the application, the
/// oldest are dropped.
pub async fn insert_token(
    store: &Store,
    hash: &[u8],
    tenant_id: i64,
    app: &str,
    expires_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO corp_tokens (token_hash, tenant_id, app, expires_ms) VALUES ($1, $2, $3, $4)",
        &[hash.into(), tenant_id.into(), app.into(), expires_ms.into()],
    )
    .await?;
    let dropped = sql::execute(
        store,
        "DELETE FROM corp_tokens WHERE tenant_id = $1 AND app = $2 AND token_hash NOT IN (SELECT \
         token_hash FROM corp_tokens WHERE tenant_id = $1 AND app = $2 ORDER BY expires_ms DESC \
         LIMIT $3)",
        &[tenant_id.into(), app.into(), MAX_TOKENS_PER_APP.into()],
    )
    .await?;
    if dropped > 0 {
        store.auth_changed().await;
    }
    Ok(())
}

/// What a call learns from its token: tenant, application, expiry, the application's switch, the
/// tenant's switch and allow list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CorpGrant {
    /// The tenant.
    pub tenant_id: i64,
    /// The application the token was issued for.
    pub app: String,
    /// When it expires (before the grace period).
    pub expires_ms: i64,
    /// Whether the application is switched on.
    pub enabled: bool,
    /// Whether the tenant's API switch is on.
    pub openapi_enabled: bool,
    /// The tenant's IP allow list.
    pub ip_allow: String,
    /// The tenant's corp id.
    pub corp_id: String,
    /// Whether the tenant is marked as a sandbox (then its sandbox is read; other calls never
    /// look).
    pub sandboxed: bool,
}

/// The grant behind a token hash, expired or not.
/// Served from the grants cache while nothing it depends on changed (see [`super::auth_cache`]).
pub async fn token(store: &Store, hash: &[u8]) -> StoreResult<Option<CorpGrant>> {
    let cache = store.auth_cache();
    let args = [hash.into()];
    let read = || {
        sql::optional(
            store,
            "SELECT k.tenant_id, k.app, k.expires_ms, a.enabled, \
             t.openapi_enabled AND NOT t.disabled AS openapi_enabled, t.ip_allow, t.corp_id, \
             EXISTS (SELECT 1 FROM sandboxes s WHERE s.tenant_id = k.tenant_id) AS sandboxed \
             FROM corp_tokens k JOIN corp_apps a ON a.tenant_id = k.tenant_id AND a.app = k.app \
             JOIN tenants t ON t.id = k.tenant_id WHERE k.token_hash = $1",
            &args,
        )
    };
    cache.read_through(&cache.corp, hash, read).await
}

/// Deletes tokens past their expiry and grace.
pub async fn purge_tokens(store: &Store, before_ms: i64) -> StoreResult<u64> {
    sql::execute(
        store,
        "DELETE FROM corp_tokens WHERE expires_ms < $1",
        &[before_ms.into()],
    )
    .await
}
