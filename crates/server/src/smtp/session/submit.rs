//! The submission side of a session (RFC 6409): `AUTH PLAIN` and `LOGIN` (RFC 4954) with the
//! member's password or a client password, only over TLS unless configured otherwise; MAIL FROM
//! only as one of the member's own addresses; recipients anywhere (hosted ones resolved at once,
//! others queued); the hourly allowance; and the hand-over to [`crate::mail::submit`].

use super::{Next, Session};
use crate::auth::Auth;
use crate::auth::member_login::Failed;
use crate::auth::member_login::Via;
use crate::mail::Owner;
use crate::mail::route::{self, Refusal};
use crate::mail::submit::{self, Submission, SubmitError};
use crate::outbound::Kick;
use crate::outbound::dkim::Signer;
use base64::Engine as _;
use bizmail_protocol::Address;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// What a submission listener gives each of its sessions.
#[derive(Clone)]
pub struct SubmitCtx {
    /// Checks passwords.
    pub auth: Auth,
    /// The login rate limits shared with the web mailbox, IMAP and POP3.
    pub limits: Arc<crate::http::Limiters>,
    /// Signs mail with the sender's domain key.
    pub signer: Signer,
    /// Wakes the outbound queue.
    pub kick: Kick,
    /// Allow AUTH without TLS (tests on loopback only).
    pub allow_plaintext: bool,
    /// Messages per member per hour.
    pub per_hour: u32,
    /// Recipients per message.
    pub max_recipients: usize,
}

/// A submission session's own state.
pub(super) struct SubmitState {
    pub(super) ctx: SubmitCtx,
    /// The member, once AUTH succeeded.
    pub(super) owner: Option<Owner>,
    /// Remote recipients of the current transaction, `(address, domain)`.
    pub(super) remote: Vec<(String, String)>,
}

impl SubmitState {
    pub(super) fn new(ctx: SubmitCtx) -> SubmitState {
        SubmitState {
            ctx,
            owner: None,
            remote: Vec::new(),
        }
    }
}

/// The `334` challenges of `AUTH LOGIN`: "Username:" and "Password:".
const LOGIN_USER: &str = "334 VXNlcm5hbWU6";
const LOGIN_PASSWORD: &str = "334 UGFzc3dvcmQ6";

