//! The admin side of the OpenApi (管理端, §2): creating tenants, applying for the API, revealing and
//! rotating the interface key, switching sync on and off, the IP allow list, the operation log.
//!
//! The CLI (and later the web console) call these; none of it is reachable through the OpenApi.

use crate::auth::{self, passwords, vault::Vault};
use crate::store::{self, Store, StoreError, oplog::OplogEntry, tenants};
use ipnet::IpNet;

/// One entry of a tenant's IP allow list: an address range.
pub use ipnet::IpNet as AllowedNet;
use std::net::IpAddr;

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
}

/// Creates a tenant with its domains and first admin in one transaction.
pub async fn create_tenant(
    store: &Store,
    vault: &Vault,
    new: NewTenant,
) -> Result<CreatedTenant, AdminError> {
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
        tenants::set_openapi_key_in(&mut tx, tenant_id, &vault.seal(tenant_id, k), true).await?;
    }
    tx.commit().await?;
    Ok(CreatedTenant {
        tenant_id,
        domains,
        admin: new.admin,
        generated_password,
        openapi_key: key,
    })
}

/// On an empty store, creates the first tenant (`example.com`, admin `admin`, OpenApi applied) with
/// generated secrets; returns it so they can be printed once. `None` when tenants exist.
pub async fn bootstrap_if_empty(
    store: &Store,
    vault: &Vault,
) -> Result<Option<CreatedTenant>, AdminError> {
    if tenants::count_tenants(store).await? > 0 {
        return Ok(None);
    }
    let created = create_tenant(
        store,
        vault,
        NewTenant {
            domains: vec!["example.com".into()],
            admin: "admin".into(),
            apply_openapi: true,
            ..NewTenant::default()
        },
    )
    .await?;
    Ok(Some(created))
}

/// Applies for the OpenApi (立即申请): creates the interface key and switches sync on.
pub async fn apply(store: &Store, vault: &Vault, admin: &str) -> Result<String, AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    if tenant.openapi_key.is_some() {
        return Err(AdminError::AlreadyApplied);
    }
    let key = auth::new_interface_key();
    tenants::replace_openapi_key(store, tenant.id, &vault.seal(tenant.id, &key)).await?;
    tenants::set_openapi_enabled(store, tenant.id, true).await?;
    Ok(key)
}

/// Reveals the interface key in clear (查看明文) after checking the admin's password.
pub async fn reveal(
    store: &Store,
    vault: &Vault,
    admin: &str,
    password: &str,
) -> Result<String, AdminError> {
    let (row, tenant) = admin_and_tenant(store, admin).await?;
    let (password, stored) = (password.to_owned(), row.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || passwords::verify(&password, &stored))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(AdminError::WrongPassword);
    }
    let sealed = tenant.openapi_key.ok_or(AdminError::NotApplied)?;
    Ok(vault.open(tenant.id, &sealed)?)
}

/// Replaces the interface key; every token issued under the old one stops working at once.
pub async fn rotate(store: &Store, vault: &Vault, admin: &str) -> Result<String, AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    if tenant.openapi_key.is_none() {
        return Err(AdminError::NotApplied);
    }
    let key = auth::new_interface_key();
    tenants::replace_openapi_key(store, tenant.id, &vault.seal(tenant.id, &key)).await?;
    Ok(key)
}

/// Switches sync on or off (启用/关闭同步).
pub async fn set_enabled(store: &Store, admin: &str, enabled: bool) -> Result<(), AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    if enabled && tenant.openapi_key.is_none() {
        return Err(AdminError::NotApplied);
    }
    tenants::set_openapi_enabled(store, tenant.id, enabled).await?;
    Ok(())
}

/// Adds addresses or CIDR ranges to the allow list; returns the whole list.
pub async fn allow_ips(
    store: &Store,
    admin: &str,
    entries: &[String],
) -> Result<Vec<IpNet>, AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    let mut list = parse_allow_list(&tenant.ip_allow);
    for e in entries {
        let net = parse_net(e)?;
        if !list.contains(&net) {
            list.push(net);
        }
    }
    tenants::set_ip_allow(store, tenant.id, &format_allow_list(&list)).await?;
    Ok(list)
}

