//! A member's folders and the copies in them, by UID: what IMAP, POP3 and the web mailbox's
//! folder views read and change. UIDs come from the folder's `uidnext`, which only grows; every
//! change of a copy takes the folder's next `modseq` (CONDSTORE).

use super::{Conn, StoreResult, Tx, sql};
use crate::mail::folders::{Entry, Folder, Special};

/// Gives a member the special folders they lack (INBOX, Sent, Drafts, Trash, Junk).
pub async fn ensure_defaults(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    member_id: i64,
) -> StoreResult<()> {
    for special in Special::ALL {
        sql::execute_in(
            conn,
            "INSERT INTO folders (tenant_id, member_id, name, special) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (member_id, name) DO NOTHING",
            &[
                tenant_id.into(),
                member_id.into(),
                special.default_name().into(),
                special.as_str().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// A member's folders, INBOX first, then by name.
pub async fn list(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<Vec<Folder>> {
    sql::all_in::<Folder>(
        conn,
        "SELECT id, name, special, uidnext, modseq, subscribed FROM folders WHERE member_id = $1 \
         ORDER BY CASE WHEN special = 'inbox' THEN 0 ELSE 1 END, name",
        &[member_id.into()],
    )
    .await
}

/// One of a member's folders by its name (exact; INBOX is matched by the caller).
pub async fn by_name(
    conn: &mut Conn<'_>,
    member_id: i64,
    name: &str,
) -> StoreResult<Option<Folder>> {
    sql::optional_in::<Folder>(
        conn,
        "SELECT id, name, special, uidnext, modseq, subscribed FROM folders WHERE member_id = $1 \
         AND name = $2",
        &[member_id.into(), name.into()],
    )
    .await
}

/// Makes a folder; a name taken already is a unique violation.
pub async fn create(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    member_id: i64,
    name: &str,
) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "INSERT INTO folders (tenant_id, member_id, name) VALUES ($1, $2, $3) RETURNING id",
        &[tenant_id.into(), member_id.into(), name.into()],
    )
    .await
}

/// Deletes a folder with the copies in it (and each message's bytes with its last copy).
pub async fn delete(conn: &mut Conn<'_>, folder_id: i64) -> StoreResult<()> {
    let messages = sql::column_in::<i64>(
        conn,
        "DELETE FROM mailbox WHERE folder_id = $1 RETURNING message_id",
        &[folder_id.into()],
    )
    .await?;
    for message_id in messages {
        super::mail::delete_if_orphaned(conn, message_id).await?;
    }
    sql::execute_in(
        conn,
        "DELETE FROM folders WHERE id = $1",
        &[folder_id.into()],
    )
    .await?;
    Ok(())
}

/// Renames a folder and every folder under it (`old/…` becomes `new/…`); UIDVALIDITY stays.
pub async fn rename(conn: &mut Conn<'_>, member_id: i64, old: &str, new: &str) -> StoreResult<u64> {
    let prefix = format!("{old}/");
    sql::execute_in(
        conn,
        "UPDATE folders SET name = $3 || substr(name, length($2) + 1) WHERE member_id = $1 AND \
         (name = $2 OR substr(name, 1, length($4)) = $4)",
        &[
            member_id.into(),
            old.into(),
            new.into(),
            prefix.as_str().into(),
        ],
    )
    .await
}

/// Subscribes to a folder or not.
pub async fn set_subscribed(conn: &mut Conn<'_>, folder_id: i64, on: bool) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE folders SET subscribed = $2 WHERE id = $1",
        &[folder_id.into(), on.into()],
    )
    .await?;
    Ok(())
}

/// Every copy in a folder, by UID.
pub async fn entries(conn: &mut Conn<'_>, folder_id: i64) -> StoreResult<Vec<Entry>> {
    sql::all_in::<Entry>(
        conn,
        "SELECT b.uid, b.seen, b.flags, b.keywords, b.modseq, m.size, b.received_ms, b.mail_id \
         FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE b.folder_id = $1 ORDER BY \
         b.uid",
        &[folder_id.into()],
    )
    .await
}

/// How many copies a folder holds now, and those changed or added since `modseq` (by UID): what
/// an IMAP session that knows the rest needs to catch up, without reading the whole folder.
pub async fn changed_since(
    conn: &mut Conn<'_>,
    folder_id: i64,
    modseq: i64,
) -> StoreResult<(i64, Vec<Entry>)> {
    let count = sql::one_in::<(i64,)>(
        conn,
        "SELECT COUNT(*) FROM mailbox WHERE folder_id = $1",
        &[folder_id.into()],
    )
    .await?
    .0;
    let changed = sql::all_in::<Entry>(
        conn,
        "SELECT b.uid, b.seen, b.flags, b.keywords, b.modseq, m.size, b.received_ms, b.mail_id \
         FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE b.folder_id = $1 AND \
         b.modseq > $2 ORDER BY b.uid",
        &[folder_id.into(), modseq.into()],
    )
    .await?;
    Ok((count, changed))
}

/// The folder's state now: `(uidnext, modseq)`, or `None` when it is gone.
pub async fn state(conn: &mut Conn<'_>, folder_id: i64) -> StoreResult<Option<(i64, i64)>> {
    sql::optional_in::<(i64, i64)>(
        conn,
        "SELECT uidnext, modseq FROM folders WHERE id = $1",
        &[folder_id.into()],
    )
    .await
}

/// `(messages, unseen, bytes)` of a folder.
pub async fn counts(conn: &mut Conn<'_>, folder_id: i64) -> StoreResult<(i64, i64, i64)> {
    sql::one_in::<(i64, i64, i64)>(
        conn,
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN b.seen THEN 0 ELSE 1 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(m.size), 0) AS BIGINT) FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE \
         b.folder_id = $1",
        &[folder_id.into()],
    )
    .await
}

