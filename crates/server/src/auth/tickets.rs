//! Single sign-on (§4): one-time tickets for a member (`openapi/mail/authkey`), burned by
//! `/cgi-bin/login` to open a web-mailbox session, and the sessions themselves.
//!
//! Tickets are 56 random bytes as 112 upper-case hex characters (as recorded), single-use, bound
//! to the tenant and the member, stored as SHA-256, expiring after `ticket_lifetime_secs`. Session
//! ids are 32 random bytes, also stored hashed, with an idle and an absolute expiry; each session
//! has its own anti-CSRF token for the mailbox's forms.

use super::Auth;
use crate::auth::{random_bytes, tokens::token_hash};
use crate::directory::{DirResult, Scope, resolve_member};
use crate::store::{self, StoreError};
use base64::Engine as _;
use bizmail_protocol::{Address, ErrorCode};

impl Auth {
    /// A new ticket for the member at `alias` (primary or alias), for the URL form `kind`
    /// ([`BIZAUTH`] of `mail/authkey`, [`OPENAPI`] of `service/get_login_url`). A disabled member
    /// gets `user_not_found`, like an unknown one (§4).
    pub async fn issue_ticket(
        &self,
        scope: &Scope,
        alias: &Address,
        (lifetime_secs, kind): (u64, &str),
    ) -> DirResult<String> {
        let store = &self.store;
        let member = {
            let mut pooled = store.acquire().await?;
            resolve_member(&mut pooled.conn(), scope, alias).await?
        };
        if !member.enabled {
            return Err(ErrorCode::UserNotFound.into());
        }
        let ticket = hex::encode_upper(random_bytes::<56>());
        // A sandbox's ticket lives by the tenant's clock (`burn_ticket` reads it the same way).
        let now = store::now_ms()
            .saturating_add(store::sandbox::clock_offset(store, scope.tenant_id).await?);
        let expires = now.saturating_add(store::secs_to_ms(lifetime_secs));
        store::secrets::insert_ticket(
            store,
            (&token_hash(&ticket), kind),
            (scope.tenant_id, member.id),
            expires,
        )
        .await?;
        Ok(ticket)
    }

    /// `/cgi-bin/login`: burns the ticket, then checks it was issued for `user` in the tenant `agent`
    /// administers, and opens a session for that member. The ticket is burned first, so a probe with a
    /// wrong `agent` or `user` still uses it up.
    ///
    /// `agent` is `None` for the newer API's login URL (`method=openapi`), which names no admin:
    /// the ticket alone says the tenant.
    pub async fn sso_login(
        &self,
        agent: Option<&str>,
        user: &str,
        ticket: &str,
    ) -> Result<SsoOutcome, Refused> {
        let store = &self.store;
        let now = store::now_ms();
        // A ticket opens only the URL form of the API that issued it.
        let kind = if agent.is_some() { BIZAUTH } else { OPENAPI };
        let (tenant_id, member_id) =
            store::secrets::burn_ticket(store, (&token_hash(ticket.trim()), kind), now)
                .await?
                .ok_or(Refused::BadTicket)?;
        if let Some(agent) = agent {
            let admin = store::tenants::find_admin(store, agent.trim())
                .await?
                .ok_or(Refused::BadTicket)?;
            if admin.tenant_id != tenant_id {
                return Err(Refused::BadTicket);
            }
        }
        let user = Address::parse(user).ok_or(Refused::BadTicket)?;
        let scope = Scope {
            tenant_id,
            domains: Vec::new(),
        };
        let member = {
            let mut pooled = store.acquire().await?;
            // Only a refusal of the directory's (no such member here) means a bad ticket; a store
            // failure is a failure, even though the ticket is spent already.
            match resolve_member(&mut pooled.conn(), &scope, &user).await {
                Ok(member) => member,
                Err(crate::directory::DirError::Store(e)) => return Err(Refused::Unavailable(e)),
                Err(_) => return Err(Refused::BadTicket),
            }
        };
        if member.id != member_id || !member.enabled {
            return Err(Refused::BadTicket);
        }
        {
            let mut pooled = store.acquire().await?;
            if store::tenants::is_disabled(&mut pooled.conn(), tenant_id).await? {
                return Err(Refused::BadTicket);
            }
        }
        // The newer API's login URL: a member's first SSO login confirms their password once.
        if agent.is_none() {
            let mut pooled = store.acquire().await?;
            let owed =
                store::directory::ids::sso_needs_password(&mut pooled.conn(), member_id).await?;
            if owed {
                let pending =
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
                let expires = now.saturating_add(PENDING_MS);
                let who = (tenant_id, member_id);
                store::secrets::insert_pending(store, "sso", &token_hash(&pending), who, expires)
                    .await?;
                return Ok(SsoOutcome::ConfirmPassword {
                    pending,
                    address: member.address,
                });
            }
        }
        Ok(SsoOutcome::Opened(
            self.open_session(tenant_id, member_id).await?,
        ))
    }

