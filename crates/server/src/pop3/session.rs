//! One POP3 conversation (RFC 1939 with RFC 2449's CAPA and response codes, UIDL, TOP, STLS of
//! RFC 2595 and AUTH PLAIN of RFC 5034) over the member's INBOX. The listing is fixed at login;
//! DELE only marks, and the marked mail is expunged at QUIT (the UPDATE state). RETR marks the mail
//! `\Seen` at once, as IMAP's FETCH does, so `mail/newcount` follows. UIDL is the MailId, which
//! never changes.

use super::Pop3;
use crate::auth::member_login::Failed;
use crate::auth::member_login::Via;
use crate::mail::folders::{Entry, Special};
use crate::mail::mailbox::Owner;
use base64::Engine as _;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt, BufReader, ReadHalf,
    WriteHalf,
};

/// The longest command line (RFC 2449 allows 255 octets; AUTH PLAIN answers need more).
const MAX_LINE: usize = 4096;

/// How a session ended.
pub enum End<S> {
    /// Over.
    Done,
    /// STLS was accepted: the stream, for the handshake.
    Upgrade(S),
}

/// The maildrop as it was at login.
struct Drop {
    owner: Owner,
    folder_id: i64,
    entries: Vec<Entry>,
    deleted: Vec<bool>,
}

/// One POP3 session over `S`.
pub struct Session<S> {
    reader: BufReader<ReadHalf<S>>,
    writer: WriteHalf<S>,
    pop: Pop3,
    tls: bool,
    user: Option<String>,
    maildrop: Option<Drop>,
    bad: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// A session over `stream`; `tls` says whether it is encrypted.
    pub fn new(stream: S, pop: Pop3, tls: bool) -> Session<S> {
        let (r, w) = tokio::io::split(stream);
        Session {
            reader: BufReader::new(r),
            writer: w,
            pop,
            tls,
            user: None,
            maildrop: None,
            bad: 0,
        }
    }

