//! Mail a member sends (submission): who they may send as, their hourly allowance, and the one
//! transaction that delivers the local copies, files the sender's copy in Sent and queues the
//! remote recipients. The submission's `250` is sent only after it commits.

use super::deliver::{self, Delivered, new_mail_id};
use super::folders::{Entry, Special};
use super::mailbox::Owner;
use super::route::Mailbox;
use crate::outbound::Kick;
use crate::outbound::dkim::Signer;
use crate::push::hub::Hub;
use crate::store::mail::NewMessage;
use crate::store::{self, Store, StoreError};
use bizmail_protocol::Address;
use mail_parser::MessageParser;
use std::net::IpAddr;

/// What sending a message did.
#[derive(Debug)]
pub struct Sent {
    /// The local copies (their notices went to `listen`).
    pub delivered: Vec<Delivered>,
    /// Remote recipients queued.
    pub queued: usize,
}

/// Why a message may not be sent as it is.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Its From header names an address that is not the sender's.
    #[error("the From header is not one of your addresses")]
    ForeignFrom,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `address` is the member's primary address or one of their aliases.
pub async fn may_send_as(store: &Store, owner: &Owner, address: &str) -> Result<bool, StoreError> {
    let Some(address) = Address::parse(address) else {
        return Ok(false);
    };
    let mut pooled = store.acquire().await?;
    let row = store::directory::find_address(&mut pooled.conn(), address.as_str()).await?;
    Ok(row.is_some_and(|r| r.tenant_id == owner.tenant_id && r.member_id == Some(owner.member_id)))
}

/// Whether the member has submitted fewer than `per_hour` messages in the last hour.
pub async fn within_hourly_limit(
    store: &Store,
    member_id: i64,
    per_hour: u32,
) -> Result<bool, StoreError> {
    let mut pooled = store.acquire().await?;
    let since = store::now_ms() - 3_600_000;
    let n = store::outbound::submitted_since(&mut pooled.conn(), member_id, since).await?;
    Ok(n < i64::from(per_hour))
}

/// What a submission session hands over at the end of DATA.
pub struct Submission<'a> {
    /// The signed-in member.
    pub owner: &'a Owner,
    /// MAIL FROM (one of the member's addresses).
    pub sender: &'a str,
    /// The client's name at EHLO and its address, for the `Received:` header.
    pub helo: &'a str,
    /// The client's address.
    pub client_ip: IpAddr,
    /// Our name.
    pub hostname: &'a str,
    /// Hosted recipients, resolved (groups expanded).
    pub local: &'a [Mailbox],
    /// Remote recipients as `(address, domain)`.
    pub remote: &'a [(String, String)],
}

/// Sends a submitted message: headers completed, DKIM-signed for the sender's domain, then in one
/// transaction the local copies, the Sent copy and the queue rows.
pub async fn submit(
    store: &Store,
    hub: &Hub,
    signer: &Signer,
    kick: &Kick,
    s: &Submission<'_>,
    data: &[u8],
) -> Result<Sent, SubmitError> {
    let parsed = MessageParser::default().parse_headers(data);
    if let Some(from) = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        && !may_send_as(store, s.owner, from).await?
    {
        return Err(SubmitError::ForeignFrom);
    }
    let domain = s.sender.rsplit_once('@').map_or("", |(_, d)| d);
    let mut message = Vec::with_capacity(data.len() + 256);
    // What a sending client often leaves out (RFC 6409 §8.2 lets the server add them).
    let date = httpdate::fmt_http_date(std::time::SystemTime::now()).replace(" GMT", " +0000");
    if parsed.as_ref().and_then(|m| m.date()).is_none() {
        message.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
    }
    if parsed.as_ref().and_then(|m| m.message_id()).is_none() {
        let id = new_mail_id();
        message.extend_from_slice(format!("Message-ID: <{id}@{domain}>\r\n").as_bytes());
    }
    message.extend_from_slice(data);
    let signed = signer.sign(domain, message).await?;
    let id = new_mail_id();
    let received = format!(
        "Received: from {helo} ([{ip}])\r\n\tby {host} (bizmail) with ESMTPSA id {id}; {date}\r\n",
        helo = s
            .helo
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>(),
        ip = s.client_ip,
        host = s.hostname,
    );
    let mut raw = received.into_bytes();
    raw.extend_from_slice(&signed);
    let now = store::now_ms();
    // Parsed once, before the transaction (which holds SQLite's one writer slot).
    let message = deliver::parse_fields(s.owner.tenant_id, raw);
    let mut tx = store.begin().await?;
    let delivered =
        deliver::deliver_in(&mut tx, &message, s.local, &|_| Special::Inbox, now).await?;
    file_sent(&mut tx, s.owner, &message, now).await?;
    if !s.remote.is_empty() {
        store::outbound::enqueue(
            &mut tx.conn(),
            s.owner.tenant_id,
            s.owner.member_id,
            s.sender,
            &message.raw,
            s.remote,
            now,
        )
        .await?;
    }
    store::outbound::record_submission(&mut tx.conn(), s.owner.member_id, now).await?;
    // The newer API's `log/mail`: one "sent" row per recipient, local ones delivered (3) and
    // remote ones sending (1) until the queue says more.
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_owned();
    let local = s.local.iter().map(|m| (m.address.as_str(), 3));
    let remote = s.remote.iter().map(|(a, _)| (a.as_str(), 1));
    for (receiver, status) in local.chain(remote) {
        let row = store::activity::MailLogRow {
            at_ms: now,
            mailtype: 1,
            status,
            sender: s.sender.to_owned(),
            receiver: receiver.to_owned(),
            subject: subject.clone(),
        };
        store::activity::insert_mail(&mut tx.conn(), s.owner.tenant_id, &row).await?;
    }
    crate::push::publish(hub, tx.commit().await?);
    if !s.remote.is_empty() {
        kick.kick();
    }
    Ok(Sent {
        delivered,
        queued: s.remote.len(),
    })
}

