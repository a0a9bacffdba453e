//! What the newer API's `log/*` answers from: the mail log (deliveries and submissions), the
//! login log (mailbox logins), and the operation log's rows by time.

use super::sql;
use super::{Conn, Store, StoreResult};

/// One row of the mail log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailLogRow {
    /// When, Unix milliseconds.
    pub at_ms: i64,
    /// 1 sent, 2 received.
    pub mailtype: i64,
    /// The `log/mail` status code.
    pub status: i64,
    /// The sender's address.
    pub sender: String,
    /// The recipient's address.
    pub receiver: String,
    /// The subject.
    pub subject: String,
}

/// Records one mail (inside the transaction that stored or queued it).
pub async fn insert_mail(conn: &mut Conn<'_>, tenant_id: i64, row: &MailLogRow) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO mail_log (tenant_id, at_ms, mailtype, status, sender, receiver, subject) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            tenant_id.into(),
            row.at_ms.into(),
            row.mailtype.into(),
            row.status.into(),
            (&row.sender).into(),
            (&row.receiver).into(),
            (&row.subject).into(),
        ],
    )
    .await?;
    Ok(())
}

/// Settles the "sending" row of a queued recipient (`(message, recipient, submitted at)`) with the
/// queue's outcome: 3 sent, 2 bounced, 4 failed.
pub async fn settle_sent(
    store: &Store,
    (message_id, recipient, at_ms): (i64, &str, i64),
    status: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "UPDATE mail_log SET status = $1 WHERE tenant_id = (SELECT tenant_id FROM          outbound_messages WHERE id = $2) AND mailtype = 1 AND status = 1 AND receiver = $3 AND          at_ms = $4",
        &[status.into(), message_id.into(), recipient.into(), at_ms.into()],
    )
    .await?;
    Ok(())
}

/// The tenant's mail log in `[from_ms, to_ms)`, oldest first, at most `limit` rows.
pub async fn mails(
    store: &Store,
    tenant_id: i64,
    (from_ms, to_ms): (i64, i64),
    limit: i64,
) -> StoreResult<Vec<MailLogRow>> {
    sql::all(
        store,
        "SELECT at_ms, mailtype, status, sender, receiver, subject FROM mail_log WHERE tenant_id = \
         $1 AND at_ms >= $2 AND at_ms < $3 ORDER BY at_ms, id LIMIT $4",
        &[tenant_id.into(), from_ms.into(), to_ms.into(), limit.into()],
    )
    .await
}

/// Records a mailbox login.
pub async fn insert_login(
    store: &Store,
    (tenant_id, member_id): (i64, i64),
    at_ms: i64,
    ip: &str,
    kind: i64,
) -> StoreResult<()> {
    sql::execute(
        store,
        "INSERT INTO login_log (tenant_id, member_id, at_ms, ip, kind) VALUES ($1, $2, $3, $4, $5)",
        &[
            tenant_id.into(),
            member_id.into(),
            at_ms.into(),
            ip.into(),
            kind.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A member's logins in `[from_ms, to_ms)`, oldest first: `(at_ms, ip, kind)`.
pub async fn logins(
    store: &Store,
    member_id: i64,
    (from_ms, to_ms): (i64, i64),
    limit: i64,
) -> StoreResult<Vec<(i64, String, i64)>> {
    sql::all(
        store,
        "SELECT at_ms, ip, kind FROM login_log WHERE member_id = $1 AND at_ms >= $2 AND at_ms < \
         $3 ORDER BY at_ms, id LIMIT $4",
        &[member_id.into(), from_ms.into(), to_ms.into(), limit.into()],
    )
    .await
}

/// The tenant's operation-log rows in `[from_ms, to_ms)` that succeeded: `(at_ms, admin,
/// endpoint, params)`.
pub async fn operations(
    store: &Store,
    tenant_id: i64,
    (from_ms, to_ms): (i64, i64),
    limit: i64,
) -> StoreResult<Vec<(i64, String, String, String)>> {
    sql::all(
        store,
        "SELECT at_ms, admin, endpoint, params FROM oplog WHERE tenant_id = $1 AND at_ms >= $2 \
         AND at_ms < $3 AND errcode = 0 ORDER BY at_ms, id LIMIT $4",
        &[tenant_id.into(), from_ms.into(), to_ms.into(), limit.into()],
    )
    .await
}

/// Deletes mail- and login-log rows older than `before_ms`.
pub async fn prune(store: &Store, before_ms: i64) -> StoreResult<u64> {
    let mut n = 0;
    for statement in [
        "DELETE FROM mail_log WHERE at_ms < $1",
        "DELETE FROM login_log WHERE at_ms < $1",
    ] {
        n += sql::execute(store, statement, &[before_ms.into()]).await?;
    }
    Ok(n)
}
