//! Who may call the OpenApi: issuing access tokens for admin + interface key (§3) and checking a
//! token on every `/openapi/*` call (§1, §2).

use super::Auth;
use super::{secrets_equal, tokens};
use crate::auth::allow_list::ip_allowed;
use crate::store::{self, StoreError, tenants};
use bizmail_protocol::ErrorCode;
use std::net::IpAddr;

/// A token just issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token in clear, to hand to the client once.
    pub token: String,
    /// The tenant it is scoped to.
    pub tenant_id: i64,
}

/// An API call's proven identity.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The tenant every operation of the call is confined to.
    pub tenant_id: i64,
    /// The admin whose token it is.
    pub admin_id: i64,
    /// That admin's name.
    pub admin_name: String,
    /// The stored hash of the token: the identity of a `listen` client.
    pub token_hash: Vec<u8>,
    /// The tenant's sandbox, when it is one (`sandbox/`): its clock already applied here.
    pub sandbox: Option<std::sync::Arc<store::sandbox::TenantSandbox>>,
}

/// A refused call, with whatever identity was established before it was refused (for the
/// operation log).
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The answer.
    pub code: ErrorCode,
    /// The tenant, if the credentials got that far.
    pub tenant_id: Option<i64>,
    /// The admin name, if known.
    pub admin: String,
    /// Why the server could not decide (a store failure, a key that does not open), for the
    /// log; `None` for a plain refusal.
    pub cause: Option<String>,
}

impl Refusal {
    fn bare(code: ErrorCode) -> Refusal {
        Refusal {
            code,
            tenant_id: None,
            admin: String::new(),
            cause: None,
        }
    }
}

fn unavailable(e: StoreError) -> Refusal {
    Refusal {
        cause: Some(e.to_string()),
        ..Refusal::bare(ErrorCode::TemporarilyUnavailable)
    }
}

/// A sealed value of an interface key's size that opens with no key: what an unknown admin's
/// token request tries to open, as a known admin's does.
static DECOY_SEALED: [u8; 60] = [0x5a; 60];

impl Auth {
    /// Issues a new token to `client_id` (an admin name) proving `client_secret` (the interface key).
    /// Checks in this order: unknown admin → 1100; not applied → 1102; wrong key → 1100 (compared in
    /// constant time); sync off → 1102; an address not on the tenant's allow list → 10001. Each
    /// request gets a new token; older ones stay valid. A sandbox's token lives by the tenant's
    /// clock, and `lifetime_secs` may be a sandbox's shorter one.
    pub async fn issue_token(
        &self,
        client_id: &str,
        client_secret: &str,
        lifetime_secs: u64,
        client_ip: IpAddr,
    ) -> Result<IssuedToken, Refusal> {
        let store = &self.store;
        let vault = &self.vault;
        let Some(admin) = tenants::find_admin(store, client_id)
            .await
            .map_err(unavailable)?
        else {
            // The work a known admin's refusal costs (a tenant lookup, a key that does not
            // open, a comparison), so the answer's timing does not tell who exists.
            let _ = tenants::find_tenant(store, 0).await;
            let _ = vault.open(0, &DECOY_SEALED);
            let _ = secrets_equal(DECOY_SEALED.as_slice(), client_secret.as_bytes());
            return Err(Refusal::bare(ErrorCode::InvalidClient));
        };
        let refuse = |code| Refusal {
            code,
            tenant_id: Some(admin.tenant_id),
            admin: admin.name.clone(),
            cause: None,
        };
        let tenant = tenants::find_tenant(store, admin.tenant_id)
            .await
            .map_err(unavailable)?
            .ok_or(Refusal::bare(ErrorCode::InvalidClient))?;
        let sealed = tenant
            .openapi_key
            .as_deref()
            .ok_or_else(|| refuse(ErrorCode::OpenapiDisabled))?;
        let key = vault.open(tenant.id, sealed).map_err(|e| Refusal {
            cause: Some(format!(
                "the interface key of tenant {} does not open: {e}",
                tenant.id
            )),
            ..refuse(ErrorCode::TemporarilyUnavailable)
        })?;
        if !secrets_equal(
            key.as_bytes(),
            client_secret.trim().to_ascii_lowercase().as_bytes(),
        ) {
            return Err(refuse(ErrorCode::InvalidClient));
        }
        if !tenant.openapi_enabled {
            return Err(refuse(ErrorCode::OpenapiDisabled));
        }
        // The allow list guards the token as it guards every call: a blocked address gets none.
        if !ip_allowed(&tenant.ip_allow, client_ip) {
            return Err(refuse(ErrorCode::IpNotAllowed));
        }
        let token = tokens::new_token();
        let now = store::now_ms().saturating_add(
            store::sandbox::clock_offset(store, tenant.id)
                .await
                .map_err(unavailable)?,
        );
        let lifetime_ms = store::secs_to_ms(lifetime_secs);
        store::secrets::insert_token(
            store,
            &tokens::token_hash(&token),
            (tenant.id, admin.id),
            now,
            now.saturating_add(lifetime_ms),
        )
        .await
        .map_err(unavailable)?;
        Ok(IssuedToken {
            token,
            tenant_id: tenant.id,
        })
    }

    /// Checks the token of an API call from `client_ip`: missing, unknown or expired → 1200; sync
    /// off → 1102; address not on the tenant's allow list → 10001.
    pub async fn authorize(
        &self,
        token: Option<&str>,
        client_ip: IpAddr,
    ) -> Result<Grant, Refusal> {
        let store = &self.store;
        let token = token.ok_or(Refusal::bare(ErrorCode::InvalidToken))?;
        let token_hash = tokens::token_hash(token);
        let grant = store::secrets::token(store, &token_hash)
            .await
            .map_err(unavailable)?
            .ok_or(Refusal::bare(ErrorCode::InvalidToken))?;
        let refuse = |code| Refusal {
            code,
            tenant_id: Some(grant.tenant_id),
            admin: grant.admin_name.clone(),
            cause: None,
        };
        // A sandbox's clock decides the expiry below.
        // Boxed, and only for a sandbox: see `AuthCache::read_through`.
        let sandbox = if grant.sandboxed {
            Box::pin(store::sandbox::of_grant(store, grant.tenant_id, true))
                .await
                .map_err(unavailable)?
        } else {
            None
        };
        let offset = sandbox.as_ref().map_or(0, |s| s.clock_offset_ms);
        if grant.expires_ms <= store::now_ms().saturating_add(offset) {
            return Err(refuse(ErrorCode::InvalidToken));
        }
        if !grant.openapi_enabled {
            return Err(refuse(ErrorCode::OpenapiDisabled));
        }
        if !ip_allowed(&grant.ip_allow, client_ip) {
            return Err(refuse(ErrorCode::IpNotAllowed));
        }
        Ok(Grant {
            tenant_id: grant.tenant_id,
            admin_id: grant.admin_id,
            admin_name: grant.admin_name,
            token_hash,
            sandbox,
        })
    }
}
