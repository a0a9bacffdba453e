//! Received mail: messages (stored once), mailbox copies (one per person), unread counts.

use super::{Conn, StoreResult, sql};
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

/// What one statement tells of a recipient address: the tenant hosting its domain (and whether
/// the operator disabled it), the address's own row if it has one, and for a member's address
/// the member's state and own quota.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecipientRow {
    /// The tenant hosting the domain.
    pub tenant_id: i64,
    /// Whether that tenant is disabled.
    pub disabled: bool,
    /// The address's tenant (`None`: no such address).
    pub address_tenant: Option<i64>,
    /// The address's kind (`directory::kind`).
    pub kind: Option<i64>,
    /// The member the address belongs to.
    pub member_id: Option<i64>,
    /// The group the address names.
    pub group_id: Option<i64>,
    /// Whether that member is enabled (`None`: no member of the domain's tenant).
    pub enabled: Option<bool>,
    /// That member's primary address.
    pub member_address: Option<String>,
    /// That member's own quota in bytes (`None`: the server's default).
    pub quota_bytes: Option<i64>,
}

/// Looks up a recipient in one statement rather than one per table: every RCPT asks, and on
/// SQLite each statement is a hand-off to the connection's thread and back. `None`: no tenant
/// hosts `domain`.
pub async fn recipient(
    conn: &mut Conn<'_>,
    domain: &str,
    address: &str,
) -> StoreResult<Option<RecipientRow>> {
    sql::optional_in(
        conn,
        "SELECT d.tenant_id, t.disabled, a.tenant_id AS address_tenant, a.kind, a.member_id, \
         a.group_id, m.enabled, m.address AS member_address, m.quota_bytes \
         FROM domains d JOIN tenants t ON t.id = d.tenant_id \
         LEFT JOIN addresses a ON a.address = $2 \
         LEFT JOIN members m ON m.id = a.member_id AND m.tenant_id = d.tenant_id \
         WHERE d.name = $1",
        &[domain.into(), address.into()],
    )
    .await
}

/// The tenant that hosts a mail domain.
pub async fn tenant_of_domain(conn: &mut Conn<'_>, domain: &str) -> StoreResult<Option<i64>> {
    sql::scalar_in::<i64>(
        conn,
        "SELECT tenant_id FROM domains WHERE name = $1",
        &[domain.into()],
    )
    .await
}

/// Stores a message's bytes and fields; returns its id.
pub async fn insert_message(conn: &mut Conn<'_>, m: &NewMessage, now_ms: i64) -> StoreResult<i64> {
    let size = i64::try_from(m.raw.len()).unwrap_or(i64::MAX);
    sql::value_in::<i64>(
        conn,
        "INSERT INTO messages (tenant_id, raw, size, from_header, to_header, subject, \
         date_header, message_id, summary, received_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10) RETURNING id",
        &[
            m.tenant_id.into(),
            (&m.raw).into(),
            size.into(),
            (&m.from_header).into(),
            (&m.to_header).into(),
            (&m.subject).into(),
            (&m.date_header).into(),
            (&m.message_id).into(),
            (&m.summary).into(),
            now_ms.into(),
        ],
    )
    .await
}

/// Where a new copy goes: its folder, UID and modseq (`mail::folders::slot`).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// The folder.
    pub folder_id: i64,
    /// The copy's UID in it.
    pub uid: i64,
    /// The copy's modseq.
    pub modseq: i64,
}

