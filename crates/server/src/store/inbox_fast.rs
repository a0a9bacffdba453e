//! The short cuts for delivering to one member's INBOX: the statements of a delivery folded into
//! one request to the database, with the statement-by-statement path beside them in
//! `mail::deliver` (for several recipients, another folder, or a member without an INBOX yet).
//!
//! Why, on PostgreSQL: deliveries to one member queue for the INBOX row's lock (the UID must grow
//! in commit order), which PostgreSQL holds until the commit. Every round trip made under that
//! lock is paid once per message by a busy mailbox, and every statement costs a round trip.
//!
//! Why, on SQLite: the driver runs each connection on a thread of its own, and every statement is
//! a hand-off to that thread and back (two context switches). Seven statements a message made
//! the scheduler, not SQLite, the largest cost of ingest. SQLite has no data-modifying `WITH`, so
//! its short cut is a script of plain statements sent as one request.

use super::activity::MailLogRow;
use super::mail::{NewMessage, Slot};
use super::{Committed, Conn, Store, StoreResult, Tx, sql};
use bizmail_protocol::response::NewMailNotice;

/// The start both statements share: the member's INBOX (`i`). Their placeholders agree: `$1` the
/// member, `$2` the copy's MailId, `$3` the tenant, `$5` the time, `$6` the notice's head.
macro_rules! inbox_head {
    () => {
        "WITH i AS (SELECT id FROM folders WHERE member_id = $1 AND special = 'inbox'), "
    };
}

/// The rest both share, after the statement's own `m` (the stored message's id): the folder's
/// next UID and modseq (`f`), the copy (`c`), the unread count (`u`) and the event (`e`).
macro_rules! inbox_tail {
    () => {
        "f AS (UPDATE folders SET uidnext = uidnext + 1, modseq = modseq + 1 \
           WHERE id IN (SELECT id FROM i) RETURNING id, uidnext - 1 AS uid, modseq), \
         c AS (INSERT INTO mailbox (mail_id, tenant_id, member_id, message_id, received_ms, \
           folder_id, uid, modseq) SELECT $2, $3, $1, m.id, $5, f.id, f.uid, f.modseq \
           FROM m, f RETURNING member_id), \
         u AS (UPDATE members SET unread = unread + 1 WHERE id IN (SELECT member_id FROM c) \
           RETURNING unread), \
         e AS (INSERT INTO events (tenant_id, at_ms, kind, payload) \
           SELECT $3, $5, 'newmail', $6 || CAST(u.unread AS TEXT) || '}' FROM u)"
    };
}

/// A copy for a member's INBOX and its new-mail event: what [`inbox_at_once`] files.
#[derive(Debug, Clone, Copy)]
pub struct InboxCopy<'a> {
    /// The copy's id.
    pub mail_id: &'a str,
    /// The member's tenant.
    pub tenant_id: i64,
    /// The member.
    pub member_id: i64,
    /// The stored message.
    pub message_id: i64,
    /// When it arrived.
    pub now_ms: i64,
}

/// On PostgreSQL, files a copy in the member's INBOX in one statement: takes the folder's next
/// UID and modseq, inserts the copy, adds one to the unread count and appends the new-mail event
/// carrying that count (`notice`, whose own count is ignored). Returns the slot and the count. `None` means nothing was done: the member
/// has no INBOX yet, or the backend is SQLite (no data-modifying `WITH`); the caller then takes
/// the statement-by-statement path.
///
/// Why: deliveries to one member queue for the INBOX row's lock, held until the commit, so the
/// round trips made under it set the rate of a busy mailbox. Five became one.
pub async fn inbox_at_once(
    tx: &mut Tx,
    c: &InboxCopy<'_>,
    notice: &NewMailNotice,
) -> StoreResult<Option<(Slot, i64)>> {
    if matches!(tx.conn(), Conn::Sqlite(_)) {
        return Ok(None);
    }
    let Some(head) = notice_head(notice) else {
        return Ok(None);
    };
    super::folders::note_change(tx, c.tenant_id).await?;
    let row = sql::optional_in::<(i64, i64, i64, i64)>(
        &mut tx.conn(),
        concat!(
            inbox_head!(),
            "m AS (SELECT CAST($4 AS BIGINT) AS id), ",
            inbox_tail!(),
            " SELECT f.id, f.uid, f.modseq, u.unread FROM f, u"
        ),
        &[
            c.member_id.into(),
            c.mail_id.into(),
            c.tenant_id.into(),
            c.message_id.into(),
            c.now_ms.into(),
            head.as_str().into(),
        ],
    )
    .await?;
    Ok(row.map(|(folder_id, uid, modseq, unread)| {
        (
            Slot {
                folder_id,
                uid,
                modseq,
            },
            unread,
        )
    }))
}

