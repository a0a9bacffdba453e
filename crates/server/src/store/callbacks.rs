//! The new-mail callbacks' tables (`callbacks`, `callback_outbox`; EXMAIL_API.md §4.7): each
//! tenant's receiver settings, the copy of notices from the event log into the outbox (the
//! tenant's cursor moved by compare-and-set, so two nodes never copy one event twice), and the
//! outbox's leases and outcomes.

use super::{Store, StoreResult, sql};

/// A tenant's receiver, as a notice needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Settings {
    /// Where notices are POSTed.
    pub url: String,
    /// The Token the signatures are made with.
    pub token: String,
    /// The EncodingAESKey, sealed by the vault for this tenant.
    pub key_sealed: Vec<u8>,
}

/// A tenant with a receiver, and how far into its event log notices were copied.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Watched {
    /// The tenant.
    pub tenant_id: i64,
    /// The last event copied to the outbox (or skipped: a `ver` event, or one before the setting).
    pub event_cursor: i64,
}

/// One event of the log that may become a notice.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    /// Its id (the cursor's unit).
    pub id: i64,
    /// When it happened (Unix ms).
    pub at_ms: i64,
    /// `newmail` or `unread`.
    pub kind: String,
    /// The `listen` notice as JSON.
    pub payload: String,
}

/// An outbox row taken for an attempt, with its tenant's receiver.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    /// The row.
    pub id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// The notice's plaintext XML (fixed when the row was made, so a retry sends the same).
    pub plaintext: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// The receiver's URL.
    pub url: String,
    /// The receiver's Token.
    pub token: String,
    /// The sealed EncodingAESKey.
    pub key_sealed: Vec<u8>,
}

/// A tenant's callback as the admin sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Status {
    /// The receiver's URL.
    pub url: String,
    /// Notices the receiver took (answered 2xx).
    pub delivered: i64,
    /// Notices given up after the last retry.
    pub dropped: i64,
    /// Notices in the outbox now.
    pub pending: i64,
}

