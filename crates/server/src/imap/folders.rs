//! The authenticated state's commands (RFC 3501 §6.3): SELECT, EXAMINE, CREATE, DELETE, RENAME,
//! SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, NAMESPACE, ENABLE — and the dispatch of the
//! selected state's commands to their modules. Folder names are `/`-separated, modified UTF-7 on
//! the wire; INBOX is case-insensitive; the five special folders cannot be deleted or renamed
//! (RENAME INBOX, which moves its mail, aside).

use super::session::{Flow, Session, State};
use super::view::View;
use super::wire::{decode_name, encode_name};
use crate::mail::folders::{Folder, Outcome};
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::extensions::enable::CapabilityEnable;
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::status::StatusDataItemName;
use tokio::io::{AsyncRead, AsyncWrite};

/// The deepest folder hierarchy and the longest name accepted.
const MAX_DEPTH: usize = 16;
const MAX_NAME_CHARS: usize = 255;

/// A folder name from the wire: decoded, INBOX spelled `INBOX`; `None` when malformed.
pub(super) fn folder_name(mailbox: &Mailbox<'_>) -> Option<String> {
    match mailbox {
        Mailbox::Inbox => Some("INBOX".to_owned()),
        Mailbox::Other(other) => {
            let name = decode_name(other.as_ref())?;
            let name = name.trim_end_matches('/').to_owned();
            Some(name)
        }
    }
}

/// Whether a name may be created: not empty, no empty level, not too deep or long, no control
/// characters, no wildcards.
fn creatable(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name.split('/').count() <= MAX_DEPTH
        && name.split('/').all(|level| !level.trim().is_empty())
        && !name.chars().any(|c| c.is_control() || c == '*' || c == '%')
}

