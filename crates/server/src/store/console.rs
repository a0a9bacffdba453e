//! The web console's accounts and sign-ins: operator accounts, each console account's TOTP
//! enrolment, the challenges waiting on a code, and the signed-in browsers. A console account is
//! `(kind, id)`: an `admins` row (`admin`) or an `operators` row (`operator`).

use super::secrets::{self, Freshness};
use super::totp::TotpRow;
use super::{Store, StoreResult, sql};

/// An operator account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OperatorRow {
    /// The operator's id.
    pub id: i64,
    /// The operator's name.
    pub name: String,
    /// argon2id PHC string of the password.
    pub password_hash: String,
}

/// The operator with this exact name.
pub async fn find_operator(store: &Store, name: &str) -> StoreResult<Option<OperatorRow>> {
    sql::optional(
        store,
        "SELECT id, name, password_hash FROM operators WHERE name = $1",
        &[name.into()],
    )
    .await
}

/// The operator with this id.
pub async fn operator(store: &Store, id: i64) -> StoreResult<Option<OperatorRow>> {
    sql::optional(
        store,
        "SELECT id, name, password_hash FROM operators WHERE id = $1",
        &[id.into()],
    )
    .await
}

/// Adds an operator, or gives an existing one a new password; returns the id.
pub async fn upsert_operator(
    store: &Store,
    name: &str,
    password_hash: &str,
    now_ms: i64,
) -> StoreResult<i64> {
    sql::value(
        store,
        "INSERT INTO operators (name, password_hash, created_ms) VALUES ($1, $2, $3) ON CONFLICT \
         (name) DO UPDATE SET password_hash = excluded.password_hash RETURNING id",
        &[name.into(), password_hash.into(), now_ms.into()],
    )
    .await
}

/// Every operator's name, in order.
pub async fn operator_names(store: &Store) -> StoreResult<Vec<String>> {
    sql::column(store, "SELECT name FROM operators ORDER BY name", &[]).await
}

/// The enrolment of a console account, if it started.
pub async fn totp(store: &Store, kind: &str, id: i64) -> StoreResult<Option<TotpRow>> {
    sql::optional(
        store,
        "SELECT secret_sealed, confirmed FROM console_totp WHERE kind = $1 AND account_id = $2",
        &[kind.into(), id.into()],
    )
    .await
}

/// Starts an enrolment with `sealed` unless one exists (two tabs then show the same secret).
pub async fn start_totp(store: &Store, kind: &str, id: i64, sealed: &[u8]) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO console_totp (kind, account_id, secret_sealed) VALUES ($1, $2, $3) ON \
         CONFLICT (kind, account_id) DO NOTHING",
        &[kind.into(), id.into(), sealed.into()],
    )
    .await?;
    Ok(())
}

/// Accepts a code of time step `step` (confirming the enrolment); false for a replayed code.
pub async fn accept_step(store: &Store, kind: &str, id: i64, step: i64) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE console_totp SET confirmed = TRUE, last_step = $3 WHERE kind = $1 AND \
         account_id = $2 AND last_step < $3",
        &[kind.into(), id.into(), step.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Forgets an account's enrolment, its challenges and its sessions (a lost phone: whoever has
/// it must not stay signed in); true when there was an enrolment.
pub async fn reset_totp(store: &Store, kind: &str, id: i64) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "DELETE FROM console_totp WHERE kind = $1 AND account_id = $2",
        &[kind.into(), id.into()],
    )
    .await?;
    for statement in [
        "DELETE FROM console_challenges WHERE kind = $1 AND account_id = $2",
        "DELETE FROM console_sessions WHERE kind = $1 AND account_id = $2",
    ] {
        sql::execute(store, statement, &[kind.into(), id.into()]).await?;
    }
    Ok(n > 0)
}

