//! A member made to choose a new password at their next login (the newer API's `cpwd_login`):
//! a right password opens only a pending login, which a new password completes. The flag is then
//! cleared, as on the real service, and the login goes on (to the second factor, or a session).

use super::member_login::{Accepted, Failed};
use super::{Auth, passwords, random_bytes, tokens::token_hash};
use crate::store::{self, StoreError};
use base64::Engine as _;

/// How long a right password waits for the new one, in milliseconds.
const PENDING_MS: i64 = 15 * 60 * 1000;

/// The pending login kind of [`Auth::password_change_owed`].
const KIND: &str = "password";

/// Why a new password was not taken.
#[derive(Debug)]
pub enum ChangeRefused {
    /// Not 6 to 32 characters (the API's own rule for passwords).
    Rules,
    /// The same as the current one.
    Unchanged,
    /// The pending login is unknown or expired: sign in again.
    Expired,
    /// The store or a hashing task failed; the text says how (for the log).
    Unavailable(String),
}

impl From<StoreError> for ChangeRefused {
    fn from(e: StoreError) -> ChangeRefused {
        ChangeRefused::Unavailable(e.to_string())
    }
}

impl From<Failed> for ChangeRefused {
    fn from(e: Failed) -> ChangeRefused {
        match e {
            Failed::Unavailable(cause) => ChangeRefused::Unavailable(cause),
            _ => ChangeRefused::Expired,
        }
    }
}

impl Auth {
    /// After a right password: a pending id when the member must choose a new password first.
    pub(crate) async fn password_change_owed(
        &self,
        member: &store::directory::MemberRow,
    ) -> Result<Option<String>, StoreError> {
        let store = &self.store;
        let mut pooled = store.acquire().await?;
        let (cpwd_login, _, _) =
            store::directory::ids::member_flags(&mut pooled.conn(), member.id).await?;
        drop(pooled);
        if !cpwd_login {
            return Ok(None);
        }
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let expires = store::now_ms().saturating_add(PENDING_MS);
        let who = (member.tenant_id, member.id);
        store::secrets::insert_pending(store, KIND, &token_hash(&id), who, expires).await?;
        Ok(Some(id))
    }

    /// The address a pending password change is for, while it lives.
    pub async fn password_change_address(
        &self,
        pending: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.pending_member(pending).await?.map(|m| m.address))
    }

    async fn pending_member(
        &self,
        pending: &str,
    ) -> Result<Option<store::directory::MemberRow>, StoreError> {
        let store = &self.store;
        let now = store::now_ms();
        let Some((tenant_id, member_id)) =
            store::secrets::pending(store, KIND, &token_hash(pending), now).await?
        else {
            return Ok(None);
        };
        let mut pooled = store.acquire().await?;
        let member = store::directory::member(&mut pooled.conn(), tenant_id, member_id).await?;
        Ok(member.filter(|m| m.enabled))
    }

    /// Sets the member's new password, clears `cpwd_login` (and, as any new password does, their
    /// SSO authorization), ends the pending login and goes on as a right password does.
    pub async fn change_password(
        &self,
        pending: &str,
        new_password: &str,
        challenge_secs: u64,
    ) -> Result<Accepted, ChangeRefused> {
        if !(6..=32).contains(&new_password.chars().count()) {
            return Err(ChangeRefused::Rules);
        }
        let mut member = self
            .pending_member(pending)
            .await?
            .ok_or(ChangeRefused::Expired)?;
        let (typed, stored) = (new_password.to_owned(), member.password_hash.clone());
        let (same, hash) = tokio::task::spawn_blocking(move || {
            (passwords::verify(&typed, &stored), passwords::hash(&typed))
        })
        .await
        .map_err(|e| ChangeRefused::Unavailable(format!("password hashing task: {e}")))?;
        if same && !member.password_md5 {
            return Err(ChangeRefused::Unchanged);
        }
        let hash = hash.map_err(|e| ChangeRefused::Unavailable(format!("hashing: {e}")))?;
        let store = &self.store;
        // Taken in one statement: of two submits racing with one pending login, one goes on.
        let taken =
            store::secrets::take_pending(store, KIND, &token_hash(pending), store::now_ms())
                .await?;
        if taken.is_none_or(|(_, m)| m != member.id) {
            return Err(ChangeRefused::Expired);
        }
        let mut tx = store.begin().await?;
        {
            let conn = &mut tx.conn();
            member.password_hash = hash;
            member.password_md5 = false;
            store::directory::update_member(conn, &member, store::now_ms()).await?;
            let (_, imap, pop) = store::directory::ids::member_flags(conn, member.id).await?;
            store::directory::ids::set_member_flags(conn, member.id, (false, imap, pop)).await?;
            store::directory::ids::set_sso_authorized(conn, member.id, false).await?;
        }
        tx.commit().await?.no_events();
        Ok(self.after_password(&member, challenge_secs).await?)
    }
}