/// Removes addresses or CIDR ranges from the allow list; returns what remains (empty = any).
pub async fn deny_ips(
    store: &Store,
    admin: &str,
    entries: &[String],
) -> Result<Vec<IpNet>, AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    let remove = entries
        .iter()
        .map(|e| parse_net(e))
        .collect::<Result<Vec<_>, _>>()?;
    let list: Vec<IpNet> = parse_allow_list(&tenant.ip_allow)
        .into_iter()
        .filter(|n| !remove.contains(n))
        .collect();
    tenants::set_ip_allow(store, tenant.id, &format_allow_list(&list)).await?;
    Ok(list)
}

/// The tenant's current allow list.
pub async fn allowed_ips(store: &Store, admin: &str) -> Result<Vec<IpNet>, AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    Ok(parse_allow_list(&tenant.ip_allow))
}

/// The newest operation-log rows of the admin's tenant, newest first.
pub async fn oplog(store: &Store, admin: &str, limit: u32) -> Result<Vec<OplogEntry>, AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    Ok(store::oplog::recent(store, tenant.id, i64::from(limit)).await?)
}

/// Forgets a member's authenticator enrolment (a lost or replaced phone): their next password
/// login shows a new QR code. True when there was an enrolment. The member must be one of the
/// admin's tenant (by primary address or alias).
pub async fn reset_second_factor(
    store: &Store,
    admin: &str,
    member: &str,
) -> Result<bool, AdminError> {
    let (_, tenant) = admin_and_tenant(store, admin).await?;
    let address = bizmail_protocol::Address::parse(member)
        .ok_or_else(|| AdminError::Invalid(format!("{member:?} is not an email address")))?;
    let scope = crate::directory::Scope::load(store, tenant.id).await?;
    let found = {
        let mut pooled = store.acquire().await?;
        crate::directory::resolve_member(&mut pooled.conn(), &scope, &address).await
    };
    let row =
        found.map_err(|_| AdminError::Invalid(format!("no member {member} in this tenant")))?;
    Ok(store::login::delete_totp(store, row.id).await?)
}

/// The tenant an admin administers.
pub async fn tenant_of(store: &Store, admin: &str) -> Result<i64, AdminError> {
    Ok(admin_and_tenant(store, admin).await?.1.id)
}

/// Whether `ip` may call the OpenApi under the stored allow list (empty = any address).
pub fn ip_allowed(stored: &str, ip: IpAddr) -> bool {
    let list = parse_allow_list(stored);
    let ip = ip.to_canonical();
    list.is_empty() || list.iter().any(|n| n.contains(&ip))
}

async fn admin_and_tenant(
    store: &Store,
    admin: &str,
) -> Result<(tenants::AdminRow, tenants::TenantRow), AdminError> {
    let row = tenants::find_admin(store, admin)
        .await?
        .ok_or_else(|| AdminError::UnknownAdmin(admin.to_owned()))?;
    let tenant = tenants::find_tenant(store, row.tenant_id)
        .await?
        .ok_or_else(|| AdminError::UnknownAdmin(admin.to_owned()))?;
    Ok((row, tenant))
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

fn parse_net(entry: &str) -> Result<IpNet, AdminError> {
    let e = entry.trim();
    e.parse::<IpNet>()
        .or_else(|_| e.parse::<IpAddr>().map(|ip| IpNet::from(ip.to_canonical())))
        .map(|n| n.trunc())
        .map_err(|_| AdminError::Invalid(format!("{entry:?} is not an IP address or CIDR range")))
}

fn parse_allow_list(stored: &str) -> Vec<IpNet> {
    stored
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn format_allow_list(list: &[IpNet]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matching() {
        assert!(ip_allowed("", "10.1.2.3".parse().unwrap()));
        let list = "10.0.0.0/8\n192.168.1.7/32";
        assert!(ip_allowed(list, "10.1.2.3".parse().unwrap()));
        assert!(ip_allowed(list, "192.168.1.7".parse().unwrap()));
        assert!(ip_allowed(list, "::ffff:192.168.1.7".parse().unwrap()));
        assert!(!ip_allowed(list, "127.0.0.1".parse().unwrap()));
        assert_eq!(parse_net("127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert!(parse_net("nope").is_err());
    }

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
