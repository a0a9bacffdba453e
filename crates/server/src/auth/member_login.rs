//! Password logins to the web mailbox, and the forced second factor of `user/openwxtoken` (§7.8).
//!
//! A member signs in with the password `user/sync` set: in MD5 mode (`Md5=1`) bizmail only ever
//! saw the MD5 hex of it, so what the person types is hashed the same way before the argon2id check.
//! Unknown addresses, groups, disabled members and members without a password are refused with the
//! same answer, after the same argon2 work, so the page cannot be used to probe the directory.
//!
//! When the member's second factor is forced, a right password opens only a short-lived
//! *challenge*; the session opens once an RFC 6238 code is given. A member without an enrolment
//! gets a fresh secret (shown as a QR code) on that first challenge, confirmed by the first good
//! code. Secrets are sealed by the vault; a code is accepted once (its time step is recorded).
//! Rate limits are the HTTP layer's (`http::login`). SSO logins never come here: a ticket skips the
//! second factor, as §7.8 says.

use super::Auth;
use crate::auth::tickets::Opened;
use crate::auth::vault::Vault;
use crate::auth::{passwords, random_bytes, tokens::token_hash};
use crate::store::{self, Store, StoreError};
use base64::Engine as _;
use bizmail_protocol::Address;
use md5::{Digest as _, Md5};
use std::sync::LazyLock;
use totp_rs::TOTP;

/// Why a login step failed. The pages say no more than "wrong address or password", "wrong code"
/// or "start again".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// Wrong address or password (or no such member, or no password, or disabled).
    Credentials,
    /// A wrong, stale or replayed code.
    Code,
    /// The challenge is unknown or expired: start again with the password.
    Expired,
    /// The mailbox's attempts are spent for now (its rate limit).
    Limited,
    /// A mail client's login for a member whose second factor is forced: a password alone does
    /// not open the mailbox, and no code can be typed into a mail client.
    SecondFactor,
    /// The store, the vault or a hashing task failed; the text says how (for the log).
    Unavailable(String),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Failed {
        Failed::Unavailable(e.to_string())
    }
}

/// What a right password leads to.
#[derive(Debug, Clone)]
pub enum Accepted {
    /// The session is open.
    SignedIn(Opened),
    /// A second factor is owed: the challenge id to carry to the code page.
    CodeNeeded(String),
    /// The member must choose a new password first (`cpwd_login`): the pending id to carry to
    /// the new-password page.
    NewPasswordNeeded(String),
}

/// The protocol a mail client logs in over, for the newer API's per-member switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// IMAP.
    Imap,
    /// POP3.
    Pop3,
    /// SMTP submission.
    Smtp,
}

/// A hash to verify against when there is no member, so that a refusal costs the same time
/// whether or not the address exists.
pub(crate) static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| passwords::hash(&hex::encode(random_bytes::<16>())).unwrap_or_default());

impl Auth {
    /// Checks an address and password; opens a session, or a challenge when the member's second
    /// factor is forced (valid for `challenge_secs`). `allow` takes one attempt from the mailbox's
    /// rate limit, before the (slow) password check: it is given the member's primary address, so
    /// that a mailbox's aliases share one allowance, or what was typed when no member has it.
    pub async fn password_login(
        &self,
        address: &str,
        password: &str,
        challenge_secs: u64,
        allow: impl FnOnce(&str) -> bool,
    ) -> Result<Accepted, Failed> {
        let member = self.verify_password(address, password, allow).await?;
        // The newer API's `cpwd_login`: a new password before anything else.
        if let Some(pending) = self.password_change_owed(&member).await? {
            return Ok(Accepted::NewPasswordNeeded(pending));
        }
        self.after_password(&member, challenge_secs).await
    }

    /// What a proven password leads to: the second factor's challenge when it is forced, else a
    /// session.
    pub(crate) async fn after_password(
        &self,
        member: &store::directory::MemberRow,
        challenge_secs: u64,
    ) -> Result<Accepted, Failed> {
        let store = &self.store;
        if member.second_factor {
            let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
            let expires = store::now_ms().saturating_add(store::secs_to_ms(challenge_secs));
            store::secrets::insert_challenge(
                store,
                &token_hash(&id),
                (member.tenant_id, member.id),
                expires,
            )
            .await?;
            return Ok(Accepted::CodeNeeded(id));
        }
        Ok(Accepted::SignedIn(
            self.open_session(member.tenant_id, member.id).await?,
        ))
    }

