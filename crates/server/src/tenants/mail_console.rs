//! What the console's mail settings (邮件设置) and newer-API (新版接口) pages read beyond the CLI's
//! verbs: the members with their quota and usage, the tenant's domains, its own spam thresholds
//! and the first-SSO password switch. The changes go through the verbs the CLI uses
//! (`set_quota`, `dkim_*`, `set_spam_thresholds`, `corp_*`).

use super::{Admin, AdminError};
use crate::store;

/// A member's mailbox as the console's quota table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberQuota {
    /// The primary address.
    pub address: String,
    /// The display name.
    pub name: String,
    /// Their own quota in bytes; `None`: the server's default (`mailbox_quota_mb`).
    pub own_bytes: Option<i64>,
    /// Bytes stored, every copy in every folder counted.
    pub used_bytes: i64,
}

/// A tenant's own spam thresholds (rspamd scores); `None` where the server's apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpamThresholds {
    /// At this score and above, mail goes to Junk.
    pub junk: Option<f64>,
    /// At this score and above, mail is refused.
    pub reject: Option<f64>,
}

impl Admin {
    /// A page of the admin's tenant's members by address with their quota and usage: those
    /// whose address or name contains `filter` (any case; empty for all), `limit` of them after
    /// skipping `offset`.
    pub async fn member_quotas(
        &self,
        admin: &str,
        filter: &str,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<MemberQuota>, AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        let rows = store::mail::quota_page(
            &self.store,
            tenant_id,
            filter.trim(),
            i64::from(offset),
            i64::from(limit),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| MemberQuota {
                address: r.address,
                name: r.name,
                own_bytes: r.quota_bytes,
                used_bytes: r.used_bytes,
            })
            .collect())
    }

    /// The admin's tenant's mail domains, sorted.
    pub async fn domains(&self, admin: &str) -> Result<Vec<String>, AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        Ok(store::tenants::domains_of(&self.store, tenant_id).await?)
    }

    /// The admin's tenant's own spam thresholds.
    pub async fn spam_thresholds(&self, admin: &str) -> Result<SpamThresholds, AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        let (junk, reject) = store::tenants::spam_thresholds(&self.store, tenant_id).await?;
        let score = |tenths: Option<i64>| tenths.map(|t| t as f64 / 10.0);
        Ok(SpamThresholds {
            junk: score(junk),
            reject: score(reject),
        })
    }

    /// Whether the admin's tenant's members confirm their password on their first SSO login of
    /// the newer API (what [`Admin::corp_sso_confirm`] switches).
    pub async fn corp_sso_confirm_state(&self, admin: &str) -> Result<bool, AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        Ok(store::directory::ids::sso_confirm_password(&self.store, tenant_id).await?)
    }
}
