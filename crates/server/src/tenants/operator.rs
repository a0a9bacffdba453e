//! The operator's view of a server with several tenants (`bizmail tenant …`): every tenant with
//! its domains and size, and the switch that disables a whole tenant (its APIs answer as switched
//! off, its members sign in nowhere, its domains receive no mail) without deleting anything.

use super::{Admin, AdminError, normalize_domain};
use crate::store::{self, tenants};

/// One tenant as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    /// The tenant's id.
    pub tenant_id: i64,
    /// Its mail domains.
    pub domains: Vec<String>,
    /// How many members it has.
    pub members: i64,
    /// Whether the operator disabled it.
    pub disabled: bool,
}

impl Admin {
    /// Every tenant of this store, oldest first.
    pub async fn tenants(&self) -> Result<Vec<TenantInfo>, AdminError> {
        let mut out = Vec::new();
        for t in tenants::summaries(&self.store).await? {
            out.push(TenantInfo {
                tenant_id: t.id,
                domains: tenants::domains_of(&self.store, t.id).await?,
                members: t.members,
                disabled: t.disabled,
            });
        }
        Ok(out)
    }

    /// Disables (or enables again) the tenant that owns `domain`.
    pub async fn set_tenant_disabled(
        &self,
        domain: &str,
        disabled: bool,
    ) -> Result<i64, AdminError> {
        let domain = normalize_domain(domain)?;
        let tenant_id = {
            let mut pooled = self.store.acquire().await?;
            store::mail::tenant_of_domain(&mut pooled.conn(), &domain).await?
        }
        .ok_or_else(|| AdminError::Invalid(format!("no tenant has the domain {domain}")))?;
        tenants::set_disabled(&self.store, tenant_id, disabled).await?;
        Ok(tenant_id)
    }
}
