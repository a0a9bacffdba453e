//! The newer API's credentials on the admin side (EXMAIL_API.md §2): a tenant's corp id and its
//! applications (directory, sso, mail, log, option), each with a secret that can be revealed
//! after the admin's password, rotated (killing its tokens at once) and switched on or off.

use super::{Admin, AdminError};
use crate::auth;
use crate::store::{self, Conn, corp};
use bizmail_protocol::cgi::App;

/// A tenant's newer-API credentials as `bizmail corp show` prints them (no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpInfo {
    /// The corp id (`wm` and 16 hex characters).
    pub corp_id: String,
    /// Each application and whether it is switched on.
    pub apps: Vec<(App, bool)>,
}

/// A fresh corp id: `wm` and 16 lower-case hex characters, 18 in all, as recorded.
pub fn new_corp_id() -> String {
    format!("wm{}", hex::encode(auth::random_bytes::<8>()))
}

/// A fresh application secret: 32 random bytes as 43 base64url characters, like WeCom's.
pub fn new_corp_secret() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(auth::random_bytes::<32>())
}

/// Gives a tenant (inside a transaction) a corp id and a secret for every application it lacks;
/// returns the corp id and the secrets created, in clear, to be shown once.
pub(crate) async fn ensure_corp(
    conn: &mut Conn<'_>,
    vault: &auth::vault::Vault,
    tenant_id: i64,
    existing_apps: &[String],
) -> Result<Vec<(App, String)>, store::StoreError> {
    corp::set_corp_id(conn, tenant_id, &new_corp_id()).await?;
    let mut created = Vec::new();
    let now = store::now_ms();
    for app in App::ALL {
        if existing_apps.iter().any(|a| a == app.name()) {
            continue;
        }
        let secret = new_corp_secret();
        corp::put_app(
            conn,
            tenant_id,
            app.name(),
            &vault.seal(tenant_id, &secret),
            now,
        )
        .await?;
        created.push((app, secret));
    }
    Ok(created)
}

fn app_named(name: &str) -> Result<App, AdminError> {
    App::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = App::ALL.iter().map(|a| a.name()).collect();
        AdminError::Invalid(format!(
            "no application {name:?}; the applications are {}",
            names.join(", ")
        ))
    })
}

impl Admin {
    /// The tenant's corp id and applications. A tenant made before the newer API gets its corp
    /// id and secrets here (reveal them with [`Admin::corp_reveal`]).
    pub async fn corp_show(&self, admin: &str) -> Result<CorpInfo, AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        let mut apps = corp::apps(&self.store, tenant_id).await?;
        let corp_id = corp::corp_id(&self.store, tenant_id).await?;
        if corp_id.is_none() || apps.len() < App::ALL.len() {
            let names: Vec<String> = apps.iter().map(|(n, _, _)| n.clone()).collect();
            let mut tx = self.store.begin().await?;
            ensure_corp(&mut tx.conn(), &self.vault, tenant_id, &names).await?;
            tx.commit().await?.no_events();
            apps = corp::apps(&self.store, tenant_id).await?;
        }
        let corp_id = corp::corp_id(&self.store, tenant_id)
            .await?
            .unwrap_or_default();
        Ok(CorpInfo {
            corp_id,
            apps: apps
                .into_iter()
                .filter_map(|(name, _, on)| App::from_name(&name).map(|a| (a, on)))
                .collect(),
        })
    }

    /// An application's secret in clear, after checking the admin's password.
    pub async fn corp_reveal(
        &self,
        admin: &str,
        password: &str,
        app: &str,
    ) -> Result<String, AdminError> {
        let app = app_named(app)?;
        let (row, tenant) = self.admin_and_tenant(admin).await?;
        super::check_password(&row, password).await?;
        self.corp_show(admin).await?;
        let sealed = corp::apps(&self.store, tenant.id)
            .await?
            .into_iter()
            .find(|(n, _, _)| n == app.name())
            .map(|(_, s, _)| s)
            .ok_or(AdminError::NotApplied)?;
        Ok(self.vault.open(tenant.id, &sealed)?)
    }

    /// Replaces an application's secret; every token issued under the old one stops working.
    pub async fn corp_rotate(&self, admin: &str, app: &str) -> Result<String, AdminError> {
        let app = app_named(app)?;
        let tenant_id = self.tenant_of(admin).await?;
        self.corp_show(admin).await?;
        let secret = new_corp_secret();
        let mut tx = self.store.begin().await?;
        corp::put_app(
            &mut tx.conn(),
            tenant_id,
            app.name(),
            &self.vault.seal(tenant_id, &secret),
            store::now_ms(),
        )
        .await?;
        // A new SSO secret takes back every member's SSO authorization, as on the real service.
        if app == App::Sso {
            store::directory::ids::clear_sso_authorizations(&mut tx.conn(), tenant_id).await?;
        }
        tx.commit().await?.no_events();
        self.store.auth_changed().await;
        Ok(secret)
    }

    /// Switches whether a member's first SSO login of the newer API asks for their password once
    /// (on by default, as on the real service).
    pub async fn corp_sso_confirm(&self, admin: &str, on: bool) -> Result<(), AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        let mut tx = self.store.begin().await?;
        store::directory::ids::set_sso_confirm_password(&mut tx.conn(), tenant_id, on).await?;
        tx.commit().await?.no_events();
        Ok(())
    }

    /// Switches an application on or off; its tokens are refused while it is off.
    pub async fn corp_enable_app(
        &self,
        admin: &str,
        app: &str,
        enabled: bool,
    ) -> Result<(), AdminError> {
        let app = app_named(app)?;
        let tenant_id = self.tenant_of(admin).await?;
        self.corp_show(admin).await?;
        corp::set_app_enabled(&self.store, tenant_id, app.name(), enabled).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corp_ids_and_secrets_look_like_the_real_ones() {
        let id = new_corp_id();
        assert_eq!(id.len(), 18);
        assert!(id.starts_with("wm"));
        let s = new_corp_secret();
        assert_eq!(s.len(), 43);
        assert_ne!(s, new_corp_secret());
    }
}
