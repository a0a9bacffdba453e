//! One read of the event log for all the polls one commit wakes.
//!
//! A mail to a tenant with a thousand held `listen` polls wakes all thousand at once, and each
//! used to read the version and its next notice on its own: a thousand identical queries. Now
//! the first woken poll reads the version and the notices after its cursor, keeps them on the
//! tenant's [`Board`] stamped with the board's wake-up generation, and the others take their
//! answer from there. Each poll still claims its notice with its own compare-and-set on its
//! cursor, so two polls of one token still never get the same notice.
//!
//! Why a kept read is never stale for a poll that uses it: the read began after the generation it
//! is stamped with was counted, and every commit is counted (woken) after it is durable. So the
//! read saw every commit that woke the tenant up to then; a commit after it wakes the tenant
//! again, which moves the generation and retires the read, and the poll (registered for that
//! wake-up before it looked) looks again.

use super::hub::Board;
use crate::store::{self, Store, StoreError};
use std::sync::Arc;
use tokio::sync::OnceCell;
use tokio::time::{Duration, Instant};

/// How many notices one read keeps.
const KEEP: usize = 64;

/// How long a failed read is answered from memory, so that a thousand polls do not each wait
/// for an unreachable database in turn (they retry on their own timer).
const FAILED_FOR: Duration = Duration::from_secs(1);

/// One read of a tenant's version and notices, begun by the first poll that needed it. The
/// others wait on the same cell and are all woken together when it is filled: a lock taken in
/// turn by a thousand woken polls handed itself on a thousand times, one task switch each.
pub struct Snapshot {
    generation: u64,
    /// The cursor it is read after: it serves polls at or past it.
    after: i64,
    begun: Instant,
    read: Arc<OnceCell<Outcome>>,
}

/// What a read found: `Ok(None)` when the tenant is gone.
type Outcome = Result<Option<Read>, Arc<str>>;

/// The version and notices one read found.
struct Read {
    version: i64,
    notices: Vec<(i64, Arc<str>)>,
    /// Whether it holds every notice after `after` (fewer than [`KEEP`] were found).
    complete: bool,
}

/// The tenant's directory version and the first notice after `cursor`, if any; `None` when the
/// tenant is gone.
pub(super) async fn next_after(
    store: &Store,
    board: &Board,
    tenant_id: i64,
    cursor: i64,
) -> Result<Option<(i64, Option<(i64, Arc<str>)>)>, StoreError> {
    let (cell, after) = {
        let mut shared = board.shared.lock().map_err(|_| failed("poisoned"))?;
        let generation = board.generation();
        match shared.as_ref() {
            Some(s) if s.generation == generation && s.after <= cursor && !s.stale() => {
                (s.read.clone(), s.after)
            }
            _ => {
                let s = Snapshot {
                    generation,
                    after: cursor,
                    begun: Instant::now(),
                    read: Arc::default(),
                };
                let cell = s.read.clone();
                *shared = Some(s);
                (cell, cursor)
            }
        }
    };
    let outcome = cell
        .get_or_init(|| read(store, tenant_id, after, KEEP))
        .await;
    let read = match outcome {
        Ok(Some(read)) => read,
        Ok(None) => return Ok(None),
        Err(text) => return Err(failed(text)),
    };
    let next = read.notices.iter().find(|(id, _)| *id > cursor).cloned();
    if next.is_some() || read.complete {
        return Ok(Some((read.version, next)));
    }
    // This poll is past everything the shared read kept (a rare laggard's read): its own.
    match read_some(store, tenant_id, cursor, 1).await? {
        Some(own) => Ok(Some((own.version, own.notices.into_iter().next()))),
        None => Ok(None),
    }
}

impl Snapshot {
    /// A failed read kept past [`FAILED_FOR`]: time to try again.
    fn stale(&self) -> bool {
        matches!(self.read.get(), Some(Err(_))) && self.begun.elapsed() >= FAILED_FOR
    }
}

async fn read(store: &Store, tenant_id: i64, after: i64, keep: usize) -> Outcome {
    match read_some(store, tenant_id, after, keep).await {
        Ok(found) => Ok(found),
        Err(e) => Err(Arc::from(e.to_string())),
    }
}

async fn read_some(
    store: &Store,
    tenant_id: i64,
    after: i64,
    keep: usize,
) -> Result<Option<Read>, StoreError> {
    let limit = i64::try_from(keep).unwrap_or(i64::MAX);
    Ok(store::events::notices_after(store, tenant_id, after, limit)
        .await?
        .map(|(version, notices)| Read {
            complete: notices.len() < keep,
            version,
            notices: notices
                .into_iter()
                .map(|(id, payload)| (id, Arc::from(payload)))
                .collect(),
        }))
}

fn failed(text: &str) -> StoreError {
    StoreError::unavailable(format!("the event log could not be read: {text}"))
}
