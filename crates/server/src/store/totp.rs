//! Members' TOTP enrolments (the forced second factor of password logins): the sealed secret,
//! whether a code confirmed it, and the last time step accepted. The challenges waiting on a code
//! are secrets like tokens and live in `secrets`.

use super::{Store, StoreResult, secrets, sql};

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
    sql::optional(
        store,
        "SELECT secret_sealed, confirmed FROM member_totp WHERE member_id = $1",
        &[member_id.into()],
    )
    .await
}

/// Starts an enrolment with `sealed`, unless one exists (then nothing changes: two tabs racing
/// to enrol show the same secret after a reload).
pub async fn start_totp(store: &Store, member_id: i64, sealed: &[u8]) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO member_totp (member_id, secret_sealed) VALUES ($1, $2) ON CONFLICT \
         (member_id) DO NOTHING",
        &[member_id.into(), sealed.into()],
    )
    .await?;
    Ok(())
}

/// Accepts a code of time step `step`: confirms the enrolment and records the step. False when a
/// code of this step or a later one was already accepted (a replayed code). One statement, so two
/// logins racing with one code cannot both win.
pub async fn accept_step(store: &Store, member_id: i64, step: i64) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE member_totp SET confirmed = TRUE, last_step = $2 WHERE member_id = $1 AND \
         last_step < $2",
        &[member_id.into(), step.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Forgets a member's enrolment (a lost authenticator), and the challenges waiting on it; true
/// when there was one. The next password login enrols afresh.
pub async fn delete_totp(store: &Store, member_id: i64) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "DELETE FROM member_totp WHERE member_id = $1",
        &[member_id.into()],
    )
    .await?;
    secrets::delete_member_challenges(store, member_id).await?;
    Ok(n > 0)
}