fn decode(text: &str) -> Option<String> {
    let text = text.trim();
    if text == "=" {
        return Some(String::new());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    String::from_utf8(bytes).ok()
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// The EHLO line offering AUTH, when it may be used on this connection.
    pub(super) fn auth_offer(&self) -> &'static str {
        match &self.submit {
            Some(s) if self.tls_active || s.ctx.allow_plaintext => "250-AUTH PLAIN LOGIN\r\n",
            _ => "",
        }
    }

    /// `AUTH mechanism [initial-response]`.
    pub(super) async fn auth(&mut self, mechanism: u64, initial: String) -> std::io::Result<Next> {
        let Some(state) = &self.submit else {
            return self.bad("502 5.5.1 Command not implemented").await;
        };
        if state.owner.is_some() {
            return self.bad("503 5.5.1 Already authenticated").await;
        }
        if !self.tls_active && !state.ctx.allow_plaintext {
            return self
                .bad("538 5.7.11 Encryption required: use STARTTLS first")
                .await;
        }
        if self.sender.is_some() {
            return self
                .bad("503 5.5.1 AUTH not allowed during a mail transaction")
                .await;
        }
        let credentials = match mechanism {
            smtp_proto::AUTH_PLAIN => {
                let response = if initial.is_empty() {
                    self.reply("334 ").await?;
                    match self.challenge().await? {
                        Some(r) => r,
                        None => return self.bad("501 5.7.0 Authentication cancelled").await,
                    }
                } else {
                    initial
                };
                decode(&response).and_then(|plain| {
                    let mut parts = plain.splitn(3, '\0');
                    let (authz, user, password) = (parts.next()?, parts.next()?, parts.next()?);
                    // Acting for somebody else (a differing authorization identity) is refused.
                    (authz.is_empty() || authz.eq_ignore_ascii_case(user))
                        .then(|| (user.to_owned(), password.to_owned()))
                })
            }
            smtp_proto::AUTH_LOGIN => {
                let user = if initial.is_empty() {
                    self.reply(LOGIN_USER).await?;
                    match self.challenge().await? {
                        Some(r) => r,
                        None => return self.bad("501 5.7.0 Authentication cancelled").await,
                    }
                } else {
                    initial
                };
                self.reply(LOGIN_PASSWORD).await?;
                let Some(password) = self.challenge().await? else {
                    return self.bad("501 5.7.0 Authentication cancelled").await;
                };
                decode(&user).zip(decode(&password))
            }
            _ => return self.bad("504 5.5.4 Unrecognized authentication type").await,
        };
        let Some((user, password)) = credentials else {
            return self.bad("501 5.5.2 Cannot decode the response").await;
        };
        self.sign_in(user.trim(), &password).await
    }

    /// Reads one line answering a `334` challenge; `None` when the client cancels with `*`.
    async fn challenge(&mut self) -> std::io::Result<Option<String>> {
        let line = tokio::time::timeout(self.settings.command_timeout, self.read_line())
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        let super::Line::Complete(bytes) = line else {
            return Err(std::io::ErrorKind::InvalidData.into());
        };
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        Ok((text != "*").then_some(text))
    }

    async fn sign_in(&mut self, user: &str, password: &str) -> std::io::Result<Next> {
        let Some(state) = &self.submit else {
            return Ok(Next::Continue);
        };
        let limits = state.ctx.limits.clone();
        let auth = state.ctx.auth.clone();
        if limits.login_ip.check_key(&self.client_ip).is_err() {
            self.reply("454 4.7.0 Too many login attempts, try again later")
                .await?;
            return Ok(Next::Continue);
        }
        let allow = |account: &str| {
            limits
                .login_account
                .check_key(&account.to_lowercase())
                .is_ok()
        };
        match auth
            .client_login(user, password, (Via::Smtp, self.client_ip), allow)
            .await
        {
            Ok((tenant_id, member_id, address)) => {
                if let Some(state) = &mut self.submit {
                    state.owner = Some(Owner {
                        tenant_id,
                        member_id,
                        address,
                    });
                }
                self.reply("235 2.7.0 Authentication successful").await?;
                Ok(Next::Continue)
            }
            Err(Failed::Limited) => {
                self.reply("454 4.7.0 Too many login attempts, try again later")
                    .await?;
                Ok(Next::Continue)
            }
            Err(Failed::SecondFactor) => {
                self.bad("535 5.7.8 This mailbox requires a second factor: use a client password")
                    .await
            }
            Err(Failed::Unavailable(cause)) => {
                tracing::error!(%cause, "submission login failed");
                self.reply("454 4.7.0 Temporary authentication failure")
                    .await?;
                Ok(Next::Continue)
            }
            Err(_) => {
                self.bad("535 5.7.8 Authentication credentials invalid")
                    .await
            }
        }
    }

    /// MAIL FROM on submission: signed in, as one of the member's addresses, within the hour's
    /// allowance. `Ok(None)`: accepted, the caller records the sender.
    pub(super) async fn submit_sender(&mut self, from: &str) -> std::io::Result<Option<Next>> {
        let Some(state) = &self.submit else {
            return Ok(None);
        };
        let Some(owner) = state.owner.clone() else {
            return self
                .bad("530 5.7.0 Authentication required")
                .await
                .map(Some);
        };
        let (per_hour, store) = (state.ctx.per_hour, self.store.clone());
        match submit::may_send_as(&store, &owner, from).await {
            Ok(true) => {}
            Ok(false) => {
                self.reply("550 5.7.1 You may only send as your own address or an alias")
                    .await?;
                return Ok(Some(Next::Continue));
            }
            Err(e) => return self.unavailable(&e).await.map(Some),
        }
        match submit::within_hourly_limit(&store, owner.member_id, per_hour).await {
            Ok(true) => Ok(None),
            Ok(false) => {
                self.reply("450 4.7.1 Hourly sending limit reached, try again later")
                    .await?;
                Ok(Some(Next::Continue))
            }
            Err(e) => self.unavailable(&e).await.map(Some),
        }
    }

    async fn unavailable(&mut self, e: &crate::StoreError) -> std::io::Result<Next> {
        tracing::error!(error = %e, "submission: the store failed");
        self.reply("451 4.3.0 Temporary failure, try again later")
            .await?;
        Ok(Next::Continue)
    }

    /// RCPT TO on submission: a hosted address is resolved now (group permissions apply to the
    /// member as sender); any other domain is queued for the outbound worker.
    pub(super) async fn submit_recipient(&mut self, rcpt: &str) -> std::io::Result<Next> {
        let Some(state) = &self.submit else {
            return Ok(Next::Continue);
        };
        if self.recipients >= state.ctx.max_recipients {
            self.reply("452 4.5.3 Too many recipients").await?;
            return Ok(Next::Continue);
        }
        let sender = self.sender.as_ref().and_then(|s| s.address.clone());
        let quota = self.settings.mailbox_quota;
        match route::resolve(&self.store, sender.as_ref(), rcpt, quota).await {
            Ok(boxes) => {
                self.accept_mailboxes(boxes);
                self.reply("250 2.1.5 OK").await?;
            }
            Err(Refusal::NotHosted) => {
                let Some(address) = Address::parse(rcpt) else {
                    return self.refuse_recipient(Refusal::BadSyntax).await;
                };
                let entry = (address.as_str().to_owned(), address.domain().to_owned());
                self.recipients += 1;
                if let Some(state) = &mut self.submit
                    && !state.remote.contains(&entry)
                {
                    state.remote.push(entry);
                }
                self.reply("250 2.1.5 OK, queued for delivery").await?;
            }
            Err(refusal) => return self.refuse_recipient(refusal).await,
        }
        Ok(Next::Continue)
    }

    /// Whether the transaction has somewhere to go.
    pub(super) fn has_recipients(&self) -> bool {
        !self.mailboxes.is_empty() || self.submit.as_ref().is_some_and(|s| !s.remote.is_empty())
    }

    /// The end of DATA on submission: sends, and answers only after the commit.
    pub(super) async fn submit_data(&mut self, data: &[u8]) -> std::io::Result<()> {
        let Some(state) = &self.submit else {
            return Ok(());
        };
        let Some(owner) = state.owner.clone() else {
            return Ok(());
        };
        let (signer, kick) = (state.ctx.signer.clone(), state.ctx.kick.clone());
        let remote = state.remote.clone();
        let sender = self
            .sender
            .as_ref()
            .map(|s| s.raw.clone())
            .unwrap_or_default();
        let helo = self.helo.clone().unwrap_or_default();
        let submission = Submission {
            owner: &owner,
            sender: &sender,
            helo: &helo,
            client_ip: self.client_ip,
            hostname: &self.settings.hostname,
            local: &self.mailboxes,
            remote: &remote,
        };
        let result =
            submit::submit(&self.store, &self.hub, &signer, &kick, &submission, data).await;
        self.reset();
        match result {
            Ok(sent) => {
                tracing::debug!(
                    local = sent.delivered.len(),
                    queued = sent.queued,
                    "message submitted"
                );
                crate::telemetry::smtp_message("submitted");
                self.reply("250 2.0.0 OK: message accepted").await
            }
            Err(SubmitError::ForeignFrom) => {
                self.reply("550 5.7.1 The From header must be your own address or an alias")
                    .await
            }
            Err(SubmitError::Store(e)) => {
                tracing::error!(error = %e, "could not store a submitted message");
                crate::telemetry::smtp_message("failed");
                self.reply("451 4.3.0 Could not store the message, try again later")
                    .await
            }
        }
    }
}
