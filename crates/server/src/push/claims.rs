//! The cursor claims of woken `listen` polls, batched: the polls that claim while a batch is
//! being written go together in the next one, a few statements for a thousand polls
//! (`store::events::advance_many`) rather than a statement each.
//!
//! Each claim keeps its meaning: a compare-and-set of one token's cursor, answered only after it
//! is committed. Two claims of one token in the same batch (the token's polls racing): the first
//! is tried, the later one is told it lost and its poll reads the cursor again, as it would had
//! the first committed before it.

use crate::store::{self, Store, StoreError};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// One poll's claim, waiting for the next batch.
struct Claim {
    token_hash: Vec<u8>,
    from: i64,
    to: i64,
    done: oneshot::Sender<Result<bool, Arc<str>>>,
}

/// The claims waiting, and the slot of whoever writes the current batch. Cheap to clone.
#[derive(Clone, Default)]
pub struct Claims {
    queue: Arc<Mutex<Vec<Claim>>>,
    leader: Arc<tokio::sync::Mutex<()>>,
}

impl Claims {
    /// Moves `token_hash`'s cursor from `from` to `to` if it is still at `from`; true when this
    /// claim moved it. Returns once that is committed.
    pub async fn claim(
        &self,
        store: &Store,
        token_hash: &[u8],
        from: i64,
        to: i64,
    ) -> Result<bool, StoreError> {
        let (done, mut result) = oneshot::channel();
        self.queue
            .lock()
            .map_err(|_| gone("poisoned"))?
            .push(Claim {
                token_hash: token_hash.to_vec(),
                from,
                to,
                done,
            });
        let slot = tokio::select! {
            biased;
            // A batch already took this claim.
            r = &mut result => return answer(r),
            slot = self.leader.clone().lock_owned() => slot,
        };
        if let Ok(r) = result.try_recv() {
            return r.map_err(|t| gone(&t));
        }
        let claims = std::mem::take(&mut *self.queue.lock().map_err(|_| gone("poisoned"))?);
        // Written by a task of its own, so that a poll whose client hangs up cannot take the
        // other polls' claims down with it. An empty queue: a batch took this claim already.
        if claims.is_empty() {
            drop(slot);
        } else {
            tokio::spawn(write(store.clone(), slot, claims));
        }
        answer(result.await)
    }
}

/// Writes one batch and answers its claims.
async fn write(store: Store, slot: tokio::sync::OwnedMutexGuard<()>, claims: Vec<Claim>) {
    let mut tried: Vec<(Vec<u8>, i64, i64)> = Vec::with_capacity(claims.len());
    let mut seen = std::collections::HashSet::with_capacity(claims.len());
    let mut first = Vec::with_capacity(claims.len());
    for c in &claims {
        let is_first = seen.insert(c.token_hash.as_slice());
        if is_first {
            tried.push((c.token_hash.clone(), c.from, c.to));
        }
        first.push(is_first);
    }
    let outcome = store::events::advance_many(&store, &tried, store::now_ms()).await;
    drop(slot);
    match outcome {
        Ok(moved) => {
            let moved: std::collections::HashSet<&[u8]> = moved.iter().map(Vec::as_slice).collect();
            for (c, is_first) in claims.into_iter().zip(first) {
                let won = is_first && moved.contains(c.token_hash.as_slice());
                let _ = c.done.send(Ok(won));
            }
        }
        Err(e) => {
            let text: Arc<str> = Arc::from(e.to_string());
            for c in claims {
                let _ = c.done.send(Err(text.clone()));
            }
        }
    }
}

fn answer(
    r: Result<Result<bool, Arc<str>>, oneshot::error::RecvError>,
) -> Result<bool, StoreError> {
    match r {
        Ok(Ok(won)) => Ok(won),
        Ok(Err(text)) => Err(gone(&text)),
        Err(_) => Err(gone("the claim's batch was dropped")),
    }
}

fn gone(text: &str) -> StoreError {
    StoreError::unavailable(format!("a batch of listen claims failed: {text}"))
}
