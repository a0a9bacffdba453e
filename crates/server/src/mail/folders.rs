//! A member's folders as mail clients see them: names with `/` for hierarchy, UIDs that only
//! grow, flags stored once. Every change commits in one transaction with what follows from it —
//! the INBOX unread count of `mail/newcount` and its notice for `listen` — and wakes whoever
//! waits on the tenant's mail (held polls, IMAP IDLE), on every node.

use super::mailbox::{Mailboxes, Owner};
use crate::store::{self, StoreError, Tx};
use bizmail_protocol::response::UnreadNotice;

/// `\Answered` in [`Entry::flags`].
pub const ANSWERED: i64 = 1;
/// `\Flagged` in [`Entry::flags`].
pub const FLAGGED: i64 = 2;
/// `\Deleted` in [`Entry::flags`].
pub const DELETED: i64 = 4;
/// `\Draft` in [`Entry::flags`].
pub const DRAFT: i64 = 8;

/// The folders every member has, each with its SPECIAL-USE role (RFC 6154).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// Where mail arrives.
    Inbox,
    /// Copies of sent mail.
    Sent,
    /// Unfinished mail.
    Drafts,
    /// Deleted mail, until emptied.
    Trash,
    /// Spam.
    Junk,
}

impl Special {
    /// All five, in the order folder lists show them.
    pub const ALL: [Special; 5] = [
        Special::Inbox,
        Special::Sent,
        Special::Drafts,
        Special::Trash,
        Special::Junk,
    ];

    /// How the store names the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Special::Inbox => "inbox",
            Special::Sent => "sent",
            Special::Drafts => "drafts",
            Special::Trash => "trash",
            Special::Junk => "junk",
        }
    }

    /// The folder's name when it is made. Decided: the English names of the SPECIAL-USE roles
    /// (the list), not QQ Mail's "Sent Messages"/"Deleted Messages": clients find the
    /// roles by their attributes either way.
    pub fn default_name(self) -> &'static str {
        match self {
            Special::Inbox => "INBOX",
            Special::Sent => "Sent",
            Special::Drafts => "Drafts",
            Special::Trash => "Trash",
            Special::Junk => "Junk",
        }
    }

    fn parse(s: &str) -> Option<Special> {
        Special::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One folder of a member's.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Folder {
    /// The folder's id, which is also its UIDVALIDITY: ids are never reused.
    pub id: i64,
    /// Its full name, `/` between levels, in UTF-8.
    pub name: String,
    /// Its role, for the special folders.
    pub special: Option<String>,
    /// The UID the next copy will get.
    pub uidnext: i64,
    /// The highest modseq of its copies (CONDSTORE).
    pub modseq: i64,
    /// Whether the member subscribed to it (LSUB).
    pub subscribed: bool,
}

impl Folder {
    /// The folder's UIDVALIDITY.
    pub fn uidvalidity(&self) -> u32 {
        u32::try_from(self.id).unwrap_or(u32::MAX)
    }

    /// The folder's role, if it is one of the five.
    pub fn role(&self) -> Option<Special> {
        self.special.as_deref().and_then(Special::parse)
    }
}

/// One copy in a folder.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    /// Its UID in the folder.
    pub uid: i64,
    /// `\Seen`.
    pub seen: bool,
    /// The other system flags ([`ANSWERED`], [`FLAGGED`], [`DELETED`], [`DRAFT`]).
    pub flags: i64,
    /// The client's own flags, space-separated.
    pub keywords: String,
    /// The modseq of its last change.
    pub modseq: i64,
    /// The message's size in bytes (`RFC822.SIZE`).
    pub size: i64,
    /// When it arrived (INTERNALDATE), Unix milliseconds.
    pub received_ms: i64,
    /// Its MailId (the web mailbox's and the push's name for it).
    pub mail_id: String,
}

impl Entry {
    /// A copy about to be uploaded (APPEND, an import): unflagged, its UID, modseq and MailId
    /// to be given when it is stored.
    pub fn upload(received_ms: i64) -> Entry {
        Entry {
            uid: 0,
            seen: false,
            flags: 0,
            keywords: String::new(),
            modseq: 0,
            size: 0,
            received_ms,
            mail_id: String::new(),
        }
    }
}

/// What creating or renaming a folder did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Done,
    /// The name is taken.
    Exists,
    /// No such folder.
    NotFound,
}

/// `(messages, unseen, bytes)` of a folder, for STATUS.
pub type Counts = (i64, i64, i64);

