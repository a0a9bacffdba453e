//! The callbacks' worker: every poll it copies each watching tenant's new `newmail` and `unread`
//! events into the outbox as notice plaintexts, then takes due notices with a lease and POSTs
//! them. It runs on every node; the cursor's and the lease's compare-and-set in the store decide
//! which node copies an event and which sends a notice.
//!
//! Per tenant one notice is in flight at a time, the oldest due one: notices go out in order, and
//! a later notice never overtakes an earlier one still in its attempt. A notice waiting for a
//! retry does let later ones pass (a receiver that refuses one notice still gets the others).

use super::Callbacks;
use crate::store::callbacks::{Due, Event, Watched};
use crate::store::{self, StoreError};
use base64::Engine as _;
use bizmail_protocol::cgi::crypto::{MailNotice, UnreadNotice};
use bizmail_protocol::response::{NewMailNotice, UnreadNotice as UnreadEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::MissedTickBehavior;

/// Events read from the log per copy (a backlog is copied batch after batch in one poll).
const BATCH: usize = 100;
/// How old an event must be before it is copied on PostgreSQL, in milliseconds (see
/// `copy_tenant`).
const SETTLE_MS: i64 = 2_000;
/// How long a notice may wait in the outbox at most, in milliseconds (six hours).
const MAX_AGE_MS: i64 = 6 * 3_600_000;
/// Notices in flight at once, over all tenants.
const PARALLEL: usize = 16;

/// Starts the worker; it stops when `stopped` turns true, after the attempts under way (each is
/// bounded by the request timeout), so a stopped server holds no lease.
pub(crate) fn spawn(callbacks: Callbacks, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(PARALLEL));
        let mut running = JoinSet::new();
        let mut tick = tokio::time::interval(callbacks.settings.poll);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            // The event log is looked at on the tick; a finished attempt only lets the tenant's
            // next notice go at once, without waiting for the tick.
            let copy = tokio::select! {
                _ = stopped.wait_for(|s| *s) => break,
                _ = tick.tick() => true,
                Some(_) = running.join_next(), if !running.is_empty() => false,
            };
            while running.try_join_next().is_some() {}
            if copy {
                copy_all(&callbacks).await;
            }
            take_due(&callbacks, &slots, &mut running).await;
        }
        while running.join_next().await.is_some() {}
    })
}

/// Copies every watching tenant's new events into the outbox; a failure is logged and retried at
/// the next poll (the cursor has not moved).
async fn copy_all(cb: &Callbacks) {
    // Notices no retry delivered within MAX_AGE_MS (a receiver down for hours, a backlog behind
    // it) are dropped and counted, so the outbox stays bounded in time as in size.
    let cutoff = store::now_ms() - MAX_AGE_MS;
    match store::callbacks::drop_older(&cb.store, cutoff).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(dropped = n, "callback notices too old to send were dropped"),
        Err(e) => tracing::warn!(error = %e, "could not drop old callback notices"),
    }
    let watched = match store::callbacks::behind(&cb.store).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the callback settings");
            return;
        }
    };
    for w in watched {
        if let Err(e) = copy_tenant(cb, w).await {
            tracing::warn!(
                tenant_id = w.tenant_id,
                error = %e,
                "could not copy notices to the callback outbox"
            );
        }
    }
}

/// Copies one tenant's events after its cursor, a batch at a time, each batch with its cursor
/// move in one transaction.
async fn copy_tenant(cb: &Callbacks, w: Watched) -> Result<(), StoreError> {
    let mut cursor = w.event_cursor;
    let mut corp_id = None;
    // On PostgreSQL event ids are handed out before their transactions commit, so an event may
    // appear after one with a higher id. Copying stops at the first event younger than SETTLE:
    // by then the lower ids of its time have committed, and the cursor never jumps past one.
    let settle = match cb.store.backend() {
        crate::config::Backend::Postgres => SETTLE_MS,
        crate::config::Backend::Sqlite => 0,
    };
    loop {
        let mut events = store::callbacks::events_after(
            &cb.store,
            w.tenant_id,
            cursor,
            i64::try_from(BATCH).unwrap_or(i64::MAX),
        )
        .await?;
        let fetched = events.len();
        let cutoff = store::now_ms() - settle;
        if let Some(young) = events.iter().position(|e| e.at_ms > cutoff) {
            events.truncate(young);
        }
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(());
        };
        if corp_id.is_none() {
            corp_id = store::corp::corp_id(&cb.store, w.tenant_id).await?;
        }
        let Some(corp) = corp_id.as_deref() else {
            // A callback is only set for a tenant with a corp id, and one is never taken away.
            tracing::warn!(
                tenant_id = w.tenant_id,
                "a tenant with a callback has no corp id"
            );
            return Ok(());
        };
        let notices: Vec<(i64, String)> = events
            .iter()
            .filter_map(|e| plaintext(corp, e).map(|p| (e.id, p)))
            .collect();
        let now = store::now_ms();
        if !store::callbacks::enqueue(&cb.store, w.tenant_id, cursor, last, &notices, now).await? {
            // Another node copied them first.
            return Ok(());
        }
        if fetched < BATCH || events.len() < fetched {
            return Ok(());
        }
        cursor = last;
    }
}

