//! How clients present who they are: the `Authorization` header forms recorded from real clients.
//!
//! - API calls: `Authorization: Bearer <token>` with the scheme in any case and stray spaces
//!   (`" Bearer  x"`), or the bare token with no scheme at all (§8); or an `access_token` parameter.
//!   When header and parameter both carry a token and differ, the header wins (§1).
//! - `/cgi-bin/token`: `Authorization: Basic base64(client_id:client_secret)` or the
//!   `client_id`/`client_secret` parameters (§3).

use crate::params::Params;
use base64::Engine as _;

/// The access token of an API call: from the `Authorization` header if it holds one, else from the
/// `access_token` parameter (query or body). `None` when neither carries a non-empty token.
pub fn access_token<'a>(authorization: Option<&'a str>, params: &'a Params) -> Option<&'a str> {
    authorization
        .and_then(bearer_from_header)
        .or_else(|| params.get_nonempty("access_token"))
}

/// The token in an `Authorization` header value: `Bearer <t>` (scheme case-insensitive, spaces
/// tolerated) or a bare token without a scheme. A `Basic` header carries no bearer token.
pub fn bearer_from_header(value: &str) -> Option<&str> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(rest.trim()).filter(|t| !t.is_empty())
        }
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("basic") => None,
        // Some other scheme followed by a value: not ours to interpret.
        Some(_) => None,
        // One word: `Bearer` alone carries nothing; anything else is a bare token (§8).
        None if value.eq_ignore_ascii_case("bearer") => None,
        None => Some(value),
    }
}

/// The client of a token request as `(client_id, client_secret)`, from a Basic header if there is
/// one, else from the parameters. Either part may be empty; the caller decides what that means.
pub fn client_credentials(
    authorization: Option<&str>,
    params: &Params,
) -> Option<(String, String)> {
    if let Some(creds) = authorization.and_then(basic_from_header) {
        return Some(creds);
    }
    let id = params.get("client_id")?;
    let secret = params.get("client_secret").unwrap_or_default();
    Some((id.to_owned(), secret.to_owned()))
}

/// Decodes `Basic base64(id:secret)`. The secret is everything after the first `:`.
pub fn basic_from_header(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.trim().to_owned(), secret.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_variants() {
        assert_eq!(bearer_from_header("Bearer abc"), Some("abc"));
        assert_eq!(bearer_from_header(" Bearer  abc"), Some("abc"));
        assert_eq!(bearer_from_header("bearer abc "), Some("abc"));
        assert_eq!(bearer_from_header("BEARER\tabc"), Some("abc"));
        assert_eq!(bearer_from_header("abc"), Some("abc"));
        assert_eq!(bearer_from_header("Bearer"), None);
        assert_eq!(bearer_from_header("Bearer   "), None);
        assert_eq!(bearer_from_header(""), None);
        assert_eq!(bearer_from_header("Basic YTpi"), None);
    }

    #[test]
    fn header_wins_over_parameter() {
        let p = Params::from_query("access_token=fromquery").unwrap();
        assert_eq!(
            access_token(Some("Bearer fromheader"), &p),
            Some("fromheader")
        );
        assert_eq!(access_token(None, &p), Some("fromquery"));
        assert_eq!(access_token(Some("Basic YTpi"), &p), Some("fromquery"));
        let empty = Params::from_query("access_token=").unwrap();
        assert_eq!(access_token(None, &empty), None);
    }

    #[test]
    fn basic_and_parameter_credentials() {
        // base64("admin:563a8c6a89d2368194c1c7889c508b34")
        let h = "Basic YWRtaW46NTYzYThjNmE4OWQyMzY4MTk0YzFjNzg4OWM1MDhiMzQ=";
        let none = Params::default();
        assert_eq!(
            client_credentials(Some(h), &none),
            Some(("admin".into(), "563a8c6a89d2368194c1c7889c508b34".into()))
        );
        let p = Params::from_query("Client_ID=vip2.msdi.cn&Client_Secret=k").unwrap();
        assert_eq!(
            client_credentials(None, &p),
            Some(("vip2.msdi.cn".into(), "k".into()))
        );
        assert_eq!(client_credentials(Some("Basic !!!"), &none), None);
        assert_eq!(client_credentials(None, &none), None);
    }
}