    /// Checks an address and password the way every login does (a mail client's included):
    /// `allow` takes one attempt from the mailbox's rate limit before the slow check; unknown,
    /// disabled and password-less members cost the same argon2 work as a wrong password.
    pub(crate) async fn verify_password(
        &self,
        address: &str,
        password: &str,
        allow: impl FnOnce(&str) -> bool,
    ) -> Result<store::directory::MemberRow, Failed> {
        let store = &self.store;
        let member = match Address::parse(address) {
            Some(a) => {
                let mut pooled = store.acquire().await?;
                let conn = &mut pooled.conn();
                let found = store::directory::member_by_address(conn, a.as_str()).await?;
                // A member of a tenant the operator disabled signs in nowhere: as if disabled.
                match found {
                    Some(mut m) => {
                        if store::tenants::is_disabled(conn, m.tenant_id).await? {
                            m.enabled = false;
                        }
                        Some(m)
                    }
                    None => None,
                }
            }
            None => None,
        };
        let account = member.as_ref().map_or(address, |m| m.address.as_str());
        if !allow(account) {
            return Err(Failed::Limited);
        }
        let (stored, typed) = match &member {
            Some(m) if m.enabled && !m.password_hash.is_empty() => {
                let typed = if m.password_md5 {
                    hex::encode(Md5::digest(password.as_bytes()))
                } else {
                    password.to_owned()
                };
                (Some(m.password_hash.clone()), typed)
            }
            _ => (None, password.to_owned()),
        };
        // On the blocking pool: argon2 is slow on purpose (and so is making the decoy, once).
        let verified = tokio::task::spawn_blocking(move || {
            passwords::verify(&typed, stored.as_deref().unwrap_or(&DECOY_HASH))
        })
        .await
        .map_err(|e| Failed::Unavailable(format!("password check task: {e}")))?;
        match member {
            Some(m) if verified && m.enabled && !m.password_hash.is_empty() => Ok(m),
            _ => Err(Failed::Credentials),
        }
    }

    /// A mail client's login (IMAP, POP3, later submission): the member's password, checked as
    /// every login is and counted against the same rate limit, or one of their client passwords
    /// (`auth::app_passwords`). Returns `(tenant, member, primary address)`.
    ///
    /// Decided: a member whose second factor is forced gets in only with a client password; their
    /// own password alone must not open a mailbox the directory says needs two factors.
    pub async fn client_login(
        &self,
        address: &str,
        password: &str,
        (via, ip): (Via, std::net::IpAddr),
        allow: impl FnOnce(&str) -> bool,
    ) -> Result<(i64, i64, String), Failed> {
        let found = |m: store::directory::MemberRow| (m.tenant_id, m.id, m.address);
        let found = async |m: store::directory::MemberRow| -> Result<_, Failed> {
            self.client_may(m.id, via).await?;
            let kind = crate::activity::login_kind::MAIL_CLIENT;
            let who = (m.tenant_id, m.id);
            crate::activity::record_login(&self.store, who, &ip.to_string(), kind).await;
            Ok(found(m))
        };
        match self.verify_password(address, password, allow).await {
            Ok(m) if !m.second_factor => return found(m).await,
            Ok(_) => return Err(Failed::SecondFactor),
            Err(Failed::Credentials) => {}
            Err(e) => return Err(e),
        }
        // Not the password: perhaps a client password. One indexed lookup, whether or not the
        // address exists (the argon2 work above was done either way).
        let member = match Address::parse(address) {
            Some(a) => {
                let mut pooled = self.store.acquire().await?;
                let conn = &mut pooled.conn();
                match store::directory::member_by_address(conn, a.as_str()).await? {
                    Some(m) if !store::tenants::is_disabled(conn, m.tenant_id).await? => Some(m),
                    _ => None,
                }
            }
            None => None,
        };
        let id = member.as_ref().filter(|m| m.enabled).map_or(-1, |m| m.id);
        let hash = super::app_passwords::hash(password);
        if store::app_passwords::matches(&self.store, id, &hash).await?
            && let Some(m) = member
        {
            return found(m).await;
        }
        Err(Failed::Credentials)
    }

