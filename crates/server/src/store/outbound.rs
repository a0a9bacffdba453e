//! The outbound queue's tables (`outbound_messages`, `outbound`), the DKIM keys (`dkim_keys`) and
//! the per-member submission log (`submissions`, for the hourly sending limit).

use super::{Conn, Store, StoreResult, sql};

/// A row's state: waiting (or being tried).
pub const QUEUED: &str = "queued";
/// Delivered to the remote server (it answered 250).
pub const SENT: &str = "sent";
/// Refused for good, or given up after the retry period.
pub const FAILED: &str = "failed";

/// One recipient of a queued message, as a delivery attempt needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    /// The row.
    pub id: i64,
    /// The message's bytes are in `outbound_messages` under this id.
    pub message_id: i64,
    /// MAIL FROM.
    pub sender: String,
    /// RCPT TO.
    pub recipient: String,
    /// The recipient's domain (where to look up the MX).
    pub domain: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the message was queued (Unix ms).
    pub created_ms: i64,
}

/// A row as `bizmail queue list` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    /// The row.
    pub id: i64,
    /// MAIL FROM.
    pub sender: String,
    /// RCPT TO.
    pub recipient: String,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due (Unix ms).
    pub next_ms: i64,
    /// The last attempt's error, empty before any.
    pub last_error: String,
    /// When it was queued (Unix ms).
    pub created_ms: i64,
}

/// Queues one message for its remote recipients (`(address, domain)` each), in the caller's
/// transaction: it is queued exactly when the submission's `250` may be sent.
pub async fn enqueue(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    member_id: i64,
    sender: &str,
    raw: &[u8],
    recipients: &[(String, String)],
    now: i64,
) -> StoreResult<i64> {
    let message_id: i64 = sql::value_in(
        conn,
        "INSERT INTO outbound_messages (tenant_id, member_id, sender, raw, created_ms) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[
            tenant_id.into(),
            member_id.into(),
            sender.into(),
            raw.into(),
            now.into(),
        ],
    )
    .await?;
    for (rcpt, domain) in recipients {
        sql::execute_in(
            conn,
            "INSERT INTO outbound (message_id, tenant_id, recipient, domain, next_ms, created_ms, \
             updated_ms) VALUES ($1, $2, $3, $4, $5, $5, $5)",
            &[
                message_id.into(),
                tenant_id.into(),
                rcpt.into(),
                domain.into(),
                now.into(),
            ],
        )
        .await?;
    }
    Ok(message_id)
}

