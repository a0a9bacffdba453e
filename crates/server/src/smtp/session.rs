//! One ESMTP conversation (RFC 5321): EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT, with
//! PIPELINING, SIZE, 8BITMIME, SMTPUTF8 and ENHANCEDSTATUSCODES advertised, and STARTTLS when a
//! certificate is configured. On STARTTLS the session hands its stream back ([`End::StartTls`]);
//! whatever the client pipelined after the command is thrown away with the buffer (a client must
//! not be able to inject commands into the encrypted session), and the caller runs a new session
//! over TLS that starts from scratch (RFC 3207 §4.2).

mod sandbox;
mod submit;

pub use submit::SubmitCtx;

use super::SmtpSettings;
use super::checks::Disposition;
use super::data::{Data, read_data};
use crate::mail::deliver::{self, Envelope};
use crate::mail::folders::Special;
use crate::mail::route::{self, Mailbox};
use crate::push::hub::Hub;
use crate::store::Store;
use bizmail_protocol::Address;
use smtp_proto::{Error as ParseError, Request};
use std::net::IpAddr;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, ReadHalf,
    WriteHalf,
};

/// A command line as read.
enum Line {
    /// A complete line, LF included.
    Complete(Vec<u8>),
    /// A line longer than the limit (discarded up to its LF).
    TooLong,
    /// The client closed the connection.
    Closed,
}

/// How a session ended.
pub enum End<S> {
    /// QUIT.
    Quit,
    /// The client went away.
    Closed,
    /// We closed it: timeout, too many errors, or an I/O failure.
    Dropped,
    /// The client asked for TLS and was told to go ahead: the stream, for the handshake.
    StartTls(S),
}

/// The state of one SMTP session over `S`.
pub struct Session<S> {
    reader: BufReader<ReadHalf<S>>,
    writer: BufWriter<WriteHalf<S>>,
    settings: SmtpSettings,
    store: Store,
    client_ip: IpAddr,
    helo: Option<String>,
    sender: Option<Sender>,
    mailboxes: Vec<Mailbox>,
    recipients: usize,
    bad_commands: u32,
    rejected_recipients: u32,
    tls_active: bool,
    hub: Hub,
    /// What holds this connection's place in the listener's limits; let go at QUIT, before the
    /// `221`, so a client that reconnects as soon as it reads it finds its place free.
    place: Option<Place>,
    /// Set on a submission listener: AUTH, senders and remote recipients.
    submit: Option<Box<submit::SubmitState>>,
}

/// A connection's place in the listener's limits (its slots), shared with the listener.
pub(crate) type Place = std::sync::Arc<std::sync::Mutex<Option<Box<dyn Send>>>>;

/// What one command asks of the session loop.
enum Next {
    Continue,
    End(Ended),
}

/// Endings decided inside a command.
enum Ended {
    Quit,
    Closed,
    Dropped,
    StartTls,
}

/// MAIL FROM of the current transaction.
struct Sender {
    /// As given (empty for `<>`).
    raw: String,
    /// Parsed, for group permissions; `None` for `<>` or an address bizmail cannot parse.
    address: Option<Address>,
}

/// Whether a `MAIL FROM` line declares a `SIZE=` too large for any number: the parser
/// (smtp-proto) saturates and then wraps such a value to a small one, which would pass the limit.
fn declared_size_overflows(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line).to_ascii_uppercase();
    text.split_ascii_whitespace()
        .filter_map(|p| p.strip_prefix("SIZE="))
        .any(|digits| digits.bytes().all(|b| b.is_ascii_digit()) && digits.parse::<u64>().is_err())
}