impl Mailboxes {
    /// The member's folders by name, the special ones made first if missing.
    pub async fn folders(&self, owner: &Owner) -> Result<Vec<Folder>, StoreError> {
        let mut pooled = self.store().acquire().await?;
        let folders = store::folders::list(&mut pooled.conn(), owner.member_id).await?;
        if folders.iter().filter(|f| f.role().is_some()).count() == Special::ALL.len() {
            return Ok(folders);
        }
        drop(pooled);
        let mut tx = self.store().begin().await?;
        store::folders::ensure_defaults(&mut tx.conn(), owner.tenant_id, owner.member_id).await?;
        tx.commit().await?.no_events();
        let mut pooled = self.store().acquire().await?;
        store::folders::list(&mut pooled.conn(), owner.member_id).await
    }

    /// One of the member's folders by its full name.
    pub async fn folder(&self, owner: &Owner, name: &str) -> Result<Option<Folder>, StoreError> {
        let mut pooled = self.store().acquire().await?;
        store::folders::by_name(&mut pooled.conn(), owner.member_id, name).await
    }

    /// Makes a folder.
    pub async fn create_folder(&self, owner: &Owner, name: &str) -> Result<Outcome, StoreError> {
        let mut tx = self.store().begin().await?;
        match store::folders::create(&mut tx.conn(), owner.tenant_id, owner.member_id, name).await {
            Ok(_) => {
                tx.commit().await?.no_events();
                Ok(Outcome::Done)
            }
            Err(e) if e.is_unique_violation() => Ok(Outcome::Exists),
            Err(e) => Err(e),
        }
    }

    /// Deletes a folder and the mail in it (the caller keeps the special folders).
    pub async fn delete_folder(&self, owner: &Owner, folder: &Folder) -> Result<(), StoreError> {
        let mut tx = self.store().begin().await?;
        store::folders::delete(&mut tx.conn(), folder.id).await?;
        sync_unread(&mut tx, owner).await?;
        crate::push::publish(self.hub(), tx.commit().await?);
        Ok(())
    }

    /// Renames a folder and the folders under it.
    pub async fn rename_folder(
        &self,
        owner: &Owner,
        old: &str,
        new: &str,
    ) -> Result<Outcome, StoreError> {
        let mut tx = self.store().begin().await?;
        let conn = &mut tx.conn();
        if store::folders::by_name(conn, owner.member_id, new)
            .await?
            .is_some()
        {
            return Ok(Outcome::Exists);
        }
        let outcome = match store::folders::rename(conn, owner.member_id, old, new).await {
            Ok(0) => Outcome::NotFound,
            Ok(_) => Outcome::Done,
            Err(e) if e.is_unique_violation() => return Ok(Outcome::Exists),
            Err(e) => return Err(e),
        };
        tx.commit().await?.no_events();
        Ok(outcome)
    }

    /// Subscribes to a folder or not.
    pub async fn subscribe(&self, folder: &Folder, on: bool) -> Result<(), StoreError> {
        let mut tx = self.store().begin().await?;
        store::folders::set_subscribed(&mut tx.conn(), folder.id, on).await?;
        tx.commit().await?.no_events();
        Ok(())
    }

    /// Every copy in a folder, by UID.
    pub async fn entries(&self, folder_id: i64) -> Result<Vec<Entry>, StoreError> {
        let mut pooled = self.store().acquire().await?;
        store::folders::entries(&mut pooled.conn(), folder_id).await
    }

    /// How many copies a folder holds, and the ones changed or added since `modseq`.
    pub async fn changed_since(
        &self,
        folder_id: i64,
        modseq: i64,
    ) -> Result<(i64, Vec<Entry>), StoreError> {
        let mut pooled = self.store().acquire().await?;
        store::folders::changed_since(&mut pooled.conn(), folder_id, modseq).await
    }

    /// `(uidnext, highest modseq)` of a folder now, or `None` when it was deleted.
    pub async fn folder_state(&self, folder_id: i64) -> Result<Option<(i64, i64)>, StoreError> {
        let mut pooled = self.store().acquire().await?;
        store::folders::state(&mut pooled.conn(), folder_id).await
    }

    /// Messages, unseen messages and bytes in a folder.
    pub async fn counts(&self, folder_id: i64) -> Result<Counts, StoreError> {
        let mut pooled = self.store().acquire().await?;
        store::folders::counts(&mut pooled.conn(), folder_id).await
    }

