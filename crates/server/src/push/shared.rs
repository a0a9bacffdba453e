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
use tokio::time::{Duration, Instant};

/// How many notices one read keeps.
const KEEP: usize = 64;

/// How long a failed read is answered from memory, so that a thousand polls do not each wait
/// for an unreachable database in turn (they retry on their own timer).
const FAILED_FOR: Duration = Duration::from_secs(1);

/// One read of a tenant's version and notices.
pub struct Snapshot {
    generation: u64,
    /// The cursor it was read after: it serves polls at or past it.
    after: i64,
    outcome: Result<Read, Instant>,
}

/// What a read found.
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
    // Held across the read: the polls woken together wait for the first one's read rather than
    // each making their own.
    let mut shared = board.shared.lock().await;
    let generation = board.generation();
    if let Some(s) = shared.as_ref()
        && s.generation == generation
        && s.after <= cursor
    {
        match &s.outcome {
            Ok(read) => {
                let next = read.notices.iter().find(|(id, _)| *id > cursor).cloned();
                if next.is_some() || read.complete {
                    return Ok(Some((read.version, next)));
                }
            }
            Err(at) if at.elapsed() < FAILED_FOR => return Err(failed()),
            Err(_) => {}
        }
    }
    let limit = i64::try_from(KEEP).unwrap_or(i64::MAX);
    let read = match store::events::notices_after(store, tenant_id, cursor, limit).await {
        Ok(Some((version, notices))) => Read {
            complete: notices.len() < KEEP,
            version,
            notices: notices
                .into_iter()
                .map(|(id, payload)| (id, Arc::from(payload)))
                .collect(),
        },
        Ok(None) => return Ok(None),
        Err(e) => {
            *shared = Some(Snapshot {
                generation,
                after: cursor,
                outcome: Err(Instant::now()),
            });
            return Err(e);
        }
    };
    let answer = (
        read.version,
        read.notices.iter().find(|(id, _)| *id > cursor).cloned(),
    );
    *shared = Some(Snapshot {
        generation,
        after: cursor,
        outcome: Ok(read),
    });
    Ok(Some(answer))
}

fn failed() -> StoreError {
    StoreError::Db(sqlx::Error::Io(std::io::Error::other(
        "the event log could not be read a moment ago",
    )))
}
