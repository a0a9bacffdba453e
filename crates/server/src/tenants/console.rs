//! What the web console needs of the admin side beyond the CLI's verbs: the open protocol's state
//! in one read, the operation log searched and paged, console actions written to that log, and
//! the operator accounts with their second factor (`bizmail operator …`, `bizmail admin
//! reset-totp`).

use super::{Admin, AdminError, OplogEntry, hash_password};
use crate::auth::allow_list::parse_allow_list;
pub use crate::auth::console::Kind as ConsoleKind;
use crate::auth::console::Kind;
use crate::store::{self, console, oplog, tenants};
use ipnet::IpNet;

/// The open protocol (开放协议) of one tenant as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiState {
    /// Whether the tenant applied (an interface key exists).
    pub applied: bool,
    /// Whether sync is switched on.
    pub enabled: bool,
    /// The IP allow list (empty: any address).
    pub allow: Vec<IpNet>,
}

impl Admin {
    /// The admin's tenant's open-protocol state.
    pub async fn openapi_state(&self, admin: &str) -> Result<OpenApiState, AdminError> {
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        Ok(OpenApiState {
            applied: tenant.openapi_key.is_some(),
            enabled: tenant.openapi_enabled,
            allow: parse_allow_list(&tenant.ip_allow),
        })
    }

    /// Writes one console action to the operation log, at once (a console action is rare and
    /// the admin reads the log next).
    pub async fn record(&self, row: &OplogEntry) -> Result<(), AdminError> {
        Ok(oplog::insert_one(&self.store, row).await?)
    }

    /// A page of the admin's tenant's operation log, newest first: `limit` rows after `offset`.
    /// `search.tenant_id` is replaced by the admin's own tenant.
    pub async fn oplog_search(
        &self,
        admin: &str,
        search: oplog::Search<'_>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<OplogEntry>, AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        let search = oplog::Search {
            tenant_id,
            ..search
        };
        Ok(oplog::search(&self.store, &search, offset, limit).await?)
    }

    /// Creates an operator account, or gives one a new password; returns the password when it
    /// was generated (to print once).
    pub async fn set_operator(
        &self,
        name: &str,
        password: Option<String>,
    ) -> Result<Option<String>, AdminError> {
        super::check_admin_name(name)?;
        let generated = password.is_none().then(crate::auth::new_password);
        let password = password.or_else(|| generated.clone()).unwrap_or_default();
        let hash = hash_password(password).await?;
        console::upsert_operator(&self.store, name, &hash, store::now_ms()).await?;
        Ok(generated)
    }

    /// Every operator account's name.
    pub async fn operators(&self) -> Result<Vec<String>, AdminError> {
        Ok(console::operator_names(&self.store).await?)
    }

    /// Forgets the console authenticator of an admin or operator (a lost phone) and signs them out
    /// everywhere; their next sign-in enrols again. True when there was an enrolment.
    pub async fn reset_console_totp(&self, kind: Kind, name: &str) -> Result<bool, AdminError> {
        let id = match kind {
            Kind::Admin => tenants::find_admin(&self.store, name).await?.map(|a| a.id),
            Kind::Operator => console::find_operator(&self.store, name)
                .await?
                .map(|o| o.id),
        }
        .ok_or_else(|| AdminError::UnknownAdmin(name.to_owned()))?;
        Ok(console::reset_totp(&self.store, kind.as_str(), id).await?)
    }
}
