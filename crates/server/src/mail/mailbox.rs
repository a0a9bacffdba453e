//! Members' mailboxes as a mail client sees them: [`Mailboxes`] lists, reads, marks and deletes.
//! Every change of a member's unread count commits with an unread-count notice for `listen` (§5:
//! every change of the count that is not a new mail) and wakes the tenant's polls. The web mailbox
//! (and later IMAP) change mail only here.

use crate::push::hub::Hub;
use crate::store::{self, Store, StoreError};

/// One copy in a mailbox, for listings.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailCopy {
    /// The copy's MailId.
    pub mail_id: String,
    /// From as written.
    pub from_header: String,
    /// Decoded subject.
    pub subject: String,
    /// Text summary.
    pub summary: String,
    /// Size of the raw message in bytes.
    pub size: i64,
    /// Whether it was read.
    pub seen: bool,
    /// When it arrived, Unix milliseconds.
    pub received_ms: i64,
}

/// The mailboxes of a store, for whoever reads mail (the web mailbox, tests, later IMAP).
#[derive(Debug, Clone)]
pub struct Mailboxes {
    store: Store,
    hub: Hub,
    /// The server's default quota in bytes (`None`: none).
    default_quota: Option<i64>,
    /// rspamd, taught when mail moves into or out of Junk (`None`: not configured).
    spam: Option<std::sync::Arc<super::spam::Rspamd>>,
}

impl Mailboxes {
    /// Mailboxes over a store, waking `hub`'s polls after changes.
    pub(crate) fn new(store: Store, hub: Hub) -> Mailboxes {
        Mailboxes {
            store,
            hub,
            default_quota: None,
            spam: None,
        }
    }

    /// The same mailboxes teaching `spam` the members' verdicts.
    pub(crate) fn with_spam(
        mut self,
        spam: Option<std::sync::Arc<super::spam::Rspamd>>,
    ) -> Mailboxes {
        self.spam = spam;
        self
    }

    /// The rspamd client, for `folders::transfer`'s teaching.
    pub(super) fn spam(&self) -> Option<&std::sync::Arc<super::spam::Rspamd>> {
        self.spam.as_ref()
    }

    /// The same mailboxes with a default quota in bytes for members without their own.
    pub(crate) fn with_default_quota(mut self, bytes: Option<i64>) -> Mailboxes {
        self.default_quota = bytes;
        self
    }

    /// The default quota, for `mail::quota`.
    pub(super) fn default_quota(&self) -> Option<i64> {
        self.default_quota
    }