/// The SMTP reply line (without CRLF) for a refused recipient; a store failure is logged here.
fn refusal_reply(refusal: route::Refusal) -> &'static str {
    use route::Refusal;
    match refusal {
        Refusal::BadSyntax => "501 5.1.3 Bad recipient address syntax",
        Refusal::NotHosted => "550 5.7.1 Relaying denied: this server does not host that domain",
        Refusal::Unknown => "550 5.1.1 No such user here",
        Refusal::NotPermitted => "550 5.7.1 You may not send to this group",
        Refusal::Full => "452 4.2.2 Mailbox full, try again later",
        Refusal::Unavailable(e) => {
            tracing::error!(error = %e, "routing a recipient failed");
            "451 4.3.0 Temporary failure, try again later"
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// A session on `stream` from `client_ip`, storing into `store` and waking `hub`'s polls.
    /// Outside the crate, sessions come from [`crate::Running::smtp_session`].
    pub(crate) fn new(
        stream: S,
        client_ip: IpAddr,
        settings: SmtpSettings,
        store: Store,
        hub: Hub,
    ) -> Session<S> {
        let (r, w) = tokio::io::split(stream);
        Session {
            reader: BufReader::new(r),
            writer: BufWriter::new(w),
            settings,
            store,
            client_ip,
            helo: None,
            sender: None,
            mailboxes: Vec::new(),
            recipients: 0,
            bad_commands: 0,
            rejected_recipients: 0,
            tls_active: false,
            hub,
            place: None,
            submit: None,
        }
    }

    /// Makes this a submission session (RFC 6409): AUTH first, then mail to anywhere.
    pub(crate) fn submitting(mut self, ctx: SubmitCtx) -> Self {
        self.submit = Some(Box::new(submit::SubmitState::new(ctx)));
        self
    }

    /// Marks the stream as encrypted already (implicit TLS): AUTH is offered, STARTTLS is not.
    pub(crate) fn encrypted(mut self) -> Self {
        self.tls_active = true;
        self
    }

    /// Lets go of `place` at QUIT.
    pub(crate) fn holding(mut self, place: Place) -> Self {
        self.place = Some(place);
        self
    }

    /// Runs the conversation to its end, greeting first.
    pub async fn run(mut self) -> End<S> {
        let greeting = format!("220 {} ESMTP bizmail ready", self.settings.hostname);
        if self.reply(&greeting).await.is_err() {
            return End::Dropped;
        }
        self.serve().await
    }

    /// Runs the conversation after a TLS handshake: no greeting, STARTTLS no longer offered.
    pub async fn run_after_tls(mut self) -> End<S> {
        self.tls_active = true;
        self.serve().await
    }

    async fn serve(mut self) -> End<S> {
        loop {
            let line =
                match tokio::time::timeout(self.settings.command_timeout, self.read_line()).await {
                    Err(_) => {
                        let _ = self
                            .reply("421 4.4.2 Timeout waiting for a command, closing")
                            .await;
                        return End::Dropped;
                    }
                    Ok(Err(_)) => return End::Dropped,
                    Ok(Ok(Line::Closed)) => return End::Closed,
                    Ok(Ok(Line::TooLong)) => {
                        if self.bad("500 5.5.2 Line too long").await.is_err() {
                            return End::Dropped;
                        }
                        continue;
                    }
                    Ok(Ok(Line::Complete(l))) => l,
                };
            match self.command(&line).await {
                Ok(Next::Continue) => {}
                Ok(Next::End(Ended::Quit)) => return End::Quit,
                Ok(Next::End(Ended::Closed)) => return End::Closed,
                Ok(Next::End(Ended::Dropped)) | Err(_) => return End::Dropped,
                Ok(Next::End(Ended::StartTls)) => {
                    let reader = self.reader.into_inner();
                    let writer = self.writer.into_inner();
                    return End::StartTls(reader.unsplit(writer));
                }
            }
        }
    }

    /// Handles one command line.
    async fn command(&mut self, line: &[u8]) -> std::io::Result<Next> {
        let request = match Request::parse(&mut line.iter()) {
            Ok(r) => r.into_owned(),
            Err(e) => {
                let msg = match e {
                    ParseError::UnknownCommand => "500 5.5.1 Command unrecognized",
                    ParseError::InvalidSenderAddress => "501 5.1.7 Bad sender address syntax",
                    ParseError::InvalidRecipientAddress => "501 5.1.3 Bad recipient address syntax",
                    ParseError::UnsupportedParameter { .. } => "555 5.5.4 Unsupported parameter",
                    _ => "501 5.5.4 Syntax error",
                };
                return self.bad(msg).await;
            }
        };
        match request {
            Request::Ehlo { host } => {
                self.reset();
                self.helo = Some(host);
                let starttls = if self.settings.tls.is_some() && !self.tls_active {
                    "250-STARTTLS\r\n"
                } else {
                    ""
                };
                let auth = self.auth_offer();
                let text = format!(
                    "250-{}\r\n250-PIPELINING\r\n250-SIZE {}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n{starttls}{auth}250 ENHANCEDSTATUSCODES",
                    self.settings.hostname, self.settings.max_message_bytes
                );
                self.reply(&text).await?;
            }
            Request::Helo { host } | Request::Lhlo { host } => {
                self.reset();
                self.helo = Some(host);
                let text = format!("250 {}", self.settings.hostname);
                self.reply(&text).await?;
            }
            Request::Mail { from } => {
                if declared_size_overflows(line) {
                    self.reply("552 5.3.4 Message size exceeds the limit")
                        .await?;
                    return Ok(Next::Continue);
                }
                if self.helo.is_none() {
                    return self.bad("503 5.5.1 Say EHLO first").await;
                }
                if self.sender.is_some() {
                    return self.bad("503 5.5.1 Nested MAIL command").await;
                }
                if from.size > self.settings.max_message_bytes {
                    self.reply("552 5.3.4 Message size exceeds the limit")
                        .await?;
                    return Ok(Next::Continue);
                }
                if let Some(refused) = self.submit_sender(&from.address).await? {
                    return Ok(refused);
                }
                self.sender = Some(Sender {
                    address: Address::parse(&from.address),
                    raw: from.address,
                });
                self.reply("250 2.1.0 OK").await?;
            }
            Request::Rcpt { to } => {
                let Some(sender) = &self.sender else {
                    return self.bad("503 5.5.1 Need MAIL before RCPT").await;
                };
                if self.submit.is_some() {
                    return self.submit_recipient(&to.address).await;
                }
                if self.recipients >= self.settings.max_recipients {
                    self.reply("452 4.5.3 Too many recipients").await?;
                    return Ok(Next::Continue);
                }
                match route::resolve(
                    &self.store,
                    sender.address.as_ref(),
                    &to.address,
                    self.settings.mailbox_quota,
                )
                .await
                {
                    Ok(boxes) => {
                        if let Some(next) = self.sandbox_fault(&boxes, &to.address).await? {
                            return Ok(next);
                        }
                        self.accept_mailboxes(boxes);
                        self.reply("250 2.1.5 OK").await?;
                    }
                    Err(refusal) => return self.refuse_recipient(refusal).await,
                }
            }
            Request::Data => return self.data().await,
            Request::Auth {
                mechanism,
                initial_response,
            } => return self.auth(mechanism, initial_response).await,
            Request::Rset => {
                self.reset();
                self.reply("250 2.0.0 OK").await?;
            }
            Request::Noop { .. } => self.reply("250 2.0.0 OK").await?,
            Request::Vrfy { .. } => {
                self.reply("252 2.5.0 Cannot VRFY user, but will accept message")
                    .await?
            }
            Request::Quit => {
                if let Some(place) = self.place.take()
                    && let Ok(mut held) = place.lock()
                {
                    held.take();
                }
                self.reply(&format!(
                    "221 2.0.0 {} closing connection",
                    self.settings.hostname
                ))
                .await?;
                return Ok(Next::End(Ended::Quit));
            }
            Request::StartTls if self.tls_active => {
                return self.bad("503 5.5.1 TLS already active").await;
            }
            Request::StartTls if self.settings.tls.is_some() => {
                self.reply("220 2.0.0 Ready to start TLS").await?;
                self.writer.flush().await?;
                return Ok(Next::End(Ended::StartTls));
            }
            Request::StartTls => self.reply("454 4.7.0 TLS not available").await?,
            _ => return self.bad("502 5.5.1 Command not implemented").await,
        }
        Ok(Next::Continue)
    }

    /// DATA: reads the message (dot-unstuffed) under the size limit and the DATA timeout, stores it,
    /// and only then answers 250.
    async fn data(&mut self) -> std::io::Result<Next> {
        if self.sender.is_none() {
            return self.bad("503 5.5.1 Need MAIL before DATA").await;
        }
        if !self.has_recipients() {
            return self.bad("554 5.5.1 No valid recipients").await;
        }
        self.reply("354 Start mail input; end with <CRLF>.<CRLF>")
            .await?;
        let limit = self.settings.max_message_bytes;
        let read = tokio::time::timeout(
            self.settings.data_timeout,
            read_data(&mut self.reader, limit),
        )
        .await;
        let outcome = match read {
            Err(_) => {
                let _ = self.reply("421 4.4.2 Timeout during DATA, closing").await;
                return Ok(Next::End(Ended::Dropped));
            }
            Ok(Err(e)) => return Err(e),
            Ok(Ok(o)) => o,
        };
        let data = match outcome {
            Data::Closed => return Ok(Next::End(Ended::Closed)),
            Data::TooBig => {
                crate::telemetry::smtp_message("too_big");
                self.reset();
                self.reply("552 5.3.4 Message size exceeds the limit")
                    .await?;
                return Ok(Next::Continue);
            }
            Data::Complete(d) => d,
        };
        if self.submit.is_some() {
            self.submit_data(&data).await?;
            return Ok(Next::Continue);
        }
        let env = Envelope {
            helo: self.helo.clone().unwrap_or_default(),
            client_ip: self.client_ip,
            hostname: self.settings.hostname.clone(),
            sender: self
                .sender
                .as_ref()
                .map(|s| s.raw.clone())
                .unwrap_or_default(),
        };
        let (data, disposition) = super::checks::apply(
            self.settings.checks.as_deref(),
            self.client_ip,
            &env.helo,
            &env.sender,
            data,
        )
        .await;
        let all_junk = match disposition {
            Disposition::Reject(reply) => return self.refuse_message(reply, &data).await,
            Disposition::Junk => true,
            Disposition::Deliver => false,
        };
        let spam = self.settings.spam.clone();
        let (data, spam_junk) = super::checks::spam(
            spam.as_deref(),
            &self.store,
            &self.mailboxes,
            self.client_ip,
            &env.helo,
            &env.sender,
            data,
        )
        .await;
        let junk = match spam_junk {
            Ok(tenants) => tenants,
            Err(reply) => return self.refuse_message(reply, &data).await,
        };
        let folder_of = |tenant| {
            if all_junk || junk.contains(&tenant) {
                Special::Junk
            } else {
                Special::Inbox
            }
        };
        let (store, hub, boxes) = (&self.store, &self.hub, &self.mailboxes);
        let result = deliver::deliver_to(store, hub, &env, boxes, &data, &folder_of).await;
        self.reset();
        match result {
            Ok(copies) => {
                tracing::debug!(copies = copies.len(), "message stored");
                crate::telemetry::smtp_message("accepted");
                self.reply("250 2.0.0 OK: message stored").await?;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store a message");
                crate::telemetry::smtp_message("failed");
                self.reply("451 4.3.0 Could not store the message, try again later")
                    .await?;
            }
        }
        Ok(Next::Continue)
    }

    /// Counts an accepted recipient and adds its mailboxes: one copy per person, however many of
    /// their addresses were named.
    fn accept_mailboxes(&mut self, boxes: Vec<Mailbox>) {
        self.recipients += 1;
        for b in boxes {
            if !self.mailboxes.iter().any(|m| m.member_id == b.member_id) {
                self.mailboxes.push(b);
            }
        }
    }

    /// Refuses the message at the end of DATA (a policy or a spam verdict).
    async fn refuse_message(&mut self, reply: &str, data: &[u8]) -> std::io::Result<Next> {
        let sender = self
            .sender
            .as_ref()
            .map(|s| s.raw.clone())
            .unwrap_or_default();
        deliver::log_refused(&self.store, &self.mailboxes, &sender, data).await;
        self.reset();
        crate::telemetry::smtp_message("rejected");
        self.reply(reply).await?;
        Ok(Next::Continue)
    }

    fn reset(&mut self) {
        self.sender = None;
        self.mailboxes.clear();
        self.recipients = 0;
        if let Some(s) = &mut self.submit {
            s.remote.clear();
        }
    }

    /// Refuses a recipient: slower with each refusal after the second (a tarpit), and the session
    /// is closed after too many, so guessing addresses to learn the directory gets nowhere.
    async fn refuse_recipient(&mut self, refusal: route::Refusal) -> std::io::Result<Next> {
        self.rejected_recipients += 1;
        if self.rejected_recipients > self.settings.max_rejected_recipients {
            self.reply("421 4.7.0 Too many invalid recipients, closing connection")
                .await?;
            return Ok(Next::End(Ended::Dropped));
        }
        let step = self.rejected_recipients.saturating_sub(2).min(8);
        if step > 0 {
            // Replies already owed go out first, so the wait is not spent holding them.
            self.flush().await?;
            tokio::time::sleep(self.settings.rejected_recipient_delay * step).await;
        }
        self.reply(refusal_reply(refusal)).await?;
        Ok(Next::Continue)
    }

    /// Answers a bad command, and closes the session after too many.
    async fn bad(&mut self, text: &str) -> std::io::Result<Next> {
        self.bad_commands += 1;
        if self.bad_commands > self.settings.max_bad_commands {
            self.reply("421 4.7.0 Too many errors, closing connection")
                .await?;
            return Ok(Next::End(Ended::Dropped));
        }
        self.reply(text).await?;
        Ok(Next::Continue)
    }

    /// Writes a reply; flushes only when no pipelined command is waiting, so a pipelined batch is
    /// answered in one write. A client that does not read its replies (its receive window full)
    /// gets `command_timeout` to start reading again, then the session ends: writes never block
    /// forever, so a slot is never held by a client that only sends.
    async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        let deadline = self.settings.command_timeout;
        let write = async {
            self.writer.write_all(text.as_bytes()).await?;
            self.writer.write_all(b"\r\n").await?;
            if self.reader.buffer().is_empty() {
                self.writer.flush().await?;
            }
            Ok(())
        };
        tokio::time::timeout(deadline, write)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    }

    /// Sends the replies still buffered, within `command_timeout`.
    async fn flush(&mut self) -> std::io::Result<()> {
        tokio::time::timeout(self.settings.command_timeout, self.writer.flush())
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    }

    /// Reads one command line of at most `max_line_bytes`; a longer one is discarded to its LF.
    async fn read_line(&mut self) -> std::io::Result<Line> {
        let max = self.settings.max_line_bytes;
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            // Before waiting for more input, send any replies still buffered.
            if self.reader.buffer().is_empty() {
                self.flush().await?;
            }
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                return Ok(Line::Closed);
            }
            let (chunk, found) = match memchr_lf(buf) {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            let n = chunk.len();
            if !too_long {
                if line.len() + n > max {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(chunk);
                }
            }
            self.reader.consume(n);
            if found {
                return Ok(if too_long {
                    Line::TooLong
                } else {
                    Line::Complete(line)
                });
            }
        }
    }
}

fn memchr_lf(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|b| *b == b'\n')
}