/// The bytes of the copy `uid` of a folder.
pub async fn raw(conn: &mut Conn<'_>, folder_id: i64, uid: i64) -> StoreResult<Option<Vec<u8>>> {
    sql::scalar_in::<Vec<u8>>(
        conn,
        "SELECT m.raw FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE b.folder_id = \
         $1 AND b.uid = $2",
        &[folder_id.into(), uid.into()],
    )
    .await
}

/// Takes `n` UIDs and the next modseq of a folder: returns `(first uid, modseq)`.
pub async fn allocate(
    tx: &mut Tx,
    tenant_id: i64,
    folder_id: i64,
    n: i64,
) -> StoreResult<(i64, i64)> {
    note_change(tx, tenant_id).await?;
    sql::one_in::<(i64, i64)>(
        &mut tx.conn(),
        "UPDATE folders SET uidnext = uidnext + $2, modseq = modseq + 1 WHERE id = $1 RETURNING \
         uidnext - $2, modseq",
        &[folder_id.into(), n.into()],
    )
    .await
}

/// Takes the next UID and modseq of a member's special folder: `(folder, uid, modseq)`, or `None`
/// when the member has no such folder yet. One statement: delivery takes it for every copy.
pub async fn allocate_special(
    tx: &mut Tx,
    tenant_id: i64,
    member_id: i64,
    special: Special,
) -> StoreResult<Option<(i64, i64, i64)>> {
    note_change(tx, tenant_id).await?;
    sql::optional_in::<(i64, i64, i64)>(
        &mut tx.conn(),
        "UPDATE folders SET uidnext = uidnext + 1, modseq = modseq + 1 WHERE member_id = $1 AND \
         special = $2 RETURNING id, uidnext - 1, modseq",
        &[member_id.into(), special.as_str().into()],
    )
    .await
}

/// Takes the next modseq of a folder, for a change of its copies' flags or an expunge.
pub async fn next_modseq(tx: &mut Tx, tenant_id: i64, folder_id: i64) -> StoreResult<i64> {
    note_change(tx, tenant_id).await?;
    sql::value_in::<i64>(
        &mut tx.conn(),
        "UPDATE folders SET modseq = modseq + 1 WHERE id = $1 RETURNING modseq",
        &[folder_id.into()],
    )
    .await
}