    /// The address a pending SSO login is for, while it lives (to fill in the login form).
    pub async fn sso_pending_address(&self, pending: &str) -> Result<Option<String>, StoreError> {
        let store = &self.store;
        let now = store::now_ms();
        let Some((tenant_id, member_id)) =
            store::secrets::pending(store, "sso", &token_hash(pending), now).await?
        else {
            return Ok(None);
        };
        let mut pooled = store.acquire().await?;
        let member = store::directory::member(&mut pooled.conn(), tenant_id, member_id).await?;
        Ok(member.map(|m| m.address))
    }

    /// A member who owed their password to a pending SSO login signed in with it: their SSO is
    /// authorized from now on. Only the pending login's own member counts; it is spent either way.
    pub async fn confirm_sso(&self, pending: &str, member_id: i64) -> Result<bool, StoreError> {
        let store = &self.store;
        let found =
            store::secrets::take_pending(store, "sso", &token_hash(pending), store::now_ms())
                .await?;
        if found.is_none_or(|(_, m)| m != member_id) {
            return Ok(false);
        }
        let mut pooled = store.acquire().await?;
        store::directory::ids::set_sso_authorized(&mut pooled.conn(), member_id, true).await?;
        Ok(true)
    }

    /// Opens a web-mailbox session for a member whose identity was proven (a ticket, or a password and
    /// whatever second factor it needs).
    pub async fn open_session(&self, tenant_id: i64, member_id: i64) -> Result<Opened, StoreError> {
        let store = &self.store;
        let session_id =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let csrf = hex::encode(random_bytes::<16>());
        store::secrets::insert_session(
            store,
            &token_hash(&session_id),
            (tenant_id, member_id),
            &csrf,
            store::now_ms(),
        )
        .await?;
        Ok(Opened {
            session_id,
            tenant_id,
            member_id,
        })
    }

    /// The live session behind a cookie value, if any (touching it).
    pub async fn session(
        &self,
        session_id: &str,
        idle_secs: u64,
        max_secs: u64,
    ) -> Result<Option<Session>, StoreError> {
        let store = &self.store;
        let Some((tenant_id, member_id, csrf)) = store::secrets::session(
            store,
            &token_hash(session_id),
            store::now_ms(),
            store::secs_to_ms(idle_secs),
            store::secs_to_ms(max_secs),
        )
        .await?
        else {
            return Ok(None);
        };
        let mut pooled = store.acquire().await?;
        let Some(m) = store::directory::member(&mut pooled.conn(), tenant_id, member_id).await?
        else {
            return Ok(None);
        };
        // (A disabled tenant's sessions are not found at all: `secrets::session` skips them.)
        if !m.enabled {
            return Ok(None);
        }
        Ok(Some(Session {
            tenant_id,
            member_id,
            address: m.address,
            csrf,
        }))
    }

    /// Ends a session.
    pub async fn logout(&self, session_id: &str) -> Result<(), StoreError> {
        let store = &self.store;
        store::secrets::delete_session(store, &token_hash(session_id)).await
    }
}

/// The ticket kind of the old API's `mail/authkey` (`method=bizauth&agent&user&ticket`).
pub const BIZAUTH: &str = "bizauth";
/// The ticket kind of the newer API's `service/get_login_url` (`method=openapi&userid&authkey`).
pub const OPENAPI: &str = "openapi";

/// How long a burned SSO ticket waits for its member's password, in milliseconds.
const PENDING_MS: i64 = 10 * 60 * 1000;

/// What a good SSO ticket leads to.
#[derive(Debug)]
pub enum SsoOutcome {
    /// A session is open.
    Opened(Opened),
    /// The member's first SSO login of the newer API: their password is owed once. `pending`
    /// (for a cookie) names the burned ticket until then.
    ConfirmPassword {
        /// The pending login's id.
        pending: String,
        /// The member's address, to fill in the login form.
        address: String,
    },
}

/// Why a login was refused. The page says no more than "this link is not valid".
#[derive(Debug)]
pub enum Refused {
    /// Unknown, used or expired ticket; or a ticket for another member, tenant or admin.
    BadTicket,
    /// The store failed (the page says "temporarily unavailable"; the cause is logged by `http`).
    Unavailable(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Refused {
        Refused::Unavailable(e)
    }
}

/// A session just opened: the cookie value to hand to the browser.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The session id (the cookie's value).
    pub session_id: String,
    /// The member's tenant.
    pub tenant_id: i64,
    /// The member.
    pub member_id: i64,
}

/// A signed-in member.
#[derive(Debug, Clone)]
pub struct Session {
    /// The member's tenant.
    pub tenant_id: i64,
    /// The member.
    pub member_id: i64,
    /// The member's primary address.
    pub address: String,
    /// The anti-CSRF token of this session's forms.
    pub csrf: String,
}
