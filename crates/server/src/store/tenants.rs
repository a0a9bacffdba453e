//! Tenants, their mail domains and admin accounts, the interface key and the OpenApi switches.

use super::sql;
use super::{Conn, Store, StoreResult, Tx};

/// One tenant's OpenApi settings as the token endpoint and the API guard need them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    /// The tenant's id.
    pub id: i64,
    /// The encrypted interface key; `None` until the OpenApi is applied for.
    pub openapi_key: Option<Vec<u8>>,
    /// Whether sync is switched on.
    pub openapi_enabled: bool,
    /// Allowed client CIDRs, one per line; empty means any.
    pub ip_allow: String,
}

/// An admin account with its tenant's OpenApi settings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminRow {
    /// The admin's id.
    pub id: i64,
    /// The tenant the admin administers.
    pub tenant_id: i64,
    /// The admin's name (`client_id`, `agent`).
    pub name: String,
    /// argon2id PHC string of the admin password.
    pub password_hash: String,
}

/// Creates a tenant row and returns its id.
pub async fn insert_tenant(tx: &mut Tx, name: &str, now_ms: i64) -> StoreResult<i64> {
    sql::value_in(
        &mut tx.conn(),
        "INSERT INTO tenants (name, created_ms) VALUES ($1, $2) RETURNING id",
        &[name.into(), now_ms.into()],
    )
    .await
}

/// Adds a mail domain to a tenant. A domain held by any tenant is a unique violation.
pub async fn insert_domain(tx: &mut Tx, tenant_id: i64, domain: &str) -> StoreResult<()> {
    sql::execute_in(
        &mut tx.conn(),
        "INSERT INTO domains (name, tenant_id) VALUES ($1, $2)",
        &[domain.into(), tenant_id.into()],
    )
    .await?;
    Ok(())
}

/// Adds an admin account. An admin name held by any tenant is a unique violation.
pub async fn insert_admin(
    tx: &mut Tx,
    tenant_id: i64,
    name: &str,
    password_hash: &str,
    now_ms: i64,
) -> StoreResult<i64> {
    sql::value_in(
        &mut tx.conn(),
        "INSERT INTO admins (tenant_id, name, password_hash, created_ms) VALUES ($1, $2, $3, $4) \
         RETURNING id",
        &[
            tenant_id.into(),
            name.into(),
            password_hash.into(),
            now_ms.into(),
        ],
    )
    .await
}

/// The admin account with this exact name.
pub async fn find_admin(store: &Store, name: &str) -> StoreResult<Option<AdminRow>> {
    sql::optional(
        store,
        "SELECT id, tenant_id, name, password_hash FROM admins WHERE name = $1",
        &[name.into()],
    )
    .await
}

/// One tenant by id.
pub async fn find_tenant(store: &Store, id: i64) -> StoreResult<Option<TenantRow>> {
    sql::optional(
        store,
        "SELECT id, openapi_key, openapi_enabled AND NOT disabled AS openapi_enabled, ip_allow FROM \
         tenants WHERE id = $1",
        &[id.into()],
    )
    .await
}

/// Whether the operator has disabled a tenant (`bizmail tenant disable`).
pub async fn is_disabled(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<bool> {
    sql::value_in(
        conn,
        "SELECT disabled FROM tenants WHERE id = $1",
        &[tenant_id.into()],
    )
    .await
}

/// Disables or enables a tenant; false when there is no such tenant.
pub async fn set_disabled(store: &Store, tenant_id: i64, disabled: bool) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE tenants SET disabled = $1 WHERE id = $2",
        &[disabled.into(), tenant_id.into()],
    )
    .await?;
    store.auth_changed().await;
    Ok(n == 1)
}

/// One tenant as the operator lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantSummary {
    /// The tenant's id.
    pub id: i64,
    /// Whether the operator disabled it.
    pub disabled: bool,
    /// How many members it has.
    pub members: i64,
}

/// Every tenant, oldest first, with its member count.
pub async fn summaries(store: &Store) -> StoreResult<Vec<TenantSummary>> {
    sql::all(
        store,
        "SELECT t.id, t.disabled, (SELECT COUNT(*) FROM members m WHERE m.tenant_id = t.id) \
         AS members FROM tenants t ORDER BY t.id",
        &[],
    )
    .await
}

