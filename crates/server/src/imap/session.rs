//! One IMAP connection: reads commands through `imap-codec`'s fragmentizer (lines and literals,
//! every size bounded), runs them against the member's folders and writes the answers. Generic
//! over its stream, so whole dialogues run in memory in tests as well as over TCP and TLS.
//!
//! On STARTTLS the session hands its stream back ([`End::StartTls`]); whatever the client sent
//! after the command is dropped with the buffer, so nothing can be injected into the encrypted
//! session (the same rule as SMTP's, RFC 3207 §4.2), and a new session runs over TLS.

use super::ImapSettings;
use super::view::View;
use crate::auth::Auth;
use crate::http::Limiters;
use crate::mail::mailbox::{Mailboxes, Owner};
use crate::push::hub::Hub;
use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer, LiteralAnnouncement};
use imap_codec::imap_types::IntoStatic as _;
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::core::LiteralMode;
use imap_codec::{AuthenticateDataCodec, CommandCodec, IdleDoneCodec};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

/// What a session needs from the server: its settings and the rooms it works through.
#[derive(Clone)]
pub struct Ctx {
    pub(super) settings: ImapSettings,
    pub(super) mailboxes: Mailboxes,
    pub(super) auth: Auth,
    pub(super) limits: Arc<Limiters>,
    pub(super) hub: Hub,
    pub(super) ip: IpAddr,
}

impl Ctx {
    /// The context of sessions served with `settings`.
    pub fn new(
        settings: ImapSettings,
        mailboxes: Mailboxes,
        auth: Auth,
        limits: Arc<Limiters>,
        hub: Hub,
    ) -> Ctx {
        Ctx {
            settings,
            mailboxes,
            auth,
            limits,
            hub,
            ip: IpAddr::from([127, 0, 0, 1]),
        }
    }

    /// The same context for a client at `ip`.
    pub fn from(mut self, ip: IpAddr) -> Ctx {
        self.ip = ip;
        self
    }
}

/// How a session ended.
pub enum End<S> {
    /// LOGOUT, or we closed it (timeout, too many errors, the member gone).
    Over,
    /// The client went away.
    Closed,
    /// The client asked for TLS and was told to go ahead: the stream, for the handshake.
    StartTls(S),
}

/// Where the session is in RFC 3501 §3's state diagram.
pub(super) enum State {
    /// Not authenticated.
    Fresh,
    /// Authenticated, no folder selected.
    Authed(Owner),
    /// A folder is selected.
    Selected(Owner, View),
}

/// What one command asks of the session loop.
pub(super) enum Flow {
    Continue,
    Logout,
    StartTls,
    /// Close without a goodbye (the client broke the protocol or vanished).
    Drop,
}

/// What woke an IDLE.
enum Idled {
    Woken,
    TimedOut,
    Gone,
    Read(usize),
}

/// The state of one IMAP session over `S`.
pub struct Session<S> {
    reader: ReadHalf<S>,
    writer: WriteHalf<S>,
    frag: Fragmentizer,
    /// Bytes read since the last complete fragment: bounded by the line limit (or the literal
    /// being read), so a client cannot fill memory with a line that never ends.
    unparsed: usize,
    expecting: Option<u32>,
    pub(super) ctx: Ctx,
    pub(super) state: State,
    pub(super) tls: bool,
    /// Answers gathered for the client, written when a command is done (or when large).
    pub(super) out: Vec<u8>,
    bad: u32,
    /// CONDSTORE was enabled (or used): FETCH answers carry MODSEQ.
    pub(super) condstore: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// A session over `stream`; `tls` says whether the stream is encrypted.
    pub fn new(stream: S, ctx: Ctx, tls: bool) -> Session<S> {
        let (reader, writer) = tokio::io::split(stream);
        let max = ctx
            .settings
            .max_literal_bytes
            .saturating_add(ctx.settings.max_line_bytes);
        Session {
            reader,
            writer,
            frag: Fragmentizer::new(u32::try_from(max).unwrap_or(u32::MAX)),
            unparsed: 0,
            expecting: None,
            ctx,
            state: State::Fresh,
            tls,
            out: Vec::new(),
            bad: 0,
            condstore: false,
        }
    }

