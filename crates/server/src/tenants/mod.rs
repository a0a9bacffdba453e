//! Tenants and their admin side (管理端, §2): creating tenants, applying for the API, revealing and
//! rotating the interface key, switching sync on and off, the IP allow list, the operation log.
//!
//! [`Admin`] is the handle the CLI, the tests (and later the web console) hold; none of it is
//! reachable through the OpenApi. It owns the store and the vault, so nothing outside the server
//! ever sees either.

pub mod console;
pub mod corp;
pub mod directory_console;
pub mod mail_console;
pub mod operator;
pub mod oplog;
mod sandbox;
mod sending;

use crate::auth::allow_list::{format_allow_list, parse_allow_list, parse_net};
use crate::auth::{self, passwords, vault::Vault};
use crate::config::Config;
use crate::push::hub::Hub;
use crate::store::{self, Store, StoreError, tenants};
use ipnet::IpNet;

/// One entry of a tenant's IP allow list: an address range.
pub use ipnet::IpNet as AllowedNet;
pub use oplog::OplogEntry;

/// Why an admin operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No admin account has this name.
    #[error("no admin account named {0:?}")]
    UnknownAdmin(String),
    /// The admin password did not match.
    #[error("wrong admin password")]
    WrongPassword,
    /// The tenant has not applied for the OpenApi yet.
    #[error("the OpenApi has not been applied for; run `bizmail openapi apply` first")]
    NotApplied,
    /// The tenant applied already.
    #[error(
        "the OpenApi is already applied for; use `reveal` to see the key or `rotate` to replace it"
    )]
    AlreadyApplied,
    /// An input was not acceptable; the text says which and why.
    #[error("{0}")]
    Invalid(String),
    /// A domain or admin name that another tenant holds.
    #[error("{0} already exists")]
    Exists(String),
    /// The stored key does not open with this key file.
    #[error(transparent)]
    Vault(#[from] auth::vault::VaultError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a new tenant is made of. Absent secrets are generated.
#[derive(Debug, Clone, Default)]
pub struct NewTenant {
    /// Mail domains, at least one.
    pub domains: Vec<String>,
    /// The first admin's name (the `client_id`).
    pub admin: String,
    /// The admin's password; generated when `None`.
    pub admin_password: Option<String>,
    /// The interface key; generated when `None`. 32 hex characters.
    pub openapi_key: Option<String>,
    /// Whether to apply for the OpenApi (create the key and switch sync on) right away.
    pub apply_openapi: bool,
}

/// A tenant just created, with the secrets to show once.
#[derive(Debug, Clone)]
pub struct CreatedTenant {
    /// The new tenant's id.
    pub tenant_id: i64,
    /// Its domains, normalised.
    pub domains: Vec<String>,
    /// Its admin.
    pub admin: String,
    /// The admin password, when it was generated (to print once).
    pub generated_password: Option<String>,
    /// The interface key, when the OpenApi was applied for.
    pub openapi_key: Option<String>,
    /// The corp id of the newer API.
    pub corp_id: String,
    /// The newer API's application secrets, to print once.
    pub corp_secrets: Vec<(bizmail_protocol::cgi::App, String)>,
}

/// The admin side of a bizmail store: what `bizmail init`, `bizmail openapi …`, `bizmail oplog`
/// and the tests do. Cheap to clone; a running server sees every change at once.
#[derive(Debug, Clone)]
pub struct Admin {
    store: Store,
    vault: Vault,
    // Wakes polls after an import. In the CLI nobody polls in-process (other processes are
    // woken over PostgreSQL's NOTIFY, or by their poll timeout on SQLite); in a server it is
    // the server's own.
    hub: Hub,
}

impl Admin {
    /// Opens the store the configuration names (applying migrations) and its vault (creating the
    /// key file on first use), as `bizmail serve` will.
    pub async fn open(config: &Config) -> Result<Admin, AdminError> {
        let store = Store::connect(&store::StoreSettings::from_config(config)).await?;
        let vault = Vault::open_or_create(&config.effective_secret_key_file())?;
        Ok(Admin {
            store,
            vault,
            hub: Hub::default(),
        })
    }

    /// The key file of `config` when others than its owner may read or write it (it should be
    /// 0600: it opens every interface key). `None` when it is private or does not exist yet.
    pub fn exposed_key_file(config: &Config) -> Option<std::path::PathBuf> {
        let path = config.effective_secret_key_file();
        crate::auth::vault::key_file_exposed(&path).then_some(path)
    }

    /// Writes a consistent copy of the whole database to `file` (which must not exist), while
    /// servers keep running on it. The key file is not in it: keep `secret.key` apart.
    pub async fn backup(&self, config: &Config, file: &std::path::Path) -> Result<(), AdminError> {
        let settings = store::StoreSettings::from_config(config);
        Ok(self.store.backup_to(&settings, file).await?)
    }

    /// Puts the backup in `file` back as the database `config` names, replacing what is there
    /// (with SQLite, stop the server first), and empties every access token, SSO ticket, web and
    /// console session, login challenge and listen cursor it held.
    pub async fn restore(config: &Config, file: &std::path::Path) -> Result<(), AdminError> {
        let settings = store::StoreSettings::from_config(config);
        Ok(store::backup::restore(&settings, file).await?)
    }

    /// The store, vault and wake-up board, for the server that starts on them.
    pub(crate) fn parts(&self) -> (&Store, &Vault, &Hub) {
        (&self.store, &self.vault, &self.hub)
    }

    /// Closes the store's connections (a CLI command that is done).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Creates a tenant with its domains and first admin in one transaction.
    pub async fn create_tenant(&self, new: NewTenant) -> Result<CreatedTenant, AdminError> {
        let (store, vault) = (&self.store, &self.vault);
        if new.domains.is_empty() {
            return Err(AdminError::Invalid(
                "a tenant needs at least one --domain".into(),
            ));
        }
        let domains = new
            .domains
            .iter()
            .map(|d| normalize_domain(d))
            .collect::<Result<Vec<_>, _>>()?;
        check_admin_name(&new.admin)?;
        let generated_password = new.admin_password.is_none().then(auth::new_password);
        let password = new
            .admin_password
            .clone()
            .or_else(|| generated_password.clone())
            .unwrap_or_default();
        if password.chars().count() < 8 {
            return Err(AdminError::Invalid(
                "the admin password must have at least 8 characters".into(),
            ));
        }
        let key = match new.openapi_key {
            Some(k) => Some(normalize_interface_key(&k)?),
            None => new.apply_openapi.then(auth::new_interface_key),
        };
        let hash = hash_password(password).await?;

        let now = store::now_ms();
        let mut tx = store.begin().await?;
        let tenant_id = tenants::insert_tenant(&mut tx, &domains[0], now).await?;
        for d in &domains {
            tenants::insert_domain(&mut tx, tenant_id, d)
                .await
                .map_err(|e| exists_or(e, format!("the domain {d}")))?;
        }
        tenants::insert_admin(&mut tx, tenant_id, &new.admin, &hash, now)
            .await
            .map_err(|e| exists_or(e, format!("the admin {}", new.admin)))?;
        if let Some(k) = &key {
            tenants::set_openapi_key_in(&mut tx, tenant_id, &vault.seal(tenant_id, k), true)
                .await?;
        }
        let corp_secrets = corp::ensure_corp(&mut tx.conn(), vault, tenant_id, &[]).await?;
        tx.commit().await?.no_events();
        let corp_id = store::corp::corp_id(store, tenant_id)
            .await?
            .unwrap_or_default();
        Ok(CreatedTenant {
            tenant_id,
            domains,
            admin: new.admin,
            generated_password,
            openapi_key: key,
            corp_id,
            corp_secrets,
        })
    }

    /// On an empty store, creates the first tenant (`example.com`, admin `admin`, OpenApi applied) with
    /// generated secrets; returns it so they can be printed once. `None` when tenants exist.
    pub async fn bootstrap_if_empty(&self) -> Result<Option<CreatedTenant>, AdminError> {
        if tenants::count_tenants(&self.store).await? > 0 {
            return Ok(None);
        }
        let created = self
            .create_tenant(NewTenant {
                domains: vec!["example.com".into()],
                admin: "admin".into(),
                apply_openapi: true,
                ..NewTenant::default()
            })
            .await?;
        Ok(Some(created))
    }

    /// Applies for the OpenApi (立即申请): creates the interface key and switches sync on.
    pub async fn apply(&self, admin: &str) -> Result<String, AdminError> {
        let (store, vault) = (&self.store, &self.vault);
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        if tenant.openapi_key.is_some() {
            return Err(AdminError::AlreadyApplied);
        }
        let key = auth::new_interface_key();
        tenants::replace_openapi_key(store, tenant.id, &vault.seal(tenant.id, &key)).await?;
        tenants::set_openapi_enabled(store, tenant.id, true).await?;
        Ok(key)
    }

    /// Reveals the interface key in clear (查看明文) after checking the admin's password.
    pub async fn reveal(&self, admin: &str, password: &str) -> Result<String, AdminError> {
        let vault = &self.vault;
        let (row, tenant) = self.admin_and_tenant(admin).await?;
        check_password(&row, password).await?;
        let sealed = tenant.openapi_key.ok_or(AdminError::NotApplied)?;
        Ok(vault.open(tenant.id, &sealed)?)
    }

    /// Replaces the interface key; every token issued under the old one stops working at once.
    pub async fn rotate(&self, admin: &str) -> Result<String, AdminError> {
        let (store, vault) = (&self.store, &self.vault);
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        if tenant.openapi_key.is_none() {
            return Err(AdminError::NotApplied);
        }
        let key = auth::new_interface_key();
        tenants::replace_openapi_key(store, tenant.id, &vault.seal(tenant.id, &key)).await?;
        Ok(key)
    }

    /// Switches sync on or off (启用/关闭同步).
    pub async fn set_enabled(&self, admin: &str, enabled: bool) -> Result<(), AdminError> {
        let store = &self.store;
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        if enabled && tenant.openapi_key.is_none() {
            return Err(AdminError::NotApplied);
        }
        tenants::set_openapi_enabled(store, tenant.id, enabled).await?;
        Ok(())
    }

    /// Adds addresses or CIDR ranges to the allow list; returns the whole list.
    pub async fn allow_ips(
        &self,
        admin: &str,
        entries: &[String],
    ) -> Result<Vec<IpNet>, AdminError> {
        let store = &self.store;
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        let mut list = parse_allow_list(&tenant.ip_allow);
        for e in entries {
            let net = parse_net(e).map_err(|e| AdminError::Invalid(e.to_string()))?;
            if !list.contains(&net) {
                list.push(net);
            }
        }
        tenants::set_ip_allow(store, tenant.id, &format_allow_list(&list)).await?;
        Ok(list)
    }

    /// Removes addresses or CIDR ranges from the allow list; returns what remains (empty = any).
    pub async fn deny_ips(
        &self,
        admin: &str,
        entries: &[String],
    ) -> Result<Vec<IpNet>, AdminError> {
        let store = &self.store;
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        let remove = entries
            .iter()
            .map(|e| parse_net(e).map_err(|e| AdminError::Invalid(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let list: Vec<IpNet> = parse_allow_list(&tenant.ip_allow)
            .into_iter()
            .filter(|n| !remove.contains(n))
            .collect();
        tenants::set_ip_allow(store, tenant.id, &format_allow_list(&list)).await?;
        Ok(list)
    }

    /// The tenant's current allow list.
    pub async fn allowed_ips(&self, admin: &str) -> Result<Vec<IpNet>, AdminError> {
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        Ok(parse_allow_list(&tenant.ip_allow))
    }

    /// The newest operation-log rows of the admin's tenant, newest first.
    pub async fn oplog(&self, admin: &str, limit: u32) -> Result<Vec<OplogEntry>, AdminError> {
        let store = &self.store;
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        Ok(store::oplog::recent(store, tenant.id, i64::from(limit)).await?)
    }

    /// Forgets a member's authenticator enrolment (a lost or replaced phone): their next password
    /// login shows a new QR code. True when there was an enrolment. The member must be one of the
    /// admin's tenant (by primary address or alias).
    pub async fn reset_second_factor(&self, admin: &str, member: &str) -> Result<bool, AdminError> {
        let id = self.member_of(admin, member).await?;
        Ok(store::totp::delete_totp(&self.store, id).await?)
    }

    /// The id of a member of the admin's tenant, by primary address or alias.
    async fn member_of(&self, admin: &str, member: &str) -> Result<i64, AdminError> {
        let store = &self.store;
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        let address = bizmail_protocol::Address::parse(member)
            .ok_or_else(|| AdminError::Invalid(format!("{member:?} is not an email address")))?;
        let scope = crate::directory::Scope::load(store, tenant.id).await?;
        let found = {
            let mut pooled = store.acquire().await?;
            crate::directory::resolve_member(&mut pooled.conn(), &scope, &address).await
        };
        let row = found.map_err(|e| match e {
            crate::directory::DirError::Store(e) => AdminError::Store(e),
            _ => AdminError::Invalid(format!("no member {member} in this tenant")),
        })?;
        Ok(row.id)
    }

    /// Sets a member's own mailbox quota in MB (`None`: back to `mailbox_quota_mb`; `Some(0)`:
    /// no limit for them).
    pub async fn set_quota(
        &self,
        admin: &str,
        member: &str,
        mb: Option<u64>,
    ) -> Result<(), AdminError> {
        let id = self.member_of(admin, member).await?;
        let bytes = mb.map(|mb| crate::mail::quota::default_bytes(mb).unwrap_or(i64::MAX));
        Ok(store::mail::set_quota(&self.store, id, bytes).await?)
    }

    /// Makes a client password called `name` for a member's mail client; returns it (shown
    /// once, never stored in clear).
    pub async fn add_app_password(
        &self,
        admin: &str,
        member: &str,
        name: &str,
    ) -> Result<String, AdminError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(AdminError::Invalid(
                "a client password's name is 1 to 64 printable characters".into(),
            ));
        }
        let id = self.member_of(admin, member).await?;
        let password = crate::auth::app_passwords::generate();
        let hash = crate::auth::app_passwords::hash(&password);
        if !store::app_passwords::insert(&self.store, id, name, &hash, store::now_ms()).await? {
            return Err(AdminError::Invalid(format!(
                "{member} has a client password called {name:?} already, or {} of them",
                store::app_passwords::MAX_PER_MEMBER
            )));
        }
        Ok(password)
    }

    /// A member's client passwords: `(name, created_ms)`.
    pub async fn app_passwords(
        &self,
        admin: &str,
        member: &str,
    ) -> Result<Vec<(String, i64)>, AdminError> {
        let id = self.member_of(admin, member).await?;
        Ok(store::app_passwords::list(&self.store, id).await?)
    }

    /// Removes a member's client password; false when there was none of that name.
    pub async fn remove_app_password(
        &self,
        admin: &str,
        member: &str,
        name: &str,
    ) -> Result<bool, AdminError> {
        let id = self.member_of(admin, member).await?;
        Ok(store::app_passwords::delete(&self.store, id, name).await?)
    }

    /// The mailboxes of this store (to inspect mail without a server).
    pub fn mailboxes(&self) -> crate::mail::Mailboxes {
        crate::mail::Mailboxes::new(self.store.clone(), self.hub.clone())
    }

    /// The mailboxes of this store with the default quota `config` gives members without their
    /// own, as a server keeps them (`bizmail migrate mail` checks quotas as APPEND does).
    pub fn mailboxes_as_configured(&self, config: &Config) -> crate::mail::Mailboxes {
        let quota = crate::mail::quota::default_bytes(config.mailbox_quota_mb);
        self.mailboxes().with_default_quota(quota)
    }

    /// An import into the admin's tenant's directory (`bizmail import`).
    pub async fn importer(
        &self,
        admin: &str,
    ) -> Result<crate::directory::import::Importer, AdminError> {
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        let scope = crate::directory::Scope::load(&self.store, tenant.id).await?;
        Ok(crate::directory::import::Importer::new(
            self.store.clone(),
            self.hub.clone(),
            scope,
            admin,
        ))
    }

    /// The admin's tenant's directory, reached like its newer API (`bizmail migrate directory`).
    pub async fn corp_directory(
        &self,
        admin: &str,
    ) -> Result<crate::directory::CorpDirectory, AdminError> {
        let (_, tenant) = self.admin_and_tenant(admin).await?;
        let directory = crate::directory::Directory::new(self.store.clone(), self.hub.clone());
        Ok(crate::directory::CorpDirectory::new(
            directory, tenant.id, admin,
        ))
    }

    /// The new-mail callbacks of this store's tenants, delivered with `settings`.
    pub fn callbacks(
        &self,
        settings: crate::callbacks::CallbackSettings,
    ) -> crate::callbacks::Callbacks {
        crate::callbacks::Callbacks::new(self.store.clone(), self.vault.clone(), settings)
    }

    /// The tenant an admin administers.
    pub async fn tenant_of(&self, admin: &str) -> Result<i64, AdminError> {
        Ok(self.admin_and_tenant(admin).await?.1.id)
    }

    pub(crate) async fn admin_and_tenant(
        &self,
        admin: &str,
    ) -> Result<(tenants::AdminRow, tenants::TenantRow), AdminError> {
        let store = &self.store;
        let row = tenants::find_admin(store, admin)
            .await?
            .ok_or_else(|| AdminError::UnknownAdmin(admin.to_owned()))?;
        let tenant = tenants::find_tenant(store, row.tenant_id)
            .await?
            .ok_or_else(|| AdminError::UnknownAdmin(admin.to_owned()))?;
        Ok((row, tenant))
    }
}

/// `WrongPassword` unless `password` is the admin's (argon2, on the blocking pool).
pub(crate) async fn check_password(
    row: &tenants::AdminRow,
    password: &str,
) -> Result<(), AdminError> {
    let (password, stored) = (password.to_owned(), row.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || passwords::verify(&password, &stored))
        .await
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(AdminError::WrongPassword)
    }
}

async fn hash_password(password: String) -> Result<String, AdminError> {
    tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|e| AdminError::Invalid(format!("hashing failed: {e}")))?
        .map_err(|e| AdminError::Invalid(format!("hashing failed: {e}")))
}

