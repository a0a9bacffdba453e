//! SSO tickets and web-mailbox sessions, stored as hashes.

use super::{Store, StoreResult, on_pool};

/// Stores a new ticket for a member.
pub async fn insert_ticket(
    store: &Store,
    hash: &[u8],
    tenant_id: i64,
    member_id: i64,
    expires_ms: i64,
) -> StoreResult<()> {
    on_pool!(store, |p| {
        sqlx::query(
        "INSERT INTO sso_tickets (ticket_hash, tenant_id, member_id, expires_ms) VALUES ($1, $2, $3, $4)"
    )
    .bind(hash)
    .bind(tenant_id)
    .bind(member_id)
    .bind(expires_ms)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Burns an unused, unexpired ticket and returns `(tenant, member)`; `None` when it is unknown,
/// used or expired. One statement, so two logins racing with one ticket cannot both win.
pub async fn burn_ticket(
    store: &Store,
    hash: &[u8],
    now_ms: i64,
) -> StoreResult<Option<(i64, i64)>> {
    Ok(on_pool!(store, |p| {
        sqlx::query_as::<_, (i64, i64)>(
        "UPDATE sso_tickets SET used = TRUE WHERE ticket_hash = $1 AND used = FALSE AND expires_ms > $2 \
         RETURNING tenant_id, member_id"
    )
    .bind(hash)
    .bind(now_ms)
    .fetch_optional(p)
    .await
    })?)
}

/// Opens a session.
pub async fn insert_session(
    store: &Store,
    hash: &[u8],
    tenant_id: i64,
    member_id: i64,
    csrf: &str,
    now_ms: i64,
) -> StoreResult<()> {
    on_pool!(store, |p| {
        sqlx::query(
        "INSERT INTO web_sessions (id_hash, tenant_id, member_id, csrf, created_ms, last_ms) VALUES ($1, $2, $3, $4, $5, $5)"
    )
    .bind(hash)
    .bind(tenant_id)
    .bind(member_id)
    .bind(csrf)
    .bind(now_ms)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A live session: `(tenant, member, csrf)`, touched now. `None` when unknown or past its idle or
/// absolute expiry (such a session is deleted).
pub async fn session(
    store: &Store,
    hash: &[u8],
    now_ms: i64,
    idle_ms: i64,
    max_ms: i64,
) -> StoreResult<Option<(i64, i64, String)>> {
    let row = on_pool!(store, |p| {
        sqlx::query_as::<_, (i64, i64, String, i64, i64)>(
        "SELECT tenant_id, member_id, csrf, created_ms, last_ms FROM web_sessions WHERE id_hash = $1"
    )
    .bind(hash)
    .fetch_optional(p)
    .await
    })?;
    let Some((tenant, member, csrf, created, last)) = row else {
        return Ok(None);
    };
    if now_ms - last > idle_ms || now_ms - created > max_ms {
        delete_session(store, hash).await?;
        return Ok(None);
    }
    // Touching is a write; a session in use needs it only now and then (every tenth of the idle
    // time, at most a minute apart), not on every page, or every click would queue on SQLite's
    // single writer. The idle expiry is that much less exact.
    if now_ms - last < (idle_ms / 10).min(60_000) {
        return Ok(Some((tenant, member, csrf)));
    }
    on_pool!(store, |p| sqlx::query(
        "UPDATE web_sessions SET last_ms = $1 WHERE id_hash = $2"
    )
    .bind(now_ms)
    .bind(hash)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(Some((tenant, member, csrf)))
}

/// Ends a session.
pub async fn delete_session(store: &Store, hash: &[u8]) -> StoreResult<()> {
    on_pool!(store, |p| sqlx::query(
        "DELETE FROM web_sessions WHERE id_hash = $1"
    )
    .bind(hash)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes what can never be used again: used or expired tickets, and sessions past their idle or
/// absolute expiry (which `session` would refuse anyway).
pub async fn purge(store: &Store, now_ms: i64, idle_ms: i64, max_ms: i64) -> StoreResult<()> {
    on_pool!(store, |p| sqlx::query(
        "DELETE FROM sso_tickets WHERE used = TRUE OR expires_ms <= $1"
    )
    .bind(now_ms)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    on_pool!(store, |p| sqlx::query(
        "DELETE FROM web_sessions WHERE last_ms < $1 OR created_ms < $2"
    )
    .bind(now_ms.saturating_sub(idle_ms))
    .bind(now_ms.saturating_sub(max_ms))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