/// The plaintext XML of the notice an event makes; `None` for an event that makes none (a
/// payload that does not parse is logged and skipped, so one bad row cannot stall the tenant).
fn plaintext(corp_id: &str, event: &Event) -> Option<String> {
    let time = event.at_ms.div_euclid(1000);
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let skip = |e: serde_json::Error| {
        tracing::warn!(
            event_id = event.id,
            error = %e,
            "an event's payload does not parse; no callback notice"
        );
    };
    match event.kind.as_str() {
        "newmail" => {
            let n: NewMailNotice = serde_json::from_str(&event.payload).map_err(skip).ok()?;
            let (from_name, from_address) = split_sender(&n.sender);
            // Opaque and made once here, so that every retry of the notice carries the same one.
            let mail_id = new_mail_id();
            Some(
                MailNotice {
                    corp_id,
                    mail_id: &mail_id,
                    to: &n.receiver,
                    from_name: &from_name,
                    from_address: &from_address,
                    title: &n.subject,
                    time,
                    new_count: count(n.new_count),
                }
                .to_xml(),
            )
        }
        "unread" => {
            let n: UnreadEvent = serde_json::from_str(&event.payload).map_err(skip).ok()?;
            Some(
                UnreadNotice {
                    corp_id,
                    user: &n.user_name,
                    time,
                    unread_count: count(n.new_count),
                }
                .to_xml(),
            )
        }
        _ => None,
    }
}

/// A notice's `MailID`: 32 random bytes in padded base64 (44 characters), as recorded.
fn new_mail_id() -> String {
    base64::engine::general_purpose::STANDARD.encode(crate::auth::random_bytes::<32>())
}

/// The display name and the address of a From header as written (`"Name" <a@x>`, RFC 2047
/// words decoded); the name is empty when there is none. A header the parser finds no address
/// in falls back to the text between the last `<` and `>`, else the whole text.
fn split_sender(sender: &str) -> (String, String) {
    let header = format!("From: {sender}\r\n\r\n");
    let parsed = mail_parser::MessageParser::default().parse(header.as_bytes());
    if let Some(addr) = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|a| a.first())
    {
        let address = addr.address.as_deref().unwrap_or_default().trim();
        if !address.is_empty() {
            let name = addr.name.as_deref().unwrap_or_default().trim();
            return (name.to_owned(), address.to_owned());
        }
    }
    match (sender.rfind('<'), sender.rfind('>')) {
        (Some(open), Some(close)) if open < close => (
            sender[..open].trim().trim_matches('"').trim().to_owned(),
            sender[open + 1..close].trim().to_owned(),
        ),
        _ => (String::new(), sender.trim().to_owned()),
    }
}

/// Takes as many due notices as there are free slots and starts an attempt for each.
async fn take_due(cb: &Callbacks, slots: &Arc<Semaphore>, running: &mut JoinSet<()>) {
    let free = i64::try_from(slots.available_permits()).unwrap_or(0);
    if free == 0 {
        return;
    }
    let now = store::now_ms();
    let lease = now + millis(cb.settings.lease);
    let due = match store::callbacks::claim(&cb.store, now, lease, free).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the callback outbox");
            return;
        }
    };
    for row in due {
        // At most `free` rows were taken, and only this loop takes slots: this does not wait.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let cb = cb.clone();
        running.spawn(async move {
            attempt(&cb, row, lease).await;
            drop(permit);
        });
    }
}

