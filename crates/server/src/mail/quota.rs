//! Mailbox quotas (RFC 9208's STORAGE resource): what a member stores, every copy in every folder
//! counted, against their own quota or the server's default (`mailbox_quota_mb`; 0 for none).
//! SMTP refuses a direct recipient whose mailbox is full (452 4.2.2), IMAP refuses an APPEND or
//! COPY that would not fit (NO [OVERQUOTA]).

use super::mailbox::{Mailboxes, Owner};
use crate::store::{self, Conn, StoreError};

/// A member's usage and limit, in bytes (usage is only counted when there is a limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Bytes stored.
    pub used: i64,
    /// The most they may store; `None`: no limit.
    pub limit: Option<i64>,
}

impl Quota {
    /// Whether `more` bytes still fit.
    pub fn allows(&self, more: i64) -> bool {
        self.limit
            .is_none_or(|limit| self.used.saturating_add(more) <= limit)
    }

    /// Whether nothing more fits.
    pub fn full(&self) -> bool {
        self.limit.is_some_and(|limit| self.used >= limit)
    }
}

/// A default quota in bytes from a size in MB (0: none).
pub fn default_bytes(mb: u64) -> Option<i64> {
    (mb > 0).then(|| i64::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(i64::MAX))
}

/// The quota of a member (`None` when there is no such member).
pub(crate) async fn of(
    conn: &mut Conn<'_>,
    member_id: i64,
    default: Option<i64>,
) -> Result<Option<Quota>, StoreError> {
    let Some(own) = store::mail::own_quota(conn, member_id).await? else {
        return Ok(None);
    };
    of_member(conn, member_id, own, default).await.map(Some)
}

/// The quota of a member whose own quota (`own`, `None` for the default) is already known.
pub(crate) async fn of_member(
    conn: &mut Conn<'_>,
    member_id: i64,
    own: Option<i64>,
    default: Option<i64>,
) -> Result<Quota, StoreError> {
    let limit = own.or(default);
    // Summing a mailbox is the costly part, and every delivery asks: only when there is a limit.
    let used = match limit {
        Some(_) => store::mail::used_bytes(conn, member_id).await?,
        None => 0,
    };
    Ok(Quota { used, limit })
}

impl Mailboxes {
    /// The member's usage and quota.
    pub async fn quota(&self, owner: &Owner) -> Result<Quota, StoreError> {
        let mut pooled = self.store().acquire().await?;
        Ok(
            of(&mut pooled.conn(), owner.member_id, self.default_quota())
                .await?
                .unwrap_or(Quota {
                    used: 0,
                    limit: Some(0),
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let q = Quota {
            used: 90,
            limit: Some(100),
        };
        assert!(q.allows(10) && !q.allows(11) && !q.full());
        assert!(
            Quota {
                used: 100,
                limit: Some(100)
            }
            .full()
        );
        assert!(
            Quota {
                used: 1 << 40,
                limit: None
            }
            .allows(1 << 40)
        );
        assert_eq!(default_bytes(0), None);
        assert_eq!(default_bytes(2), Some(2 * 1024 * 1024));
    }
}