/// Whether `name` matches a LIST pattern: `*` anything, `%` anything but the delimiter. By
/// dynamic programming over (pattern, name) positions, so no pattern of wildcards can make it
/// take more than their product in steps.
fn matches(pattern: &[char], name: &[char]) -> bool {
    // reach[j]: the pattern so far can end right before name[j].
    let mut reach = vec![false; name.len() + 1];
    reach[0] = true;
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            '*' | '%' => {
                // Either wildcard may take nothing, then as many characters as it may.
                for j in 0..=name.len() {
                    next[j] =
                        reach[j] || (j > 0 && next[j - 1] && (p == '*' || name[j - 1] != '/'));
                }
            }
            c => {
                for j in 1..=name.len() {
                    next[j] = reach[j - 1] && name[j - 1] == c;
                }
            }
        }
        reach = next;
    }
    reach[name.len()]
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Runs a command that needs a signed-in member.
    pub(super) async fn authenticated(&mut self, tag: &str, body: CommandBody<'static>) -> Flow {
        let Some(owner) = self.owner().cloned() else {
            self.line(&format!("{tag} BAD Log in first"));
            return Flow::Continue;
        };
        if !self.still_active(&owner).await {
            return Flow::Drop;
        }
        let quota_root = matches!(body, CommandBody::GetQuotaRoot { .. });
        match body {
            CommandBody::Select {
                mailbox,
                parameters,
            } => {
                self.condstore |= !parameters.is_empty();
                self.select(tag, &mailbox, false).await;
            }
            CommandBody::Examine {
                mailbox,
                parameters,
            } => {
                self.condstore |= !parameters.is_empty();
                self.select(tag, &mailbox, true).await;
            }
            CommandBody::Create { mailbox } => self.create(tag, &mailbox).await,
            CommandBody::Delete { mailbox } => self.delete(tag, &mailbox).await,
            CommandBody::Rename { from, to } => self.rename(tag, &from, &to).await,
            CommandBody::Subscribe { mailbox } => self.subscribe(tag, &mailbox, true).await,
            CommandBody::Unsubscribe { mailbox } => self.subscribe(tag, &mailbox, false).await,
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => self.list(tag, &reference, &mailbox_wildcard, false).await,
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(tag, &reference, &mailbox_wildcard, true).await,
            CommandBody::Status {
                mailbox,
                item_names,
            } => self.status(tag, &mailbox, &item_names).await,
            CommandBody::Namespace => {
                self.line("* NAMESPACE ((\"\" \"/\")) NIL NIL");
                self.line(&format!("{tag} OK NAMESPACE completed"));
            }
            CommandBody::Enable { capabilities } => {
                let mut enabled = Vec::new();
                for c in capabilities.as_ref() {
                    if matches!(c, CapabilityEnable::CondStore) {
                        self.condstore = true;
                        enabled.push("CONDSTORE");
                    }
                }
                self.line(format!("* ENABLED {}", enabled.join(" ")).trim_end());
                self.line(&format!("{tag} OK ENABLE completed"));
            }
            CommandBody::Idle => return self.idle(tag).await,
            CommandBody::GetQuotaRoot { .. } | CommandBody::GetQuota { .. } => {
                self.quota(tag, quota_root).await;
            }
            CommandBody::SetQuota { .. } => {
                self.line(&format!(
                    "{tag} NO [NOPERM] Quotas are set by the administrator"
                ));
            }
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => {
                self.append(tag, &mailbox, &flags, date.as_ref(), message)
                    .await
            }
            other => return self.selected(tag, other).await,
        }
        self.refresh(true).await;
        Flow::Continue
    }

    /// Whether the signed-in member may go on; when they were disabled or deleted meanwhile, says
    /// `* BYE` (the caller ends the session). A store failure lets the command run, to fail or
    /// not on its own.
    pub(super) async fn still_active(&mut self, owner: &crate::mail::mailbox::Owner) -> bool {
        match self.ctx.mailboxes.active(owner).await {
            Ok(false) => {
                self.line("* BYE This mailbox is no longer available");
                false
            }
            _ => true,
        }
    }

    /// GETQUOTAROOT (every folder shares the root `""`) and GETQUOTA: STORAGE in KiB.
    async fn quota(&mut self, tag: &str, with_root: bool) {
        let Some(owner) = self.owner().cloned() else {
            return;
        };
        let q = match self.ctx.mailboxes.quota(&owner).await {
            Ok(q) => q,
            Err(e) => return self.unavailable(tag, &e),
        };
        if with_root {
            self.line("* QUOTAROOT INBOX \"\"");
        }
        match q.limit {
            Some(limit) => {
                let (used, limit) = (q.used.saturating_add(1023) / 1024, limit / 1024);
                self.line(&format!("* QUOTA \"\" (STORAGE {used} {limit})"));
            }
            None => self.line("* QUOTA \"\" ()"),
        }
        self.line(&format!("{tag} OK Quota"));
    }

    /// The member's folder of this name, or a tagged NO [NONEXISTENT] said.
    pub(super) async fn existing(&mut self, tag: &str, mailbox: &Mailbox<'_>) -> Option<Folder> {
        self.find_folder(tag, mailbox, "NONEXISTENT").await
    }

    /// The member's folder of this name, or a tagged NO with `missing` as its code said.
    pub(super) async fn find_folder(
        &mut self,
        tag: &str,
        mailbox: &Mailbox<'_>,
        missing: &str,
    ) -> Option<Folder> {
        let owner = self.owner()?.clone();
        let Some(name) = folder_name(mailbox) else {
            self.line(&format!("{tag} NO [CANNOT] Malformed folder name"));
            return None;
        };
        match self.ctx.mailboxes.folders(&owner).await {
            Ok(all) => {
                let found = all.into_iter().find(|f| f.name == name);
                if found.is_none() {
                    self.line(&format!("{tag} NO [{missing}] No such folder"));
                }
                found
            }
            Err(e) => {
                self.unavailable(tag, &e);
                None
            }
        }
    }

    /// A tagged NO for a store failure (logged once, here).
    pub(super) fn unavailable(&mut self, tag: &str, e: &crate::store::StoreError) {
        tracing::error!(error = %e, "IMAP command failed on the store");
        self.line(&format!(
            "{tag} NO [UNAVAILABLE] The mail store is unavailable, try again later"
        ));
    }

    async fn select(&mut self, tag: &str, mailbox: &Mailbox<'_>, read_only: bool) {
        // Selecting (even a folder that fails) leaves the selected state (RFC 3501 §6.3.1).
        if let State::Selected(owner, _) = &self.state {
            self.state = State::Authed(owner.clone());
        }
        let Some(folder) = self.existing(tag, mailbox).await else {
            return;
        };
        let entries = match self.ctx.mailboxes.entries(folder.id).await {
            Ok(e) => e,
            Err(e) => return self.unavailable(tag, &e),
        };
        let view = View::new(folder, entries, read_only);
        let f = &view.folder;
        let unseen = view.entries.iter().position(|e| !e.seen);
        self.line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
        self.line(&format!(
            "* OK [PERMANENTFLAGS ({})] Flags",
            if read_only {
                ""
            } else {
                "\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*"
            }
        ));
        self.line(&format!("* {} EXISTS", view.exists()));
        self.line("* 0 RECENT");
        if let Some(i) = unseen {
            self.line(&format!("* OK [UNSEEN {}] First unseen", i + 1));
        }
        self.line(&format!(
            "* OK [UIDVALIDITY {}] UIDs valid",
            f.uidvalidity()
        ));
        self.line(&format!("* OK [UIDNEXT {}] Predicted next UID", f.uidnext));
        self.line(&format!("* OK [HIGHESTMODSEQ {}] Highest", f.modseq));
        let done = if read_only {
            format!("{tag} OK [READ-ONLY] EXAMINE completed")
        } else {
            format!("{tag} OK [READ-WRITE] SELECT completed")
        };
        self.line(&done);
        let owner = self.owner().cloned();
        if let Some(owner) = owner {
            self.state = State::Selected(owner, view);
        }
    }

    async fn create(&mut self, tag: &str, mailbox: &Mailbox<'_>) {
        let Some(owner) = self.owner().cloned() else {
            return;
        };
        let name = match folder_name(mailbox) {
            Some(n) if creatable(&n) && !n.eq_ignore_ascii_case("INBOX") => n,
            Some(n) if n.eq_ignore_ascii_case("INBOX") => {
                return self.line(&format!("{tag} NO [ALREADYEXISTS] INBOX exists"));
            }
            _ => return self.line(&format!("{tag} NO [CANNOT] Unacceptable folder name")),
        };
        // Superior levels are made too (RFC 3501 §6.3.3), so every level can be selected.
        let levels: Vec<&str> = name.split('/').collect();
        for depth in 1..levels.len() {
            let parent = levels[..depth].join("/");
            if let Err(e) = self.ctx.mailboxes.create_folder(&owner, &parent).await {
                return self.unavailable(tag, &e);
            }
        }
        match self.ctx.mailboxes.create_folder(&owner, &name).await {
            Ok(Outcome::Done) => self.line(&format!("{tag} OK CREATE completed")),
            Ok(_) => self.line(&format!("{tag} NO [ALREADYEXISTS] The folder exists")),
            Err(e) => self.unavailable(tag, &e),
        }
    }

    async fn delete(&mut self, tag: &str, mailbox: &Mailbox<'_>) {
        let Some(folder) = self.existing(tag, mailbox).await else {
            return;
        };
        if folder.role().is_some() {
            return self.line(&format!(
                "{tag} NO [CANNOT] Special folders cannot be deleted"
            ));
        }
        let Some(owner) = self.owner().cloned() else {
            return;
        };
        let prefix = format!("{}/", folder.name);
        match self.ctx.mailboxes.folders(&owner).await {
            Ok(all) if all.iter().any(|f| f.name.starts_with(&prefix)) => {
                // RFC 3501 would keep it as \Noselect; we keep every level selectable instead.
                return self.line(&format!(
                    "{tag} NO [INUSE] Delete the folders inside it first"
                ));
            }
            Ok(_) => {}
            Err(e) => return self.unavailable(tag, &e),
        }
        if let State::Selected(_, view) = &self.state
            && view.folder.id == folder.id
        {
            self.state = State::Authed(owner.clone());
        }
        match self.ctx.mailboxes.delete_folder(&owner, &folder).await {
            Ok(()) => self.line(&format!("{tag} OK DELETE completed")),
            Err(e) => self.unavailable(tag, &e),
        }
    }

    async fn rename(&mut self, tag: &str, from: &Mailbox<'_>, to: &Mailbox<'_>) {
        let Some(folder) = self.existing(tag, from).await else {
            return;
        };
        let Some(owner) = self.owner().cloned() else {
            return;
        };
        let new = match folder_name(to) {
            Some(n) if creatable(&n) && !n.eq_ignore_ascii_case("INBOX") => n,
            _ => return self.line(&format!("{tag} NO [CANNOT] Unacceptable folder name")),
        };
        if folder.role().is_some() {
            return self.line(&format!(
                "{tag} NO [CANNOT] Special folders cannot be renamed"
            ));
        }
        if new.starts_with(&format!("{}/", folder.name)) {
            return self.line(&format!(
                "{tag} NO [CANNOT] A folder cannot move inside itself"
            ));
        }
        match self
            .ctx
            .mailboxes
            .rename_folder(&owner, &folder.name, &new)
            .await
        {
            Ok(Outcome::Done) => self.line(&format!("{tag} OK RENAME completed")),
            Ok(Outcome::Exists) => self.line(&format!("{tag} NO [ALREADYEXISTS] Name taken")),
            Ok(Outcome::NotFound) => self.line(&format!("{tag} NO [NONEXISTENT] No such folder")),
            Err(e) => self.unavailable(tag, &e),
        }
    }

    async fn subscribe(&mut self, tag: &str, mailbox: &Mailbox<'_>, on: bool) {
        let Some(folder) = self.existing(tag, mailbox).await else {
            return;
        };
        match self.ctx.mailboxes.subscribe(&folder, on).await {
            Ok(()) => self.line(&format!("{tag} OK Done")),
            Err(e) => self.unavailable(tag, &e),
        }
    }

    async fn list(
        &mut self,
        tag: &str,
        reference: &Mailbox<'_>,
        pattern: &ListMailbox<'_>,
        subscribed_only: bool,
    ) {
        let Some(owner) = self.owner().cloned() else {
            return;
        };
        let command = if subscribed_only { "LSUB" } else { "LIST" };
        let pattern_bytes: &[u8] = match pattern {
            ListMailbox::Token(t) => t.as_ref(),
            ListMailbox::String(s) => s.as_ref(),
        };
        let reference = match reference {
            Mailbox::Inbox => Some("INBOX".to_owned()),
            Mailbox::Other(other) => decode_name(other.as_ref()),
        };
        let (Some(reference), Some(pattern)) = (reference, decode_name(pattern_bytes)) else {
            return self.line(&format!("{tag} BAD Malformed name"));
        };
        if pattern.is_empty() {
            self.line(&format!("* {command} (\\Noselect) \"/\" \"\""));
            return self.line(&format!("{tag} OK {command} completed"));
        }
        let full: Vec<char> = format!("{reference}{pattern}").chars().collect();
        let upper: Vec<char> = full.iter().map(char::to_ascii_uppercase).collect();
        let folders = match self.ctx.mailboxes.folders(&owner).await {
            Ok(f) => f,
            Err(e) => return self.unavailable(tag, &e),
        };
        for f in &folders {
            if subscribed_only && !f.subscribed {
                continue;
            }
            let name: Vec<char> = f.name.chars().collect();
            // INBOX alone is case-insensitive (RFC 3501 §5.1).
            let inbox_match = f.name == "INBOX" && matches(&upper, &['I', 'N', 'B', 'O', 'X']);
            if !(matches(&full, &name) || inbox_match) {
                continue;
            }
            let prefix = format!("{}/", f.name);
            let mut attrs = vec![if folders.iter().any(|g| g.name.starts_with(&prefix)) {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            }];
            if let Some(role) = f
                .role()
                .filter(|r| *r != crate::mail::folders::Special::Inbox)
            {
                attrs.push(match role {
                    crate::mail::folders::Special::Sent => "\\Sent",
                    crate::mail::folders::Special::Drafts => "\\Drafts",
                    crate::mail::folders::Special::Trash => "\\Trash",
                    _ => "\\Junk",
                });
            }
            let mut line = format!("* {command} ({}) \"/\" ", attrs.join(" ")).into_bytes();
            super::wire::string(&mut line, encode_name(&f.name).as_bytes());
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
        }
        self.line(&format!("{tag} OK {command} completed"));
    }

    async fn status(&mut self, tag: &str, mailbox: &Mailbox<'_>, items: &[StatusDataItemName]) {
        let Some(folder) = self.existing(tag, mailbox).await else {
            return;
        };
        let (messages, unseen, _bytes) = match self.ctx.mailboxes.counts(folder.id).await {
            Ok(c) => c,
            Err(e) => return self.unavailable(tag, &e),
        };
        let mut parts = Vec::new();
        for item in items {
            parts.push(match item {
                StatusDataItemName::Messages => format!("MESSAGES {messages}"),
                StatusDataItemName::Recent => "RECENT 0".to_owned(),
                StatusDataItemName::UidNext => format!("UIDNEXT {}", folder.uidnext),
                StatusDataItemName::UidValidity => format!("UIDVALIDITY {}", folder.uidvalidity()),
                StatusDataItemName::Unseen => format!("UNSEEN {unseen}"),
                StatusDataItemName::HighestModSeq => format!("HIGHESTMODSEQ {}", folder.modseq),
                _ => continue,
            });
        }
        let mut line = b"* STATUS ".to_vec();
        super::wire::string(&mut line, encode_name(&folder.name).as_bytes());
        line.extend_from_slice(format!(" ({})\r\n", parts.join(" ")).as_bytes());
        self.out.extend_from_slice(&line);
        self.line(&format!("{tag} OK STATUS completed"));
    }

    /// Tells the client what changed in the selected folder since it last heard; `expunges`
    /// false while a sequence-number command runs. Returns false when the session must end (the
    /// member is gone, or their folder was deleted from elsewhere).
    pub(super) async fn refresh(&mut self, expunges: bool) -> bool {
        let condstore = self.condstore;
        let State::Selected(_, view) = &mut self.state else {
            return true;
        };
        let folder_id = view.folder.id;
        let state = match self.ctx.mailboxes.folder_state(folder_id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "IMAP refresh failed");
                return true;
            }
        };
        let Some((_, modseq)) = state else {
            self.line("* BYE The selected folder was deleted");
            return false;
        };
        if modseq == view.modseq {
            return true;
        }
        // Only what changed since the view's modseq is read, unless a copy went away: a wake-up
        // for one new mail in a 5,000-mail INBOX read all 5,000 before.
        let patched = match self
            .ctx
            .mailboxes
            .changed_since(folder_id, view.modseq)
            .await
        {
            Ok((count, changed)) => view.patched(changed, count),
            Err(e) => {
                tracing::warn!(error = %e, "IMAP refresh failed");
                return true;
            }
        };
        let entries = match patched {
            Some(entries) => entries,
            None => match self.ctx.mailboxes.entries(folder_id).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "IMAP refresh failed");
                    return true;
                }
            },
        };
        let lines = view.sync(entries, modseq, expunges, condstore);
        for l in lines {
            self.line(&l);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        matches(
            &p.chars().collect::<Vec<_>>(),
            &n.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn list_patterns() {
        assert!(m("*", "a/b/c"));
        assert!(m("%", "abc"));
        assert!(!m("%", "a/b"));
        assert!(m("a/%", "a/b"));
        assert!(!m("a/%", "a/b/c"));
        assert!(m("项目*", "项目资料/2026"));
        assert!(!m("sent", "Sent"));
        assert!(m("a%c", "abc") && !m("a%c", "a/c") && m("a*c", "a/b/c"));
        // A pattern of many wildcards against a long name is quick, and right.
        let long: String = "a".repeat(250);
        assert!(!m(&format!("{}b", "*a".repeat(40)), &long));
    }

    #[test]
    fn creatable_names() {
        assert!(creatable("项目资料/2026"));
        assert!(!creatable("a//b"));
        assert!(!creatable("a*"));
        assert!(!creatable(&"x/".repeat(20)));
    }
}