/// Sends one notice and records the outcome: delivered, a retry after the next delay, or dropped
/// after the last.
async fn attempt(cb: &Callbacks, row: Due, lease: i64) {
    let outcome = match cb
        .target(row.tenant_id, &row.url, &row.token, &row.key_sealed)
        .await
    {
        Ok(target) => cb.post(&target, &row.plaintext).await,
        Err(e) => Err(e.to_string()),
    };
    let (id, tenant_id) = (row.id, row.tenant_id);
    let mut logged = store::callbacks::Attempt {
        at_ms: store::now_ms(),
        kind: super::waiting::cdata(&row.plaintext, "MsgType"),
        member: super::waiting::notice_member(&row.plaintext),
        outcome: "delivered".to_owned(),
        detail: String::new(),
    };
    let recorded = match outcome {
        Ok(()) => {
            tracing::debug!(id, tenant_id, "callback notice delivered");
            store::callbacks::delivered(&cb.store, id, tenant_id, lease).await
        }
        Err(why) => {
            // What the receiver did, for the delivery log (bounded: a receiver's text can be long).
            logged.detail = why.chars().take(300).collect();
            let tried = usize::try_from(row.attempts).unwrap_or(usize::MAX);
            match cb.settings.retry_delays.get(tried) {
                Some(&wait) => {
                    tracing::debug!(id, tenant_id, %why, ?wait, "callback notice will be retried");
                    logged.outcome = "retry".to_owned();
                    let next = store::now_ms() + millis(wait);
                    store::callbacks::reschedule(&cb.store, id, lease, next).await
                }
                None => {
                    tracing::warn!(
                        id,
                        tenant_id,
                        attempts = row.attempts + 1,
                        %why,
                        "callback notice dropped after its last retry"
                    );
                    logged.outcome = "dropped".to_owned();
                    store::callbacks::dropped(&cb.store, id, tenant_id, lease).await
                }
            }
        }
    };
    if let Err(e) = store::callbacks::record_attempt(&cb.store, tenant_id, &logged).await {
        tracing::warn!(id, tenant_id, error = %e, "could not write a callback attempt to its log");
    }
    match recorded {
        Ok(true) => {}
        // The callback was removed meanwhile (its outbox with it), or the lease ran out.
        Ok(false) => tracing::debug!(id, tenant_id, "a callback notice changed hands"),
        Err(e) => {
            tracing::error!(id, tenant_id, error = %e, "could not record a callback attempt");
        }
    }
}

/// A duration in milliseconds, saturating.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn senders_split_into_name_and_address() {
        let cases = [
            ("\"Test\" <test@gzdev.com>", "Test", "test@gzdev.com"),
            ("Zhang San <zs@x.cn>", "Zhang San", "zs@x.cn"),
            ("=?UTF-8?B?5byg5LiJ?= <zs@x.cn>", "张三", "zs@x.cn"),
            ("a@x.cn", "", "a@x.cn"),
            ("<a@x.cn>", "", "a@x.cn"),
            ("\"Doe, J.\" <j@x.cn>, other@y.cn", "Doe, J.", "j@x.cn"),
        ];
        for (sender, name, address) in cases {
            assert_eq!(
                split_sender(sender),
                (name.to_owned(), address.to_owned()),
                "{sender}"
            );
        }
        assert_eq!(split_sender(""), (String::new(), String::new()));
    }

    #[test]
    fn events_become_notices() {
        let mail = Event {
            id: 7,
            at_ms: 1_610_007_415_999,
            kind: "newmail".into(),
            payload: r#"{"UserName":"b@x","MailId":"m1","Sender":"\"A\" <a@x>","Receiver":"b@x",
                "Subject":"Hi ]]> there","Summary":"s","NewCount":11}"#
                .into(),
        };
        let xml = plaintext("wm0123456789abcdef", &mail).unwrap();
        let head = "<xml><CorpID><![CDATA[wm0123456789abcdef]]></CorpID>\
                    <MsgType><![CDATA[Mail]]></MsgType><MailID><![CDATA[";
        assert!(xml.starts_with(head), "{xml}");
        let id = xml
            .split("<MailID><![CDATA[")
            .nth(1)
            .unwrap()
            .split("]]>")
            .next()
            .unwrap();
        assert_eq!(id.len(), 44);
        assert!(
            xml.ends_with(
                "<ToUserID><![CDATA[b@x]]></ToUserID><FromUser><![CDATA[\"A\"<a@x>]]></FromUser>\
             <Title><![CDATA[Hi ]]]]><![CDATA[> there]]></Title><Time>1610007415</Time>\
             <NewCount>11</NewCount></xml>"
            ),
            "{xml}"
        );
        assert_ne!(
            plaintext("c", &mail),
            plaintext("c", &mail),
            "a fresh MailID per notice"
        );
        let unread = Event {
            id: 8,
            at_ms: 1_610_007_514_000,
            kind: "unread".into(),
            payload: r#"{"UserName":"b@x","NewCount":10}"#.into(),
        };
        assert_eq!(
            plaintext("c", &unread).unwrap(),
            "<xml><CorpID><![CDATA[c]]></CorpID><MsgType><![CDATA[UnRead]]></MsgType>\
             <UserID><![CDATA[b@x]]></UserID><Time>1610007514</Time><UnReadCount>10</UnReadCount></xml>"
        );
        let broken = Event {
            payload: "{".into(),
            ..unread.clone()
        };
        assert_eq!(plaintext("c", &broken), None);
        let ver = Event {
            kind: "ver".into(),
            ..unread
        };
        assert_eq!(plaintext("c", &ver), None);
    }
}