    async fn say(&mut self, text: &str) -> Result<(), ()> {
        let write = async {
            self.writer.write_all(text.as_bytes()).await?;
            self.writer.write_all(b"\r\n").await?;
            self.writer.flush().await
        };
        match tokio::time::timeout(self.pop.settings.idle_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// Reads one command line; `None` when the client left, timed out or sent too long a line.
    async fn command(&mut self) -> Option<String> {
        let mut line = Vec::new();
        let mut limited = (&mut self.reader).take(u64::try_from(MAX_LINE).unwrap_or(u64::MAX));
        let read = limited.read_until(b'\n', &mut line);
        match tokio::time::timeout(self.pop.settings.idle_timeout, read).await {
            Ok(Ok(n)) if n > 0 && line.ends_with(b"\n") => Some(
                String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
            Ok(Ok(n)) if n >= MAX_LINE => {
                let _ = self.say("-ERR Line too long").await;
                None
            }
            Err(_) => {
                let _ = self.say("-ERR Autologout; idle for too long").await;
                None
            }
            _ => None,
        }
    }

    /// Serves the session; `greet` is false after STLS.
    pub async fn run(mut self, greet: bool) -> End<S> {
        if greet && self.say("+OK bizmail POP3 ready").await.is_err() {
            return End::Done;
        }
        while let Some(line) = self.command().await {
            let (verb, rest) = line.split_once(' ').unwrap_or((&line, ""));
            let verb = verb.to_ascii_uppercase();
            let result = match (verb.as_str(), self.maildrop.is_some()) {
                ("QUIT", _) => {
                    let _ = self.quit().await;
                    return End::Done;
                }
                ("CAPA", _) => self.capa().await,
                ("NOOP", true) => self.say("+OK").await,
                ("STLS", false) => {
                    if self.tls || self.pop.settings.tls.is_none() {
                        self.say("-ERR STLS is not available here").await
                    } else {
                        if self.say("+OK Begin TLS negotiation").await.is_err() {
                            return End::Done;
                        }
                        let Session { reader, writer, .. } = self;
                        return End::Upgrade(reader.into_inner().unsplit(writer));
                    }
                }
                ("USER", false) => self.user(rest).await,
                ("PASS", false) => self.pass(rest).await,
                ("AUTH", false) => self.auth(rest).await,
                ("STAT", true) => self.stat().await,
                ("LIST", true) => self.list(rest, false).await,
                ("UIDL", true) => self.list(rest, true).await,
                ("RETR", true) => self.retr(rest, None).await,
                ("TOP", true) => {
                    let (n, lines) = rest.split_once(' ').unwrap_or((rest, ""));
                    match lines.trim().parse::<usize>() {
                        Ok(lines) => self.retr(n, Some(lines)).await,
                        Err(_) => self.say("-ERR Usage: TOP msg lines").await,
                    }
                }
                ("DELE", true) => self.dele(rest).await,
                ("RSET", true) => {
                    if let Some(d) = &mut self.maildrop {
                        d.deleted.iter_mut().for_each(|x| *x = false);
                    }
                    self.say("+OK").await
                }
                _ => {
                    self.bad += 1;
                    if self.bad >= self.pop.settings.max_bad_commands {
                        let _ = self.say("-ERR Too many bad commands").await;
                        return End::Done;
                    }
                    self.say("-ERR Unknown command or wrong state").await
                }
            };
            if result.is_err() {
                return End::Done;
            }
        }
        End::Done
    }

    async fn capa(&mut self) -> Result<(), ()> {
        let mut lines = vec!["+OK Capability list follows", "TOP", "UIDL", "RESP-CODES"];
        lines.extend(["AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]);
        let clear_ok = self.tls || self.pop.settings.allow_plaintext;
        if self.maildrop.is_none() {
            if clear_ok {
                lines.extend(["USER", "SASL PLAIN"]);
            }
            if !self.tls && self.pop.settings.tls.is_some() {
                lines.push("STLS");
            }
        }
        lines.extend(["IMPLEMENTATION bizmail", "."]);
        self.say(&lines.join("\r\n")).await
    }

    fn clear_text_refused(&self) -> bool {
        !self.tls && !self.pop.settings.allow_plaintext
    }

    async fn user(&mut self, name: &str) -> Result<(), ()> {
        if self.clear_text_refused() {
            return self.say("-ERR [AUTH] Use STLS (or port 995) first").await;
        }
        self.user = Some(name.trim().to_owned());
        self.say("+OK Send the password").await
    }

    async fn pass(&mut self, password: &str) -> Result<(), ()> {
        let Some(user) = self.user.take() else {
            return self.say("-ERR USER first").await;
        };
        self.sign_in(&user, password).await
    }

    async fn auth(&mut self, args: &str) -> Result<(), ()> {
        if self.clear_text_refused() {
            return self.say("-ERR [AUTH] Use STLS (or port 995) first").await;
        }
        let (mechanism, initial) = args.split_once(' ').unwrap_or((args, ""));
        if !mechanism.eq_ignore_ascii_case("PLAIN") {
            return self.say("-ERR Unsupported mechanism").await;
        }
        let encoded = if initial.is_empty() {
            self.say("+ ").await?;
            let Some(line) = self.command().await else {
                return Err(());
            };
            line
        } else {
            initial.to_owned()
        };
        if encoded == "*" {
            return self.say("-ERR Authentication cancelled").await;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return self.say("-ERR Malformed PLAIN response").await;
        };
        let fields: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
        let [authz, user, password] = fields[..] else {
            return self.say("-ERR Malformed PLAIN response").await;
        };
        if !authz.is_empty() && authz != user {
            return self
                .say("-ERR [AUTH] You may only sign in as yourself")
                .await;
        }
        let (user, password) = (
            String::from_utf8_lossy(user).into_owned(),
            String::from_utf8_lossy(password).into_owned(),
        );
        self.sign_in(&user, &password).await
    }

    async fn sign_in(&mut self, user: &str, password: &str) -> Result<(), ()> {
        let limits = self.pop.limits.clone();
        if limits.login_ip.check_key(&self.pop.ip).is_err() {
            return self
                .say("-ERR [SYS/TEMP] Too many login attempts, try later")
                .await;
        }
        let allow = |a: &str| limits.login_account.check_key(&a.to_lowercase()).is_ok();
        let (tenant_id, member_id, address) = match self
            .pop
            .auth
            .client_login(user.trim(), password, (Via::Pop3, self.pop.ip), allow)
            .await
        {
            Ok(found) => found,
            Err(Failed::Limited) => {
                return self
                    .say("-ERR [SYS/TEMP] Too many login attempts, try later")
                    .await;
            }
            Err(Failed::Unavailable(cause)) => {
                tracing::error!(%cause, "POP3 login failed");
                return self
                    .say("-ERR [SYS/TEMP] The mail store is unavailable")
                    .await;
            }
            Err(Failed::SecondFactor) => {
                return self
                    .say("-ERR [AUTH] This mailbox requires a second factor; sign in on the web")
                    .await;
            }
            Err(_) => return self.say("-ERR [AUTH] Invalid credentials").await,
        };
        let owner = Owner {
            tenant_id,
            member_id,
            address,
        };
        let loaded = async {
            let folders = self.pop.mailboxes.folders(&owner).await?;
            let inbox = folders
                .into_iter()
                .find(|f| f.role() == Some(Special::Inbox))
                .map(|f| f.id);
            match inbox {
                Some(id) => Ok(Some((id, self.pop.mailboxes.entries(id).await?))),
                None => Ok::<_, crate::store::StoreError>(None),
            }
        };
        match loaded.await {
            Ok(Some((folder_id, entries))) => {
                let n = entries.len();
                self.maildrop = Some(Drop {
                    owner,
                    folder_id,
                    deleted: vec![false; n],
                    entries,
                });
                self.say(&format!("+OK Maildrop has {n} messages")).await
            }
            Ok(None) => self.say("-ERR [SYS/TEMP] No INBOX").await,
            Err(e) => {
                tracing::error!(error = %e, "POP3 maildrop failed");
                self.say("-ERR [SYS/TEMP] The mail store is unavailable")
                    .await
            }
        }
    }

    /// The message a number names, unless deleted: its index.
    fn message(&self, arg: &str) -> Option<usize> {
        let d = self.maildrop.as_ref()?;
        let n: usize = arg.trim().parse().ok()?;
        let i = n.checked_sub(1)?;
        (i < d.entries.len() && !d.deleted[i]).then_some(i)
    }

    async fn stat(&mut self) -> Result<(), ()> {
        let Some(d) = &self.maildrop else {
            return Err(());
        };
        let (count, size) = d
            .entries
            .iter()
            .zip(&d.deleted)
            .filter(|(_, del)| !**del)
            .fold((0, 0), |(c, s), (e, _)| (c + 1, s + e.size));
        self.say(&format!("+OK {count} {size}")).await
    }

    async fn list(&mut self, arg: &str, uidl: bool) -> Result<(), ()> {
        let Some(d) = &self.maildrop else {
            return Err(());
        };
        let show = |i: usize, e: &Entry| {
            if uidl {
                format!("{} {}", i + 1, e.mail_id)
            } else {
                format!("{} {}", i + 1, e.size)
            }
        };
        if !arg.trim().is_empty() {
            let line = match self.message(arg) {
                Some(i) => format!("+OK {}", show(i, &d.entries[i])),
                None => "-ERR No such message".to_owned(),
            };
            return self.say(&line).await;
        }
        let mut out = vec!["+OK".to_owned()];
        for (i, e) in d.entries.iter().enumerate() {
            if !d.deleted[i] {
                out.push(show(i, e));
            }
        }
        out.push(".".to_owned());
        self.say(&out.join("\r\n")).await
    }

    async fn retr(&mut self, arg: &str, top: Option<usize>) -> Result<(), ()> {
        let Some(i) = self.message(arg) else {
            return self.say("-ERR No such message").await;
        };
        let Some(d) = &self.maildrop else {
            return Err(());
        };
        let (folder_id, entry, owner) = (d.folder_id, d.entries[i].clone(), d.owner.clone());
        let raw = match self.pop.mailboxes.raw_by_uid(folder_id, entry.uid).await {
            Ok(Some(raw)) => raw,
            Ok(None) => return self.say("-ERR That message was removed meanwhile").await,
            Err(e) => {
                tracing::error!(error = %e, "POP3 RETR failed");
                return self
                    .say("-ERR [SYS/TEMP] The mail store is unavailable")
                    .await;
            }
        };
        let body = match top {
            None => raw,
            Some(lines) => head_and_lines(&raw, lines),
        };
        if top.is_none() && !entry.seen {
            let seen = Entry {
                seen: true,
                ..entry
            };
            if let Err(e) = self
                .pop
                .mailboxes
                .set_flags(&owner, folder_id, &[seen])
                .await
            {
                tracing::warn!(error = %e, "POP3 could not mark a message read");
            }
        }
        let mut out = format!("+OK {} octets\r\n", body.len()).into_bytes();
        out.extend_from_slice(&dot_stuffed(&body));
        let write = async {
            self.writer.write_all(&out).await?;
            self.writer.flush().await
        };
        match tokio::time::timeout(self.pop.settings.idle_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    async fn dele(&mut self, arg: &str) -> Result<(), ()> {
        let Some(i) = self.message(arg) else {
            return self.say("-ERR No such message").await;
        };
        if let Some(d) = &mut self.maildrop {
            d.deleted[i] = true;
        }
        self.say("+OK Marked for deletion").await
    }

    /// QUIT: in the TRANSACTION state, expunges what DELE marked (RFC 1939 §6).
    async fn quit(&mut self) -> Result<(), ()> {
        let Some(d) = self.maildrop.take() else {
            return self.say("+OK bizmail POP3 signing off").await;
        };
        let uids: Vec<i64> = d
            .entries
            .iter()
            .zip(&d.deleted)
            .filter(|(_, del)| **del)
            .map(|(e, _)| e.uid)
            .collect();
        if !uids.is_empty()
            && let Err(e) = self
                .pop
                .mailboxes
                .expunge(&d.owner, d.folder_id, &uids)
                .await
        {
            tracing::error!(error = %e, "POP3 QUIT could not remove messages");
            return self
                .say("-ERR [SYS/TEMP] Some messages could not be removed")
                .await;
        }
        self.say("+OK bizmail POP3 signing off").await
    }
}

/// The header and the first `lines` lines of the body (TOP).
fn head_and_lines(raw: &[u8], lines: usize) -> Vec<u8> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |p| p + 4);
    let mut out = raw[..split].to_vec();
    out.extend(
        raw[split..]
            .split_inclusive(|&b| b == b'\n')
            .take(lines)
            .flatten(),
    );
    out
}

/// A message as a multi-line answer: lines starting with `.` get another, CRLF before the final
/// `.` line.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_answers_are_dot_stuffed() {
        assert_eq!(dot_stuffed(b"a\r\n.b\r\nc"), b"a\r\n..b\r\nc\r\n.\r\n");
        assert_eq!(
            head_and_lines(b"H: 1\r\n\r\nx\r\ny\r\nz\r\n", 2),
            b"H: 1\r\n\r\nx\r\ny\r\n"
        );
    }
}
