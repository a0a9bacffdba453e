//! LOGIN and AUTHENTICATE PLAIN (with SASL-IR): the member's password, checked as the web
//! mailbox checks it and counted against the same rate limits (per client address, per mailbox).
//! Only over TLS unless `imap_allow_plaintext` says otherwise (RFC 3501 §6.2.3: LOGINDISABLED).

use super::session::{Flow, Session, State};
use crate::auth::member_login::Failed;
use crate::auth::member_login::Via;
use crate::mail::mailbox::Owner;
use imap_codec::imap_types::auth::AuthMechanism;
use imap_codec::imap_types::secret::Secret;
use std::borrow::Cow;
use tokio::io::{AsyncRead, AsyncWrite};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// `LOGIN user password`.
    pub(super) async fn login(&mut self, tag: &str, user: &str, password: &str) {
        if let Some(refusal) = self.refuse_login() {
            self.line(&format!("{tag} {refusal}"));
            return;
        }
        self.sign_in(tag, user, password).await;
    }

    /// `AUTHENTICATE PLAIN [initial response]`.
    pub(super) async fn authenticate(
        &mut self,
        tag: &str,
        mechanism: &AuthMechanism<'_>,
        initial: Option<Secret<Cow<'_, [u8]>>>,
    ) -> Flow {
        if let Some(refusal) = self.refuse_login() {
            self.line(&format!("{tag} {refusal}"));
            return Flow::Continue;
        }
        if !matches!(mechanism, AuthMechanism::Plain) {
            self.line(&format!("{tag} NO Unsupported authentication mechanism"));
            return Flow::Continue;
        }
        let response = match initial {
            // SASL-IR: the codec has base64-decoded it already.
            Some(data) => data.declassify().to_vec(),
            None => match self.sasl_response().await {
                Ok(Some(data)) => data,
                Ok(None) => {
                    self.line(&format!("{tag} BAD Authentication cancelled"));
                    return Flow::Continue;
                }
                Err(flow) => return flow,
            },
        };
        // PLAIN (RFC 4616): authzid NUL authcid NUL password; an authzid other than the
        // authcid would be acting as someone else, which no member may.
        let mut fields = response.split(|&b| b == 0);
        let (Some(authz), Some(user), Some(password), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            self.line(&format!("{tag} BAD Malformed PLAIN response"));
            return Flow::Continue;
        };
        let (user, password) = (
            String::from_utf8_lossy(user).into_owned(),
            String::from_utf8_lossy(password).into_owned(),
        );
        if !authz.is_empty() && !authz.eq_ignore_ascii_case(user.as_bytes()) {
            self.line(&format!(
                "{tag} NO [AUTHORIZATIONFAILED] You may only sign in as yourself"
            ));
            return Flow::Continue;
        }
        self.sign_in(tag, &user, &password).await;
        Flow::Continue
    }

    /// Why a login cannot be tried now, as the rest of a tagged answer.
    fn refuse_login(&self) -> Option<&'static str> {
        if !matches!(self.state, State::Fresh) {
            return Some("BAD Already authenticated");
        }
        if !self.tls && !self.ctx.settings.allow_plaintext {
            return Some("NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) first");
        }
        None
    }

    async fn sign_in(&mut self, tag: &str, user: &str, password: &str) {
        let limits = self.ctx.limits.clone();
        if limits.login_ip.check_key(&self.ctx.ip).is_err() {
            self.line(&format!(
                "{tag} NO [UNAVAILABLE] Too many login attempts, try again later"
            ));
            return;
        }
        let allow = |account: &str| {
            limits
                .login_account
                .check_key(&account.to_lowercase())
                .is_ok()
        };
        let user = user.trim();
        match self
            .ctx
            .auth
            .client_login(user, password, (Via::Imap, self.ctx.ip), allow)
            .await
        {
            Ok((tenant_id, member_id, address)) => {
                self.state = State::Authed(Owner {
                    tenant_id,
                    member_id,
                    address,
                });
                let caps = self.caps();
                self.line(&format!("{tag} OK [CAPABILITY {caps}] Logged in"));
            }
            Err(Failed::Limited) => self.line(&format!(
                "{tag} NO [UNAVAILABLE] Too many login attempts, try again later"
            )),
            Err(Failed::SecondFactor) => self.line(&format!(
                "{tag} NO [AUTHENTICATIONFAILED] This mailbox requires a second factor; sign in \
                 on the web"
            )),
            Err(Failed::Unavailable(cause)) => {
                tracing::error!(%cause, "IMAP login failed");
                self.line(&format!(
                    "{tag} NO [UNAVAILABLE] The mail store is unavailable, try again later"
                ));
            }
            Err(_) => self.line(&format!(
                "{tag} NO [AUTHENTICATIONFAILED] Invalid credentials"
            )),
        }
    }
}