/// A tenant's receiver, if it has one.
pub async fn settings(store: &Store, tenant_id: i64) -> StoreResult<Option<Settings>> {
    sql::optional(
        store,
        "SELECT url, token, key_sealed FROM callbacks WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await
}

/// Sets a tenant's receiver. A new one starts copying after `cursor` (the head of the event log,
/// so that old notices are not sent); a replaced one keeps its cursor, counts and outbox, so
/// nothing is lost or sent twice when only the URL or the keys change.
pub async fn put(
    store: &Store,
    tenant_id: i64,
    url: &str,
    token: &str,
    key_sealed: &[u8],
    cursor: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO callbacks (tenant_id, url, token, key_sealed, event_cursor) VALUES ($1, $2, \
         $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET url = excluded.url, token = \
         excluded.token, key_sealed = excluded.key_sealed",
        &[
            tenant_id.into(),
            url.into(),
            token.into(),
            key_sealed.into(),
            cursor.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Removes a tenant's receiver and its outbox, in one transaction; true when there was one.
pub async fn delete(store: &Store, tenant_id: i64) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let conn = &mut tx.conn();
    sql::execute_in(
        conn,
        "DELETE FROM callback_outbox WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    let n = sql::execute_in(
        conn,
        "DELETE FROM callbacks WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    tx.commit().await?.no_events();
    Ok(n == 1)
}

/// The tenants with a receiver whose event log holds notices past their cursor, with the cursor.
/// One query however many tenants are idle: the worker runs it every poll.
pub async fn behind(store: &Store) -> StoreResult<Vec<Watched>> {
    sql::all(
        store,
        "SELECT c.tenant_id, c.event_cursor FROM callbacks c WHERE EXISTS (SELECT 1 FROM events e \
         WHERE e.tenant_id = c.tenant_id AND e.id > c.event_cursor AND e.kind IN ('newmail', \
         'unread')) ORDER BY c.tenant_id",
        &[],
    )
    .await
}

/// A tenant's `newmail` and `unread` events after `after`, oldest first, at most `limit`.
pub async fn events_after(
    store: &Store,
    tenant_id: i64,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<Event>> {
    sql::all(
        store,
        "SELECT id, at_ms, kind, payload FROM events WHERE tenant_id = $1 AND id > $2 AND kind IN \
         ('newmail', 'unread') ORDER BY id LIMIT $3",
        &[tenant_id.into(), after.into(), limit.into()],
    )
    .await
}

/// The most notices one tenant's outbox holds; more are dropped and counted.
pub const MAX_PENDING: i64 = 10_000;

/// Drops (and counts) every notice made before `before_ms`, whatever its retries: a notice that
/// old tells a receiver nothing useful any more.
pub async fn drop_older(store: &Store, before_ms: i64) -> StoreResult<u64> {
    let now = crate::store::now_ms();
    let mut tx = store.begin().await?;
    let conn = &mut tx.conn();
    sql::execute_in(
        conn,
        "UPDATE callbacks SET dropped = dropped + (SELECT COUNT(*) FROM callback_outbox o WHERE \
         o.tenant_id = callbacks.tenant_id AND o.created_ms < $1 AND o.lease_ms < $2) WHERE \
         tenant_id IN (SELECT tenant_id FROM callback_outbox WHERE created_ms < $1 AND lease_ms \
         < $2)",
        &[before_ms.into(), now.into()],
    )
    .await?;
    let n = sql::execute_in(
        conn,
        "DELETE FROM callback_outbox WHERE created_ms < $1 AND lease_ms < $2",
        &[before_ms.into(), now.into()],
    )
    .await?;
    tx.commit().await?.no_events();
    Ok(n)
}

/// Puts notices (`(event_id, plaintext)`) in the outbox and moves the tenant's cursor from `from`
/// to `to`, in one transaction. The cursor moves by compare-and-set: when another node moved it
/// first, nothing is written and this returns false (that node copied the same events).
pub async fn enqueue(
    store: &Store,
    tenant_id: i64,
    from: i64,
    to: i64,
    notices: &[(i64, String)],
    now: i64,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let conn = &mut tx.conn();
    // The cursor first: on PostgreSQL a second node's UPDATE waits here for the first's commit
    // and then matches no row, before it has inserted anything.
    let moved = sql::execute_in(
        conn,
        "UPDATE callbacks SET event_cursor = $1 WHERE tenant_id = $2 AND event_cursor = $3",
        &[to.into(), tenant_id.into(), from.into()],
    )
    .await?;
    if moved != 1 {
        // Dropped uncommitted: rolled back.
        return Ok(false);
    }
    // A receiver that is down must not make the outbox grow without end: past MAX_PENDING
    // waiting notices, new ones are dropped and counted.
    let pending: i64 = sql::value_in(
        conn,
        "SELECT COUNT(*) FROM callback_outbox WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await?;
    let room = usize::try_from(MAX_PENDING.saturating_sub(pending)).unwrap_or(0);
    let over = notices.len().saturating_sub(room);
    if over > 0 {
        sql::execute_in(
            conn,
            "UPDATE callbacks SET dropped = dropped + $1 WHERE tenant_id = $2",
            &[
                i64::try_from(over).unwrap_or(i64::MAX).into(),
                tenant_id.into(),
            ],
        )
        .await?;
    }
    for (event_id, plaintext) in notices.iter().take(room) {
        sql::execute_in(
            conn,
            "INSERT INTO callback_outbox (tenant_id, event_id, plaintext, next_ms, created_ms) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (tenant_id, event_id) DO NOTHING",
            &[
                tenant_id.into(),
                event_id.into(),
                plaintext.into(),
                now.into(),
            ],
        )
        .await?;
    }
    tx.commit().await?.no_events();
    Ok(true)
}

/// Takes due rows with a lease until `lease_until`: per tenant only its oldest due row, and only
/// when none of the tenant's rows is held right now, so a tenant's notices go out one at a time
/// and in order. A row is taken by compare-and-set, so of several nodes one wins. (On PostgreSQL
/// two nodes taking two different rows of one tenant in the same instant could both pass the
/// "none held" test; the rows are then sent side by side, each still once.)
pub async fn claim(store: &Store, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<Due>> {
    let candidates: Vec<Due> = sql::all(
        store,
        "SELECT o.id, o.tenant_id, o.plaintext, o.attempts, c.url, c.token, c.key_sealed \
         FROM callback_outbox o JOIN callbacks c ON c.tenant_id = o.tenant_id \
         WHERE o.lease_ms <= $1 \
         AND o.id = (SELECT MIN(d.id) FROM callback_outbox d WHERE d.tenant_id = o.tenant_id \
         AND d.next_ms <= $1) \
         AND NOT EXISTS (SELECT 1 FROM callback_outbox h WHERE h.tenant_id = o.tenant_id \
         AND h.lease_ms > $1) \
         ORDER BY o.id LIMIT $2",
        &[now.into(), limit.into()],
    )
    .await?;
    let mut taken = Vec::with_capacity(candidates.len());
    for due in candidates {
        let n = sql::execute(
            store,
            "UPDATE callback_outbox SET lease_ms = $1 WHERE id = $2 AND lease_ms <= $3 \
             AND NOT EXISTS (SELECT 1 FROM callback_outbox h WHERE h.tenant_id = $4 \
             AND h.lease_ms > $3)",
            &[
                lease_until.into(),
                due.id.into(),
                now.into(),
                due.tenant_id.into(),
            ],
        )
        .await?;
        if n == 1 {
            taken.push(due);
        }
    }
    Ok(taken)
}

/// Removes a row this node holds (`lease` is the lease it took) and counts it in the tenant's
/// `column` (`delivered` or `dropped`), in one transaction. False when the lease was lost (the
/// callback was removed, or the row taken over), and then nothing is counted.
async fn finish(
    store: &Store,
    id: i64,
    tenant_id: i64,
    lease: i64,
    delivered: bool,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let conn = &mut tx.conn();
    let n = sql::execute_in(
        conn,
        "DELETE FROM callback_outbox WHERE id = $1 AND lease_ms = $2",
        &[id.into(), lease.into()],
    )
    .await?;
    if n != 1 {
        return Ok(false);
    }
    let count = if delivered {
        "UPDATE callbacks SET delivered = delivered + 1 WHERE tenant_id = $1"
    } else {
        "UPDATE callbacks SET dropped = dropped + 1 WHERE tenant_id = $1"
    };
    sql::execute_in(conn, count, &[tenant_id.into()]).await?;
    tx.commit().await?.no_events();
    Ok(true)
}

/// The receiver took the notice: the row goes, the tenant's `delivered` count grows.
pub async fn delivered(store: &Store, id: i64, tenant_id: i64, lease: i64) -> StoreResult<bool> {
    finish(store, id, tenant_id, lease, true).await
}

/// The last retry failed: the row goes, the tenant's `dropped` count grows.
pub async fn dropped(store: &Store, id: i64, tenant_id: i64, lease: i64) -> StoreResult<bool> {
    finish(store, id, tenant_id, lease, false).await
}

/// An attempt failed and another is due at `next_ms`: counts the attempt and frees the lease.
pub async fn reschedule(store: &Store, id: i64, lease: i64, next_ms: i64) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE callback_outbox SET attempts = attempts + 1, next_ms = $1, lease_ms = 0 \
         WHERE id = $2 AND lease_ms = $3",
        &[next_ms.into(), id.into(), lease.into()],
    )
    .await?;
    Ok(n == 1)
}

/// A tenant's receiver with its counts, if it has one.
pub async fn status(store: &Store, tenant_id: i64) -> StoreResult<Option<Status>> {
    sql::optional(
        store,
        "SELECT c.url, c.delivered, c.dropped, (SELECT COUNT(*) FROM callback_outbox o \
         WHERE o.tenant_id = c.tenant_id) AS pending FROM callbacks c WHERE c.tenant_id = $1",
        &[tenant_id.into()],
    )
    .await
}

/// A notice in a tenant's outbox, as the console shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Waiting {
    /// The notice's plaintext XML.
    pub plaintext: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (Unix ms).
    pub next_ms: i64,
    /// Until when a node holds it for an attempt (Unix ms; 0 or past: nobody).
    pub lease_ms: i64,
    /// When it was put in the outbox (Unix ms).
    pub created_ms: i64,
}

/// A tenant's waiting notices, newest first, at most `limit`.
pub async fn waiting(store: &Store, tenant_id: i64, limit: i64) -> StoreResult<Vec<Waiting>> {
    sql::all(
        store,
        "SELECT plaintext, attempts, next_ms, lease_ms, created_ms FROM callback_outbox WHERE \
         tenant_id = $1 ORDER BY id DESC LIMIT $2",
        &[tenant_id.into(), limit.into()],
    )
    .await
}

/// One delivery attempt, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attempt {
    /// When it ended (Unix ms).
    pub at_ms: i64,
    /// The notice's `MsgType`.
    pub kind: String,
    /// The member it was about.
    pub member: String,
    /// `delivered`, `retry` or `dropped`.
    pub outcome: String,
    /// Why it failed; empty when delivered.
    pub detail: String,
}

/// Writes an attempt to a tenant's delivery log.
pub async fn record_attempt(store: &Store, tenant_id: i64, a: &Attempt) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO callback_attempts (tenant_id, at_ms, kind, member, outcome, detail) VALUES \
         ($1, $2, $3, $4, $5, $6)",
        &[
            tenant_id.into(),
            a.at_ms.into(),
            a.kind.as_str().into(),
            a.member.as_str().into(),
            a.outcome.as_str().into(),
            a.detail.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

/// A tenant's newest attempts, newest first, at most `limit`.
pub async fn attempts(store: &Store, tenant_id: i64, limit: i64) -> StoreResult<Vec<Attempt>> {
    sql::all(
        store,
        "SELECT at_ms, kind, member, outcome, detail FROM callback_attempts WHERE tenant_id = $1 \
         ORDER BY id DESC LIMIT $2",
        &[tenant_id.into(), limit.into()],
    )
    .await
}

/// Deletes attempts older than `before_ms` (retention); returns how many.
pub async fn prune_attempts(store: &Store, before_ms: i64) -> StoreResult<u64> {
    sql::execute(
        store,
        "DELETE FROM callback_attempts WHERE at_ms < $1",
        &[before_ms.into()],
    )
    .await
}
