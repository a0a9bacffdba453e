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

/// At most this many characters of a subject, sender or receiver are kept: anyone who can send
/// mail writes these rows.
const MAX_FIELD_CHARS: usize = 255;

fn bounded(text: &str) -> String {
    text.chars().take(MAX_FIELD_CHARS).collect()
}

impl MailLogRow {
    /// Sender, receiver and subject as they are stored: at most [`MAX_FIELD_CHARS`] each.
    pub fn bounded(&self) -> (String, String, String) {
        (
            bounded(&self.sender),
            bounded(&self.receiver),
            bounded(&self.subject),
        )
    }
}

/// Records one mail (inside the transaction that stored or queued it).
pub async fn insert_mail(conn: &mut Conn<'_>, tenant_id: i64, row: &MailLogRow) -> StoreResult<()> {
    let (sender, receiver, subject) = row.bounded();
    sql::execute_in(
        conn,
        "INSERT INTO mail_log (tenant_id, at_ms, mailtype, status, sender, receiver, subject) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            tenant_id.into(),
            row.at_ms.into(),
            row.mailtype.into(),
            row.status.into(),
            (&sender).into(),
            (&receiver).into(),
            (&subject).into(),
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

/// What a `log/mail` query narrows the mail log to; `None`: no narrowing.
#[derive(Debug, Clone, Default)]
pub struct MailFilter<'a> {
    /// 1 sent, 2 received.
    pub mailtype: Option<i64>,
    /// A sender or receiver address.
    pub user: Option<&'a str>,
    /// Text the subject contains.
    pub subject: Option<&'a str>,
}

/// `text` as a `LIKE` pattern that matches it literally anywhere (`\` escapes `%`, `_`, `\`).
fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The tenant's mail log in `[from_ms, to_ms)` narrowed by `filter`, oldest first, at most
/// `limit` rows.
pub async fn mails(
    store: &Store,
    tenant_id: i64,
    (from_ms, to_ms): (i64, i64),
    filter: &MailFilter<'_>,
    limit: i64,
) -> StoreResult<Vec<MailLogRow>> {
    let subject = filter.subject.map(contains_pattern);
    sql::all(
        store,
        "SELECT at_ms, mailtype, status, sender, receiver, subject FROM mail_log WHERE tenant_id = \
         $1 AND at_ms >= $2 AND at_ms < $3 AND ($4 = 0 OR mailtype = $4) AND ($5 = '' OR sender = \
         $5 OR receiver = $5) AND ($6 = '' OR subject LIKE $6 ESCAPE '\\') ORDER BY at_ms, id \
         LIMIT $7",
        &[
            tenant_id.into(),
            from_ms.into(),
            to_ms.into(),
            filter.mailtype.unwrap_or(0).into(),
            filter.user.unwrap_or_default().into(),
            subject.as_deref().unwrap_or_default().into(),
            limit.into(),
        ],
    )
    .await
}

/// Mails sent from and received by `domain` in `[from_ms, to_ms)`: `(sent, received)`.
pub async fn mail_counts(
    store: &Store,
    tenant_id: i64,
    (from_ms, to_ms): (i64, i64),
    domain: &str,
) -> StoreResult<(i64, i64)> {
    let at_domain = format!("%@{}", domain.replace(['%', '_', '\\'], ""));
    let counts: Option<(i64, i64)> = sql::optional(
        store,
        "SELECT COUNT(CASE WHEN mailtype = 1 AND sender LIKE $4 THEN 1 END), COUNT(CASE WHEN \
         mailtype = 2 AND receiver LIKE $4 THEN 1 END) FROM mail_log WHERE tenant_id = $1 AND \
         at_ms >= $2 AND at_ms < $3",
        &[
            tenant_id.into(),
            from_ms.into(),
            to_ms.into(),
            at_domain.as_str().into(),
        ],
    )
    .await?;
    Ok(counts.unwrap_or((0, 0)))
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

/// The calls `log/operation` counts as changes to members, departments and groups (its query
/// type 8), under both APIs' paths.
pub const DIRECTORY_WRITES: [&str; 20] = [
    "openapi/user/sync",
    "openapi/user/swapalias",
    "openapi/party/sync",
    "openapi/group/add",
    "openapi/group/delete",
    "openapi/group/addmember",
    "openapi/group/deletemember",
    "openapi/group/addallowlist",
    "openapi/group/delallowlist",
    "openapi/user/openwxtoken",
    "openapi/user/closewxtoken",
    "cgi-bin/user/create",
    "cgi-bin/user/update",
    "cgi-bin/user/delete",
    "cgi-bin/department/create",
    "cgi-bin/department/update",
    "cgi-bin/department/delete",
    "cgi-bin/group/create",
    "cgi-bin/group/update",
    "cgi-bin/group/delete",
];

/// Which operation-log rows a `log/operation` query wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operations {
    /// Every successful call.
    All,
    /// Changes to members, departments and groups ([`DIRECTORY_WRITES`], and the console's
    /// directory pages).
    Directory,
    /// Every other call of the APIs (interface calls; not the console's actions).
    Interface,
}

/// The tenant's successful calls of `which` kind in `[from_ms, to_ms)`, oldest first: `(at_ms,
/// admin, endpoint, params)`.
pub async fn operations(
    store: &Store,
    tenant_id: i64,
    (from_ms, to_ms): (i64, i64),
    which: Operations,
    limit: i64,
) -> StoreResult<Vec<(i64, String, String, String)>> {
    static SQL: std::sync::LazyLock<[String; 3]> = std::sync::LazyLock::new(|| {
        // Built once from the constant list above: safe SQL that lives as long as the program.
        let list: Vec<String> = DIRECTORY_WRITES.iter().map(|e| format!("'{e}'")).collect();
        let list = list.join(", ");
        let base = "SELECT at_ms, admin, endpoint, params FROM oplog WHERE tenant_id = $1 AND \
                    at_ms >= $2 AND at_ms < $3 AND errcode = 0";
        let order = "ORDER BY at_ms, id LIMIT $4";
        [
            format!("{base} {order}"),
            // The console's directory pages change the directory too; its other pages are the
            // admin's own actions, not interface calls.
            format!(
                "{base} AND (endpoint IN ({list}) OR endpoint LIKE 'console/directory/%') {order}"
            ),
            format!(
                "{base} AND endpoint NOT IN ({list}) AND endpoint NOT LIKE 'console/%' {order}"
            ),
        ]
    });
    let sql = match which {
        Operations::All => &SQL[0],
        Operations::Directory => &SQL[1],
        Operations::Interface => &SQL[2],
    };
    sql::all(
        store,
        sql.as_str(),
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