/// The notice's JSON cut before its count: `NewCount` is its last key, so the statement appends
/// the count it takes. `None` if the notice ever stops ending that way (then the slow path runs).
fn notice_head(notice: &NewMailNotice) -> Option<String> {
    let json = serde_json::to_string(&NewMailNotice {
        new_count: 0,
        ..notice.clone()
    })
    .ok()?;
    json.strip_suffix("0}")
        .filter(|h| h.ends_with("\"NewCount\":"))
        .map(str::to_owned)
}

/// A whole delivery to one member's INBOX as one request: on PostgreSQL one autocommit statement
/// (the message, its mail-log row, the copy with the folder's next UID and modseq, the unread
/// count, the new-mail event (`notice`, its count ignored, its `MailId` the copy's) and the
/// wake-up of every node); on SQLite the script of [`deliver_in_tx`] in a transaction of its
/// own. Returns the unread count and the commit to publish. `None` means nothing was written:
/// the member has no INBOX yet; the caller then takes the transaction path.
pub async fn deliver_alone(
    store: &Store,
    message: &NewMessage,
    member_id: i64,
    now_ms: i64,
    notice: &NewMailNotice,
    log: &MailLogRow,
) -> StoreResult<Option<(i64, Committed)>> {
    if matches!(store, Store::Sqlite { .. }) {
        // SQLite: inside a transaction of its own, which joins the chained commits.
        let mut tx = store.begin().await?;
        let Some(unread) =
            deliver_in_tx(&mut tx, message, member_id, (now_ms, notice), log).await?
        else {
            // Nothing was written; dropping the transaction ends it.
            return Ok(None);
        };
        return Ok(Some((unread, tx.commit().await?)));
    }
    let Some(head) = notice_head(notice) else {
        return Ok(None);
    };
    let bounded = log.bounded();
    let tenant = message.tenant_id.to_string();
    // The message and the log row are written only where the INBOX exists, so that a `None`
    // leaves nothing behind (a data-modifying `WITH` always runs to completion).
    let unread = sql::optional::<(i64,)>(
        store,
        concat!(
            inbox_head!(),
            "m AS (INSERT INTO messages (tenant_id, raw, size, from_header, to_header, subject, \
               date_header, message_id, summary, received_ms) SELECT $3, $7, $4, $8, $9, $10, \
               $11, $12, $13, $5 FROM i RETURNING id), \
             l AS (INSERT INTO mail_log (tenant_id, at_ms, mailtype, status, sender, receiver, \
               subject) SELECT $3, $5, $14, $15, $16, $17, $18 FROM i), ",
            inbox_tail!(),
            ", n AS (SELECT pg_notify('bizmail_events', $19)) SELECT u.unread FROM u, n"
        ),
        &[
            &delivery_args(member_id, (message, notice, log), (now_ms, &head), &bounded)[..],
            &[tenant.as_str().into()],
        ]
        .concat(),
    )
    .await?;
    Ok(unread.map(|(unread,)| {
        (
            unread,
            Committed {
                tenants: vec![message.tenant_id],
            },
        )
    }))
}

/// The inbox a SQLite delivery files into: the member's first INBOX folder.
macro_rules! sqlite_inbox {
    () => {
        "(SELECT id FROM folders WHERE member_id = $1 AND special = 'inbox' ORDER BY id LIMIT 1)"
    };
}

