//! A tenant admin's side of sending: DKIM keys for the tenant's domains (`bizmail dkim`), and the
//! outbound queue (`bizmail queue`, an operator's view across tenants).

use super::{Admin, AdminError};
use crate::outbound::dkim::{self, Algorithm, DkimError, DkimKey};
use bizmail_protocol::Address;

impl From<DkimError> for AdminError {
    fn from(e: DkimError) -> AdminError {
        match e {
            DkimError::Store(e) => AdminError::Store(e),
            other => AdminError::Invalid(other.to_string()),
        }
    }
}

impl Admin {
    /// Makes a DKIM key for one of the admin's tenant's domains under `selector`; it signs new
    /// mail from then on, and the domain's older keys stay (inactive) until removed.
    pub async fn dkim_create(
        &self,
        admin: &str,
        domain: &str,
        selector: &str,
        algorithm: Algorithm,
    ) -> Result<DkimKey, AdminError> {
        let tenant_id = self.tenant_domain(admin, domain).await?;
        Ok(dkim::create(
            &self.store,
            &self.vault,
            tenant_id,
            domain,
            selector,
            algorithm,
        )
        .await?)
    }

    /// The admin's tenant's DKIM keys, with their DNS records.
    pub async fn dkim_list(&self, admin: &str) -> Result<Vec<DkimKey>, AdminError> {
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        Ok(dkim::list(&self.store, tenant.id).await?)
    }

    /// Removes a key (a retired selector whose DNS record is no longer needed).
    pub async fn dkim_remove(
        &self,
        admin: &str,
        domain: &str,
        selector: &str,
    ) -> Result<bool, AdminError> {
        let tenant_id = self.tenant_domain(admin, domain).await?;
        Ok(dkim::remove(&self.store, tenant_id, domain, selector).await?)
    }

    /// Sets the admin's tenant's own spam thresholds (rspamd scores; `None`: the server's).
    pub async fn set_spam_thresholds(
        &self,
        admin: &str,
        junk: Option<f64>,
        reject: Option<f64>,
    ) -> Result<(), AdminError> {
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        let tenths = |v: Option<f64>| -> Result<Option<i64>, AdminError> {
            match v {
                None => Ok(None),
                Some(x) if x.is_finite() && x.abs() < 1e6 => Ok(Some((x * 10.0).round() as i64)),
                Some(x) => Err(AdminError::Invalid(format!("{x} is not a usable score"))),
            }
        };
        let (junk, reject) = (tenths(junk)?, tenths(reject)?);
        crate::store::tenants::set_spam_thresholds(&self.store, tenant.id, junk, reject).await?;
        Ok(())
    }

    /// The outbound queue of this store.
    pub fn queue(&self) -> crate::outbound::Queue {
        crate::outbound::Queue::new(self.store.clone())
    }

    /// The admin's tenant, if `domain` is one of its domains.
    async fn tenant_domain(&self, admin: &str, domain: &str) -> Result<i64, AdminError> {
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        let probe = Address::parse(&format!("postmaster@{}", domain.trim()))
            .ok_or_else(|| AdminError::Invalid(format!("{domain:?} is not a domain name")))?;
        let scope = crate::directory::Scope::load(&self.store, tenant.id).await?;
        if !scope.owns(&probe) {
            return Err(AdminError::Invalid(format!(
                "{domain} is not a domain of this tenant"
            )));
        }
        Ok(tenant.id)
    }
}
