//! `openapi/listen` (§5), one poll:
//! 1. the tenant's directory version is newer than `Ver`: `{"Ver":"<current>"}` at once;
//! 2. else the oldest notice after this client's cursor: at once, the cursor moved past it;
//! 3. else wait for a wake-up (then 1–2 again) or the poll timeout: `{"Ret":0}`.
//!
//! A client is one access token; its cursor is created at the head of the event log on its first
//! poll (a new token has no backlog). A client away longer than the grace period missed what
//! happened meanwhile: its cursor jumps to the head. Two polls of one token racing for a notice:
//! the one whose compare-and-set on the cursor commits first gets it; the other looks again and
//! takes the next notice, or waits.
//!
//! A held poll outlives a database outage: it looks again each second (or on a wake-up), and at
//! its timeout answers `{"Ret":0}`; its cursor has not moved, so nothing is lost.

use super::hub::{Board, Hub};
use crate::store::{self, Store, StoreError};
use bizmail_protocol::Ver;
use bizmail_protocol::response::{Idle, VerNotice};
use std::sync::Arc;
use std::time::Duration;

/// What a poll answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollAnswer {
    /// `{"Ver":"<current>"}`.
    Version(Ver),
    /// A notice, as stored (new mail or unread count).
    Notice(String),
    /// `{"Ret":0}`: nothing happened, call again.
    Idle,
}

impl PollAnswer {
    /// The JSON body.
    pub fn body(&self) -> String {
        match self {
            PollAnswer::Version(ver) => json(&VerNotice { ver: *ver }),
            PollAnswer::Notice(payload) => payload.clone(),
            PollAnswer::Idle => json(&Idle::default()),
        }
    }
}

fn json(answer: &impl serde::Serialize) -> String {
    // These answers are plain structs of strings and numbers: serializing cannot fail.
    serde_json::to_string(answer).unwrap_or_default()
}

/// The settings of a poll.
#[derive(Debug, Clone, Copy)]
pub struct PollSettings {
    /// How long a poll is held.
    pub timeout: Duration,
    /// How long a client may stay away and still get what happened meanwhile.
    pub grace: Duration,
}

/// Runs one poll for the client `token_hash` of `tenant_id` holding directory version `ver`.
///
/// What a held poll keeps while it waits is this future, so the reads and writes around the wait
/// are boxed where they run: inline, the largest of them would size the whole wait.
pub async fn poll(
    store: &Store,
    hub: &Hub,
    settings: PollSettings,
    tenant_id: i64,
    token_hash: &[u8],
    ver: Option<Ver>,
) -> Result<PollAnswer, StoreError> {
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let held = i64::try_from(ver.map_or(0, |v| v.0)).unwrap_or(i64::MAX);
    Box::pin(arrive(store, settings, tenant_id, token_hash)).await?;
    let _held = hub.hold();
    let board = hub.board(tenant_id);
    let notify = board.notify().clone();
    let mut closing = hub.closing();
    // The cursor as this poll last read it: once known, a woken look shares the tenant's read
    // (`shared`) instead of making its own.
    let mut known = None;
    loop {
        // Register for the wake-up before looking, so a commit between the look and the wait
        // cannot be missed.
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();

        // A held poll outlives a database outage: a failed look is retried on the next wake-up
        // or after a second, and at the timeout the client hears "nothing yet" ({"Ret":0}) and
        // polls again. Its cursor has not moved, so nothing waiting for it is lost.
        let mut retry = None;
        match Box::pin(look(
            store, hub, &board, tenant_id, token_hash, held, &mut known,
        ))
        .await
        {
            Ok(Look::Answer(answer)) => return Ok(answer),
            Ok(Look::Again) => continue,
            Ok(Look::Nothing) => {}
            Err(e) => {
                tracing::warn!(error = %e, "a held listen poll could not read the event log; retrying");
                retry = Some(tokio::time::Instant::now() + RETRY);
            }
        }
        // Copied out in its own statement: the borrow guard must not live across an await.
        let shutting_down = *closing.borrow();
        if shutting_down {
            return Ok(PollAnswer::Idle);
        }
        let wake_at = retry.map_or(deadline, |r| r.min(deadline));
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep_until(wake_at) => {
                if tokio::time::Instant::now() >= deadline {
                    // Best effort: an unrecorded poll time only makes the grace period shorter.
                    let _ = Box::pin(store::events::touch(store, token_hash, store::now_ms())).await;
                    return Ok(PollAnswer::Idle);
                }
            }
            // The guard `wait_for` returns is not `Send`: drop it inside the branch's own future.
            () = async { let _ = closing.wait_for(|c| *c).await; } => return Ok(PollAnswer::Idle),
        }
    }
}

