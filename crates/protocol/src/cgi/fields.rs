//! The fields of one newer-API request (EXMAIL_API.md §1): query and body merged, the body
//! winning a name given in both. Values keep their JSON type, and the accessors accept every form
//! the recorded clients send: numbers as strings and strings as numbers, a scalar for a one-element
//! list, and `""` for "not given" (TencentExmail sends `""` for every unset field).

use serde_json::{Map, Value};

/// The most fields one request may carry; more is `invalid parameter`.
pub const MAX_FIELDS: usize = 256;

/// A field present but of a type the accessor cannot read (an object where a string belongs, a
/// fraction where an id belongs). The caller knows which code it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mistyped;

/// The merged fields of one request.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Reads the query string and the body. The body is JSON when its first non-blank byte is
    /// `{` (whatever `Content-Type` says: clients disagree), else a urlencoded form. `None` for a
    /// body that is neither (broken JSON, not UTF-8, too many fields): `invalid parameter`.
    pub fn from_request(query: Option<&str>, body: &[u8]) -> Option<Fields> {
        let mut map = Map::new();
        if let Some(q) = query {
            for (name, value) in pairs(q, false)? {
                map.insert(name, Value::String(value));
            }
        }
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        match first {
            None => {}
            Some(b'{') => {
                let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
                    return None;
                };
                for (name, value) in body {
                    map.insert(name.to_ascii_lowercase(), value);
                }
            }
            Some(_) => {
                let text = std::str::from_utf8(body).ok()?;
                for (name, value) in pairs(text, true)? {
                    map.insert(name, Value::String(value));
                }
            }
        }
        (map.len() <= MAX_FIELDS).then_some(Fields { map })
    }

    /// Fields from a JSON object (tests, and callers that already hold one).
    pub fn from_json(value: Value) -> Option<Fields> {
        match value {
            Value::Object(map) => Some(Fields { map }),
            _ => None,
        }
    }

    /// The raw value, if present and not "not given" (`null` or `""`).
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !is_unset(v))
    }

    /// Whether the field is given (present and not `""`/`null`).
    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// A text field: a string (trimmed) or a number written out. `Ok(None)` when not given.
    pub fn text(&self, name: &str) -> Result<Option<String>, Mistyped> {
        self.raw(name).map(scalar_text).transpose()
    }

    /// An integer field: a JSON integer or a string of one. `Ok(None)` when not given.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Mistyped> {
        self.raw(name).map(scalar_int).transpose()
    }

    /// A list of texts: a JSON array of strings or numbers, or one scalar as a one-element list.
    /// `Ok(None)` when not given; `[]` is an empty list (it clears, where a list replaces).
    pub fn texts(&self, name: &str) -> Result<Option<Vec<String>>, Mistyped> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .filter(|v| !is_unset(v))
                .map(scalar_text)
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => scalar_text(v).map(|t| Some(vec![t])),
        }
    }

    /// A list of integers, in the forms [`Fields::texts`] accepts.
    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, Mistyped> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .filter(|v| !is_unset(v))
                .map(scalar_int)
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => scalar_int(v).map(|n| Some(vec![n])),
        }
    }

    /// The fields for the operation log: names and short values, secrets masked.
    pub fn to_log_line(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.map {
            if !out.is_empty() {
                out.push('&');
            }
            // Nothing a caller sends may break a log line or a terminal: control characters
            // become spaces, in names as in values.
            out.extend(name.chars().take(64).map(printable));
            out.push('=');
            if matches!(
                name.as_str(),
                "password" | "corpsecret" | "access_token" | "authkey"
            ) {
                out.push_str("***");
                continue;
            }
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.extend(text.chars().take(200).map(printable));
        }
        out
    }
}

fn printable(c: char) -> char {
    if c.is_control() { ' ' } else { c }
}

fn is_unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn scalar_text(v: &Value) -> Result<String, Mistyped> {
    match v {
        Value::String(s) => Ok(s.trim().to_owned()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(Mistyped),
    }
}

fn scalar_int(v: &Value) -> Result<i64, Mistyped> {
    match v {
        Value::Number(n) => n.as_i64().ok_or(Mistyped),
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| Mistyped),
        _ => Err(Mistyped),
    }
}

/// Splits `a=b&c=d`, percent-decoding names and values. In the query `+` is a literal `+`
/// (TencentExmail, O2OA and MaxKey paste addresses like `a+b@x` raw); in a form body it is a
/// space, as forms encode it. Names are folded to lower case. `None` when a value is not UTF-8.
fn pairs(text: &str, plus_is_space: bool) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = decode(name, plus_is_space)?.trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        out.push((name, decode(value, plus_is_space)?));
        if out.len() > MAX_FIELDS {
            return None;
        }
    }
    Some(out)
}

fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    let spaced;
    let s = if plus_is_space && s.contains('+') {
        spaced = s.replace('+', " ");
        spaced.as_str()
    } else {
        s
    };
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn query_plus_is_literal_and_body_wins() {
        let f = Fields::from_request(
            Some("userid=a+b%40x.com&name=q"),
            br#"{"name":"body","department":["3", 4],"order":""}"#,
        )
        .unwrap();
        assert_eq!(f.text("userid").unwrap().as_deref(), Some("a+b@x.com"));
        assert_eq!(f.text("name").unwrap().as_deref(), Some("body"));
        assert_eq!(f.ints("department").unwrap(), Some(vec![3, 4]));
        assert_eq!(f.int("order").unwrap(), None);
        assert!(!f.has("order"));
    }

    #[test]
    fn scalars_for_lists_and_strings_for_numbers() {
        let f = Fields::from_request(None, br#"{"department":"1234","gender":1,"l":[]}"#).unwrap();
        assert_eq!(f.ints("department").unwrap(), Some(vec![1234]));
        assert_eq!(f.text("gender").unwrap().as_deref(), Some("1"));
        assert_eq!(f.texts("l").unwrap(), Some(vec![]));
        assert_eq!(f.int("department").unwrap(), Some(1234));
    }

    #[test]
    fn log_lines_hold_no_control_characters_and_no_secrets() {
        let f = Fields::from_request(
            Some("access_token=abc&userid=a%0Ab"),
            br#"{"password":"pw","name":"x\u0007y"}"#,
        )
        .unwrap();
        let line = f.to_log_line();
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(!line.contains("abc") && !line.contains("pw"), "{line}");
    }

    #[test]
    fn forms_and_broken_bodies() {
        let f = Fields::from_request(None, b"name=a+b&x=%E4%BD%A0").unwrap();
        assert_eq!(f.text("name").unwrap().as_deref(), Some("a b"));
        assert_eq!(f.text("x").unwrap().as_deref(), Some("你"));
        assert!(Fields::from_request(None, b"{not json").is_none());
        assert!(Fields::from_request(None, b"  [1]").is_some_and(|f| !f.has("1")));
        let mistyped = Fields::from_request(None, br#"{"id":{"a":1},"n":1.5}"#).unwrap();
        assert_eq!(mistyped.int("id"), Err(Mistyped));
        assert_eq!(mistyped.int("n"), Err(Mistyped));
    }
}