    /// The same session, already signed in as `owner` (for tests and fuzzing of what follows a
    /// login, without the deliberately slow password check; nothing on the wire reaches it).
    pub fn signed_in(mut self, owner: Owner) -> Session<S> {
        self.state = State::Authed(owner);
        self
    }

    /// Serves the connection until it ends; `greet` is false after STARTTLS.
    pub async fn run(mut self, greet: bool) -> End<S> {
        if greet {
            let greeting = format!("* OK [CAPABILITY {}] bizmail IMAP ready\r\n", self.caps());
            self.out.extend_from_slice(greeting.as_bytes());
            if self.flush().await.is_err() {
                return End::Closed;
            }
        }
        loop {
            if let Err(end) = self.next_message().await {
                return end;
            }
            let flow = match self.frag.decode_message(&CommandCodec::default()) {
                Ok(command) => {
                    let command = command.into_static();
                    self.handle(command).await
                }
                Err(_) => self.bad_message("Could not parse the command"),
            };
            if self.flush().await.is_err() {
                return End::Closed;
            }
            match flow {
                Flow::Continue => {}
                Flow::Logout | Flow::Drop => return End::Over,
                Flow::StartTls => {
                    let Session { reader, writer, .. } = self;
                    return End::StartTls(reader.unsplit(writer));
                }
            }
        }
    }

    /// Reads until the fragmentizer holds a whole message (a command, or a line of AUTHENTICATE
    /// or IDLE data), answering literal announcements on the way.
    async fn next_message(&mut self) -> Result<(), End<S>> {
        loop {
            match self.frag.progress() {
                Some(info) => {
                    self.unparsed = 0;
                    self.expecting = None;
                    if let FragmentInfo::Line {
                        announcement: Some(LiteralAnnouncement { mode, length }),
                        ..
                    } = info
                    {
                        self.literal_announced(mode, length).await?;
                    }
                    if self.frag.is_message_complete() {
                        return Ok(());
                    }
                }
                None => self.read_more().await?,
            }
        }
    }

    async fn literal_announced(&mut self, mode: LiteralMode, length: u32) -> Result<(), End<S>> {
        // Before login no command needs more than a line's worth (a user name, a password):
        // a stranger must not make the server hold a message-sized literal per connection.
        let limit = if matches!(self.state, State::Fresh) {
            self.ctx.settings.max_line_bytes
        } else {
            self.ctx.settings.max_literal_bytes
        };
        let fits = usize::try_from(length).is_ok_and(|n| n <= limit);
        if !fits {
            match (mode, self.frag.decode_tag()) {
                (LiteralMode::Sync, Some(tag)) => {
                    // The client waits for our go-ahead, which never comes: refuse and skip.
                    let reply =
                        format!("{} NO [TOOBIG] The literal is too large\r\n", tag.as_ref());
                    self.frag.skip_message();
                    self.out.extend_from_slice(reply.as_bytes());
                    self.flush().await.map_err(|()| End::Closed)?;
                }
                _ => {
                    // A LITERAL+ literal arrives anyway: read and drop it, then refuse.
                    self.frag.poison_message();
                    self.expecting = Some(length);
                }
            }
            return Ok(());
        }
        self.expecting = Some(length);
        if mode == LiteralMode::Sync {
            self.out.extend_from_slice(b"+ Ready for literal data\r\n");
            self.flush().await.map_err(|()| End::Closed)?;
        }
        Ok(())
    }

    /// Reads more bytes into the fragmentizer, within the idle timeout and the line bound.
    pub(super) async fn read_more(&mut self) -> Result<(), End<S>> {
        let mut buf = [0u8; 16 * 1024];
        let n =
            match tokio::time::timeout(self.ctx.settings.idle_timeout, self.reader.read(&mut buf))
                .await
            {
                Ok(Ok(0)) | Ok(Err(_)) => return Err(End::Closed),
                Ok(Ok(n)) => n,
                Err(_) => {
                    self.goodbye("Autologout; idle for too long").await;
                    return Err(End::Over);
                }
            };
        self.enqueue(&buf[..n]).await
    }

