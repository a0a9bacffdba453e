//! Who may call the newer API (EXMAIL_API.md §2): `gettoken` with a corp id and one
//! application's secret, and the check of a token on every `/cgi-bin/<area>/<verb>` call. A token
//! belongs to one tenant and one application; each `gettoken` issues a new one and older ones stay
//! valid until their own expiry plus a grace period.

use super::allow_list::ip_allowed;
use super::{Auth, secrets_equal, tokens};
use crate::store::{self, StoreError, corp};
use bizmail_protocol::cgi::{App, Code};
use std::net::IpAddr;

/// A token just issued.
#[derive(Debug, Clone)]
pub struct CorpToken {
    /// The token in clear, handed out once.
    pub token: String,
    /// The tenant it belongs to.
    pub tenant_id: i64,
}

/// A newer-API call's proven identity.
#[derive(Debug, Clone)]
pub struct CorpGrant {
    /// The tenant every operation of the call is confined to.
    pub tenant_id: i64,
    /// The application the token was issued for.
    pub app: App,
    /// The tenant's corp id.
    pub corp_id: String,
    /// The tenant's sandbox, when it is one (`sandbox/`): its clock already applied here.
    pub sandbox: Option<std::sync::Arc<store::sandbox::TenantSandbox>>,
}

/// A refused `gettoken` or call: the answer, and the tenant when it was known (for the
/// operation log), or a store failure.
#[derive(Debug)]
pub enum CorpRefusal {
    /// The code to answer, with the tenant if the credentials got that far.
    Refused(Code, Option<i64>),
    /// The store or the vault failed; the text says how (logged, never answered).
    Failed(String),
}

impl From<StoreError> for CorpRefusal {
    fn from(e: StoreError) -> CorpRefusal {
        CorpRefusal::Failed(e.to_string())
    }
}

/// A sealed value of a secret's size that opens with no key: what a corp without applications
/// spends its time on, as one with them does.
static DECOY_SEALED: [u8; 71] = [0x5a; 71];

impl Auth {
    /// `gettoken`: unknown corp id → 40013; empty secret → 40091; a secret of none of the
    /// tenant's applications → 40001 (compared in constant time against every one); that
    /// application switched off → 40091; the tenant's API switched off → 50005; a caller outside
    /// the tenant's IP allow list → 602005; `allow` (the corp's rate) refusing the tenant → 45009,
    /// before any token is made.
    pub async fn issue_corp_token(
        &self,
        corp_id: &str,
        secret: &str,
        (lifetime_secs, client_ip): (u64, IpAddr),
        allow: impl FnOnce(i64) -> bool,
    ) -> Result<CorpToken, CorpRefusal> {
        let apps = corp::apps_of_corp(&self.store, corp_id.trim()).await?;
        let Some(tenant_id) = apps.first().map(|a| a.tenant_id) else {
            let _ = self.vault.open(0, &DECOY_SEALED);
            return Err(CorpRefusal::Refused(Code::InvalidCorpid, None));
        };
        let refuse = |code| CorpRefusal::Refused(code, Some(tenant_id));
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(refuse(Code::InvalidSecret));
        }
        // Every application's secret is opened and compared, so the time taken does not say
        // which one matched or whether one did.
        let mut matched = None;
        for app in &apps {
            let clear = self
                .vault
                .open(tenant_id, &app.secret_sealed)
                .map_err(|e| {
                    CorpRefusal::Failed(format!(
                        "the {} secret of tenant {tenant_id} does not open: {e}",
                        app.app
                    ))
                })?;
            if secrets_equal(clear.as_bytes(), secret.as_bytes()) {
                matched = Some(app);
            }
        }
        let app = matched.ok_or_else(|| refuse(Code::InvalidCredential))?;
        if !app.enabled {
            return Err(refuse(Code::InvalidSecret));
        }
        if !app.openapi_enabled {
            return Err(refuse(Code::CorpDisabled));
        }
        if !ip_allowed(&app.ip_allow, client_ip) {
            return Err(refuse(Code::ApiUnauthorized));
        }
        if !allow(tenant_id) {
            return Err(refuse(Code::ApiLimit));
        }
        let token = tokens::new_token();
        let now = store::now_ms()
            .saturating_add(store::sandbox::clock_offset(&self.store, tenant_id).await?);
        let expires = now.saturating_add(store::secs_to_ms(lifetime_secs));
        corp::insert_token(
            &self.store,
            &tokens::token_hash(&token),
            tenant_id,
            &app.app,
            expires,
        )
        .await?;
        Ok(CorpToken { token, tenant_id })
    }

    /// Checks the token of a call to an endpoint of `app` from `client_ip`: missing, unknown, or
    /// past its expiry and `grace_secs` → 40014; another application's token, an application
    /// switched off, or a caller outside the allow list → 602005; the tenant's API switched off →
    /// 50005.
    pub async fn authorize_corp(
        &self,
        token: Option<&str>,
        app: App,
        grace_secs: u64,
        client_ip: IpAddr,
    ) -> Result<CorpGrant, CorpRefusal> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(CorpRefusal::Refused(Code::InvalidAccessToken, None))?;
        let grant = corp::token(&self.store, &tokens::token_hash(token))
            .await?
            .ok_or(CorpRefusal::Refused(Code::InvalidAccessToken, None))?;
        let refuse = |code| CorpRefusal::Refused(code, Some(grant.tenant_id));
        // A sandbox's clock and token lifetime decide the expiry below.
        let sandbox =
            store::sandbox::of_grant(&self.store, grant.tenant_id, grant.sandboxed).await?;
        let offset = sandbox.as_ref().map_or(0, |s| s.clock_offset_ms);
        // A sandbox's early-expiring tokens die on time: no grace, or the fault would hide.
        let grace_secs = if sandbox
            .as_ref()
            .is_some_and(|s| s.plan.token_ttl_secs.is_some())
        {
            0
        } else {
            grace_secs
        };
        let deadline = grant
            .expires_ms
            .saturating_add(store::secs_to_ms(grace_secs));
        if deadline <= store::now_ms().saturating_add(offset) {
            return Err(refuse(Code::InvalidAccessToken));
        }
        if !grant.openapi_enabled {
            return Err(refuse(Code::CorpDisabled));
        }
        if App::from_name(&grant.app) != Some(app) || !grant.enabled {
            return Err(refuse(Code::ApiUnauthorized));
        }
        if !ip_allowed(&grant.ip_allow, client_ip) {
            return Err(refuse(Code::ApiUnauthorized));
        }
        Ok(CorpGrant {
            tenant_id: grant.tenant_id,
            app,
            corp_id: grant.corp_id,
            sandbox,
        })
    }
}