/// Takes up to `limit` due rows for this node until `lease_until`: each is taken by a
/// compare-and-set on its lease, so two nodes never take one row at once.
pub async fn claim(store: &Store, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<Due>> {
    let candidates: Vec<Due> = sql::all(
        store,
        "SELECT o.id, o.message_id, m.sender, o.recipient, o.domain, \
         o.attempts, o.created_ms FROM outbound o JOIN outbound_messages m ON m.id = o.message_id \
         WHERE o.state = 'queued' AND o.next_ms <= $1 AND o.lease_ms <= $1 \
         ORDER BY o.next_ms, o.id LIMIT $2",
        &[now.into(), limit.into()],
    )
    .await?;
    let mut taken = Vec::with_capacity(candidates.len());
    for due in candidates {
        let n = sql::execute(
            store,
            "UPDATE outbound SET lease_ms = $1 WHERE id = $2 AND state = 'queued' AND lease_ms <= $3",
            &[lease_until.into(), due.id.into(), now.into()],
        )
        .await?;
        if n == 1 {
            taken.push(due);
        }
    }
    Ok(taken)
}

/// The bytes of a queued message.
pub async fn raw(store: &Store, message_id: i64) -> StoreResult<Option<Vec<u8>>> {
    sql::scalar(
        store,
        "SELECT raw FROM outbound_messages WHERE id = $1",
        &[message_id.into()],
    )
    .await
}

/// Records an attempt's outcome on a row this node holds (`lease` is the lease it took): the new
/// state, the error, and when to try again. False when the lease was lost (the row was dropped).
pub async fn finish(
    store: &Store,
    id: i64,
    lease: i64,
    state: &str,
    error: &str,
    next_ms: i64,
    now: i64,
) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE outbound SET state = $1, last_error = $2, next_ms = $3, attempts = attempts + 1, \
         lease_ms = 0, updated_ms = $4 WHERE id = $5 AND lease_ms = $6",
        &[
            state.into(),
            error.into(),
            next_ms.into(),
            now.into(),
            id.into(),
            lease.into(),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// The queue's rows, newest first; only those in `state` when given.
pub async fn list(store: &Store, state: Option<&str>, limit: i64) -> StoreResult<Vec<Listed>> {
    sql::all(
        store,
        "SELECT o.id, m.sender, o.recipient, o.state, o.attempts, o.next_ms, o.last_error, \
         o.created_ms FROM outbound o JOIN outbound_messages m ON m.id = o.message_id \
         WHERE ($1 = '' OR o.state = $1) ORDER BY o.id DESC LIMIT $2",
        &[state.unwrap_or("").into(), limit.into()],
    )
    .await
}

/// Makes rows not yet sent due now (a failed row is queued again); `id` 0: all of them.
/// Returns how many.
pub async fn retry(store: &Store, id: i64, now: i64) -> StoreResult<u64> {
    sql::execute(
        store,
        "UPDATE outbound SET state = 'queued', next_ms = $1, updated_ms = $1 \
         WHERE state <> 'sent' AND ($2 = 0 OR id = $2)",
        &[now.into(), id.into()],
    )
    .await
}

/// Removes one row (a message with no rows left goes with it). False when there was none.
pub async fn drop_row(store: &Store, id: i64) -> StoreResult<bool> {
    let n = sql::execute(store, "DELETE FROM outbound WHERE id = $1", &[id.into()]).await?;
    orphans(store).await?;
    Ok(n == 1)
}

/// Deletes sent and failed rows last changed before `before`, messages left without rows, and
/// submission records older than `submissions_before`.
pub async fn prune(store: &Store, before: i64, submissions_before: i64) -> StoreResult<u64> {
    let n = sql::execute(
        store,
        "DELETE FROM outbound WHERE state <> 'queued' AND updated_ms < $1",
        &[before.into()],
    )
    .await?;
    orphans(store).await?;
    sql::execute(
        store,
        "DELETE FROM submissions WHERE at_ms < $1",
        &[submissions_before.into()],
    )
    .await?;
    Ok(n)
}

async fn orphans(store: &Store) -> StoreResult<u64> {
    sql::execute(
        store,
        "DELETE FROM outbound_messages WHERE NOT EXISTS \
         (SELECT o.id FROM outbound o WHERE o.message_id = outbound_messages.id)",
        &[],
    )
    .await
}

/// How many messages a member submitted since `since` (Unix ms).
pub async fn submitted_since(conn: &mut Conn<'_>, member_id: i64, since: i64) -> StoreResult<i64> {
    sql::value_in(
        conn,
        "SELECT COUNT(*) FROM submissions WHERE member_id = $1 AND at_ms >= $2",
        &[member_id.into(), since.into()],
    )
    .await
}

/// Counts one submitted message against the member's hourly limit.
pub async fn record_submission(conn: &mut Conn<'_>, member_id: i64, now: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO submissions (member_id, at_ms) VALUES ($1, $2)",
        &[member_id.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// A DKIM key as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DkimRow {
    /// The tenant owning the domain.
    pub tenant_id: i64,
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    /// `rsa-sha256` or `ed25519-sha256`.
    pub algorithm: String,
    /// The private key (DER, base64), sealed with the vault.
    pub sealed_key: Vec<u8>,
    /// The public key, base64, as published in DNS.
    pub public_key: String,
    /// Whether it signs new mail.
    pub active: bool,
    /// When it was made (Unix ms).
    pub created_ms: i64,
}

/// Adds a key for `domain` and makes it the one that signs; the domain's other keys stay,
/// inactive. False when the selector is taken.
pub async fn add_dkim(store: &Store, key: &DkimRow) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let conn = &mut tx.conn();
    sql::execute_in(
        conn,
        "UPDATE dkim_keys SET active = FALSE WHERE domain = $1",
        &[key.domain.as_str().into()],
    )
    .await?;
    let inserted = sql::execute_in(
        conn,
        "INSERT INTO dkim_keys (tenant_id, domain, selector, algorithm, sealed_key, public_key, \
         active, created_ms) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) \
         ON CONFLICT (domain, selector) DO NOTHING",
        &[
            key.tenant_id.into(),
            key.domain.as_str().into(),
            key.selector.as_str().into(),
            key.algorithm.as_str().into(),
            key.sealed_key.as_slice().into(),
            key.public_key.as_str().into(),
            key.created_ms.into(),
        ],
    )
    .await?;
    if inserted == 0 {
        // Dropping the transaction rolls the deactivation back.
        return Ok(false);
    }
    tx.commit().await?.no_events();
    Ok(true)
}

/// The key that signs mail from `domain`, if any.
pub async fn active_dkim(store: &Store, domain: &str) -> StoreResult<Option<DkimRow>> {
    sql::optional(
        store,
        "SELECT tenant_id, domain, selector, algorithm, sealed_key, public_key, active, created_ms \
         FROM dkim_keys WHERE domain = $1 AND active",
        &[domain.into()],
    )
    .await
}

/// A tenant's keys, by domain, newest first.
pub async fn dkim_keys(store: &Store, tenant_id: i64) -> StoreResult<Vec<DkimRow>> {
    sql::all(
        store,
        "SELECT tenant_id, domain, selector, algorithm, sealed_key, public_key, active, created_ms \
         FROM dkim_keys WHERE tenant_id = $1 ORDER BY domain, created_ms DESC",
        &[tenant_id.into()],
    )
    .await
}

/// Removes a tenant's key; false when there was none.
pub async fn remove_dkim(
    store: &Store,
    tenant_id: i64,
    domain: &str,
    selector: &str,
) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "DELETE FROM dkim_keys WHERE tenant_id = $1 AND domain = $2 AND selector = $3",
        &[tenant_id.into(), domain.into(), selector.into()],
    )
    .await?;
    Ok(n == 1)
}
