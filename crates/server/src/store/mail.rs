//! Received mail: messages (stored once), mailbox copies (one per person), unread counts.

use super::{Conn, StoreResult, on_conn};
use crate::mail::MailCopy;

/// A parsed message, ready to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The tenant whose members receive it.
    pub tenant_id: i64,
    /// The bytes as received, `Received:` header included.
    pub raw: Vec<u8>,
    /// The From header as written.
    pub from_header: String,
    /// The To header as written.
    pub to_header: String,
    /// The subject, decoded to UTF-8.
    pub subject: String,
    /// The Date header as written.
    pub date_header: String,
    /// The Message-ID header.
    pub message_id: String,
    /// The first 100 characters of the text.
    pub summary: String,
}

/// The tenant that hosts a mail domain.
pub async fn tenant_of_domain(conn: &mut Conn<'_>, domain: &str) -> StoreResult<Option<i64>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT tenant_id FROM domains WHERE name = $1"
    )
    .bind(domain)
    .fetch_optional(c)
    .await)?)
}

/// Stores a message's bytes and fields; returns its id.
pub async fn insert_message(conn: &mut Conn<'_>, m: &NewMessage, now_ms: i64) -> StoreResult<i64> {
    let size = i64::try_from(m.raw.len()).unwrap_or(i64::MAX);
    Ok(on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(
        "INSERT INTO messages (tenant_id, raw, size, from_header, to_header, subject, date_header, \
         message_id, summary, received_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
    )
    .bind(m.tenant_id)
    .bind(&m.raw)
    .bind(size)
    .bind(&m.from_header)
    .bind(&m.to_header)
    .bind(&m.subject)
    .bind(&m.date_header)
    .bind(&m.message_id)
    .bind(&m.summary)
    .bind(now_ms)
    .fetch_one(c)
    .await
    })?)
}

/// Puts a copy of a message in a member's mailbox, unread.
pub async fn insert_copy(
    conn: &mut Conn<'_>,
    mail_id: &str,
    tenant_id: i64,
    member_id: i64,
    message_id: i64,
    now_ms: i64,
) -> StoreResult<()> {
    on_conn!(conn, |c| {
        sqlx::query(
        "INSERT INTO mailbox (mail_id, tenant_id, member_id, message_id, received_ms) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(mail_id)
    .bind(tenant_id)
    .bind(member_id)
    .bind(message_id)
    .bind(now_ms)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Adds `delta` to a member's unread count; returns the new count.
pub async fn add_unread(conn: &mut Conn<'_>, member_id: i64, delta: i64) -> StoreResult<i64> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "UPDATE members SET unread = unread + $1 WHERE id = $2 RETURNING unread"
    )
    .bind(delta)
    .bind(member_id)
    .fetch_one(c)
    .await)?)
}

/// A member's unread count.
pub async fn unread(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<i64> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT unread FROM members WHERE id = $1"
    )
    .bind(member_id)
    .fetch_one(c)
    .await)?)
}

/// A member's mailbox, newest first.
pub async fn copies(
    conn: &mut Conn<'_>,
    member_id: i64,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<MailCopy>> {
    Ok(on_conn!(conn, |c| sqlx::query_as::<_, MailCopy>(
        "SELECT b.mail_id, m.from_header, m.subject, m.summary, m.size, b.seen, b.received_ms \
         FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE b.member_id = $1 \
         ORDER BY b.received_ms DESC, b.mail_id LIMIT $2 OFFSET $3"
    )
    .bind(member_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(c)
    .await)?)
}

/// The raw bytes behind a copy of a member's.
pub async fn raw_of(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
) -> StoreResult<Option<Vec<u8>>> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, Vec<u8>>(
        "SELECT m.raw FROM mailbox b JOIN messages m ON m.id = b.message_id \
         WHERE b.member_id = $1 AND b.mail_id = $2"
    )
    .bind(member_id)
    .bind(mail_id)
    .fetch_optional(c)
    .await)?)
}

/// The raw bytes behind a copy of a member's, and whether the copy has been read.
pub async fn copy_of(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
) -> StoreResult<Option<(Vec<u8>, bool)>> {
    Ok(on_conn!(conn, |c| sqlx::query_as::<_, (Vec<u8>, bool)>(
        "SELECT m.raw, b.seen FROM mailbox b JOIN messages m ON m.id = b.message_id \
         WHERE b.member_id = $1 AND b.mail_id = $2"
    )
    .bind(member_id)
    .bind(mail_id)
    .fetch_optional(c)
    .await)?)
}

/// Sets a copy's seen flag; returns what it was, or `None` when the member has no such copy.
pub async fn set_seen(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
    seen: bool,
) -> StoreResult<Option<bool>> {
    let before = on_conn!(conn, |c| sqlx::query_scalar::<_, bool>(
        "SELECT seen FROM mailbox WHERE member_id = $1 AND mail_id = $2"
    )
    .bind(member_id)
    .bind(mail_id)
    .fetch_optional(c)
    .await)?;
    if before.is_some_and(|b| b != seen) {
        on_conn!(conn, |c| sqlx::query(
            "UPDATE mailbox SET seen = $1 WHERE member_id = $2 AND mail_id = $3"
        )
        .bind(seen)
        .bind(member_id)
        .bind(mail_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(before)
}

/// Deletes a copy, and the message's bytes with its last copy; returns whether the copy had been
/// seen, or `None` when there was no such copy.
pub async fn delete_copy(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
) -> StoreResult<Option<bool>> {
    let deleted = on_conn!(conn, |c| sqlx::query_as::<_, (bool, i64)>(
        "DELETE FROM mailbox WHERE member_id = $1 AND mail_id = $2 RETURNING seen, message_id"
    )
    .bind(member_id)
    .bind(mail_id)
    .fetch_optional(c)
    .await)?;
    let Some((seen, message_id)) = deleted else {
        return Ok(None);
    };
    delete_if_orphaned(conn, message_id).await?;
    Ok(Some(seen))
}

/// Deletes every copy in a member's mailbox (before the member goes), and each message's bytes
/// with its last copy.
pub async fn delete_mailbox(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<()> {
    let messages = on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "DELETE FROM mailbox WHERE member_id = $1 RETURNING message_id"
    )
    .bind(member_id)
    .fetch_all(c)
    .await)?;
    for message_id in messages {
        delete_if_orphaned(conn, message_id).await?;
    }
    Ok(())
}

/// Deletes a message whose last copy is gone.
async fn delete_if_orphaned(conn: &mut Conn<'_>, message_id: i64) -> StoreResult<()> {
    on_conn!(conn, |c| sqlx::query(
        "DELETE FROM messages WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM mailbox WHERE message_id = $1)"
    )
    .bind(message_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// How many messages (stored bytes, not copies) a tenant has.
pub async fn message_count(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<i64> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM messages WHERE tenant_id = $1"
    )
    .bind(tenant_id)
    .fetch_one(c)
    .await)?)
}