    /// The store, for the folder operations (`mail::folders`).
    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// The wake-ups, for the folder operations (`mail::folders`).
    pub(super) fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The mailbox an address (a member's primary address or alias, any tenant) leads to;
    /// `None` for an unknown address or a group's.
    pub async fn owner(&self, address: &str) -> Result<Option<Owner>, StoreError> {
        let mut pooled = self.store.acquire().await?;
        let member = store::directory::member_by_address(&mut pooled.conn(), address).await?;
        Ok(member.map(|m| Owner {
            tenant_id: m.tenant_id,
            member_id: m.id,
            address: m.address,
        }))
    }

    /// A page of the mailbox, newest first.
    pub async fn list(
        &self,
        owner: &Owner,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<MailCopy>, StoreError> {
        let mut pooled = self.store.acquire().await?;
        store::mail::copies(
            &mut pooled.conn(),
            owner.member_id,
            i64::from(limit),
            i64::from(offset),
        )
        .await
    }

    /// The message behind one copy, exactly as it was received.
    pub async fn raw(&self, owner: &Owner, mail_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut pooled = self.store.acquire().await?;
        store::mail::raw_of(&mut pooled.conn(), owner.member_id, mail_id).await
    }

    /// Whether the member still exists and is enabled: a mail client's session ends when not.
    pub async fn active(&self, owner: &Owner) -> Result<bool, StoreError> {
        let mut pooled = self.store.acquire().await?;
        store::mail::member_active(&mut pooled.conn(), owner.member_id).await
    }

    /// The member's unread count, as `mail/newcount` answers it.
    pub async fn unread(&self, owner: &Owner) -> Result<i64, StoreError> {
        let mut pooled = self.store.acquire().await?;
        store::mail::unread(&mut pooled.conn(), owner.member_id).await
    }

    /// The message behind one copy and whether the copy was read.
    pub async fn read(
        &self,
        owner: &Owner,
        mail_id: &str,
    ) -> Result<Option<(Vec<u8>, bool)>, StoreError> {
        let mut pooled = self.store.acquire().await?;
        store::mail::copy_of(&mut pooled.conn(), owner.member_id, mail_id).await
    }

    /// How many messages a tenant stores (a message delivered to several members is one).
    pub async fn stored_messages(&self, tenant_id: i64) -> Result<i64, StoreError> {
        let mut pooled = self.store.acquire().await?;
        store::mail::message_count(&mut pooled.conn(), tenant_id).await
    }

    /// Marks a mail read (`seen = true`) or unread.
    pub async fn mark(
        &self,
        owner: &Owner,
        mail_id: &str,
        seen: bool,
    ) -> Result<Changed, StoreError> {
        mark(&self.store, &self.hub, owner, mail_id, seen).await
    }

    /// Deletes a mail: into Trash, or for good from Trash. Deleting an unread mail from INBOX
    /// lowers the unread count.
    pub async fn delete(&self, owner: &Owner, mail_id: &str) -> Result<Changed, StoreError> {
        delete(&self.store, &self.hub, owner, mail_id).await
    }

    /// Removes a draft for good (after it was sent or saved anew); see [`discard_draft`].
    pub async fn discard_draft(&self, owner: &Owner, mail_id: &str) -> Result<Changed, StoreError> {
        discard_draft(&self.store, &self.hub, owner, mail_id).await
    }
}

/// The mailbox of one member.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The member's tenant.
    pub tenant_id: i64,
    /// The member.
    pub member_id: i64,
    /// The member's primary address (the notice's `UserName`).
    pub address: String,
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// No such mail in this mailbox.
    NotFound,
    /// The mail was already so; nothing changed, no notice.
    Unchanged,
    /// The unread count is now this.
    Unread(i64),
}

/// Marks a mail read (`seen = true`) or unread.
pub(crate) async fn mark(
    store: &Store,
    hub: &Hub,
    owner: &Owner,
    mail_id: &str,
    seen: bool,
) -> Result<Changed, StoreError> {
    let mut tx = store.begin().await?;
    let before = store::mail::set_seen(&mut tx.conn(), owner.member_id, mail_id, seen).await?;
    let changed = match before {
        None => Changed::NotFound,
        Some(b) if b == seen => Changed::Unchanged,
        Some(_) => {
            store::folders::touch_copy(&mut tx, owner.tenant_id, owner.member_id, mail_id).await?;
            unread_after(&mut tx, owner).await?
        }
    };
    crate::push::publish(hub, tx.commit().await?);
    Ok(changed)
}

/// Deletes a mail as a mail client's Delete does: into Trash, or for good when it is in Trash
/// already. Deleting an unread mail from INBOX lowers the unread count.
pub(crate) async fn delete(
    store: &Store,
    hub: &Hub,
    owner: &Owner,
    mail_id: &str,
) -> Result<Changed, StoreError> {
    use super::folders::Special;
    let mut tx = store.begin().await?;
    let place = store::folders::locate(&mut tx.conn(), owner.member_id, mail_id).await?;
    let Some((folder_id, uid, role)) = place else {
        return Ok(Changed::NotFound);
    };
    store::folders::note_change(&mut tx, owner.tenant_id).await?;
    if role.as_deref() == Some(Special::Trash.as_str()) {
        store::mail::delete_copy(&mut tx.conn(), owner.member_id, mail_id).await?;
    } else {
        let (trash, new_uid, modseq) =
            super::folders::slot(&mut tx, owner.tenant_id, owner.member_id, Special::Trash).await?;
        store::folders::next_modseq(&mut tx, owner.tenant_id, folder_id).await?;
        let conn = &mut tx.conn();
        store::folders::move_to(conn, folder_id, uid, trash, new_uid, modseq).await?;
    }
    let changed = unread_after(&mut tx, owner).await?;
    crate::push::publish(hub, tx.commit().await?);
    Ok(changed)
}

/// Removes a draft for good (it was sent, or saved again as a new draft). `NotFound` unless
/// the mail is in the member's Drafts.
pub(crate) async fn discard_draft(
    store: &Store,
    hub: &Hub,
    owner: &Owner,
    mail_id: &str,
) -> Result<Changed, StoreError> {
    use super::folders::Special;
    let mut tx = store.begin().await?;
    let place = store::folders::locate(&mut tx.conn(), owner.member_id, mail_id).await?;
    if place.is_none_or(|(_, _, role)| role.as_deref() != Some(Special::Drafts.as_str())) {
        return Ok(Changed::NotFound);
    }
    store::folders::note_change(&mut tx, owner.tenant_id).await?;
    store::mail::delete_copy(&mut tx.conn(), owner.member_id, mail_id).await?;
    crate::push::publish(hub, tx.commit().await?);
    Ok(Changed::Unchanged)
}

/// What a change did to the unread count: the new count, or nothing when it stayed.
async fn unread_after(tx: &mut store::Tx, owner: &Owner) -> Result<Changed, StoreError> {
    Ok(match super::folders::sync_unread(tx, owner).await? {
        Some(n) => Changed::Unread(n),
        None => Changed::Unchanged,
    })
}