    /// The bytes of one copy, exactly as stored.
    pub async fn raw_by_uid(
        &self,
        folder_id: i64,
        uid: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut pooled = self.store().acquire().await?;
        store::folders::raw(&mut pooled.conn(), folder_id, uid).await
    }

    /// Stores new flags for copies of a folder (each entry as it should become); returns the
    /// modseq they now carry.
    pub async fn set_flags(
        &self,
        owner: &Owner,
        folder_id: i64,
        changed: &[Entry],
    ) -> Result<i64, StoreError> {
        let mut tx = self.store().begin().await?;
        let modseq = store::folders::next_modseq(&mut tx, owner.tenant_id, folder_id).await?;
        for entry in changed {
            store::folders::set_flags(&mut tx.conn(), folder_id, entry, modseq).await?;
        }
        sync_unread(&mut tx, owner).await?;
        crate::push::publish(self.hub(), tx.commit().await?);
        Ok(modseq)
    }

    /// Removes copies of a folder for good; returns the UIDs that were there.
    pub async fn expunge(
        &self,
        owner: &Owner,
        folder_id: i64,
        uids: &[i64],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.store().begin().await?;
        store::folders::next_modseq(&mut tx, owner.tenant_id, folder_id).await?;
        let mut gone = Vec::with_capacity(uids.len());
        for &uid in uids {
            if store::folders::expunge(&mut tx.conn(), folder_id, uid).await? {
                gone.push(uid);
            }
        }
        sync_unread(&mut tx, owner).await?;
        crate::push::publish(self.hub(), tx.commit().await?);
        Ok(gone)
    }

    /// Copies (or, with `moving`, moves) copies of one folder into another; returns the pairs
    /// `(old uid, new uid)` of what was there (COPYUID).
    pub async fn transfer(
        &self,
        owner: &Owner,
        from: i64,
        uids: &[i64],
        to: i64,
        moving: bool,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut tx = self.store().begin().await?;
        let n = i64::try_from(uids.len()).unwrap_or(i64::MAX);
        let (first, modseq) = store::folders::allocate(&mut tx, owner.tenant_id, to, n).await?;
        if moving {
            store::folders::next_modseq(&mut tx, owner.tenant_id, from).await?;
        }
        let mut pairs = Vec::with_capacity(uids.len());
        for (i, &uid) in uids.iter().enumerate() {
            let new_uid = first + i64::try_from(i).unwrap_or(0);
            let conn = &mut tx.conn();
            let done = if moving {
                store::folders::move_to(conn, from, uid, to, new_uid, modseq).await?
            } else {
                let mail_id = super::deliver::new_mail_id();
                store::folders::copy(conn, from, uid, to, new_uid, modseq, &mail_id).await?
            };
            if done {
                pairs.push((uid, new_uid));
            }
        }
        sync_unread(&mut tx, owner).await?;
        crate::push::publish(self.hub(), tx.commit().await?);
        self.teach(owner, from, to, &pairs).await;
        Ok(pairs)
    }

    /// Mail moved or copied into Junk is spam to rspamd; out of Junk (not to Trash), it is not.
    /// The bytes are read and sent in the background: a client's MOVE never waits for rspamd.
    async fn teach(&self, owner: &Owner, from: i64, to: i64, pairs: &[(i64, i64)]) {
        let Some(spam) = self.spam().cloned() else {
            return;
        };
        let Ok(folders) = self.folders(owner).await else {
            return;
        };
        let role = |id| folders.iter().find(|f| f.id == id).and_then(Folder::role);
        let (was, now) = (role(from), role(to));
        let verdict = match (was, now) {
            (Some(Special::Junk), Some(Special::Junk)) => return,
            (_, Some(Special::Junk)) => true,
            (Some(Special::Junk), Some(Special::Trash)) => return,
            (Some(Special::Junk), _) => false,
            _ => return,
        };
        let this = self.clone();
        let uids: Vec<i64> = pairs.iter().map(|(_, new)| *new).collect();
        tokio::spawn(async move {
            for uid in uids {
                if let Ok(Some(raw)) = this.raw_by_uid(to, uid).await {
                    spam.learn(raw, verdict);
                }
            }
        });
    }

