//! The sandboxes (`sandboxes`) and their record of exchanges (`sandbox_exchanges`). Every write
//! to a sandbox says [`Store::auth_changed`] after it, so the snapshot every call consults is
//! cached beside the token grants and forgotten with them, on every process and node.

use super::auth_cache::Entry;
use super::{Store, StoreResult, sql};
use bizmail_protocol::sandbox::Plan;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// One sandbox as the server applies it.
#[derive(Debug, Clone, Default)]
pub struct TenantSandbox {
    /// The tenant.
    pub tenant_id: i64,
    /// How far the tenant's clock is ahead of the real one (negative: behind).
    pub clock_offset_ms: i64,
    /// The fault plan (empty: none).
    pub plan: Arc<Plan>,
    /// Bumped by every change of the plan: the server's counters start over with it.
    pub generation: i64,
}

/// Every sandbox, read at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By tenant.
    pub tenants: HashMap<i64, Arc<TenantSandbox>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: i64,
    clock_offset_ms: i64,
    faults: String,
    generation: i64,
}

/// The sandboxes: from the cache while nothing changed, else read again.
pub async fn snapshot(store: &Store) -> StoreResult<Arc<Snapshot>> {
    let cache = store.auth_cache();
    let stamp = cache.stamp();
    if let (Some(stamp), Ok(kept)) = (stamp, cache.sandbox.lock())
        && let Some(e) = kept.as_ref()
        && e.stamp == stamp
        && e.at.elapsed() < super::auth_cache::MAX_AGE
    {
        return Ok(e.value.clone());
    }
    let rows: Vec<Row> = sql::all(
        store,
        "SELECT tenant_id, clock_offset_ms, faults, generation FROM sandboxes",
        &[],
    )
    .await?;
    let tenants = rows
        .into_iter()
        .map(|r| {
            // A plan was checked when it was written; one that no longer parses (written by a
            // newer release, say) injects nothing rather than stopping the server.
            let plan = if r.faults.is_empty() {
                Plan::default()
            } else {
                serde_json::from_str(&r.faults).unwrap_or_else(|e| {
                    tracing::warn!(tenant = r.tenant_id, error = %e, "a sandbox's fault plan does not parse; ignored");
                    Plan::default()
                })
            };
            let sandbox = TenantSandbox {
                tenant_id: r.tenant_id,
                clock_offset_ms: r.clock_offset_ms,
                plan: Arc::new(plan),
                generation: r.generation,
            };
            (r.tenant_id, Arc::new(sandbox))
        })
        .collect();
    let snapshot = Arc::new(Snapshot { tenants });
    if let (Some(stamp), Ok(mut kept)) = (stamp, cache.sandbox.lock()) {
        *kept = Some(Entry {
            stamp,
            at: Instant::now(),
            value: snapshot.clone(),
        });
    }
    Ok(snapshot)
}

/// The sandbox of a token's tenant, read only when its grant says the tenant is marked as one
/// (`sandboxed`): other tenants' calls never look.
pub async fn of_grant(
    store: &Store,
    tenant_id: i64,
    sandboxed: bool,
) -> StoreResult<Option<Arc<TenantSandbox>>> {
    if !sandboxed {
        return Ok(None);
    }
    Ok(snapshot(store).await?.tenants.get(&tenant_id).cloned())
}

/// How far `tenant_id`'s clock is moved (0 for a tenant that is not a sandbox).
pub async fn clock_offset(store: &Store, tenant_id: i64) -> StoreResult<i64> {
    Ok(snapshot(store)
        .await?
        .tenants
        .get(&tenant_id)
        .map_or(0, |s| s.clock_offset_ms))
}

/// Marks a tenant as a sandbox; false if it already was.
pub async fn mark(store: &Store, tenant_id: i64, now_ms: i64) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "INSERT INTO sandboxes (tenant_id, marked_ms) VALUES ($1, $2) ON CONFLICT (tenant_id) \
         DO NOTHING",
        &[tenant_id.into(), now_ms.into()],
    )
    .await?;
    if n > 0 {
        store.auth_changed().await;
    }
    Ok(n > 0)
}

/// Ends a sandbox: its faults, clock, control key and record go with it. False if it was none.
pub async fn unmark(store: &Store, tenant_id: i64) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    sql::execute_in(
        &mut tx.conn(),
        "DELETE FROM sandbox_exchanges WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    let n = sql::execute_in(
        &mut tx.conn(),
        "DELETE FROM sandboxes WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    tx.commit().await?.no_events();
    store.auth_changed().await;
    Ok(n > 0)
}

/// Replaces the fault plan (JSON, '' for none); false if the tenant is no sandbox.
pub async fn set_plan(store: &Store, tenant_id: i64, plan_json: &str) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE sandboxes SET faults = $2, generation = generation + 1 WHERE tenant_id = $1",
        &[tenant_id.into(), plan_json.into()],
    )
    .await?;
    store.auth_changed().await;
    Ok(n > 0)
}