/// The sender's copy, seen, in their Sent folder.
async fn file_sent(
    tx: &mut store::Tx,
    owner: &Owner,
    message: &NewMessage,
    now: i64,
) -> Result<(), StoreError> {
    let message_id = store::mail::insert_message(&mut tx.conn(), message, now).await?;
    let (folder_id, uid, modseq) =
        super::folders::slot(tx, owner.tenant_id, owner.member_id, Special::Sent).await?;
    let mut entry = Entry::upload(now);
    entry.uid = uid;
    entry.modseq = modseq;
    entry.seen = true;
    entry.mail_id = new_mail_id();
    store::folders::insert(
        &mut tx.conn(),
        owner.tenant_id,
        owner.member_id,
        message_id,
        folder_id,
        &entry,
    )
    .await
}

/// Why the web mailbox could not send a message.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No recipient at all.
    #[error("no recipients")]
    NoRecipients,
    /// More recipients than a message may have.
    #[error("too many recipients")]
    TooManyRecipients,
    /// This recipient is not an address, unknown here, or may not be written to.
    #[error("recipient refused: {0}")]
    Refused(String),
    /// The member's hourly allowance is spent.
    #[error("hourly sending limit reached")]
    HourlyLimit,
    /// The message is larger than the server takes.
    #[error("message too large")]
    TooLarge,
    /// Not sendable as it is (a foreign From), or the store failed.
    #[error(transparent)]
    Submit(#[from] SubmitError),
}

impl From<StoreError> for SendError {
    fn from(e: StoreError) -> SendError {
        SendError::Submit(SubmitError::Store(e))
    }
}

/// Sends on a member's behalf from the web mailbox, by the rules of submission: the hourly
/// allowance, group permissions, the recipient limit, DKIM, the Sent copy, the queue.
#[derive(Clone)]
pub struct Sender {
    store: Store,
    hub: Hub,
    signer: Signer,
    kick: Kick,
    /// The default mailbox quota (a full local mailbox refuses, as over SMTP).
    pub quota: Option<i64>,
    /// Messages per member per hour.
    pub per_hour: u32,
    /// Recipients per message.
    pub max_recipients: usize,
    /// Largest message in bytes.
    pub max_bytes: usize,
    /// Our name, for the `Received:` header.
    pub hostname: String,
}

impl Sender {
    /// A sender over the store, waking `hub`'s polls and `kick`'s queue worker.
    pub(crate) fn new(
        store: Store,
        hub: Hub,
        signer: Signer,
        kick: Kick,
        c: &crate::Config,
    ) -> Sender {
        Sender {
            store,
            hub,
            signer,
            kick,
            quota: super::quota::default_bytes(c.mailbox_quota_mb),
            per_hour: c.submission_messages_per_hour,
            max_recipients: c.submission_max_recipients,
            max_bytes: c.smtp_max_message_bytes,
            hostname: c.smtp_hostname.clone(),
        }
    }

    /// Sends `data` (a whole message, From the member) to `recipients`.
    pub async fn send(
        &self,
        owner: &Owner,
        client_ip: IpAddr,
        recipients: &[String],
        data: &[u8],
    ) -> Result<Sent, SendError> {
        if recipients.is_empty() {
            return Err(SendError::NoRecipients);
        }
        if recipients.len() > self.max_recipients {
            return Err(SendError::TooManyRecipients);
        }
        if data.len() > self.max_bytes {
            return Err(SendError::TooLarge);
        }
        if !within_hourly_limit(&self.store, owner.member_id, self.per_hour).await? {
            return Err(SendError::HourlyLimit);
        }
        let me = Address::parse(&owner.address);
        let (mut local, mut remote): (Vec<Mailbox>, Vec<(String, String)>) = (vec![], vec![]);
        for rcpt in recipients {
            match super::route::resolve(&self.store, me.as_ref(), rcpt, self.quota).await {
                Ok(boxes) => {
                    for b in boxes {
                        if !local.iter().any(|m| m.member_id == b.member_id) {
                            local.push(b);
                        }
                    }
                }
                Err(super::route::Refusal::NotHosted) => match Address::parse(rcpt) {
                    Some(a) => {
                        let entry = (a.as_str().to_owned(), a.domain().to_owned());
                        if !remote.contains(&entry) {
                            remote.push(entry);
                        }
                    }
                    None => return Err(SendError::Refused(rcpt.clone())),
                },
                Err(super::route::Refusal::Unavailable(e)) => return Err(e.into()),
                Err(_) => return Err(SendError::Refused(rcpt.clone())),
            }
        }
        let submission = Submission {
            owner,
            sender: &owner.address,
            helo: "webmail",
            client_ip,
            hostname: &self.hostname,
            local: &local,
            remote: &remote,
        };
        Ok(submit(
            &self.store,
            &self.hub,
            &self.signer,
            &self.kick,
            &submission,
            data,
        )
        .await?)
    }
}
