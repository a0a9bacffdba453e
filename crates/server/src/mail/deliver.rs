//! Storing a received message: one transaction holds the message, a copy per mailbox, each
//! member's new unread count and a new-mail event per copy for `listen`. The SMTP receiver answers
//! 250 only after [`deliver`] returns, so a mail is stored (and visible everywhere) exactly when its
//! sender is told so (§9).

use super::folders::Special;
use super::route::Mailbox;
use crate::push::hub::Hub;
use crate::store::mail::{NewMessage, Slot};
use crate::store::{self, Store, StoreError};
use base64::Engine as _;
use bizmail_protocol::response::NewMailNotice;
use mail_parser::MessageParser;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Characters of text in a summary (§5).
const SUMMARY_CHARS: usize = 100;

/// Where a message came from, for its `Received:` header.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    /// The client's address.
    pub client_ip: IpAddr,
    /// This server's name.
    pub hostname: String,
    /// MAIL FROM, empty for the null sender.
    pub sender: String,
}

/// A stored copy, as the push will announce it.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The tenant of the mailbox.
    pub tenant_id: i64,
    /// The notice (`MailId`, `NewCount`, …).
    pub notice: NewMailNotice,
}

/// A fresh MailId: 18 random bytes as 24 URL-safe characters.
pub fn new_mail_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crate::auth::random_bytes::<18>())
}