/// Sets how far the tenant's clock is moved; false if the tenant is no sandbox. The listen
/// cursors' last polls move back by the change, so their clients look away that much longer
/// (listen's grace period is measured against them).
pub async fn set_clock(store: &Store, tenant_id: i64, offset_ms: i64) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let old: Option<i64> = sql::scalar_in(
        &mut tx.conn(),
        "SELECT clock_offset_ms FROM sandboxes WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    let Some(old) = old else {
        return Ok(false);
    };
    sql::execute_in(
        &mut tx.conn(),
        "UPDATE sandboxes SET clock_offset_ms = $2 WHERE tenant_id = $1",
        &[tenant_id.into(), offset_ms.into()],
    )
    .await?;
    sql::execute_in(
        &mut tx.conn(),
        "UPDATE listen_cursors SET seen_ms = seen_ms - $2 WHERE tenant_id = $1",
        &[tenant_id.into(), offset_ms.saturating_sub(old).into()],
    )
    .await?;
    tx.commit().await?.no_events();
    store.auth_changed().await;
    Ok(true)
}

/// Keeps the hash of a new control key; false if the tenant is no sandbox.
pub async fn set_key(store: &Store, tenant_id: i64, key_hash: &[u8]) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE sandboxes SET key_hash = $2 WHERE tenant_id = $1",
        &[tenant_id.into(), key_hash.into()],
    )
    .await?;
    Ok(n > 0)
}

/// The sandbox whose control key hashes to `key_hash`.
pub async fn tenant_of_key(store: &Store, key_hash: &[u8]) -> StoreResult<Option<i64>> {
    sql::scalar(
        store,
        "SELECT tenant_id FROM sandboxes WHERE key_hash = $1",
        &[key_hash.into()],
    )
    .await
}

/// One recorded exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Exchange {
    /// Its id (0 before it is stored).
    pub id: i64,
    /// The client: `openapi:<admin>` or `app:<application>`.
    pub client: String,
    /// The first characters of the token's hash (`-` for a token request), to tell tokens apart.
    pub token: String,
    /// When the request arrived (the real clock).
    pub at_ms: i64,
    /// How long the answer took.
    pub duration_us: i64,
    /// The HTTP method.
    pub method: String,
    /// The path and query, secrets masked.
    pub url: String,
    /// The request's headers as a JSON array of `[name, value]`, secrets masked.
    pub request_headers: String,
    /// The request's body, secrets masked (UTF-8, lossy; cut at the record's limit).
    pub request_body: String,
    /// The answer's HTTP status (0: the connection was cut).
    pub status: i64,
    /// The answer's headers, as the request's.
    pub response_headers: String,
    /// The answer's body, secrets masked.
    pub response_body: String,
    /// The fault injected into this call, if any (e.g. `error 1002`).
    pub fault: String,
}

/// Stores an exchange of `tenant_id` and forgets that client's exchanges beyond the last `keep`.
pub async fn record(store: &Store, tenant_id: i64, e: &Exchange, keep: i64) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    sql::execute_in(
        &mut tx.conn(),
        "INSERT INTO sandbox_exchanges (tenant_id, client, token, at_ms, duration_us, method, \
         url, request_headers, request_body, status, response_headers, response_body, fault) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            tenant_id.into(),
            e.client.as_str().into(),
            e.token.as_str().into(),
            e.at_ms.into(),
            e.duration_us.into(),
            e.method.as_str().into(),
            e.url.as_str().into(),
            e.request_headers.as_str().into(),
            e.request_body.as_str().into(),
            e.status.into(),
            e.response_headers.as_str().into(),
            e.response_body.as_str().into(),
            e.fault.as_str().into(),
        ],
    )
    .await?;
    sql::execute_in(
        &mut tx.conn(),
        "DELETE FROM sandbox_exchanges WHERE tenant_id = $1 AND client = $2 AND id <= (SELECT \
         id FROM sandbox_exchanges WHERE tenant_id = $1 AND client = $2 ORDER BY id DESC \
         LIMIT 1 OFFSET $3)",
        &[tenant_id.into(), e.client.as_str().into(), keep.into()],
    )
    .await?;
    tx.commit().await?.no_events();
    Ok(())
}

/// The last `limit` exchanges of a sandbox (of one client, if named), oldest first.
pub async fn exchanges(
    store: &Store,
    tenant_id: i64,
    client: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Exchange>> {
    let mut rows: Vec<Exchange> = sql::all(
        store,
        "SELECT id, client, token, at_ms, duration_us, method, url, request_headers, \
         request_body, status, response_headers, response_body, fault FROM sandbox_exchanges \
         WHERE tenant_id = $1 AND ($2 = '' OR client = $2) ORDER BY id DESC LIMIT $3",
        &[tenant_id.into(), client.unwrap_or("").into(), limit.into()],
    )
    .await?;
    rows.reverse();
    Ok(rows)
}

/// Forgets a sandbox's record; returns how many exchanges went.
pub async fn clear_exchanges(store: &Store, tenant_id: i64) -> StoreResult<u64> {
    sql::execute(
        store,
        "DELETE FROM sandbox_exchanges WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await
}
