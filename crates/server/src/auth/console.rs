//! Signing in to the web console (`/admin/`): a tenant's admin (the `admins` row whose name is
//! the OpenApi's `client_id`) or an operator of the whole server. Both always need a TOTP code
//! after the password: the console hands out interface keys and application secrets, so one
//! stolen password must not be enough. The first sign-in enrols the authenticator (a QR code);
//! `bizmail admin reset-totp` / `bizmail operator reset-totp` forget a lost one.
//!
//! Unknown names cost the same argon2 work as a wrong password, and the refusal is the same. A
//! disabled tenant's admin signs in nowhere and loses their sessions at once.

use super::member_login::{CodePage, DECOY_HASH, Failed};
use super::{Auth, passwords, random_bytes, tokens::token_hash};
use crate::store::{self, console, tenants};
use base64::Engine as _;

/// Which kind of console account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A tenant's admin.
    Admin,
    /// An operator of the whole server.
    Operator,
}

impl Kind {
    /// The name stored in the console tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Admin => "admin",
            Kind::Operator => "operator",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "admin" => Some(Kind::Admin),
            "operator" => Some(Kind::Operator),
            _ => None,
        }
    }

    /// The tenant whose vault key seals this account's TOTP secret (operators: none, 0).
    fn seal_tenant(self, tenant_id: Option<i64>) -> i64 {
        tenant_id.unwrap_or(0)
    }
}

/// A console account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Admin or operator.
    pub kind: Kind,
    /// Its row's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The tenant an admin administers; `None` for an operator.
    pub tenant_id: Option<i64>,
}

/// A signed-in console browser.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// Who is signed in.
    pub account: Account,
    /// The anti-CSRF token of this session's forms.
    pub csrf: String,
}

impl Auth {
    /// Checks a console account's name and password; returns the challenge id that the code page
    /// carries (valid for `challenge_secs`). `allow` takes one attempt from the account's rate
    /// limit before the slow check.
    pub async fn console_password(
        &self,
        kind: Kind,
        name: &str,
        password: &str,
        challenge_secs: u64,
        allow: impl FnOnce(&str) -> bool,
    ) -> Result<String, Failed> {
        let store = &self.store;
        let found: Option<(i64, String)> = match kind {
            Kind::Admin => match tenants::find_admin(store, name).await? {
                Some(a) => match console::admin_account(store, a.id).await? {
                    Some((_, _, false)) => Some((a.id, a.password_hash)),
                    _ => None,
                },
                None => None,
            },
            Kind::Operator => console::find_operator(store, name)
                .await?
                .map(|o| (o.id, o.password_hash)),
        };
        if !allow(&format!("{}:{name}", kind.as_str())) {
            return Err(Failed::Limited);
        }
        let (typed, stored) = (password.to_owned(), found.as_ref().map(|(_, h)| h.clone()));
        let verified = tokio::task::spawn_blocking(move || {
            passwords::verify(&typed, stored.as_deref().unwrap_or(&DECOY_HASH))
        })
        .await
        .map_err(|e| Failed::Unavailable(format!("password check task: {e}")))?;
        let Some((id, _)) = found.filter(|_| verified) else {
            return Err(Failed::Credentials);
        };
        let challenge =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let expires = store::now_ms().saturating_add(store::secs_to_ms(challenge_secs));
        console::insert_challenge(store, &token_hash(&challenge), (kind.as_str(), id), expires)
            .await?;
        Ok(challenge)
    }

