//! What the record keeps of one exchange: the request as it came (moved out of the extractor,
//! never copied for a tenant that is not a sandbox) and the answer as it left, with every
//! secret masked before anything is stored: tokens, keys, secrets, passwords, tickets and the
//! login URLs that carry them.

use crate::store::sandbox::Exchange;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use std::time::Instant;

/// The masked stand-in for a secret.
pub const MASK: &str = "******";
/// The most of a body the record keeps.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Parameter and JSON keys whose values are secrets (compared without case).
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "client_secret",
    "corpsecret",
    "secret",
    "password",
    "ticket",
    "auth_key",
    "auth_key_doc",
    "login_url",
    "echostr",
    "encodingaeskey",
    "token",
];

/// Headers whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// A request as it arrived, kept until the call's answer is known.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The method.
    pub method: Method,
    /// The path and query.
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// When it arrived.
    pub started: Instant,
    /// When it arrived, in Unix milliseconds.
    pub at_ms: i64,
}

impl Raw {
    /// Keeps a request's parts (moved, not copied) and its body (shared).
    pub fn new(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Raw {
        Raw {
            method,
            uri,
            headers,
            body,
            started: Instant::now(),
            at_ms: crate::clock::now_ms(),
        }
    }
}

/// Who a recorded call came from.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `openapi:<admin>` or `app:<application>`.
    pub client: String,
    /// The first hex characters of the token's hash (`-` for a token request).
    pub token: String,
}

impl Caller {
    /// A caller with a token, known by the first 12 hex characters of its hash.
    pub fn with_token(client: String, token_hash: &[u8]) -> Caller {
        let hex = hex::encode(token_hash);
        Caller {
            client,
            token: hex.get(..12).unwrap_or(&hex).to_owned(),
        }
    }

    /// A caller asking for a token.
    pub fn asking(client: String) -> Caller {
        Caller {
            client,
            token: "-".to_owned(),
        }
    }
}

/// The exchange to store: the request and the answer, masked. `status` 0 means the
/// connection was cut before an answer.
pub fn exchange(
    raw: &Raw,
    caller: Caller,
    (status, headers, body): (u16, &HeaderMap, &[u8]),
    fault: Option<String>,
) -> Exchange {
    let content_type = |h: &HeaderMap| {
        h.get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    Exchange {
        id: 0,
        client: caller.client,
        token: caller.token,
        at_ms: raw.at_ms,
        duration_us: i64::try_from(raw.started.elapsed().as_micros()).unwrap_or(i64::MAX),
        method: raw.method.to_string(),
        url: mask_uri(&raw.uri),
        request_headers: headers_json(&raw.headers),
        request_body: mask_body(&content_type(&raw.headers), &raw.body),
        status: i64::from(status),
        response_headers: headers_json(headers),
        response_body: mask_body(&content_type(headers), body),
        fault: fault.unwrap_or_default(),
    }
}

fn is_secret(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// The path and query with secret parameters masked.
pub fn mask_uri(uri: &Uri) -> String {
    match uri.query() {
        None => uri.path().to_owned(),
        Some(q) => format!("{}?{}", uri.path(), mask_form(q)),
    }
}

/// A query or form body with secret values masked.
pub fn mask_form(form: &str) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(form.as_bytes()) {
        let masked = is_secret(&k);
        out.append_pair(&k, if masked { MASK } else { &v });
    }
    out.finish()
}

/// Headers as a JSON array of `[name, value]` pairs, secret values masked.
fn headers_json(headers: &HeaderMap) -> String {
    let pairs: Vec<(&str, String)> = headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let value = if SECRET_HEADERS.contains(&name) {
                // Keep the scheme (`Bearer`, `Basic`): it tells how the client authenticated.
                match value.to_str().ok().and_then(|v| v.split_once(' ')) {
                    Some((scheme, _)) if !name.contains("cookie") => format!("{scheme} {MASK}"),
                    _ => MASK.to_owned(),
                }
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect();
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// A body with secrets masked: JSON by key, forms by name; other text as it is. Cut at
/// [`BODY_LIMIT`].
pub fn mask_body(content_type: &str, body: &[u8]) -> String {
    let body = &body[..body.len().min(BODY_LIMIT)];
    let text = String::from_utf8_lossy(body);
    if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(body) {
        mask_json(&mut json);
        return json.to_string();
    }
    if content_type.starts_with("application/x-www-form-urlencoded")
        || (!text.is_empty() && !text.contains(['{', '<', ' ', '\n']) && text.contains('='))
    {
        return mask_form(&text);
    }
    text.into_owned()
}

fn mask_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret(k) && !v.is_null() {
                    *v = serde_json::Value::String(MASK.to_owned());
                } else {
                    mask_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_everywhere() {
        let uri: Uri = "/cgi-bin/gettoken?corpid=wx1&corpsecret=s3cr3t"
            .parse()
            .unwrap();
        assert_eq!(
            mask_uri(&uri),
            "/cgi-bin/gettoken?corpid=wx1&corpsecret=******"
        );
        let form = mask_body(
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&client_id=admin&client_secret=abc",
        );
        assert!(form.contains("client_secret=******") && form.contains("client_id=admin"));
        let json = mask_body(
            "application/json",
            br#"{"errcode":0,"access_token":"tok","nested":[{"password":"pw","name":"x"}]}"#,
        );
        assert!(!json.contains("tok\"") && !json.contains("pw") && json.contains("\"x\""));
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer abcdef".parse().unwrap());
        h.insert("cookie", "s=1".parse().unwrap());
        let out = headers_json(&h);
        assert!(out.contains("Bearer ******") && !out.contains("abcdef") && !out.contains("s=1"));
    }
}
