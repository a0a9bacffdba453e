//! Password logins: members' TOTP enrolments and the short-lived challenges that sit between an
//! accepted password and the second factor. Challenge ids are stored as hashes.

use super::{Store, StoreResult, on_pool};

/// A member's TOTP enrolment: the sealed secret, whether a code has confirmed it, and the last
/// time step a code was accepted for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    /// The base32 secret, sealed by the vault.
    pub secret_sealed: Vec<u8>,
    /// True once a code from the authenticator app was accepted.
    pub confirmed: bool,
}

/// The member's enrolment, if it started.
pub async fn totp(store: &Store, member_id: i64) -> StoreResult<Option<TotpRow>> {
    Ok(on_pool!(store, |p| {
        sqlx::query_as::<_, TotpRow>(
            "SELECT secret_sealed, confirmed FROM member_totp WHERE member_id = $1",
        )
        .bind(member_id)
        .fetch_optional(p)
        .await
    })?)
}

/// Starts an enrolment with `sealed`, unless one exists (then nothing changes: two tabs racing
/// to enrol show the same secret after a reload).
pub async fn start_totp(store: &Store, member_id: i64, sealed: &[u8]) -> StoreResult<()> {
    on_pool!(store, |p| {
        sqlx::query(
            "INSERT INTO member_totp (member_id, secret_sealed) VALUES ($1, $2) \
             ON CONFLICT (member_id) DO NOTHING",
        )
        .bind(member_id)
        .bind(sealed)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Accepts a code of time step `step`: confirms the enrolment and records the step. False when a
/// code of this step or a later one was already accepted (a replayed code). One statement, so two
/// logins racing with one code cannot both win.
pub async fn accept_step(store: &Store, member_id: i64, step: i64) -> StoreResult<bool> {
    let n = on_pool!(store, |p| {
        sqlx::query(
            "UPDATE member_totp SET confirmed = TRUE, last_step = $2 \
             WHERE member_id = $1 AND last_step < $2",
        )
        .bind(member_id)
        .bind(step)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Forgets a member's enrolment (a lost authenticator), and the challenges waiting on it; true
/// when there was one. The next password login enrols afresh.
pub async fn delete_totp(store: &Store, member_id: i64) -> StoreResult<bool> {
    let n = on_pool!(store, |p| {
        sqlx::query("DELETE FROM member_totp WHERE member_id = $1")
            .bind(member_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    on_pool!(store, |p| {
        sqlx::query("DELETE FROM login_challenges WHERE member_id = $1")
            .bind(member_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// Stores a challenge: the password was right, the second factor is still owed.
pub async fn insert_challenge(
    store: &Store,
    hash: &[u8],
    tenant_id: i64,
    member_id: i64,
    expires_ms: i64,
) -> StoreResult<()> {
    on_pool!(store, |p| {
        sqlx::query(
            "INSERT INTO login_challenges (id_hash, tenant_id, member_id, expires_ms) \
             VALUES ($1, $2, $3, $4)",
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

/// The live challenge behind an id: `(tenant, member)`; `None` when unknown or expired.
pub async fn challenge(store: &Store, hash: &[u8], now_ms: i64) -> StoreResult<Option<(i64, i64)>> {
    Ok(on_pool!(store, |p| {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT tenant_id, member_id FROM login_challenges WHERE id_hash = $1 AND expires_ms > $2",
        )
        .bind(hash)
        .bind(now_ms)
        .fetch_optional(p)
        .await
    })?)
}

/// Ends a challenge (answered).
pub async fn delete_challenge(store: &Store, hash: &[u8]) -> StoreResult<()> {
    on_pool!(store, |p| {
        sqlx::query("DELETE FROM login_challenges WHERE id_hash = $1")
            .bind(hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Deletes expired (abandoned) challenges.
pub async fn purge_challenges(store: &Store, now_ms: i64) -> StoreResult<()> {
    on_pool!(store, |p| {
        sqlx::query("DELETE FROM login_challenges WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}
