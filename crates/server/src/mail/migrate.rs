//! Mail brought over from another IMAP server (`bizmail migrate mail`): each batch of messages is
//! stored like an APPEND (exactly as fetched, with its flags and internal date), and commits in
//! the same transaction as the source folder's new position (its UIDVALIDITY and last UID). An
//! interrupted run therefore resumes right after the last message it stored, and never stores
//! one twice.
//!
//! When the source's UIDs cannot be trusted (no position yet, or a new UIDVALIDITY), the caller
//! passes the identities of what the target folder holds, and a message already there — same
//! Message-ID, internal date and size — is skipped instead of stored again.

use super::folders::{Entry, sync_unread};
use super::mailbox::{Mailboxes, Owner};
use crate::store::{self, StoreError, migration::SourceFolder};
use std::collections::HashSet;

/// Where a source folder stands: the source's UIDVALIDITY, the last UID handled, and how many
/// messages were copied from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    /// The source folder's UIDVALIDITY when its last batch was stored.
    pub uidvalidity: i64,
    /// The highest source UID handled (stored, or found here already).
    pub last_uid: i64,
    /// Messages copied from this folder, all runs together.
    pub copied: i64,
}

/// What a copy is recognised by when UIDs cannot be trusted: its Message-ID (as the store keeps
/// it), its internal date in milliseconds, and its size in bytes.
pub type Identity = (String, i64, i64);

/// One message fetched from the source.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Its UID in the source folder.
    pub source_uid: u32,
    /// The message, exactly as the source gave it.
    pub raw: Vec<u8>,
    /// Its flags and internal date ([`Entry::upload`] with the flags set).
    pub entry: Entry,
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// Messages stored.
    pub copied: u64,
    /// Messages skipped because the folder held them already.
    pub duplicates: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Mailboxes {
    /// How far the source folder `folder` of `source` (`host:port`) was copied into the member's
    /// mailbox; `None` before its first batch.
    pub async fn migration_progress(
        &self,
        owner: &Owner,
        source: &str,
        folder: &str,
    ) -> Result<Option<Progress>, StoreError> {
        let mut pooled = self.store().acquire().await?;
        let key = SourceFolder {
            member_id: owner.member_id,
            source,
            folder,
        };
        store::migration::progress(&mut pooled.conn(), key).await
    }

    /// The identities of every copy in a folder (for [`Mailboxes::store_migrated`]'s dedup).
    pub async fn identities(&self, folder_id: i64) -> Result<HashSet<Identity>, StoreError> {
        let mut pooled = self.store().acquire().await?;
        let rows = store::migration::identities(&mut pooled.conn(), folder_id).await?;
        Ok(rows.into_iter().collect())
    }

    /// Stores a batch from the source folder `folder` of `source` (whose UIDVALIDITY is
    /// `uidvalidity`) in the member's folder `folder_id`, in ascending source UIDs, and records the
    /// highest UID as the folder's position, all in one transaction. With `known`, a message whose
    /// identity is in it is skipped (and what is stored joins it).
    pub async fn store_migrated(
        &self,
        owner: &Owner,
        folder_id: i64,
        (source, folder, uidvalidity): (&str, &str, u32),
        batch: Vec<Incoming>,
        mut known: Option<&mut HashSet<Identity>>,
    ) -> Result<Stored, StoreError> {
        let Some(last_uid) = batch.iter().map(|m| m.source_uid).max() else {
            return Ok(Stored::default());
        };
        let mut fresh = Vec::with_capacity(batch.len());
        let mut stored = Stored::default();
        for m in batch {
            let size = i64::try_from(m.raw.len()).unwrap_or(i64::MAX);
            let message = super::deliver::parse_fields(owner.tenant_id, m.raw);
            if let Some(known) = known.as_deref_mut() {
                let identity = (message.message_id.clone(), m.entry.received_ms, size);
                if !known.insert(identity) {
                    stored.duplicates += 1;
                    continue;
                }
            }
            stored.copied += 1;
            stored.bytes += u64::try_from(size).unwrap_or(0);
            fresh.push((message, m.entry));
        }
        let mut tx = self.store().begin().await?;
        if !fresh.is_empty() {
            let n = i64::try_from(fresh.len()).unwrap_or(i64::MAX);
            let (first, modseq) =
                store::folders::allocate(&mut tx, owner.tenant_id, folder_id, n).await?;
            for (uid, (message, mut entry)) in (first..).zip(fresh) {
                let conn = &mut tx.conn();
                let message_id =
                    store::mail::insert_message(conn, &message, entry.received_ms).await?;
                entry.uid = uid;
                entry.modseq = modseq;
                entry.mail_id = super::deliver::new_mail_id();
                let (tenant_id, member_id) = (owner.tenant_id, owner.member_id);
                store::folders::insert(conn, tenant_id, member_id, message_id, folder_id, &entry)
                    .await?;
            }
        }
        let key = SourceFolder {
            member_id: owner.member_id,
            source,
            folder,
        };
        let copied = i64::try_from(stored.copied).unwrap_or(i64::MAX);
        let (validity, last) = (i64::from(uidvalidity), i64::from(last_uid));
        let now = store::now_ms();
        store::migration::advance(&mut tx.conn(), key, validity, last, copied, now).await?;
        sync_unread(&mut tx, owner).await?;
        crate::push::publish(self.hub(), tx.commit().await?);
        Ok(stored)
    }
}
