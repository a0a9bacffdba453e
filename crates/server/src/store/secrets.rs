//! Every hashed, short-lived secret in one place: API access tokens, SSO tickets (single-use),
//! web-mailbox sessions (idle and absolute expiry) and login challenges (between a right
//! password and the second factor). Each is stored only as the SHA-256 hash of what the client
//! holds, so a leaked database holds nothing usable; each expires; housekeeping purges the dead.

use super::sql::{self, Arg};
use super::{Store, StoreResult};

// ---- access tokens ---------------------------------------------------------------------------

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
    /// Whether the tenant is marked as a sandbox (then its sandbox is read; other calls never
    /// look).
    pub sandboxed: bool,
}

/// Stores a new token's hash.
pub async fn insert_token(
    store: &Store,
    hash: &[u8],
    (tenant_id, admin_id): (i64, i64),
    now_ms: i64,
    expires_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO access_tokens (token_hash, tenant_id, admin_id, created_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            hash.into(),
            tenant_id.into(),
            admin_id.into(),
            now_ms.into(),
            expires_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The grant behind a token hash, expired or not (the caller compares `expires_ms`).
/// Served from the grants cache while nothing it depends on changed (see [`super::auth_cache`]).
pub async fn token(store: &Store, hash: &[u8]) -> StoreResult<Option<TokenGrant>> {
    let cache = store.auth_cache();
    let args = [hash.into()];
    let read = || {
        sql::optional(
            store,
            "SELECT t.tenant_id, t.admin_id, a.name AS admin_name, t.expires_ms, \
             n.openapi_enabled AND NOT n.disabled AS openapi_enabled, n.ip_allow, \
             EXISTS (SELECT 1 FROM sandboxes s WHERE s.tenant_id = t.tenant_id) AS sandboxed \
             FROM access_tokens t JOIN admins a ON a.id = t.admin_id \
             JOIN tenants n ON n.id = t.tenant_id WHERE t.token_hash = $1",
            &args,
        )
    };
    cache.read_through(&cache.tokens, hash, read).await
}

// ---- SSO tickets -----------------------------------------------------------------------------

/// Stores a new ticket for a member; `kind` is the URL form it opens (`bizauth`, `openapi`).
pub async fn insert_ticket(
    store: &Store,
    (hash, kind): (&[u8], &str),
    (tenant_id, member_id): (i64, i64),
    expires_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO sso_tickets (ticket_hash, tenant_id, member_id, expires_ms, kind) VALUES ($1, \
         $2, $3, $4, $5)",
        &[
            hash.into(),
            tenant_id.into(),
            member_id.into(),
            expires_ms.into(),
            kind.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Burns an unused, unexpired ticket of `kind` and returns `(tenant, member)`; `None` when it is
/// unknown, used, expired or of the other kind. One statement, so two logins racing with one
/// ticket cannot both win. A ticket presented in the wrong form is burned all the same.
pub async fn burn_ticket(
    store: &Store,
    (hash, kind): (&[u8], &str),
    now_ms: i64,
) -> StoreResult<Option<(i64, i64)>> {
    let burned: Option<(i64, i64, String)> = sql::optional(
        store,
        "UPDATE sso_tickets SET used = TRUE WHERE ticket_hash = $1 AND used = FALSE AND \
         expires_ms > $2 + COALESCE((SELECT clock_offset_ms FROM sandboxes s WHERE \
         s.tenant_id = sso_tickets.tenant_id), 0) RETURNING tenant_id, member_id, kind",
        &[hash.into(), now_ms.into()],
    )
    .await?;
    Ok(burned
        .filter(|(_, _, k)| k == kind)
        .map(|(tenant, member, _)| (tenant, member)))
}

// ---- web sessions ----------------------------------------------------------------------------

/// Opens a session.
pub async fn insert_session(
    store: &Store,
    hash: &[u8],
    (tenant_id, member_id): (i64, i64),
    csrf: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO web_sessions (id_hash, tenant_id, member_id, csrf, created_ms, last_ms) \
         VALUES ($1, $2, $3, $4, $5, $5)",
        &[
            hash.into(),
            tenant_id.into(),
            member_id.into(),
            csrf.into(),
            now_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

/// What a session's times say at `now_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Freshness {
    /// Past its idle or absolute expiry: delete it.
    Expired,
    /// Alive, and its last use should be written down.
    Touch,
    /// Alive, touched recently enough.
    Fresh,
}

/// Whether a session created at `created` and last touched at `last` is alive, and whether to
/// touch it. Touching is a write; a session in use needs it only now and then (every tenth of
/// the idle time, at most a minute apart), not on every page, or every click would queue on
/// SQLite's single writer. The idle expiry is that much less exact.
pub(super) fn freshness(
    now_ms: i64,
    (created, last): (i64, i64),
    (idle_ms, max_ms): (i64, i64),
) -> Freshness {
    if now_ms - last > idle_ms || now_ms - created > max_ms {
        Freshness::Expired
    } else if now_ms - last >= (idle_ms / 10).min(60_000) {
        Freshness::Touch
    } else {
        Freshness::Fresh
    }
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
    let row: Option<(i64, i64, String, i64, i64)> = sql::optional(
        store,
        "SELECT s.tenant_id, s.member_id, s.csrf, s.created_ms, s.last_ms FROM web_sessions s \
         JOIN tenants t ON t.id = s.tenant_id WHERE s.id_hash = $1 AND NOT t.disabled",
        &[hash.into()],
    )
    .await?;
    let Some((tenant, member, csrf, created, last)) = row else {
        return Ok(None);
    };
    match freshness(now_ms, (created, last), (idle_ms, max_ms)) {
        Freshness::Expired => {
            delete_session(store, hash).await?;
            return Ok(None);
        }
        Freshness::Touch => {
            sql::execute(
                store,
                "UPDATE web_sessions SET last_ms = $1 WHERE id_hash = $2",
                &[now_ms.into(), hash.into()],
            )
            .await?;
        }
        Freshness::Fresh => {}
    }
    Ok(Some((tenant, member, csrf)))
}

/// Ends a session.
pub async fn delete_session(store: &Store, hash: &[u8]) -> StoreResult<()> {
    sql::execute(
        store,
        "DELETE FROM web_sessions WHERE id_hash = $1",
        &[hash.into()],
    )
    .await?;
    Ok(())
}

// ---- login challenges ------------------------------------------------------------------------

/// Stores a challenge: the password was right, the second factor is still owed.
pub async fn insert_challenge(
    store: &Store,
    hash: &[u8],
    (tenant_id, member_id): (i64, i64),
    expires_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO login_challenges (id_hash, tenant_id, member_id, expires_ms) VALUES ($1, $2, \
         $3, $4)",
        &[
            hash.into(),
            tenant_id.into(),
            member_id.into(),
            expires_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The live challenge behind an id: `(tenant, member)`; `None` when unknown or expired.
pub async fn challenge(store: &Store, hash: &[u8], now_ms: i64) -> StoreResult<Option<(i64, i64)>> {
    sql::optional(
        store,
        "SELECT tenant_id, member_id FROM login_challenges WHERE id_hash = $1 AND expires_ms > $2",
        &[hash.into(), now_ms.into()],
    )
    .await
}

/// Ends a challenge (answered).
pub async fn delete_challenge(store: &Store, hash: &[u8]) -> StoreResult<()> {
    sql::execute(
        store,
        "DELETE FROM login_challenges WHERE id_hash = $1",
        &[hash.into()],
    )
    .await?;
    Ok(())
}

/// Ends every challenge of a member (its enrolment was reset).
pub async fn delete_member_challenges(store: &Store, member_id: i64) -> StoreResult<()> {
    sql::execute(
        store,
        "DELETE FROM login_challenges WHERE member_id = $1",
        &[member_id.into()],
    )
    .await?;
    Ok(())
}

// ---- logins waiting for one more step -------------------------------------------------------

/// Holds a login that waits for one more step (`kind`: `sso` owes the member's password, `password`
/// owes a new password).
pub async fn insert_pending(
    store: &Store,
    kind: &str,
    hash: &[u8],
    (tenant_id, member_id): (i64, i64),
    expires_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO pending_logins (id_hash, kind, tenant_id, member_id, expires_ms) VALUES ($1, \
         $2, $3, $4, $5)",
        &[
            hash.into(),
            kind.into(),
            tenant_id.into(),
            member_id.into(),
            expires_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The live pending login of `kind` behind an id: `(tenant, member)`.
pub async fn pending(
    store: &Store,
    kind: &str,
    hash: &[u8],
    now_ms: i64,
) -> StoreResult<Option<(i64, i64)>> {
    sql::optional(
        store,
        "SELECT tenant_id, member_id FROM pending_logins WHERE id_hash = $1 AND kind = $2 AND \
         expires_ms > $3",
        &[hash.into(), kind.into(), now_ms.into()],
    )
    .await
}

/// Takes a live pending login of `kind` (one statement: of two requests racing with one id, only
/// one gets it): `(tenant, member)`.
pub async fn take_pending(
    store: &Store,
    kind: &str,
    hash: &[u8],
    now_ms: i64,
) -> StoreResult<Option<(i64, i64)>> {
    sql::optional(
        store,
        "DELETE FROM pending_logins WHERE id_hash = $1 AND kind = $2 AND expires_ms > $3 \
         RETURNING tenant_id, member_id",
        &[hash.into(), kind.into(), now_ms.into()],
    )
    .await
}

// ---- housekeeping ----------------------------------------------------------------------------

/// How long sessions live, for [`purge`].
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Idle expiry, in milliseconds.
    pub idle_ms: i64,
    /// Absolute expiry, in milliseconds.
    pub max_ms: i64,
}

/// Deletes every secret that can never be used again as of `now_ms`: expired tokens, used or
/// expired tickets, sessions past either expiry, expired challenges. Returns how many.
pub async fn purge(store: &Store, now_ms: i64, sessions: SessionLimits) -> StoreResult<u64> {
    let statements: [(&'static str, Vec<Arg<'_>>); 5] = [
        (
            "DELETE FROM access_tokens WHERE expires_ms < $1",
            vec![now_ms.into()],
        ),
        (
            "DELETE FROM sso_tickets WHERE used = TRUE OR expires_ms <= $1",
            vec![now_ms.into()],
        ),
        (
            "DELETE FROM web_sessions WHERE last_ms < $1 OR created_ms < $2",
            vec![
                now_ms.saturating_sub(sessions.idle_ms).into(),
                now_ms.saturating_sub(sessions.max_ms).into(),
            ],
        ),
        (
            "DELETE FROM login_challenges WHERE expires_ms <= $1",
            vec![now_ms.into()],
        ),
        (
            "DELETE FROM pending_logins WHERE expires_ms <= $1",
            vec![now_ms.into()],
        ),
    ];
    let mut purged = 0;
    for (statement, args) in statements {
        purged += sql::execute(store, statement, &args).await?;
    }
    Ok(purged)
}