/// Notes a change of a tenant's mail that IMAP IDLE waits for: woken on commit here, and on
/// PostgreSQL on every node (the same channel as `listen`'s events).
pub async fn note_change(tx: &mut Tx, tenant_id: i64) -> StoreResult<()> {
    if tx.wakes(tenant_id)
        && let Conn::Postgres(_) = tx.conn()
    {
        let payload = tenant_id.to_string();
        sql::execute_in(
            &mut tx.conn(),
            "SELECT pg_notify('bizmail_events', $1)",
            &[payload.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// Sets the flags of one copy; returns whether it was there.
pub async fn set_flags(
    conn: &mut Conn<'_>,
    folder_id: i64,
    entry: &Entry,
    modseq: i64,
) -> StoreResult<bool> {
    let n = sql::execute_in(
        conn,
        "UPDATE mailbox SET seen = $3, flags = $4, keywords = $5, modseq = $6 WHERE folder_id = \
         $1 AND uid = $2",
        &[
            folder_id.into(),
            entry.uid.into(),
            entry.seen.into(),
            entry.flags.into(),
            entry.keywords.as_str().into(),
            modseq.into(),
        ],
    )
    .await?;
    Ok(n > 0)
}

/// Removes the copy `uid` (and the message's bytes with its last copy); returns whether it was
/// there.
pub async fn expunge(conn: &mut Conn<'_>, folder_id: i64, uid: i64) -> StoreResult<bool> {
    let gone = sql::scalar_in::<i64>(
        conn,
        "DELETE FROM mailbox WHERE folder_id = $1 AND uid = $2 RETURNING message_id",
        &[folder_id.into(), uid.into()],
    )
    .await?;
    match gone {
        Some(message_id) => {
            super::mail::delete_if_orphaned(conn, message_id).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Copies the copy `uid` of one folder into another under `new_uid` (a new MailId, the same
/// bytes and flags); returns whether there was such a copy.
pub async fn copy(
    conn: &mut Conn<'_>,
    from: i64,
    uid: i64,
    to: i64,
    new_uid: i64,
    modseq: i64,
    mail_id: &str,
) -> StoreResult<bool> {
    let n = sql::execute_in(
        conn,
        "INSERT INTO mailbox (mail_id, tenant_id, member_id, message_id, seen, received_ms, \
         folder_id, uid, flags, keywords, modseq) SELECT CAST($6 AS TEXT), tenant_id, member_id, \
         message_id, seen, received_ms, CAST($3 AS BIGINT), CAST($4 AS BIGINT), flags, keywords, \
         CAST($5 AS BIGINT) FROM mailbox WHERE folder_id = $1 AND uid = $2",
        &[
            from.into(),
            uid.into(),
            to.into(),
            new_uid.into(),
            modseq.into(),
            mail_id.into(),
        ],
    )
    .await?;
    Ok(n > 0)
}

/// Moves the copy `uid` of one folder into another under `new_uid`, keeping its MailId (a link
/// to it stays good); returns whether there was such a copy.
pub async fn move_to(
    conn: &mut Conn<'_>,
    from: i64,
    uid: i64,
    to: i64,
    new_uid: i64,
    modseq: i64,
) -> StoreResult<bool> {
    let n = sql::execute_in(
        conn,
        "UPDATE mailbox SET folder_id = $3, uid = $4, modseq = $5 WHERE folder_id = $1 AND uid = \
         $2",
        &[
            from.into(),
            uid.into(),
            to.into(),
            new_uid.into(),
            modseq.into(),
        ],
    )
    .await?;
    Ok(n > 0)
}

/// Puts a stored message into a folder under `uid` with the given flags.
pub async fn insert(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    member_id: i64,
    message_id: i64,
    folder_id: i64,
    entry: &Entry,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO mailbox (mail_id, tenant_id, member_id, message_id, seen, received_ms, \
         folder_id, uid, flags, keywords, modseq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11)",
        &[
            entry.mail_id.as_str().into(),
            tenant_id.into(),
            member_id.into(),
            message_id.into(),
            entry.seen.into(),
            entry.received_ms.into(),
            folder_id.into(),
            entry.uid.into(),
            entry.flags.into(),
            entry.keywords.as_str().into(),
            entry.modseq.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Unread copies in a member's INBOX: what `mail/newcount` counts.
pub async fn inbox_unseen(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "SELECT COUNT(*) FROM mailbox b JOIN folders f ON f.id = b.folder_id WHERE f.member_id = \
         $1 AND f.special = 'inbox' AND NOT b.seen",
        &[member_id.into()],
    )
    .await
}

/// Gives the copy `mail_id` of a member's the next modseq of its folder, after a change made by
/// MailId (the web mailbox), so IMAP clients see it; returns whether there was such a copy.
pub async fn touch_copy(
    tx: &mut Tx,
    tenant_id: i64,
    member_id: i64,
    mail_id: &str,
) -> StoreResult<bool> {
    let modseq = sql::scalar_in::<i64>(
        &mut tx.conn(),
        "UPDATE folders SET modseq = modseq + 1 WHERE id = (SELECT folder_id FROM mailbox WHERE \
         member_id = $1 AND mail_id = $2) RETURNING modseq",
        &[member_id.into(), mail_id.into()],
    )
    .await?;
    let Some(modseq) = modseq else {
        return Ok(false);
    };
    note_change(tx, tenant_id).await?;
    sql::execute_in(
        &mut tx.conn(),
        "UPDATE mailbox SET modseq = $3 WHERE member_id = $1 AND mail_id = $2",
        &[member_id.into(), mail_id.into(), modseq.into()],
    )
    .await?;
    Ok(true)
}

/// Where a member's copy `mail_id` is: `(folder, uid, the folder's role)`.
pub async fn locate(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
) -> StoreResult<Option<(i64, i64, Option<String>)>> {
    sql::optional_in::<(i64, i64, Option<String>)>(
        conn,
        "SELECT b.folder_id, b.uid, f.special FROM mailbox b JOIN folders f ON f.id = b.folder_id \
         WHERE b.member_id = $1 AND b.mail_id = $2",
        &[member_id.into(), mail_id.into()],
    )
    .await
}

/// A page of a member's folder, newest first; with a non-empty `pattern` (a LIKE pattern over
/// lower-case text) only the copies whose sender, subject or summary match it.
pub async fn page(
    conn: &mut Conn<'_>,
    member_id: i64,
    folder_id: i64,
    pattern: &str,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<crate::mail::MailCopy>> {
    sql::all_in::<crate::mail::MailCopy>(
        conn,
        "SELECT b.mail_id, m.from_header, m.subject, m.summary, m.size, b.seen, b.received_ms \
         FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE b.member_id = $1 AND \
         b.folder_id = $2 AND ($3 = '' OR LOWER(m.subject) LIKE $3 ESCAPE '\\' OR \
         LOWER(m.from_header) LIKE $3 ESCAPE '\\' OR LOWER(m.summary) LIKE $3 ESCAPE '\\') \
         ORDER BY b.received_ms DESC, b.uid DESC, b.mail_id LIMIT $4 OFFSET $5",
        &[
            member_id.into(),
            folder_id.into(),
            pattern.into(),
            limit.into(),
            offset.into(),
        ],
    )
    .await
}
