//! The event log of `openapi/listen`, all of it: appending notices (inside the transaction that
//! causes them), listen cursors, reading past a cursor, and pruning.

use super::sql;
use super::{Conn, Store, StoreResult, Tx};
use std::time::Duration;

/// The first wait after a failed `LISTEN`; it doubles with each failure in a row.
const RETRY_MIN: Duration = Duration::from_millis(500);
/// The longest wait between two `LISTEN` attempts.
const RETRY_MAX: Duration = Duration::from_secs(30);

/// A client's place in its tenant's event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Cursor {
    /// The last event handed to (or skipped for) this client.
    pub event_id: i64,
    /// When the client last polled.
    pub seen_ms: i64,
}

/// The cursor of a token, if it ever listened.
pub async fn cursor(store: &Store, token_hash: &[u8]) -> StoreResult<Option<Cursor>> {
    sql::optional(
        store,
        "SELECT event_id, seen_ms FROM listen_cursors WHERE token_hash = $1",
        &[token_hash.into()],
    )
    .await
}

/// Creates a token's cursor at `event_id` (the head: a new client has no backlog); an existing one
/// is left as it is.
pub async fn create_cursor(
    store: &Store,
    token_hash: &[u8],
    tenant_id: i64,
    event_id: i64,
    now_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO listen_cursors (token_hash, tenant_id, event_id, seen_ms) VALUES ($1, $2, \
         $3, $4) ON CONFLICT (token_hash) DO NOTHING",
        &[
            token_hash.into(),
            tenant_id.into(),
            event_id.into(),
            now_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Moves a cursor from `from` to `to` if it is still at `from` (compare-and-set); true when this
/// caller moved it. Also records the poll time.
pub async fn advance(
    store: &Store,
    token_hash: &[u8],
    from: i64,
    to: i64,
    now_ms: i64,
) -> StoreResult<bool> {
    let n = sql::execute(
        store,
        "UPDATE listen_cursors SET event_id = $1, seen_ms = $2 WHERE token_hash = $3 AND event_id \
         = $4",
        &[to.into(), now_ms.into(), token_hash.into(), from.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Moves many cursors at once, each from its `from` to its `to` if it is still at `from` (the
/// compare-and-set of [`advance`], in one statement per [`CLAIMS`] cursors); returns the hashes
/// of the tokens whose cursor moved. The tokens must be distinct. The polls one mail wakes claim
/// their notices through this (`push::claims`): a thousand claims, a few statements.
pub async fn advance_many(
    store: &Store,
    claims: &[(Vec<u8>, i64, i64)],
    now_ms: i64,
) -> StoreResult<Vec<Vec<u8>>> {
    let mut moved = Vec::with_capacity(claims.len());
    // One transaction for the batch: on SQLite it takes the writer slot (and shares a commit).
    let mut tx = store.begin().await?;
    for chunk in claims.chunks(CLAIMS) {
        // Padded to a power of two with rows that match no cursor (no token hashes to nothing):
        // nine statements to prepare and keep rather than one per batch size.
        let rows = chunk.len().next_power_of_two();
        let mut args: Vec<sql::Arg<'_>> = Vec::with_capacity(1 + rows * 3);
        args.push(now_ms.into());
        for (hash, from, to) in chunk {
            let row: [sql::Arg<'_>; 3] = [hash.as_slice().into(), (*from).into(), (*to).into()];
            args.extend(row);
        }
        for _ in chunk.len()..rows {
            let none: [sql::Arg<'_>; 3] = [(&[][..]).into(), (-1_i64).into(), (-1_i64).into()];
            args.extend(none);
        }
        let mut conn = tx.conn();
        let statement = match conn {
            Conn::Sqlite(_) => &CLAIMS_SQLITE,
            Conn::Postgres(_) => &CLAIMS_PG,
        };
        let found = sql::all_in::<(Vec<u8>,)>(
            &mut conn,
            statement[rows.trailing_zeros() as usize].as_str(),
            &args,
        )
        .await?;
        moved.extend(found.into_iter().map(|(h,)| h));
    }
    tx.commit().await?.no_events();
    Ok(moved)
}

/// Cursors per statement of [`advance_many`] (a power of two): well inside both backends' limits
/// on parameters.
pub const CLAIMS: usize = 256;

/// `UPDATE listen_cursors … FROM (VALUES (hash, from, to), …)` for 1, 2, 4 … [`CLAIMS`] cursors,
/// built once. `VALUES` names its columns `column1`… on both backends; SQLite's placeholders are
/// anonymous for the reason `oplog` gives.
static CLAIMS_PG: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| claims_statements(|n| format!("${n}")));
/// The same for SQLite.
static CLAIMS_SQLITE: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| claims_statements(|_| "?".to_owned()));

fn claims_statements(placeholder: fn(usize) -> String) -> Vec<String> {
    std::iter::successors(Some(1), |n| (*n < CLAIMS).then_some(n * 2))
        .map(|n| {
            let rows: Vec<String> = (0..n)
                .map(|i| {
                    let p: Vec<String> = (2..=4).map(|c| placeholder(i * 3 + c)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            format!(
                "UPDATE listen_cursors SET event_id = v.column3, seen_ms = {} FROM (VALUES {}) AS \
                 v WHERE listen_cursors.token_hash = v.column1 AND listen_cursors.event_id = \
                 v.column2 RETURNING token_hash",
                placeholder(1),
                rows.join(", ")
            )
        })
        .collect()
}

/// Records that the client polled now.
pub async fn touch(store: &Store, token_hash: &[u8], now_ms: i64) -> StoreResult<()> {
    sql::execute(
        store,
        "UPDATE listen_cursors SET seen_ms = $1 WHERE token_hash = $2",
        &[now_ms.into(), token_hash.into()],
    )
    .await?;
    Ok(())
}

/// What a held poll looks at when woken, in one round trip (a thousand polls woken by one mail
/// each ask): the tenant's directory version, the token's cursor, and the oldest notice past it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Look {
    /// The tenant's directory version.
    pub version: i64,
    /// The token's cursor (0 when it has none).
    pub cursor: i64,
    /// The oldest notice after the cursor: its id…
    pub event_id: Option<i64>,
    /// …and its payload.
    pub payload: Option<String>,
}

/// See [`Look`]; `None` when the tenant does not exist.
pub async fn look(store: &Store, tenant_id: i64, token_hash: &[u8]) -> StoreResult<Option<Look>> {
    sql::optional(
        store,
        "SELECT n.dir_version AS version, COALESCE(c.event_id, 0) AS cursor, e.id AS event_id, \
         e.payload FROM tenants n LEFT JOIN listen_cursors c ON c.token_hash = $2 LEFT JOIN \
         events e ON e.id = (SELECT x.id FROM events x WHERE x.tenant_id = $1 AND x.id > \
         COALESCE(c.event_id, 0) AND x.kind <> 'ver' ORDER BY x.id LIMIT 1) WHERE n.id = $1",
        &[tenant_id.into(), token_hash.into()],
    )
    .await
}

/// The tenant's directory version and up to `limit` notices after event `after`, oldest first:
/// what the polls woken by one commit share (`push::shared`). `None` when the tenant does not
/// exist.
pub async fn notices_after(
    store: &Store,
    tenant_id: i64,
    after: i64,
    limit: i64,
) -> StoreResult<Option<(i64, Vec<(i64, String)>)>> {
    let mut c = store.acquire().await?;
    let Some(version) = sql::optional_in::<(i64,)>(
        &mut c.conn(),
        "SELECT dir_version FROM tenants WHERE id = $1",
        &[tenant_id.into()],
    )
    .await?
    else {
        return Ok(None);
    };
    let notices = sql::all_in::<(i64, String)>(
        &mut c.conn(),
        "SELECT id, payload FROM events WHERE tenant_id = $1 AND id > $2 AND kind <> 'ver' \
         ORDER BY id LIMIT $3",
        &[tenant_id.into(), after.into(), limit.into()],
    )
    .await?;
    Ok(Some((version.0, notices)))
}

/// Deletes events older than `before_ms` (retention) and the cursors of tokens that no longer
/// exist (expired and purged, or revoked by a key rotation).
pub async fn prune(store: &Store, before_ms: i64) -> StoreResult<u64> {
    let n = sql::execute(
        store,
        "DELETE FROM events WHERE at_ms < $1",
        &[before_ms.into()],
    )
    .await?;
    sql::execute(
        store,
        "DELETE FROM listen_cursors WHERE token_hash NOT IN (SELECT token_hash FROM access_tokens)",
        &[],
    )
    .await?;
    Ok(n)
}

/// Appends a notice for `listen` (`kind`: `ver`, `newmail`, `unread`; `payload`: JSON). The
/// transaction remembers the tenant, so its commit names it for `push::publish`.
pub async fn append_event(
    tx: &mut Tx,
    tenant_id: i64,
    now_ms: i64,
    kind: &str,
    payload: &str,
) -> StoreResult<()> {
    let first = tx.wakes(tenant_id);
    let conn = &mut tx.conn();
    sql::execute_in(
        conn,
        "INSERT INTO events (tenant_id, at_ms, kind, payload) VALUES ($1, $2, $3, $4)",
        &[tenant_id.into(), now_ms.into(), kind.into(), payload.into()],
    )
    .await?;
    // On PostgreSQL, tell every node: the notification is delivered when (and only if) this
    // transaction commits. One per tenant and transaction is enough (PostgreSQL would fold the
    // identical ones anyway, after a round trip each).
    if first && let Conn::Postgres(_) = conn {
        let channel_payload = tenant_id.to_string();
        sql::execute_in(
            conn,
            "SELECT pg_notify('bizmail_events', $1)",
            &[channel_payload.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// The newest event id of a tenant (0 when none): where a new client's cursor starts.
pub async fn head_event(store: &Store, tenant_id: i64) -> StoreResult<i64> {
    sql::value(
        store,
        "SELECT COALESCE(MAX(id), 0) FROM events WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await
}

/// What a node hears from the other nodes on one PostgreSQL database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Events of this tenant were committed.
    Tenant(i64),
    /// Notifications may have been missed (a new or lost connection): every poll should look.
    Everyone,
}

/// The other nodes' commits, as `LISTEN bizmail_events` hears them (the `pg_notify` of
/// [`append_event`]), on a connection of its own that is made again, with a growing wait, whenever
/// it fails. PostgreSQL only: on SQLite one process owns the file and there is no one to hear.
pub struct Wakeups {
    pool: sqlx::PgPool,
    /// Told whether this node hears the others, and what they changed in access grants.
    grants: std::sync::Arc<super::auth_cache::AuthCache>,
    listener: Option<sqlx::postgres::PgListener>,
    backoff: Duration,
}

impl Store {
    /// The cross-node wake-ups of this database; `None` on SQLite.
    pub fn wakeups(&self) -> Option<Wakeups> {
        match self {
            Store::Postgres { pool, auth } => Some(Wakeups {
                pool: pool.clone(),
                grants: auth.clone(),
                listener: None,
                backoff: RETRY_MIN,
            }),
            Store::Sqlite { .. } => None,
        }
    }
}

impl Wakeups {
    /// The next thing heard. Connects first when needed; right after every (re)connection it
    /// answers [`Heard::Everyone`], since anything sent while not listening is gone.
    pub async fn next(&mut self) -> Heard {
        loop {
            let Some(listener) = &mut self.listener else {
                let connected = match sqlx::postgres::PgListener::connect_with(&self.pool).await {
                    Ok(mut l) => l
                        .listen_all(["bizmail_events", "bizmail_auth", "bizmail_dir"])
                        .await
                        .map(|()| l),
                    Err(e) => Err(e),
                };
                match connected {
                    Ok(l) => {
                        self.listener = Some(l);
                        self.backoff = RETRY_MIN;
                        self.grants.set_hearing(true);
                        return Heard::Everyone;
                    }
                    Err(e) => {
                        // Every failure waits, growing to RETRY_MAX, so a database that refuses
                        // LISTEN (or is down) is not hammered in a loop.
                        tracing::warn!(error = %e, retry_in = ?self.backoff, "LISTEN failed; retrying");
                        tokio::time::sleep(self.backoff).await;
                        self.backoff = (self.backoff * 2).min(RETRY_MAX);
                        continue;
                    }
                }
            };
            return match listener.try_recv().await {
                // Another node changed what access grants depend on: forgotten here, and
                // nothing for the polls.
                Ok(Some(n)) if n.channel() == "bizmail_auth" => {
                    self.grants.forget();
                    continue;
                }
                // Another node changed a tenant's directory: its members' answers kept here are
                // stale. A payload that is not a tenant forgets what grants depend on, members
                // included.
                Ok(Some(n)) if n.channel() == "bizmail_dir" => {
                    match n.payload().parse::<i64>() {
                        Ok(t) => self.grants.directory.changed(&[t]),
                        Err(_) => self.grants.forget(),
                    }
                    continue;
                }
                Ok(Some(n)) => n.payload().parse().map_or(Heard::Everyone, Heard::Tenant),
                // The connection dropped: whatever was sent meanwhile is gone, grants' notices
                // included. It is made again by the path above, which says when it hears again
                // (PgListener would reconnect by itself, but without telling us when).
                Ok(None) => {
                    self.grants.set_hearing(false);
                    self.listener = None;
                    Heard::Everyone
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection lost");
                    self.grants.set_hearing(false);
                    self.listener = None;
                    // A connection that keeps dropping right after LISTEN is not retried in a
                    // loop.
                    tokio::time::sleep(RETRY_MIN).await;
                    Heard::Everyone
                }
            };
        }
    }
}