    /// Stores a message a client uploads (APPEND) in a folder, exactly as given; returns its UID.
    pub async fn append(
        &self,
        owner: &Owner,
        folder_id: i64,
        raw: Vec<u8>,
        mut entry: Entry,
    ) -> Result<i64, StoreError> {
        let message = super::deliver::parse_fields(owner.tenant_id, raw);
        let mut tx = self.store().begin().await?;
        let (uid, modseq) =
            store::folders::allocate(&mut tx, owner.tenant_id, folder_id, 1).await?;
        let conn = &mut tx.conn();
        let message_id = store::mail::insert_message(conn, &message, entry.received_ms).await?;
        entry.uid = uid;
        entry.modseq = modseq;
        entry.mail_id = super::deliver::new_mail_id();
        let conn = &mut tx.conn();
        store::folders::insert(
            conn,
            owner.tenant_id,
            owner.member_id,
            message_id,
            folder_id,
            &entry,
        )
        .await?;
        sync_unread(&mut tx, owner).await?;
        crate::push::publish(self.hub(), tx.commit().await?);
        Ok(uid)
    }
}

impl Mailboxes {
    /// A page of one of the member's folders, newest first, optionally only the mail whose
    /// sender, subject or summary contains `query` (any case); the web mailbox's folder view.
    pub async fn page(
        &self,
        owner: &Owner,
        folder_id: i64,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<super::MailCopy>, StoreError> {
        let query = query.trim().to_lowercase();
        let pattern = if query.is_empty() {
            String::new()
        } else {
            let escaped = query
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        };
        let mut pooled = self.store().acquire().await?;
        store::folders::page(
            &mut pooled.conn(),
            owner.member_id,
            folder_id,
            &pattern,
            i64::from(limit),
            i64::from(offset),
        )
        .await
    }

    /// Moves one of the member's mails into another of their folders (keeping its MailId);
    /// false when either is not theirs.
    pub async fn move_mail(
        &self,
        owner: &Owner,
        mail_id: &str,
        to: &Folder,
    ) -> Result<bool, StoreError> {
        let place = {
            let mut pooled = self.store().acquire().await?;
            store::folders::locate(&mut pooled.conn(), owner.member_id, mail_id).await?
        };
        let Some((from, uid, _)) = place else {
            return Ok(false);
        };
        if from == to.id {
            return Ok(true);
        }
        Ok(!self
            .transfer(owner, from, &[uid], to.id, true)
            .await?
            .is_empty())
    }

    /// Deletes everything in the member's Trash for good.
    pub async fn empty_trash(&self, owner: &Owner) -> Result<(), StoreError> {
        let folders = self.folders(owner).await?;
        let Some(trash) = folders.iter().find(|f| f.role() == Some(Special::Trash)) else {
            return Ok(());
        };
        let uids: Vec<i64> = self
            .entries(trash.id)
            .await?
            .iter()
            .map(|e| e.uid)
            .collect();
        if !uids.is_empty() {
            self.expunge(owner, trash.id, &uids).await?;
        }
        Ok(())
    }
}

/// The next UID of a member's special folder for a new copy: `(folder, uid, modseq)`. Makes the
/// member's special folders first when they have none yet.
pub(crate) async fn slot(
    tx: &mut Tx,
    tenant_id: i64,
    member_id: i64,
    special: Special,
) -> Result<(i64, i64, i64), StoreError> {
    if let Some(slot) = store::folders::allocate_special(tx, tenant_id, member_id, special).await? {
        return Ok(slot);
    }
    store::folders::ensure_defaults(&mut tx.conn(), tenant_id, member_id).await?;
    store::folders::allocate_special(tx, tenant_id, member_id, special)
        .await?
        .ok_or_else(|| StoreError::Db(sqlx::Error::RowNotFound))
}

/// Brings the member's unread count (unseen mail in INBOX) up to date after a change, with its
/// notice for `listen` when it moved (§5: every change of the count that is not a new mail).
pub(crate) async fn sync_unread(tx: &mut Tx, owner: &Owner) -> Result<Option<i64>, StoreError> {
    let conn = &mut tx.conn();
    let now = store::folders::inbox_unseen(conn, owner.member_id).await?;
    let before = store::mail::unread(conn, owner.member_id).await?;
    if now == before {
        return Ok(None);
    }
    store::mail::set_unread(conn, owner.member_id, now).await?;
    let notice = UnreadNotice {
        user_name: owner.address.clone(),
        new_count: u64::try_from(now).unwrap_or(0),
    };
    let payload = serde_json::to_string(&notice).unwrap_or_default();
    store::events::append_event(tx, owner.tenant_id, store::now_ms(), "unread", &payload).await?;
    Ok(Some(now))
}