/// How many tenants exist (an empty store gets a first tenant on `serve`).
pub async fn count_tenants(store: &Store) -> StoreResult<i64> {
    sql::value(store, "SELECT COUNT(*) FROM tenants", &[]).await
}

/// The tenant's mail domains, sorted.
pub async fn domains_of(store: &Store, tenant_id: i64) -> StoreResult<Vec<String>> {
    sql::column(
        store,
        "SELECT name FROM domains WHERE tenant_id = $1 ORDER BY name",
        &[tenant_id.into()],
    )
    .await
}

/// Stores a new encrypted interface key (apply, rotate) and revokes every token of the tenant in
/// the same transaction: old tokens die with the old key (§2).
pub async fn replace_openapi_key(
    store: &Store,
    tenant_id: i64,
    sealed_key: &[u8],
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    sql::execute_in(
        &mut tx.conn(),
        "UPDATE tenants SET openapi_key = $1 WHERE id = $2",
        &[sealed_key.into(), tenant_id.into()],
    )
    .await?;
    sql::execute_in(
        &mut tx.conn(),
        "DELETE FROM access_tokens WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    tx.commit().await?.no_events();
    store.auth_changed().await;
    Ok(())
}

/// Sets the encrypted interface key inside a larger transaction (tenant creation).
pub async fn set_openapi_key_in(
    tx: &mut Tx,
    tenant_id: i64,
    sealed_key: &[u8],
    enabled: bool,
) -> StoreResult<()> {
    sql::execute_in(
        &mut tx.conn(),
        "UPDATE tenants SET openapi_key = $1, openapi_enabled = $2 WHERE id = $3",
        &[sealed_key.into(), enabled.into(), tenant_id.into()],
    )
    .await?;
    Ok(())
}

/// Switches sync on or off.
pub async fn set_openapi_enabled(store: &Store, tenant_id: i64, enabled: bool) -> StoreResult<()> {
    sql::execute(
        store,
        "UPDATE tenants SET openapi_enabled = $1 WHERE id = $2",
        &[enabled.into(), tenant_id.into()],
    )
    .await?;
    store.auth_changed().await;
    Ok(())
}

/// Replaces the IP allow list (CIDRs, one per line).
pub async fn set_ip_allow(store: &Store, tenant_id: i64, ip_allow: &str) -> StoreResult<()> {
    sql::execute(
        store,
        "UPDATE tenants SET ip_allow = $1 WHERE id = $2",
        &[ip_allow.into(), tenant_id.into()],
    )
    .await?;
    store.auth_changed().await;
    Ok(())
}

/// A tenant's own spam thresholds in tenths `(junk, reject)`; `None` each where the server's
/// apply (and for a tenant that does not exist).
pub async fn spam_thresholds(
    store: &Store,
    tenant_id: i64,
) -> StoreResult<(Option<i64>, Option<i64>)> {
    Ok(sql::optional::<(Option<i64>, Option<i64>)>(
        store,
        "SELECT spam_junk_tenths, spam_reject_tenths FROM tenants WHERE id = $1",
        &[tenant_id.into()],
    )
    .await?
    .unwrap_or((None, None)))
}

/// Sets a tenant's own spam thresholds in tenths (`None`: the server's).
pub async fn set_spam_thresholds(
    store: &Store,
    tenant_id: i64,
    junk: Option<i64>,
    reject: Option<i64>,
) -> StoreResult<()> {
    sql::execute(
        store,
        "UPDATE tenants SET spam_junk_tenths = $1, spam_reject_tenths = $2 WHERE id = $3",
        &[junk.into(), reject.into(), tenant_id.into()],
    )
    .await?;
    Ok(())
}

/// The name of a tenant's first admin (the one created with it).
pub async fn first_admin(store: &Store, tenant_id: i64) -> StoreResult<Option<String>> {
    sql::scalar(
        store,
        "SELECT name FROM admins WHERE tenant_id = $1 ORDER BY id LIMIT 1",
        &[tenant_id.into()],
    )
    .await
}