/// Stores a challenge: the password was right, the code is owed until `expires_ms`.
pub async fn insert_challenge(
    store: &Store,
    hash: &[u8],
    (kind, id): (&str, i64),
    expires_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO console_challenges (id_hash, kind, account_id, expires_ms) VALUES ($1, $2, \
         $3, $4)",
        &[hash.into(), kind.into(), id.into(), expires_ms.into()],
    )
    .await?;
    Ok(())
}

/// The account of a live challenge.
pub async fn challenge(
    store: &Store,
    hash: &[u8],
    now_ms: i64,
) -> StoreResult<Option<(String, i64)>> {
    sql::optional(
        store,
        "SELECT kind, account_id FROM console_challenges WHERE id_hash = $1 AND expires_ms > $2",
        &[hash.into(), now_ms.into()],
    )
    .await
}

/// Ends a challenge.
pub async fn delete_challenge(store: &Store, hash: &[u8]) -> StoreResult<()> {
    sql::execute(
        store,
        "DELETE FROM console_challenges WHERE id_hash = $1",
        &[hash.into()],
    )
    .await?;
    Ok(())
}

/// Opens a session.
pub async fn insert_session(
    store: &Store,
    hash: &[u8],
    (kind, id): (&str, i64),
    csrf: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO console_sessions (id_hash, kind, account_id, csrf, created_ms, last_ms) \
         VALUES ($1, $2, $3, $4, $5, $5)",
        &[
            hash.into(),
            kind.into(),
            id.into(),
            csrf.into(),
            now_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A live session: `(kind, account, csrf)`, touched now. `None` when unknown or past either
/// expiry (such a session is deleted).
pub async fn session(
    store: &Store,
    hash: &[u8],
    now_ms: i64,
    (idle_ms, max_ms): (i64, i64),
) -> StoreResult<Option<(String, i64, String)>> {
    let row: Option<(String, i64, String, i64, i64)> = sql::optional(
        store,
        "SELECT kind, account_id, csrf, created_ms, last_ms FROM console_sessions WHERE id_hash \
         = $1",
        &[hash.into()],
    )
    .await?;
    let Some((kind, id, csrf, created, last)) = row else {
        return Ok(None);
    };
    match secrets::freshness(now_ms, (created, last), (idle_ms, max_ms)) {
        Freshness::Expired => {
            delete_session(store, hash).await?;
            return Ok(None);
        }
        Freshness::Touch => {
            sql::execute(
                store,
                "UPDATE console_sessions SET last_ms = $1 WHERE id_hash = $2",
                &[now_ms.into(), hash.into()],
            )
            .await?;
        }
        Freshness::Fresh => {}
    }
    Ok(Some((kind, id, csrf)))
}

/// Ends a session.
pub async fn delete_session(store: &Store, hash: &[u8]) -> StoreResult<()> {
    sql::execute(
        store,
        "DELETE FROM console_sessions WHERE id_hash = $1",
        &[hash.into()],
    )
    .await?;
    Ok(())
}

/// Deletes expired challenges and sessions past either expiry; returns how many.
pub async fn purge(store: &Store, now_ms: i64, (idle_ms, max_ms): (i64, i64)) -> StoreResult<u64> {
    let challenges = sql::execute(
        store,
        "DELETE FROM console_challenges WHERE expires_ms <= $1",
        &[now_ms.into()],
    )
    .await?;
    let sessions = sql::execute(
        store,
        "DELETE FROM console_sessions WHERE last_ms < $1 OR created_ms < $2",
        &[
            now_ms.saturating_sub(idle_ms).into(),
            now_ms.saturating_sub(max_ms).into(),
        ],
    )
    .await?;
    Ok(challenges + sessions)
}

/// An admin account for the console: `(name, tenant, whether the tenant is disabled)`.
pub async fn admin_account(store: &Store, id: i64) -> StoreResult<Option<(String, i64, bool)>> {
    sql::optional(
        store,
        "SELECT a.name, a.tenant_id, t.disabled FROM admins a JOIN tenants t ON t.id = \
         a.tenant_id WHERE a.id = $1",
        &[id.into()],
    )
    .await
}
