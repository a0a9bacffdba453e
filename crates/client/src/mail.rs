//! The mail endpoints as typed calls: unread counts and single sign-on into the web mailbox.

use crate::{AuthKey, Client, Error, NewCount};

/// Characters that must be escaped in a query-string value.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl Client {
    /// `mail/newcount`: a member's unread count (a string of digits on the wire).
    pub async fn mail_new_count(&self, alias: &str) -> Result<NewCount, Error> {
        self.call_json("mail/newcount", &[("Alias", alias)]).await
    }

    /// `mail/authkey`: a single-use, short-lived SSO ticket for the member `alias`.
    pub async fn mail_auth_key(&self, alias: &str) -> Result<AuthKey, Error> {
        self.call_json("mail/authkey", &[("Alias", alias)]).await
    }

    /// The `/cgi-bin/login` URL that signs `user` into the web mailbox with `ticket` (from
    /// [`Client::mail_auth_key`]), into one mail when `mail_id` (the `MailId` of a push) is given.
    pub fn sso_url(&self, user: &str, ticket: &str, mail_id: Option<&str>) -> String {
        let enc = |v: &str| percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string();
        let mut url = format!(
            "{}/cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={}&user={}&ticket={}",
            self.base_url(),
            enc(self.admin()),
            enc(user),
            enc(ticket)
        );
        if let Some(id) = mail_id {
            url.push_str("&mailid=");
            url.push_str(&enc(id));
        }
        url
    }
}