/// Marks the client as here: creates its cursor at the head of the event log on its first poll,
/// moves it to the head after an absence past the grace period, else records the time.
async fn arrive(
    store: &Store,
    settings: PollSettings,
    tenant_id: i64,
    token_hash: &[u8],
) -> Result<(), StoreError> {
    let now = store::now_ms();
    let grace_ms = i64::try_from(settings.grace.as_millis()).unwrap_or(i64::MAX);
    match store::events::cursor(store, token_hash).await? {
        None => {
            let head = store::events::head_event(store, tenant_id).await?;
            store::events::create_cursor(store, token_hash, tenant_id, head, now).await?;
        }
        Some(c) if now - c.seen_ms > grace_ms => {
            // Away past the grace period: offline, so what happened meanwhile is not for it.
            let head = store::events::head_event(store, tenant_id).await?;
            store::events::advance(store, token_hash, c.event_id, head.max(c.event_id), now)
                .await?;
        }
        Some(_) => store::events::touch(store, token_hash, now).await?,
    }
    Ok(())
}

/// How soon a held poll looks again after the event log could not be read.
const RETRY: Duration = Duration::from_secs(1);

/// What one look at the version and the event log found.
enum Look {
    /// Answer the poll with this.
    Answer(PollAnswer),
    /// Another poll of this token took the notice: look again at once.
    Again,
    /// Nothing for this client yet.
    Nothing,
}

async fn look(
    store: &Store,
    hub: &Hub,
    board: &Board,
    tenant_id: i64,
    token_hash: &[u8],
    held: i64,
    known: &mut Option<i64>,
) -> Result<Look, StoreError> {
    let (version, cursor, next) = match *known {
        Some(cursor) => match super::shared::next_after(store, board, tenant_id, cursor).await? {
            Some((version, next)) => (version, cursor, next),
            None => return Ok(Look::Nothing),
        },
        None => {
            let Some(seen) = store::events::look(store, tenant_id, token_hash).await? else {
                return Ok(Look::Nothing);
            };
            let next = seen.event_id.zip(seen.payload.map(Arc::<str>::from));
            (seen.version, seen.cursor, next)
        }
    };
    *known = Some(cursor);
    if version > held {
        store::events::touch(store, token_hash, store::now_ms()).await?;
        let ver = Ver(u64::try_from(version).unwrap_or(0));
        return Ok(Look::Answer(PollAnswer::Version(ver)));
    }
    let Some((id, payload)) = next else {
        return Ok(Look::Nothing);
    };
    if hub.claims.claim(store, token_hash, cursor, id).await? {
        Ok(Look::Answer(PollAnswer::Notice(payload.to_string())))
    } else {
        // Another poll of this token moved the cursor: read it again.
        *known = None;
        Ok(Look::Again)
    }
}

/// Compile-time check: a poll can run on a multi-threaded runtime (axum needs `Send` handlers).
#[allow(dead_code)]
fn poll_is_send<'a>(
    store: &'a Store,
    hub: &'a Hub,
    s: PollSettings,
    t: &'a [u8],
) -> impl std::future::Future + Send + 'a {
    poll(store, hub, s, 1, t, None)
}