/// Puts a copy of a message in a member's folder, unread.
pub async fn insert_copy(
    conn: &mut Conn<'_>,
    mail_id: &str,
    tenant_id: i64,
    member_id: i64,
    message_id: i64,
    now_ms: i64,
    slot: Slot,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO mailbox (mail_id, tenant_id, member_id, message_id, received_ms, folder_id, \
         uid, modseq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            mail_id.into(),
            tenant_id.into(),
            member_id.into(),
            message_id.into(),
            now_ms.into(),
            slot.folder_id.into(),
            slot.uid.into(),
            slot.modseq.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Adds `delta` to a member's unread count; returns the new count.
pub async fn add_unread(conn: &mut Conn<'_>, member_id: i64, delta: i64) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "UPDATE members SET unread = unread + $1 WHERE id = $2 RETURNING unread",
        &[delta.into(), member_id.into()],
    )
    .await
}

/// Sets a member's unread count (after counting it again).
pub async fn set_unread(conn: &mut Conn<'_>, member_id: i64, unread: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "UPDATE members SET unread = $2 WHERE id = $1",
        &[member_id.into(), unread.into()],
    )
    .await?;
    Ok(())
}

/// A member's unread count.
pub async fn unread(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "SELECT unread FROM members WHERE id = $1",
        &[member_id.into()],
    )
    .await
}

