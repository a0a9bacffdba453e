//! The selected state's commands that change mail (RFC 3501 §6.4, UIDPLUS, MOVE, CONDSTORE):
//! STORE, EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT, COPY, MOVE — and APPEND, which works from the
//! authenticated state too. Every change goes through `mail::folders` in one transaction; the
//! view is then brought up to date by the session's refresh.

use super::session::{Flow, Session, State};
use crate::mail::folders::{ANSWERED, DELETED, DRAFT, Entry, FLAGGED, Folder};
use imap_codec::imap_types::command::{CommandBody, StoreModifier};
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;
use tokio::io::{AsyncRead, AsyncWrite};

/// Keywords a copy may carry, and the longest one.
const MAX_KEYWORDS: usize = 64;
const MAX_KEYWORD_CHARS: usize = 64;

/// Applies a STORE to a copy's flags; returns the copy as it becomes.
fn stored(entry: &Entry, kind: StoreType, flags: &[Flag<'_>]) -> Entry {
    let mut seen = false;
    let mut bits = 0;
    let mut words: Vec<String> = Vec::new();
    for f in flags {
        match f {
            Flag::Seen => seen = true,
            Flag::Answered => bits |= ANSWERED,
            Flag::Flagged => bits |= FLAGGED,
            Flag::Deleted => bits |= DELETED,
            Flag::Draft => bits |= DRAFT,
            Flag::Keyword(k) => {
                let k = k.as_ref();
                if k.chars().count() <= MAX_KEYWORD_CHARS {
                    words.push(k.to_owned());
                }
            }
            // \Recent and unknown system flags cannot be set.
            Flag::Extension(_) => {}
        }
    }
    let mut out = entry.clone();
    let mut current: Vec<String> = entry
        .keywords
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    match kind {
        StoreType::Replace => {
            out.seen = seen;
            out.flags = bits;
            current = words;
        }
        StoreType::Add => {
            out.seen |= seen;
            out.flags |= bits;
            for w in words {
                if !current.iter().any(|c| c.eq_ignore_ascii_case(&w)) {
                    current.push(w);
                }
            }
        }
        StoreType::Remove => {
            if seen {
                out.seen = false;
            }
            out.flags &= !bits;
            current.retain(|c| !words.iter().any(|w| w.eq_ignore_ascii_case(c)));
        }
    }
    current.truncate(MAX_KEYWORDS);
    out.keywords = current.join(" ");
    out
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Runs a command of the selected state (or answers BAD when no folder is selected).
    pub(super) async fn selected(&mut self, tag: &str, body: CommandBody<'static>) -> Flow {
        if !matches!(self.state, State::Selected(..)) {
            self.line(&format!("{tag} BAD Select a folder first"));
            return Flow::Continue;
        }
        // Commands that use sequence numbers must not hear of expunges (RFC 3501 §7.4.1).
        let mut expunges = true;
        match body {
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => {
                expunges = uid;
                self.refresh(expunges).await;
                self.fetch(tag, &sequence_set, macro_or_item_names, uid, &modifiers)
                    .await;
                return Flow::Continue;
            }
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => {
                expunges = uid;
                self.refresh(expunges).await;
                self.search(tag, charset.as_ref(), criteria.as_ref(), uid)
                    .await;
                return Flow::Continue;
            }
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => {
                expunges = uid;
                self.store(tag, &sequence_set, kind, response, &flags, uid, &modifiers)
                    .await;
            }
            CommandBody::Expunge => self.expunge(tag, None).await,
            CommandBody::ExpungeUid { sequence_set } => {
                self.expunge(tag, Some(&sequence_set)).await;
            }
            CommandBody::Close | CommandBody::Unselect => {
                let close = matches!(body, CommandBody::Close);
                self.close(tag, close).await;
                return Flow::Continue;
            }
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => {
                self.transfer(tag, &sequence_set, &mailbox, uid, false)
                    .await
            }
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.transfer(tag, &sequence_set, &mailbox, uid, true).await,
            _ => {
                self.line(&format!("{tag} BAD Command not supported"));
                return Flow::Continue;
            }
        }
        if !self.refresh(expunges).await {
            return Flow::Drop;
        }
        Flow::Continue
    }

    #[allow(clippy::too_many_arguments)]
    async fn store(
        &mut self,
        tag: &str,
        set: &SequenceSet,
        kind: StoreType,
        response: StoreResponse,
        flags: &[Flag<'_>],
        uid: bool,
        modifiers: &[StoreModifier],
    ) {
        let Some((owner, folder_id, read_only, picked)) = self.pick(tag, set, uid) else {
            return;
        };
        if read_only {
            return self.line(&format!(
                "{tag} NO [READ-ONLY] The folder is open read-only"
            ));
        }
        let unchanged_since = modifiers
            .iter()
            .map(|StoreModifier::UnchangedSince(n)| *n)
            .next();
        if unchanged_since.is_some() {
            self.condstore = true;
        }
        let State::Selected(_, view) = &mut self.state else {
            return;
        };
        let mut changes = Vec::new();
        let mut modified = Vec::new();
        for &i in &picked {
            let e = &view.entries[i];
            if unchanged_since.is_some_and(|n| u64::try_from(e.modseq).unwrap_or(0) > n) {
                modified.push(e.uid);
                continue;
            }
            let new = stored(e, kind, flags);
            if new != *e {
                changes.push(new);
            }
        }
        let modseq = if changes.is_empty() {
            None
        } else {
            match self
                .ctx
                .mailboxes
                .set_flags(&owner, folder_id, &changes)
                .await
            {
                Ok(m) => Some(m),
                Err(e) => return self.unavailable(tag, &e),
            }
        };
        let State::Selected(_, view) = &mut self.state else {
            return;
        };
        let mut lines = Vec::new();
        for change in &changes {
            if let Some(seq) = view.seq_of(change.uid) {
                let entry = Entry {
                    modseq: modseq.unwrap_or(change.modseq),
                    ..change.clone()
                };
                view.entries[seq - 1] = entry.clone();
                if response == StoreResponse::Answer || self.condstore {
                    let mut items = Vec::new();
                    if uid {
                        items.push(format!("UID {}", entry.uid));
                    }
                    items.push(format!("FLAGS {}", super::wire::flags(&entry)));
                    if self.condstore {
                        items.push(format!("MODSEQ ({})", entry.modseq));
                    }
                    lines.push(format!("* {seq} FETCH ({})", items.join(" ")));
                }
            }
        }
        // Copies unchanged by STORE .SILENT still get their flags told when they are asked
        // (RFC 3501 §6.4.6): answered from the view, which now holds them.
        if response == StoreResponse::Answer {
            for &i in &picked {
                let e = &view.entries[i];
                if !changes.iter().any(|c| c.uid == e.uid) && !modified.contains(&e.uid) {
                    let uid_item = if uid {
                        format!("UID {} ", e.uid)
                    } else {
                        String::new()
                    };
                    lines.push(format!(
                        "* {} FETCH ({uid_item}FLAGS {})",
                        i + 1,
                        super::wire::flags(e)
                    ));
                }
            }
        }
        for l in lines {
            self.line(&l);
        }
        if modified.is_empty() {
            self.line(&format!("{tag} OK STORE completed"));
        } else {
            let set = super::wire::uid_set(&modified);
            self.line(&format!(
                "{tag} OK [MODIFIED {set}] Conditional STORE failed for some"
            ));
        }
    }

    async fn expunge(&mut self, tag: &str, only: Option<&SequenceSet>) {
        let State::Selected(owner, view) = &self.state else {
            return;
        };
        if view.read_only {
            return self.line(&format!(
                "{tag} NO [READ-ONLY] The folder is open read-only"
            ));
        }
        let allowed = only.map(|set| view.select(set, true));
        let uids: Vec<i64> = view
            .entries
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                e.flags & DELETED != 0 && allowed.as_ref().is_none_or(|a| a.contains(i))
            })
            .map(|(_, e)| e.uid)
            .collect();
        let (owner, folder_id) = (owner.clone(), view.folder.id);
        if !uids.is_empty()
            && let Err(e) = self.ctx.mailboxes.expunge(&owner, folder_id, &uids).await
        {
            return self.unavailable(tag, &e);
        }
        self.refresh(true).await;
        self.line(&format!("{tag} OK EXPUNGE completed"));
    }

    /// CLOSE (expunges quietly, unless read-only) or UNSELECT (does not).
    async fn close(&mut self, tag: &str, expunge: bool) {
        let State::Selected(owner, view) = &self.state else {
            return;
        };
        let owner = owner.clone();
        if expunge && !view.read_only {
            let uids: Vec<i64> = view
                .entries
                .iter()
                .filter(|e| e.flags & DELETED != 0)
                .map(|e| e.uid)
                .collect();
            if !uids.is_empty()
                && let Err(e) = self
                    .ctx
                    .mailboxes
                    .expunge(&owner, view.folder.id, &uids)
                    .await
            {
                return self.unavailable(tag, &e);
            }
        }
        self.state = State::Authed(owner);
        let what = if expunge { "CLOSE" } else { "UNSELECT" };
        self.line(&format!("{tag} OK {what} completed"));
    }

    /// COPY or MOVE, with COPYUID (UIDPLUS).
    async fn transfer(
        &mut self,
        tag: &str,
        set: &SequenceSet,
        mailbox: &Mailbox<'_>,
        uid: bool,
        moving: bool,
    ) {
        let Some((owner, from, read_only, picked)) = self.pick(tag, set, uid) else {
            return;
        };
        if moving && read_only {
            return self.line(&format!(
                "{tag} NO [READ-ONLY] The folder is open read-only"
            ));
        }
        let Some(to) = self.target(tag, mailbox).await else {
            return;
        };
        let State::Selected(_, view) = &self.state else {
            return;
        };
        let uids: Vec<i64> = picked.iter().map(|&i| view.entries[i].uid).collect();
        let size: usize = picked
            .iter()
            .map(|&i| usize::try_from(view.entries[i].size).unwrap_or(0))
            .sum();
        let what = if moving { "MOVE" } else { "COPY" };
        // A copy stores the bytes once more as far as the quota counts; a move does not.
        if !moving && !self.fits(tag, &owner, size).await {
            return;
        }
        if uids.is_empty() {
            return self.line(&format!("{tag} OK {what} completed (nothing to do)"));
        }
        match self
            .ctx
            .mailboxes
            .transfer(&owner, from, &uids, to.id, moving)
            .await
        {
            Ok(pairs) if !pairs.is_empty() => {
                let (old, new): (Vec<i64>, Vec<i64>) = pairs.into_iter().unzip();
                let code = format!(
                    "COPYUID {} {} {}",
                    to.uidvalidity(),
                    super::wire::uid_set(&old),
                    super::wire::uid_set(&new)
                );
                if moving {
                    // RFC 6851: COPYUID comes in an untagged OK, before the expunges.
                    self.line(&format!("* OK [{code}] Moved"));
                    self.refresh(true).await;
                    self.line(&format!("{tag} OK MOVE completed"));
                } else {
                    self.line(&format!("{tag} OK [{code}] COPY completed"));
                }
            }
            Ok(_) => self.line(&format!("{tag} OK {what} completed (nothing left to do)")),
            Err(e) => self.unavailable(tag, &e),
        }
    }

    /// Whether `bytes` more fit in the member's quota; says NO [OVERQUOTA] when not.
    async fn fits(&mut self, tag: &str, owner: &crate::mail::mailbox::Owner, bytes: usize) -> bool {
        match self.ctx.mailboxes.quota(owner).await {
            Ok(q) if q.allows(i64::try_from(bytes).unwrap_or(i64::MAX)) => true,
            Ok(_) => {
                self.line(&format!("{tag} NO [OVERQUOTA] The mailbox is full"));
                false
            }
            Err(e) => {
                self.unavailable(tag, &e);
                false
            }
        }
    }

    /// The destination of COPY, MOVE or APPEND: NO [TRYCREATE] when it does not exist.
    async fn target(&mut self, tag: &str, mailbox: &Mailbox<'_>) -> Option<Folder> {
        self.find_folder(tag, mailbox, "TRYCREATE").await
    }

    /// APPEND, with APPENDUID (UIDPLUS): the message stored exactly as sent.
    pub(super) async fn append(
        &mut self,
        tag: &str,
        mailbox: &Mailbox<'_>,
        flags: &[Flag<'_>],
        date: Option<&DateTime>,
        message: LiteralOrLiteral8<'_>,
    ) {
        let Some(owner) = self.owner().cloned() else {
            return;
        };
        let Some(to) = self.target(tag, mailbox).await else {
            return;
        };
        let bytes: Vec<u8> = match message {
            LiteralOrLiteral8::Literal(l) => l.as_ref().to_vec(),
            LiteralOrLiteral8::Literal8(l) => l.data.to_vec(),
        };
        let received_ms = date.map_or_else(crate::store::now_ms, |d| {
            let d: &chrono::DateTime<chrono::FixedOffset> = d.as_ref();
            d.timestamp_millis()
        });
        let entry = stored(&Entry::upload(received_ms), StoreType::Replace, flags);
        if !self.fits(tag, &owner, bytes.len()).await {
            return;
        }
        match self.ctx.mailboxes.append(&owner, to.id, bytes, entry).await {
            Ok(uid) => self.line(&format!(
                "{tag} OK [APPENDUID {} {uid}] APPEND completed",
                to.uidvalidity()
            )),
            Err(e) => self.unavailable(tag, &e),
        }
    }
}