    /// The code page of a live challenge, starting the enrolment when the account has none.
    pub async fn console_code_page(&self, challenge: &str) -> Result<CodePage, Failed> {
        let (store, vault) = (&self.store, &self.vault);
        let account = self.live_challenge(challenge).await?;
        let seal = account.kind.seal_tenant(account.tenant_id);
        let kind = account.kind.as_str();
        let row = match console::totp(store, kind, account.id).await? {
            Some(row) => row,
            None => {
                let sealed = vault.seal(seal, &super::totp::new_secret());
                console::start_totp(store, kind, account.id, &sealed).await?;
                // Re-read: another tab may have started first, and its secret is the one kept.
                console::totp(store, kind, account.id)
                    .await?
                    .ok_or_else(|| Failed::Unavailable("a TOTP enrolment vanished".into()))?
            }
        };
        let enrolment = if row.confirmed {
            None
        } else {
            let label = ("bizmail console", account.name.as_str());
            let totp = super::totp::totp_for(vault, seal, &row.secret_sealed, label)?;
            Some(super::totp::enrolment(&totp)?)
        };
        Ok(CodePage {
            address: account.name,
            enrolment,
        })
    }

    /// The account of a live challenge (for the per-account rate limit).
    pub async fn console_challenge_account(&self, challenge: &str) -> Result<Account, Failed> {
        self.live_challenge(challenge).await
    }

    /// Checks the code of a live challenge; opens a session (returns its id) and ends the
    /// challenge.
    pub async fn console_code_login(&self, challenge: &str, code: &str) -> Result<String, Failed> {
        let (store, vault) = (&self.store, &self.vault);
        let account = self.live_challenge(challenge).await?;
        let kind = account.kind.as_str();
        let row = console::totp(store, kind, account.id)
            .await?
            .ok_or(Failed::Expired)?;
        let seal = account.kind.seal_tenant(account.tenant_id);
        let label = ("bizmail console", account.name.as_str());
        let totp = super::totp::totp_for(vault, seal, &row.secret_sealed, label)?;
        let step = super::totp::matching_step(&totp, code)?;
        if !console::accept_step(store, kind, account.id, step).await? {
            return Err(Failed::Code);
        }
        console::delete_challenge(store, &token_hash(challenge)).await?;
        let session = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let csrf = hex::encode(random_bytes::<16>());
        let now = store::now_ms();
        console::insert_session(store, &token_hash(&session), (kind, account.id), &csrf, now)
            .await?;
        Ok(session)
    }

    /// The live console session behind a cookie value (touching it), if any. An admin whose
    /// tenant the operator disabled has none.
    pub async fn console_session(
        &self,
        session_id: &str,
        idle_secs: u64,
        max_secs: u64,
    ) -> Result<Option<ConsoleSession>, store::StoreError> {
        let store = &self.store;
        let limits = (store::secs_to_ms(idle_secs), store::secs_to_ms(max_secs));
        let hash = token_hash(session_id);
        let Some((kind, id, csrf)) =
            console::session(store, &hash, store::now_ms(), limits).await?
        else {
            return Ok(None);
        };
        let Some(account) = self.account(&kind, id).await? else {
            console::delete_session(store, &hash).await?;
            return Ok(None);
        };
        Ok(Some(ConsoleSession { account, csrf }))
    }

    /// Ends a console session.
    pub async fn console_logout(&self, session_id: &str) -> Result<(), store::StoreError> {
        console::delete_session(&self.store, &token_hash(session_id)).await
    }

    async fn live_challenge(&self, challenge: &str) -> Result<Account, Failed> {
        let store = &self.store;
        let (kind, id) = console::challenge(store, &token_hash(challenge), store::now_ms())
            .await?
            .ok_or(Failed::Expired)?;
        self.account(&kind, id).await?.ok_or(Failed::Expired)
    }

    /// The account `(kind, id)` names, unless it is gone or its tenant is disabled.
    async fn account(&self, kind: &str, id: i64) -> Result<Option<Account>, store::StoreError> {
        let store = &self.store;
        let Some(kind) = Kind::parse(kind) else {
            return Ok(None);
        };
        Ok(match kind {
            Kind::Admin => {
                console::admin_account(store, id)
                    .await?
                    .and_then(|(name, tenant_id, disabled)| {
                        (!disabled).then_some(Account {
                            kind,
                            id,
                            name,
                            tenant_id: Some(tenant_id),
                        })
                    })
            }
            Kind::Operator => console::operator(store, id).await?.map(|o| Account {
                kind,
                id,
                name: o.name,
                tenant_id: None,
            }),
        })
    }
}