/// On SQLite, a whole delivery to one member's INBOX inside `tx`, as one request to the
/// connection's thread: the message, the copy (with the folder's next UID and modseq, as
/// `folders::allocate_special` takes them), the folder, the unread count, the new-mail event
/// (`notice`, its count ignored, its `MailId` the copy's), the mail-log row. Every statement
/// writes only where the INBOX exists, so `None` (no INBOX yet) leaves nothing behind. Only
/// [`deliver_alone`] calls it, on SQLite.
///
/// The copy takes the message's id from `last_insert_rowid()`, so it comes right after the
/// message's `INSERT` (the later inserts move that id on).
async fn deliver_in_tx(
    tx: &mut Tx,
    message: &NewMessage,
    member_id: i64,
    (now_ms, notice): (i64, &NewMailNotice),
    log: &MailLogRow,
) -> StoreResult<Option<i64>> {
    let Some(head) = notice_head(notice) else {
        return Ok(None);
    };
    let bounded = log.bounded();
    let unread = sql::optional_in::<(i64,)>(
        &mut tx.conn(),
        concat!(
            "INSERT INTO messages (tenant_id, raw, size, from_header, to_header, subject, \
               date_header, message_id, summary, received_ms) SELECT $3, $7, $4, $8, $9, $10, \
               $11, $12, $13, $5 WHERE ",
            sqlite_inbox!(),
            " IS NOT NULL; \
             INSERT INTO mailbox (mail_id, tenant_id, member_id, message_id, received_ms, \
               folder_id, uid, modseq) SELECT $2, $3, $1, last_insert_rowid(), $5, id, uidnext, \
               modseq + 1 FROM folders WHERE id = ",
            sqlite_inbox!(),
            "; UPDATE folders SET uidnext = uidnext + 1, modseq = modseq + 1 WHERE id = ",
            sqlite_inbox!(),
            "; UPDATE members SET unread = unread + 1 WHERE id = $1 AND ",
            sqlite_inbox!(),
            " IS NOT NULL; \
             INSERT INTO events (tenant_id, at_ms, kind, payload) SELECT $3, $5, 'newmail', \
               $6 || CAST(unread AS TEXT) || '}' FROM members WHERE id = $1 AND ",
            sqlite_inbox!(),
            " IS NOT NULL; \
             INSERT INTO mail_log (tenant_id, at_ms, mailtype, status, sender, receiver, \
               subject) SELECT $3, $5, $14, $15, $16, $17, $18 WHERE ",
            sqlite_inbox!(),
            " IS NOT NULL; \
             SELECT unread FROM members WHERE id = $1 AND ",
            sqlite_inbox!(),
            " IS NOT NULL"
        ),
        &delivery_args(member_id, (message, notice, log), (now_ms, &head), &bounded),
    )
    .await?;
    if unread.is_some() {
        // The commit wakes the tenant's held polls and IMAP IDLE (see `Tx::wakes`).
        tx.wakes(message.tenant_id);
    }
    Ok(unread.map(|(unread,)| unread))
}

/// The arguments `$1` to `$18` both backends' whole-delivery statements take: the member, the
/// copy's MailId, the tenant, the size, the time, the notice's head, the message's fields, and
/// the mail-log row (`bounded`, its sender, receiver and subject cut to the log's limits).
fn delivery_args<'a>(
    member_id: i64,
    (message, notice, log): (&'a NewMessage, &'a NewMailNotice, &MailLogRow),
    (now_ms, head): (i64, &'a str),
    bounded: &'a (String, String, String),
) -> [sql::Arg<'a>; 18] {
    let size = i64::try_from(message.raw.len()).unwrap_or(i64::MAX);
    [
        member_id.into(),
        notice.mail_id.as_str().into(),
        message.tenant_id.into(),
        size.into(),
        now_ms.into(),
        head.into(),
        (&message.raw).into(),
        (&message.from_header).into(),
        (&message.to_header).into(),
        (&message.subject).into(),
        (&message.date_header).into(),
        (&message.message_id).into(),
        (&message.summary).into(),
        log.mailtype.into(),
        log.status.into(),
        (&bounded.0).into(),
        (&bounded.1).into(),
        (&bounded.2).into(),
    ]
}
