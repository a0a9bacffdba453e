//! The admin side's way into the sandboxes: the handle, and a tenant named by a domain or an
//! admin, as `bizmail sandbox … --tenant T` and `bizmail seed --tenant T` name one.

use super::{Admin, AdminError};
use crate::config::Config;
use crate::store;

impl Admin {
    /// The sandboxes of this store (`sandbox/`), as `config` sets them up: for `bizmail sandbox`
    /// and `bizmail seed`.
    pub fn sandbox(&self, config: &Config) -> crate::sandbox::Sandbox {
        crate::sandbox::Sandbox::new(
            self.store.clone(),
            config.sandbox,
            config.sandbox_record_per_client,
        )
    }

    /// The tenant named by one of its mail domains or by an admin's name (how `--tenant` flags
    /// name one).
    pub async fn tenant_named(&self, name: &str) -> Result<i64, AdminError> {
        let name = name.trim();
        let by_domain = {
            let mut pooled = self.store.acquire().await?;
            store::mail::tenant_of_domain(&mut pooled.conn(), &name.to_ascii_lowercase()).await?
        };
        match by_domain {
            Some(id) => Ok(id),
            None => self.tenant_of(name).await.map_err(|e| match e {
                AdminError::UnknownAdmin(_) => {
                    AdminError::Invalid(format!("no tenant has the domain or admin {name:?}"))
                }
                e => e,
            }),
        }
    }
}

impl Admin {
    /// The tenant and the admin a `--tenant` flag means: an admin's name gives that admin, a
    /// domain its tenant's first admin (commands that write through the APIs' rules act as an
    /// admin, for the operation log).
    pub async fn tenant_and_admin(&self, name: &str) -> Result<(i64, String), AdminError> {
        if let Ok(tenant) = self.tenant_of(name.trim()).await {
            return Ok((tenant, name.trim().to_owned()));
        }
        let tenant = self.tenant_named(name).await?;
        let admin = store::tenants::first_admin(&self.store, tenant)
            .await?
            .ok_or_else(|| AdminError::Invalid(format!("the tenant of {name} has no admin")))?;
        Ok((tenant, admin))
    }
}