    /// Hands bytes read to the fragmentizer, closing the connection on a line over the limit.
    pub(super) async fn enqueue(&mut self, bytes: &[u8]) -> Result<(), End<S>> {
        self.unparsed += bytes.len();
        let allowed = self.ctx.settings.max_line_bytes
            + self
                .expecting
                .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        if self.unparsed > allowed {
            self.goodbye("Command line too long").await;
            return Err(End::Over);
        }
        self.frag.enqueue_bytes(bytes);
        Ok(())
    }

    /// Says `* BYE` and flushes, for endings we decide.
    pub(super) async fn goodbye(&mut self, why: &str) {
        self.out
            .extend_from_slice(format!("* BYE {why}\r\n").as_bytes());
        let _ = self.flush().await;
    }

    /// Writes what was gathered.
    pub(super) async fn flush(&mut self) -> Result<(), ()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            self.writer.write_all(&self.out).await?;
            self.writer.flush().await
        };
        let done = tokio::time::timeout(self.ctx.settings.idle_timeout, write).await;
        self.out.clear();
        match done {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// Writes what was gathered once it is large, so a FETCH of a whole folder streams.
    pub(super) async fn flush_if_large(&mut self) -> Result<(), ()> {
        if self.out.len() >= 256 * 1024 {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// Answers a message that did not parse: BAD, and the connection closes after too many.
    fn bad_message(&mut self, why: &str) -> Flow {
        self.bad += 1;
        let tag = self
            .frag
            .decode_tag()
            .map_or_else(|| "*".to_owned(), |t| t.as_ref().to_owned());
        let why = if self.frag.is_max_message_size_exceeded() || self.frag.is_message_poisoned() {
            "[TOOBIG] The command is too large"
        } else {
            why
        };
        let over = self.bad >= self.ctx.settings.max_bad_commands;
        if over {
            self.out
                .extend_from_slice(b"* BYE Too many bad commands\r\n");
        }
        self.out
            .extend_from_slice(format!("{tag} BAD {why}\r\n").as_bytes());
        if over { Flow::Drop } else { Flow::Continue }
    }

    /// The capabilities to announce now.
    pub(super) fn caps(&self) -> String {
        let mut caps = String::from(
            "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE SPECIAL-USE \
             UNSELECT CHILDREN CONDSTORE QUOTA QUOTA=RES-STORAGE",
        );
        if matches!(self.state, State::Fresh) {
            if !self.tls && self.ctx.settings.tls.is_some() {
                caps.push_str(" STARTTLS");
            }
            if self.tls || self.ctx.settings.allow_plaintext {
                caps.push_str(" AUTH=PLAIN");
            } else {
                caps.push_str(" LOGINDISABLED");
            }
        }
        caps
    }

    /// Adds one line (CRLF added).
    pub(super) fn line(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// Runs one parsed command.
    async fn handle(&mut self, command: Command<'static>) -> Flow {
        let tag = command.tag.as_ref().to_owned();
        let body = command.body;
        match body {
            CommandBody::Capability => {
                let caps = self.caps();
                self.line(&format!("* CAPABILITY {caps}"));
                self.line(&format!("{tag} OK CAPABILITY completed"));
            }
            CommandBody::Noop | CommandBody::Check => {
                let what = if matches!(body, CommandBody::Check) {
                    "CHECK"
                } else {
                    "NOOP"
                };
                self.refresh(true).await;
                self.line(&format!("{tag} OK {what} completed"));
            }
            CommandBody::Logout => {
                self.line("* BYE bizmail IMAP logging out");
                self.line(&format!("{tag} OK LOGOUT completed"));
                return Flow::Logout;
            }
            CommandBody::Id { .. } => {
                self.line(&format!(
                    "* ID (\"name\" \"bizmail\" \"version\" \"{}\")",
                    env!("CARGO_PKG_VERSION")
                ));
                self.line(&format!("{tag} OK ID completed"));
            }
            CommandBody::StartTLS => return self.starttls(&tag),
            CommandBody::Login { username, password } => {
                let user = String::from_utf8_lossy(username.as_ref()).into_owned();
                let pass = String::from_utf8_lossy(password.declassify().as_ref()).into_owned();
                self.login(&tag, &user, &pass).await;
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => return self.authenticate(&tag, &mechanism, initial_response).await,
            other => return self.authenticated(&tag, other).await,
        }
        Flow::Continue
    }

    fn starttls(&mut self, tag: &str) -> Flow {
        if self.tls || self.ctx.settings.tls.is_none() {
            self.line(&format!("{tag} BAD STARTTLS is not available here"));
            return Flow::Continue;
        }
        if !matches!(self.state, State::Fresh) {
            self.line(&format!("{tag} BAD Already authenticated"));
            return Flow::Continue;
        }
        self.line(&format!("{tag} OK Begin TLS negotiation now"));
        Flow::StartTls
    }

    /// Reads the client's answer to a SASL challenge (`+`), the one round PLAIN needs.
    pub(super) async fn sasl_response(&mut self) -> Result<Option<Vec<u8>>, Flow> {
        self.out.extend_from_slice(b"+ \r\n");
        if self.flush().await.is_err() {
            return Err(Flow::Drop);
        }
        if self.next_message().await.is_err() {
            return Err(Flow::Drop);
        }
        match self.frag.decode_message(&AuthenticateDataCodec::default()) {
            Ok(imap_codec::imap_types::auth::AuthenticateData::Continue(data)) => {
                Ok(Some(data.declassify().to_vec()))
            }
            Ok(imap_codec::imap_types::auth::AuthenticateData::Cancel) => Ok(None),
            Err(_) => Ok(Some(Vec::new())),
        }
    }

    /// IDLE (RFC 2177): tells the client of changes as they happen until it says DONE.
    pub(super) async fn idle(&mut self, tag: &str) -> Flow {
        self.line("+ idling");
        if self.flush().await.is_err() {
            return Flow::Drop;
        }
        let tenant = match &self.state {
            State::Authed(o) | State::Selected(o, _) => o.tenant_id,
            State::Fresh => return Flow::Drop,
        };
        let notify = self.ctx.hub.tenant(tenant);
        loop {
            let woken = notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let owner = self.owner().cloned();
            if let Some(o) = owner
                && !self.still_active(&o).await
            {
                return Flow::Drop;
            }
            if !self.refresh(true).await {
                return Flow::Drop;
            }
            if self.flush().await.is_err() {
                return Flow::Drop;
            }
            if self.message_ready() {
                break;
            }
            let mut buf = [0u8; 1024];
            let timeout = tokio::time::sleep(self.ctx.settings.idle_timeout);
            let event = tokio::select! {
                () = &mut woken => Idled::Woken,
                () = timeout => Idled::TimedOut,
                read = self.reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => Idled::Gone,
                    Ok(n) => Idled::Read(n),
                },
            };
            match event {
                Idled::Woken => {}
                Idled::TimedOut => {
                    self.goodbye("Autologout; idle for too long").await;
                    return Flow::Drop;
                }
                Idled::Gone => return Flow::Drop,
                Idled::Read(n) => {
                    if self.enqueue(&buf[..n]).await.is_err() {
                        return Flow::Drop;
                    }
                    if self.message_ready() {
                        break;
                    }
                }
            }
        }
        match self.frag.decode_message(&IdleDoneCodec::default()) {
            Ok(_) => {
                self.line(&format!("{tag} OK IDLE terminated"));
                Flow::Continue
            }
            Err(_) => {
                self.line(&format!("{tag} BAD Expected DONE"));
                Flow::Continue
            }
        }
    }

    /// Whether the bytes enqueued so far complete a message (DONE, during IDLE).
    fn message_ready(&mut self) -> bool {
        while self.frag.progress().is_some() {
            self.unparsed = 0;
            if self.frag.is_message_complete() {
                return true;
            }
        }
        false
    }

    /// The member whose session this is, once authenticated.
    pub(super) fn owner(&self) -> Option<&Owner> {
        match &self.state {
            State::Fresh => None,
            State::Authed(o) | State::Selected(o, _) => Some(o),
        }
    }
}