/// A member's INBOX, newest first.
pub async fn copies(
    conn: &mut Conn<'_>,
    member_id: i64,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<MailCopy>> {
    sql::all_in::<MailCopy>(
        conn,
        "SELECT b.mail_id, m.from_header, m.subject, m.summary, m.size, b.seen, b.received_ms \
         FROM mailbox b JOIN messages m ON m.id = b.message_id JOIN folders f ON f.id = b.folder_id \
         WHERE b.member_id = $1 AND f.special = 'inbox' ORDER BY b.received_ms DESC, b.uid DESC, b.mail_id LIMIT $2 OFFSET $3",
        &[member_id.into(), limit.into(), offset.into()],
    )
    .await
}

/// The raw bytes behind a copy of a member's.
pub async fn raw_of(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
) -> StoreResult<Option<Vec<u8>>> {
    sql::scalar_in::<Vec<u8>>(
        conn,
        "SELECT m.raw FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE b.member_id = \
         $1 AND b.mail_id = $2",
        &[member_id.into(), mail_id.into()],
    )
    .await
}

/// The raw bytes behind a copy of a member's, and whether the copy has been read.
pub async fn copy_of(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
) -> StoreResult<Option<(Vec<u8>, bool)>> {
    sql::optional_in::<(Vec<u8>, bool)>(
        conn,
        "SELECT m.raw, b.seen FROM mailbox b JOIN messages m ON m.id = b.message_id WHERE \
         b.member_id = $1 AND b.mail_id = $2",
        &[member_id.into(), mail_id.into()],
    )
    .await
}

/// Sets a copy's seen flag; returns what it was, or `None` when the member has no such copy.
pub async fn set_seen(
    conn: &mut Conn<'_>,
    member_id: i64,
    mail_id: &str,
    seen: bool,
) -> StoreResult<Option<bool>> {
    let before = sql::scalar_in::<bool>(
        conn,
        "SELECT seen FROM mailbox WHERE member_id = $1 AND mail_id = $2",
        &[member_id.into(), mail_id.into()],
    )
    .await?;
    if before.is_some_and(|b| b != seen) {
        sql::execute_in(
            conn,
            "UPDATE mailbox SET seen = $1 WHERE member_id = $2 AND mail_id = $3",
            &[seen.into(), member_id.into(), mail_id.into()],
        )
        .await?;
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
    let deleted = sql::optional_in::<(bool, i64)>(
        conn,
        "DELETE FROM mailbox WHERE member_id = $1 AND mail_id = $2 RETURNING seen, message_id",
        &[member_id.into(), mail_id.into()],
    )
    .await?;
    let Some((seen, message_id)) = deleted else {
        return Ok(None);
    };
    delete_if_orphaned(conn, message_id).await?;
    Ok(Some(seen))
}

/// Deletes every copy in a member's mailbox (before the member goes), and each message's bytes
/// with its last copy.
pub async fn delete_mailbox(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<()> {
    let messages = sql::column_in::<i64>(
        conn,
        "DELETE FROM mailbox WHERE member_id = $1 RETURNING message_id",
        &[member_id.into()],
    )
    .await?;
    for message_id in messages {
        delete_if_orphaned(conn, message_id).await?;
    }
    Ok(())
}

/// Deletes a message whose last copy is gone.
pub(super) async fn delete_if_orphaned(conn: &mut Conn<'_>, message_id: i64) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "DELETE FROM messages WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM mailbox WHERE \
         message_id = $1)",
        &[message_id.into()],
    )
    .await?;
    Ok(())
}

/// How many messages (stored bytes, not copies) a tenant has.
pub async fn message_count(conn: &mut Conn<'_>, tenant_id: i64) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "SELECT COUNT(*) FROM messages WHERE tenant_id = $1",
        &[tenant_id.into()],
    )
    .await
}

/// Whether a member still exists and is enabled (mail clients' sessions end when not).
pub async fn member_active(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<bool> {
    let enabled = sql::scalar_in::<bool>(
        conn,
        "SELECT enabled FROM members WHERE id = $1",
        &[member_id.into()],
    )
    .await?;
    Ok(enabled == Some(true))
}

/// A member's own quota in bytes: `Some(None)` when they have none of their own, `None` when
/// there is no such member.
pub async fn own_quota(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<Option<Option<i64>>> {
    sql::optional_in::<(Option<i64>,)>(
        conn,
        "SELECT quota_bytes FROM members WHERE id = $1",
        &[member_id.into()],
    )
    .await
    .map(|row| row.map(|(q,)| q))
}

/// A member's stored bytes: every copy counts, as a mail client's quota sees it.
pub async fn used_bytes(conn: &mut Conn<'_>, member_id: i64) -> StoreResult<i64> {
    sql::value_in::<i64>(
        conn,
        "SELECT CAST(COALESCE(SUM(m.size), 0) AS BIGINT) FROM mailbox b JOIN messages m ON m.id \
         = b.message_id WHERE b.member_id = $1",
        &[member_id.into()],
    )
    .await
}

/// Sets a member's own quota in bytes (`None`: the server's default).
pub async fn set_quota(
    store: &super::Store,
    member_id: i64,
    bytes: Option<i64>,
) -> StoreResult<()> {
    sql::execute(
        store,
        "UPDATE members SET quota_bytes = $2 WHERE id = $1",
        &[member_id.into(), bytes.into()],
    )
    .await?;
    Ok(())
}

/// A member as the console's quota table shows them: own quota (`None`: the server's default)
/// and bytes stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuotaRow {
    /// The primary address.
    pub address: String,
    /// The display name.
    pub name: String,
    /// Their own quota in bytes; `None`: the server's default.
    pub quota_bytes: Option<i64>,
    /// Bytes stored, every copy counted.
    pub used_bytes: i64,
}

/// A page of a tenant's members by address with their quota and usage: those whose address or
/// name contains `filter` (any case; empty for all), `limit` after skipping `offset`.
pub async fn quota_page(
    store: &super::Store,
    tenant_id: i64,
    filter: &str,
    offset: i64,
    limit: i64,
) -> StoreResult<Vec<QuotaRow>> {
    let mut pattern = String::from("%");
    for c in filter.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    sql::all(
        store,
        "SELECT mb.address, mb.name, mb.quota_bytes, CAST(COALESCE((SELECT SUM(m.size) FROM \
         mailbox b JOIN messages m ON m.id = b.message_id WHERE b.member_id = mb.id), 0) AS \
         BIGINT) AS used_bytes FROM members mb WHERE mb.tenant_id = $1 AND ($2 = '' OR \
         LOWER(mb.address) LIKE $3 ESCAPE '\\' OR LOWER(mb.name) LIKE $3 ESCAPE '\\') ORDER BY \
         mb.address LIMIT $4 OFFSET $5",
        &[
            tenant_id.into(),
            filter.into(),
            pattern.as_str().into(),
            limit.into(),
            offset.into(),
        ],
    )
    .await
}
