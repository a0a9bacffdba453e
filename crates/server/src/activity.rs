//! What happened, as the newer API's `log/*` tells it (EXMAIL_API.md §4.8): mailbox logins are
//! recorded here, mails where they are stored or queued (in their own transactions), and the
//! operation log by the API guards. The routes hold an [`Activity`] handle to read them.

use crate::store::{self, Store, StoreError, activity};

/// `log/login` types.
pub mod login_kind {
    /// The web mailbox.
    pub const WEB: i64 = 1;
    /// IMAP, POP3 or SMTP submission.
    pub const MAIL_CLIENT: i64 = 4;
}

/// The most rows one log answer carries.
pub const MAX_ROWS: i64 = 10_000;

/// The activity logs, as one handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Activity {
    store: Store,
}

pub use activity::{MailFilter, MailLogRow, Operations};

/// Records a mailbox login of `(tenant, member)` now. A failure is logged, never fatal: the
/// login itself succeeded.
pub(crate) async fn record_login(store: &Store, who: (i64, i64), ip: &str, kind: i64) {
    if let Err(e) = activity::insert_login(store, who, store::now_ms(), ip, kind).await {
        tracing::warn!(error = %e, "could not record a login");
    }
}

impl Activity {
    /// The logs kept in `store`.
    pub fn new(store: Store) -> Activity {
        Activity { store }
    }

    /// Records a mailbox login (see [`record_login`]).
    pub async fn record_login(&self, tenant_id: i64, member_id: i64, ip: &str, kind: i64) {
        record_login(&self.store, (tenant_id, member_id), ip, kind).await;
    }

    /// The tenant's mails in a range of Unix milliseconds, narrowed by `filter`.
    pub async fn mails(
        &self,
        tenant_id: i64,
        range: (i64, i64),
        filter: &MailFilter<'_>,
    ) -> Result<Vec<MailLogRow>, StoreError> {
        activity::mails(&self.store, tenant_id, range, filter, MAX_ROWS).await
    }

    /// Mails sent from and received by `domain` in a range: `(sent, received)`.
    pub async fn mail_counts(
        &self,
        tenant_id: i64,
        range: (i64, i64),
        domain: &str,
    ) -> Result<(i64, i64), StoreError> {
        activity::mail_counts(&self.store, tenant_id, range, domain).await
    }

    /// A member's logins in a range: `(at_ms, ip, kind)`.
    pub async fn logins(
        &self,
        member_id: i64,
        range: (i64, i64),
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        activity::logins(&self.store, member_id, range, MAX_ROWS).await
    }

    /// The tenant's successful API calls of `which` kind in a range: `(at_ms, admin, endpoint,
    /// params)`.
    pub async fn operations(
        &self,
        tenant_id: i64,
        range: (i64, i64),
        which: Operations,
    ) -> Result<Vec<(i64, String, String, String)>, StoreError> {
        activity::operations(&self.store, tenant_id, range, which, MAX_ROWS).await
    }
}