    /// The newer API's `useroption` switches (types 2 and 3): IMAP needs IMAP/SMTP on, POP3
    /// needs POP/SMTP on, and SMTP submission either of them. A switched-off protocol is refused
    /// like a wrong password, so a client learns nothing more.
    async fn client_may(&self, member_id: i64, via: Via) -> Result<(), Failed> {
        let mut pooled = self.store.acquire().await?;
        let (_, imap, pop) =
            store::directory::ids::member_flags(&mut pooled.conn(), member_id).await?;
        let allowed = match via {
            Via::Imap => imap,
            Via::Pop3 => pop,
            Via::Smtp => imap || pop,
        };
        if allowed {
            Ok(())
        } else {
            Err(Failed::Credentials)
        }
    }

    /// The code page of a live challenge: starts the enrolment if the member has none yet.
    pub async fn code_page(&self, challenge: &str) -> Result<CodePage, Failed> {
        let store = &self.store;
        let vault = &self.vault;
        let (tenant_id, member) = live_challenge(store, challenge).await?;
        let enrolment = store::totp::totp(store, member.id).await?;
        let enrolment = match enrolment {
            Some(e) => e,
            None => {
                let sealed = vault.seal(tenant_id, &super::totp::new_secret());
                store::totp::start_totp(store, member.id, &sealed).await?;
                // Re-read: a second tab may have started it first, and its secret is the one kept.
                store::totp::totp(store, member.id)
                    .await?
                    .ok_or_else(|| Failed::Unavailable("a TOTP enrolment vanished".into()))?
            }
        };
        let enrolment = if enrolment.confirmed {
            None
        } else {
            let totp = totp_for(vault, tenant_id, &enrolment.secret_sealed, &member.address)?;
            Some(super::totp::enrolment(&totp)?)
        };
        Ok(CodePage {
            address: member.address,
            enrolment,
        })
    }

    /// The member of a live challenge (for the HTTP layer's per-account limit).
    pub async fn challenge_address(&self, challenge: &str) -> Result<String, Failed> {
        let store = &self.store;
        Ok(live_challenge(store, challenge).await?.1.address)
    }

    /// Checks a code for a live challenge; opens the session and ends the challenge.
    pub async fn code_login(&self, challenge: &str, code: &str) -> Result<Opened, Failed> {
        let store = &self.store;
        let vault = &self.vault;
        let (tenant_id, member) = live_challenge(store, challenge).await?;
        let enrolment = store::totp::totp(store, member.id)
            .await?
            .ok_or(Failed::Expired)?;
        let totp = totp_for(vault, tenant_id, &enrolment.secret_sealed, &member.address)?;
        let step = super::totp::matching_step(&totp, code)?;
        if !store::totp::accept_step(store, member.id, step).await? {
            return Err(Failed::Code);
        }
        store::secrets::delete_challenge(store, &token_hash(challenge)).await?;
        Ok(self.open_session(tenant_id, member.id).await?)
    }
}

/// What the code page shows for a challenge.
#[derive(Debug, Clone)]
pub struct CodePage {
    /// The member's primary address (who is signing in).
    pub address: String,
    /// For a member not yet enrolled: the secret to add to an authenticator app.
    pub enrolment: Option<Enrolment>,
}

/// A new secret to enrol.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, to type in by hand.
    pub secret_base32: String,
    /// The `otpauth://` URL as a QR code: a PNG, base64-encoded.
    pub qr_png_base64: String,
}

/// The tenant and the (still enabled) member of a live challenge.
async fn live_challenge(
    store: &Store,
    challenge: &str,
) -> Result<(i64, store::directory::MemberRow), Failed> {
    let (tenant_id, member_id) =
        store::secrets::challenge(store, &token_hash(challenge), store::now_ms())
            .await?
            .ok_or(Failed::Expired)?;
    let mut pooled = store.acquire().await?;
    let member = store::directory::member(&mut pooled.conn(), tenant_id, member_id)
        .await?
        .filter(|m| m.enabled)
        .ok_or(Failed::Expired)?;
    Ok((tenant_id, member))
}

/// The TOTP of a sealed secret, labelled for an authenticator app as `bizmail (address)`.
fn totp_for(vault: &Vault, tenant_id: i64, sealed: &[u8], address: &str) -> Result<TOTP, Failed> {
    super::totp::totp_for(vault, tenant_id, sealed, ("bizmail", address))
}
