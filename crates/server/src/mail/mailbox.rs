//! Changes to a member's mailbox that change its unread count (read, unread, delete). Each one
//! commits with an unread-count notice for `listen` (§5: every change of a member's unread count
//! that is not a new mail) and wakes the tenant's polls. The web mailbox changes mail only here.

use crate::push::hub::Hub;
use crate::store::{self, Store, StoreError};
use bizmail_protocol::response::UnreadNotice;

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
pub async fn mark(
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
        Some(_) => Changed::Unread(adjust(&mut tx, owner, if seen { -1 } else { 1 }).await?),
    };
    tx.commit().await?;
    if let Changed::Unread(_) = changed {
        hub.wake(owner.tenant_id);
    }
    Ok(changed)
}

/// Deletes a mail; deleting an unread one lowers the unread count.
pub async fn delete(
    store: &Store,
    hub: &Hub,
    owner: &Owner,
    mail_id: &str,
) -> Result<Changed, StoreError> {
    let mut tx = store.begin().await?;
    let seen = store::mail::delete_copy(&mut tx.conn(), owner.member_id, mail_id).await?;
    let changed = match seen {
        None => Changed::NotFound,
        Some(true) => Changed::Unchanged,
        Some(false) => Changed::Unread(adjust(&mut tx, owner, -1).await?),
    };
    tx.commit().await?;
    if let Changed::Unread(_) = changed {
        hub.wake(owner.tenant_id);
    }
    Ok(changed)
}

async fn adjust(tx: &mut store::Tx, owner: &Owner, delta: i64) -> Result<i64, StoreError> {
    let conn = &mut tx.conn();
    let unread = store::mail::add_unread(conn, owner.member_id, delta).await?;
    let notice = UnreadNotice {
        user_name: owner.address.clone(),
        new_count: u64::try_from(unread).unwrap_or(0),
    };
    let payload = serde_json::to_string(&notice).unwrap_or_default();
    store::changes::append_event(conn, owner.tenant_id, store::now_ms(), "unread", &payload)
        .await?;
    Ok(unread)
}