fn exists_or(e: StoreError, what: String) -> AdminError {
    if e.is_unique_violation() {
        AdminError::Exists(what)
    } else {
        AdminError::Store(e)
    }
}

/// Lower-cases and checks a mail domain: dot-separated labels of letters, digits and hyphens.
pub fn normalize_domain(domain: &str) -> Result<String, AdminError> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if d.len() > 253 || d.split('.').count() < 2 || !d.split('.').all(label_ok) {
        return Err(AdminError::Invalid(format!(
            "{domain:?} is not a mail domain"
        )));
    }
    Ok(d)
}

fn check_admin_name(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != ':');
    if ok {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "{name:?} is not an admin name: 1-64 printable characters, no spaces or ':'"
        )))
    }
}

fn normalize_interface_key(key: &str) -> Result<String, AdminError> {
    let k = key.trim().to_ascii_lowercase();
    if k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(k)
    } else {
        Err(AdminError::Invalid(
            "an interface key is 32 hex characters".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_names() {
        assert_eq!(normalize_domain(" Example.COM. ").unwrap(), "example.com");
        assert!(normalize_domain("localhost").is_err());
        assert!(normalize_domain("a..b").is_err());
        assert!(normalize_domain("-a.com").is_err());
        assert!(check_admin_name("vip2.msdi.cn").is_ok());
        assert!(check_admin_name("two words").is_err());
        assert!(check_admin_name("").is_err());
        assert!(normalize_interface_key("563A8C6A89D2368194C1C7889C508B34").is_ok());
        assert!(normalize_interface_key("short").is_err());
    }
}