/// Prepends a `Received:` header (RFC 5321 §4.4) to the message as received. Its `for` clause
/// names the recipient (the mailbox's address), and only when there is one: the copy stored for
/// several mailboxes must not tell each of them who else received it (Postfix does the same).
pub fn with_received_header(env: &Envelope, data: &[u8], id: &str, rcpt: Option<&str>) -> Vec<u8> {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now()).replace(" GMT", " +0000");
    let header = format!(
        "Received: from {helo} ([{ip}])\r\n\tby {host} (bizmail) with ESMTP id {id}{rcpt};\r\n\t{date}\r\n",
        // What a client said at EHLO goes into a header line: nothing that could end or fold it.
        helo = shown(&env.helo),
        ip = env.client_ip,
        host = env.hostname,
        rcpt = rcpt.map_or(String::new(), |r| format!("\r\n\tfor <{}>", shown(r))),
    );
    let mut out = Vec::with_capacity(header.len() + data.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Parses the fields bizmail shows and announces: From and To as written, the subject decoded
/// (RFC 2047 and legacy charsets), Date, Message-ID and a summary of the text.
pub fn parse_fields(tenant_id: i64, raw: Vec<u8>) -> NewMessage {
    let (from, to, subject, date, message_id, summary) = match MessageParser::default().parse(&raw)
    {
        Some(m) => {
            let header = |name: &str| m.header_raw(name).map(unfold).unwrap_or_default();
            let text = m.body_text(0).map(|t| summarize(&t)).unwrap_or_default();
            (
                header("From"),
                header("To"),
                shown(m.subject().unwrap_or_default()),
                header("Date"),
                shown(m.message_id().unwrap_or_default()),
                text,
            )
        }
        None => Default::default(),
    };
    NewMessage {
        tenant_id,
        raw,
        from_header: from,
        to_header: to,
        subject,
        date_header: date,
        message_id,
        summary,
    }
}

fn unfold(value: &str) -> String {
    shown(&value.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A field as it is stored and shown: without control characters. A header or an encoded word
/// may decode to NUL or an escape sequence (`=?utf-8?B?YQBi?=` is `a\0b`); PostgreSQL cannot
/// store NUL in text, and no page or notice should carry any of them. The raw message keeps
/// every byte.
fn shown(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// The first 100 characters of a text, whitespace collapsed: what [`unfold`] would give, cut,
/// but reading only as far as it needs (a body may be megabytes; this runs for every delivery).
pub fn summarize(text: &str) -> String {
    let mut out = String::new();
    let mut taken = 0;
    for (i, word) in text.split_whitespace().enumerate() {
        let space = (i > 0).then_some(' ');
        for c in space
            .into_iter()
            .chain(word.chars().filter(|c| !c.is_control()))
        {
            if taken == SUMMARY_CHARS {
                return out;
            }
            out.push(c);
            taken += 1;
        }
    }
    out
}

/// Stores `data` in every mailbox's INBOX in one transaction, wakes the tenants' polls, and
/// returns what the push announces. Only once this returns `Ok` is the message durable (the SMTP
/// `250`).
pub async fn deliver(
    store: &Store,
    hub: &Hub,
    env: &Envelope,
    mailboxes: &[Mailbox],
    data: &[u8],
) -> Result<Vec<Delivered>, StoreError> {
    deliver_to(store, hub, env, mailboxes, data, &|_| Special::Inbox).await
}

/// Which special folder a tenant's copies go to (Junk, for mail the checks distrust).
pub type FolderOf<'a> = &'a (dyn Fn(i64) -> Special + Sync);

/// [`deliver`] into the special folder `folder_of` names for each mailbox's tenant.
pub async fn deliver_to(
    store: &Store,
    hub: &Hub,
    env: &Envelope,
    mailboxes: &[Mailbox],
    data: &[u8],
    folder_of: FolderOf<'_>,
) -> Result<Vec<Delivered>, StoreError> {
    let only = match mailboxes {
        [one] => Some(one.address.as_str()),
        _ => None,
    };
    let raw = with_received_header(env, data, &new_mail_id(), only);
    // Parsed before the transaction: SQLite has one writer at a time, and it should not wait
    // while a message is parsed.
    let tenant_id = mailboxes.first().map_or(0, |m| m.tenant_id);
    let message = parse_fields(tenant_id, raw);
    if let [one] = mailboxes
        && folder_of(one.tenant_id) == Special::Inbox
        && let Some(delivered) = deliver_alone(store, hub, &message, one).await?
    {
        return Ok(vec![delivered]);
    }
    let mut tx = store.begin().await?;
    let out = deliver_in(&mut tx, &message, mailboxes, folder_of, store::now_ms()).await?;
    crate::push::publish(hub, tx.commit().await?);
    Ok(out)
}

/// Stores `message` (parsed by [`parse_fields`], headers already stamped; its tenant is set per
/// tenant here) for every mailbox inside the caller's transaction: the message once per tenant, a copy in each member's folder (`folder_of` its tenant), and for INBOX their unread counts
/// and a new-mail event per copy (mail filed in Junk is not announced: §5's notices are for the
/// inbox, as the unread count is). Submission uses it to deliver locally in the transaction that also queues
/// the remote recipients and files the Sent copy.
pub(crate) async fn deliver_in(
    tx: &mut store::Tx,
    parsed: &NewMessage,
    mailboxes: &[Mailbox],
    folder_of: FolderOf<'_>,
    now: i64,
) -> Result<Vec<Delivered>, StoreError> {
    let mut by_tenant: BTreeMap<i64, Vec<&Mailbox>> = BTreeMap::new();
    for m in mailboxes {
        by_tenant.entry(m.tenant_id).or_default().push(m);
    }
    let mut out = Vec::with_capacity(mailboxes.len());
    for (tenant_id, boxes) in by_tenant {
        let other_tenant;
        let message = if parsed.tenant_id == tenant_id {
            parsed
        } else {
            other_tenant = NewMessage {
                tenant_id,
                ..parsed.clone()
            };
            &other_tenant
        };
        let message_id = store::mail::insert_message(&mut tx.conn(), message, now).await?;
        let folder = folder_of(tenant_id);
        for m in boxes {
            let mail_id = new_mail_id();
            // Written first: it takes no lock, and the folder's row lock comes next.
            let log = received_log(message, m, folder, now);
            store::activity::insert_mail(&mut tx.conn(), tenant_id, &log).await?;
            let mut notice = notice_of(message, m, mail_id);
            if folder == Special::Inbox {
                let copy = store::inbox_fast::InboxCopy {
                    mail_id: &notice.mail_id,
                    tenant_id,
                    member_id: m.member_id,
                    message_id,
                    now_ms: now,
                };
                if let Some((_, unread)) =
                    store::inbox_fast::inbox_at_once(tx, &copy, &notice).await?
                {
                    notice.new_count = u64::try_from(unread).unwrap_or(0);
                    out.push(Delivered { tenant_id, notice });
                    continue;
                }
            }
            let (folder_id, uid, modseq) =
                super::folders::slot(tx, tenant_id, m.member_id, folder).await?;
            let slot = Slot {
                folder_id,
                uid,
                modseq,
            };
            let conn = &mut tx.conn();
            store::mail::insert_copy(
                conn,
                &notice.mail_id,
                tenant_id,
                m.member_id,
                message_id,
                now,
                slot,
            )
            .await?;
            if folder != Special::Inbox {
                continue;
            }
            let unread = store::mail::add_unread(conn, m.member_id, 1).await?;
            notice.new_count = u64::try_from(unread).unwrap_or(0);
            let payload = serde_json::to_string(&notice).unwrap_or_default();
            store::events::append_event(tx, tenant_id, now, "newmail", &payload).await?;
            out.push(Delivered { tenant_id, notice });
        }
    }
    Ok(out)
}

/// The newer API's `log/mail` row of a received copy: into the inbox (13) or Junk (12).
fn received_log(
    message: &NewMessage,
    m: &Mailbox,
    folder: Special,
    now: i64,
) -> store::activity::MailLogRow {
    store::activity::MailLogRow {
        at_ms: now,
        mailtype: 2,
        status: if folder == Special::Inbox { 13 } else { 12 },
        sender: bare_address(&message.from_header),
        receiver: m.address.clone(),
        subject: message.subject.clone(),
    }
}

/// The new-mail notice of a copy, its count still to be filled in.
fn notice_of(message: &NewMessage, m: &Mailbox, mail_id: String) -> NewMailNotice {
    NewMailNotice {
        user_name: m.address.clone(),
        mail_id,
        sender: message.from_header.clone(),
        receiver: m.address.clone(),
        subject: message.subject.clone(),
        summary: message.summary.clone(),
        new_count: 0,
    }
}

/// One copy for one member's INBOX as one request to the database (see `store::inbox_fast`);
/// `None` when the member has no INBOX yet and nothing was written.
async fn deliver_alone(
    store: &Store,
    hub: &Hub,
    message: &NewMessage,
    m: &Mailbox,
) -> Result<Option<Delivered>, StoreError> {
    let now = store::now_ms();
    let log = received_log(message, m, Special::Inbox, now);
    let mut notice = notice_of(message, m, new_mail_id());
    let Some((unread, committed)) =
        store::inbox_fast::deliver_alone(store, message, m.member_id, now, &notice, &log).await?
    else {
        return Ok(None);
    };
    crate::push::publish(hub, committed);
    notice.new_count = u64::try_from(unread).unwrap_or(0);
    Ok(Some(Delivered {
        tenant_id: m.tenant_id,
        notice,
    }))
}

/// Records a message refused at the end of DATA (a DMARC or spam verdict) in the mail log of
/// each tenant it was for, as "blocked" (11) per recipient. A failure to record is logged: the
/// refusal stands either way.
pub(crate) async fn log_refused(store: &Store, mailboxes: &[Mailbox], sender: &str, raw: &[u8]) {
    let subject = mail_parser::MessageParser::default()
        .parse_headers(raw)
        .and_then(|m| m.subject().map(str::to_owned))
        .unwrap_or_default();
    let now = store::now_ms();
    let result: Result<(), StoreError> = async {
        let mut tx = store.begin().await?;
        for m in mailboxes {
            let row = store::activity::MailLogRow {
                at_ms: now,
                mailtype: 2,
                status: 11,
                sender: sender.to_ascii_lowercase(),
                receiver: m.address.clone(),
                subject: subject.clone(),
            };
            store::activity::insert_mail(&mut tx.conn(), m.tenant_id, &row).await?;
        }
        tx.commit().await?.no_events();
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record a refused message");
    }
}

/// The address of a `From:` header as written (`"Name" <a@x>` → `a@x`).
fn bare_address(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(l), Some(r)) if l < r => from[l + 1..r].trim().to_ascii_lowercase(),
        _ => from.trim().to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_decoded() {
        // GB2312 subject in RFC 2047 base64 ("测试邮件"), quoted-printable body.
        let raw = b"From: \"Test\" <test@gzdev.com>\r\nTo: bob@gzdev.com\r\n\
Subject: =?GB2312?B?suLK1NPKvP4=?=\r\nMessage-ID: <1@x>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Hello =E4=BD=A0=E5=A5=BD\r\n"
            .to_vec();
        let m = parse_fields(1, raw);
        assert_eq!(m.from_header, "\"Test\" <test@gzdev.com>");
        assert_eq!(m.subject, "测试邮件");
        assert_eq!(m.summary, "Hello 你好");
        assert_eq!(m.message_id, "1@x");
    }

    #[test]
    fn summaries_are_100_characters_of_text() {
        let long = "字".repeat(150);
        assert_eq!(summarize(&long).chars().count(), 100);
        assert_eq!(summarize("  a \r\n\t b  "), "a b");
        // The same as collapsing the whole text first, control characters and all.
        for text in [
            "a \u{1}\u{2} b",
            "\u{7f}x  y\u{0}z",
            &"word ".repeat(40),
            "é\u{3000}ü",
        ] {
            let whole: String = unfold(text).chars().take(SUMMARY_CHARS).collect();
            assert_eq!(summarize(text), whole, "{text:?}");
        }
        let html = b"Subject: h\r\nContent-Type: text/html\r\n\r\n<html><body><p>Hi <b>there</b></p><script>x()</script></body></html>\r\n".to_vec();
        let m = parse_fields(1, html);
        assert!(m.summary.starts_with("Hi there"), "{}", m.summary);
    }

    #[test]
    fn received_header_comes_first() {
        let env = Envelope {
            helo: "client.example".into(),
            client_ip: "127.0.0.1".parse().unwrap(),
            hostname: "mx.example.com".into(),
            sender: "a@b.c".into(),
        };
        let out = with_received_header(&env, b"Subject: x\r\n\r\nbody", "ID1", Some("to@x.y"));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("Received: from client.example ([127.0.0.1])\r\n\tby mx.example.com (bizmail) with ESMTP id ID1\r\n\tfor <to@x.y>;\r\n\t"), "{text}");
        assert!(
            !text.contains("a@b.c"),
            "the sender is not the FOR clause: {text}"
        );
        assert!(text.ends_with("Subject: x\r\n\r\nbody"));
        let many = with_received_header(&env, b"\r\n", "ID2", None);
        assert!(!String::from_utf8(many).unwrap().contains("for <"));
    }
}
