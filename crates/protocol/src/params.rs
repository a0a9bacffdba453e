//! Parameter extraction exactly as PROTOCOL.md §1 and §8 decide it.
//!
//! Real clients put parameters in the query string, the body, or both; bodies arrive urlencoded,
//! multipart, urlencoded but labelled `application/json`, as a JSON object, or with no content type.
//! Values come percent-encoded or raw (unencoded UTF-8). Names are case-insensitive, lists come
//! repeated, comma-separated or in PHP/Ruby array form. [`Params`] takes all of that in and offers
//! one ordered, case-folded view. It never panics on any input; malformed input is
//! [`ErrorCode::InvalidRequest`].

use crate::error::ErrorCode;
use bytes::Bytes;
use percent_encoding::percent_decode;
use std::fmt::Write as _;

/// Parameter names whose values are secrets: masked when parameters are written to the operation
/// log (§2), and never logged anywhere else either.
pub const SECRET_PARAMS: [&str; 3] = ["password", "client_secret", "access_token"];

/// Limits on what one request may carry. Over a limit is `invalid_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamsLimits {
    /// How many parameters (query and body together) one request may carry.
    pub max_params: usize,
}

impl Default for ParamsLimits {
    fn default() -> Self {
        ParamsLimits { max_params: 1000 }
    }
}

/// The parameters of one request: query first, then body, in the order sent. Names are folded to
/// lower case with any `[]`/`[N]` array suffix removed; values are decoded and trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Extracts the parameters of a request from its raw query string (without `?`), its
    /// `Content-Type` header (if any) and its body.
    pub fn from_request(
        query: Option<&[u8]>,
        content_type: Option<&str>,
        body: &[u8],
        limits: ParamsLimits,
    ) -> Result<Params, ErrorCode> {
        let mut params = Params::default();
        if let Some(q) = query {
            params.push_form(q, limits)?;
        }
        if let Some(boundary) = content_type.and_then(multipart_boundary) {
            params.push_multipart(body, boundary, limits)?;
        } else if body.trim_ascii_start().starts_with(b"{") {
            params.push_json(body, limits)?;
        } else {
            params.push_form(body, limits)?;
        }
        Ok(params)
    }

    /// Parameters from a query string alone (GET requests, tests).
    pub fn from_query(query: &str) -> Result<Params, ErrorCode> {
        Params::from_request(Some(query.as_bytes()), None, b"", ParamsLimits::default())
    }

    /// The first value of `name` (case-insensitive), as sent, possibly empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = fold_name(name);
        self.pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `name`. An empty value means "not given" (§7.1: a recorded
    /// client sends every field on every call, empty when unset).
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        let name = fold_name(name);
        self.pairs
            .iter()
            .find(|(n, v)| *n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` was sent at all, even with an empty value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every value of a repeated parameter, in order, empty ones included.
    pub fn all(&self, name: &str) -> Vec<&str> {
        let name = fold_name(name);
        self.pairs
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A list parameter: every value of `name`, each split on commas, trimmed, empties dropped
    /// (`members=a&members=b`, `members=a,b`, `members[]=a`, `members[0]=a` all give `[a, b]`).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.all(name)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every `(name, value)` pair in order; names folded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many parameters were sent.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether no parameter was sent.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Adds one parameter, folding its name and trimming its value like every other.
    pub fn push(&mut self, name: &str, value: &str) {
        self.pairs.push((fold_name(name), value.trim().to_owned()));
    }

    /// The parameters as one line for the operation log: `name=value&…` with the values of
    /// [`SECRET_PARAMS`] replaced by `***`, each value capped at [`MAX_LOGGED_VALUE_CHARS`]
    /// (marked `…(cut)`), percent-encoding what would make the line ambiguous and every control
    /// character (a log never carries NUL or a line break from a client).
    pub fn to_log_line(&self) -> String {
        let mut out = String::new();
        for (i, (n, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            let shown = if SECRET_PARAMS.contains(&n.as_str()) {
                "***"
            } else {
                v.as_str()
            };
            // Capped: the log is an audit trail, not a copy of whatever a caller uploads.
            let shown = crate::text::capped(shown, MAX_LOGGED_VALUE_CHARS);
            let _ = write!(out, "{}={}", escape_log(n), escape_log(&shown));
        }
        out
    }

    fn push_checked(
        &mut self,
        name: &str,
        value: &str,
        limits: ParamsLimits,
    ) -> Result<(), ErrorCode> {
        if self.pairs.len() >= limits.max_params {
            return Err(ErrorCode::InvalidRequest);
        }
        let name = fold_name(name);
        if name.is_empty() {
            // `=value` or a lone `&&`: nothing a client meant as a parameter.
            return Ok(());
        }
        self.pairs.push((name, value.trim().to_owned()));
        Ok(())
    }

    fn push_form(&mut self, raw: &[u8], limits: ParamsLimits) -> Result<(), ErrorCode> {
        for piece in raw.split(|b| *b == b'&') {
            if piece.trim_ascii().is_empty() {
                continue;
            }
            let (name, value) = match piece.iter().position(|b| *b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                // `name` with no `=`: a parameter with no value (the root department, §8).
                None => (piece, &b""[..]),
            };
            let name = decode_form_component(name)?;
            let value = decode_form_component(value)?;
            self.push_checked(&name, &value, limits)?;
        }
        Ok(())
    }

    fn push_json(&mut self, raw: &[u8], limits: ParamsLimits) -> Result<(), ErrorCode> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(raw).map_err(|_| ErrorCode::InvalidRequest)?;
        for (name, value) in object {
            match value {
                serde_json::Value::Array(items) => {
                    for item in items {
                        self.push_checked(&name, &json_scalar(item), limits)?;
                    }
                }
                other => self.push_checked(&name, &json_scalar(other), limits)?,
            }
        }
        Ok(())
    }

    fn push_multipart(
        &mut self,
        raw: &[u8],
        boundary: String,
        limits: ParamsLimits,
    ) -> Result<(), ErrorCode> {
        // multer is async over a stream; the whole body is already in memory, so the one-chunk
        // stream is always ready and `block_on` never waits on anything.
        let body = Bytes::copy_from_slice(raw);
        let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        futures_executor::block_on(async {
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|_| ErrorCode::InvalidRequest)?
            {
                let name = field.name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|_| ErrorCode::InvalidRequest)?;
                let value = std::str::from_utf8(&bytes).map_err(|_| ErrorCode::InvalidRequest)?;
                self.push_checked(&name, value, limits)?;
            }
            Ok(())
        })
    }
}

/// Folds a parameter name: trimmed, lower case, a trailing `[]` or `[N]` removed (PHP's
/// `members[0]=`, Ruby's `members[]=`: the real service did not understand them, accepting them
/// costs nothing, §1).
fn fold_name(name: &str) -> String {
    let mut name = name.trim();
    if let Some(open) = name.rfind('[')
        && name.ends_with(']')
        && name[open + 1..name.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        name = &name[..open];
    }
    name.to_lowercase()
}

/// Decodes one urlencoded component: `+` is a space, `%XX` a byte, every other byte passes through
/// (clients send raw UTF-8 Chinese, raw `@` and `/`). The result must be UTF-8.
fn decode_form_component(raw: &[u8]) -> Result<String, ErrorCode> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| ErrorCode::InvalidRequest)
}

fn json_scalar(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    let lower = content_type.trim_start().to_ascii_lowercase();
    if !lower.starts_with("multipart/form-data") {
        return None;
    }
    multer::parse_boundary(content_type).ok()
}

/// The longest value an operation-log line keeps of one parameter, in characters.
pub const MAX_LOGGED_VALUE_CHARS: usize = 256;

fn escape_log(s: &str) -> String {
    crate::text::escape_controls(
        &s.replace('%', "%25")
            .replace('&', "%26")
            .replace('=', "%3D"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &str, content_type: Option<&str>, body: &[u8]) -> Params {
        Params::from_request(
            Some(query.as_bytes()),
            content_type,
            body,
            ParamsLimits::default(),
        )
        .expect("valid request")
    }

    #[test]
    fn query_and_body_are_merged_query_first() {
        let p = req(
            "alias=a%40x.com",
            Some("application/x-www-form-urlencoded"),
            b"name=Bob&alias=b@x.com",
        );
        assert_eq!(p.get("alias"), Some("a@x.com"));
        assert_eq!(p.get("name"), Some("Bob"));
        assert_eq!(p.all("alias"), vec!["a@x.com", "b@x.com"]);
    }

    #[test]
    fn parameters_only_in_query_of_a_post() {
        let p = req("Alias=a@x.com&Action=2", None, b"");
        assert_eq!(p.get("action"), Some("2"));
    }

    #[test]
    fn form_body_without_content_type() {
        let p = req("", None, b"client_id=admin&client_secret=k");
        assert_eq!(p.get("client_id"), Some("admin"));
    }

    #[test]
    fn urlencoded_body_labelled_json() {
        let p = req(
            "",
            Some("application/json"),
            b"grant_type=client_credentials&client_id=a",
        );
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
    }

    #[test]
    fn json_object_body() {
        let p = req(
            "",
            Some("application/json"),
            br#" {"Alias":"a@x.com","Gender":1,"Slave":["b@x.com","c@x.com"],"Extra":null,"Flag":true}"#,
        );
        assert_eq!(p.get("alias"), Some("a@x.com"));
        assert_eq!(p.get("gender"), Some("1"));
        assert_eq!(p.all("slave"), vec!["b@x.com", "c@x.com"]);
        assert_eq!(p.get("extra"), Some(""));
        assert_eq!(p.get("flag"), Some("true"));
    }

    #[test]
    fn malformed_json_object_is_invalid_request() {
        let r = Params::from_request(None, None, b"{not json", ParamsLimits::default());
        assert_eq!(r, Err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn multipart_body() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"Alias\"\r\n\r\nzhang@x.com\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"PartyPath\"\r\n\r\nIT部/产品部\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"members[0]\"\r\n\r\na@x.com\r\n--XyZ--\r\n";
        let p = req(
            "",
            Some("multipart/form-data; boundary=XyZ"),
            body.as_bytes(),
        );
        assert_eq!(p.get("alias"), Some("zhang@x.com"));
        assert_eq!(p.get("partypath"), Some("IT部/产品部"));
        assert_eq!(p.list("members"), vec!["a@x.com"]);
    }

    #[test]
    fn broken_multipart_is_invalid_request() {
        let r = Params::from_request(
            None,
            Some("multipart/form-data; boundary=XyZ"),
            b"--XyZ\r\nno headers end",
            ParamsLimits::default(),
        );
        assert_eq!(r, Err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn raw_utf8_and_percent_encoding_both_decode() {
        let raw = req("PartyPath=/IT部/IT产品部", None, b"");
        let enc = req(
            "PartyPath=%2FIT%E9%83%A8%2FIT%E4%BA%A7%E5%93%81%E9%83%A8",
            None,
            b"",
        );
        assert_eq!(raw.get("partypath"), Some("/IT部/IT产品部"));
        assert_eq!(raw, enc);
        let plus = req("name=Zhang+San", None, b"");
        assert_eq!(plus.get("name"), Some("Zhang San"));
        let at = req("alias=a%2Bb%40x.com", None, b"");
        assert_eq!(at.get("alias"), Some("a+b@x.com"));
    }

    #[test]
    fn invalid_utf8_is_invalid_request() {
        let r = Params::from_request(Some(b"name=%FF%FE"), None, b"", ParamsLimits::default());
        assert_eq!(r, Err(ErrorCode::InvalidRequest));
        let r = Params::from_request(None, None, b"name=\xff", ParamsLimits::default());
        assert_eq!(r, Err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn names_are_case_insensitive() {
        let p = req(
            "Client_ID=a&CLIENT_SECRET=b&Grant_Type=client_credentials&openType=1",
            None,
            b"",
        );
        assert_eq!(p.get("client_id"), Some("a"));
        assert_eq!(p.get("Client_Secret"), Some("b"));
        assert_eq!(p.get("GRANT_TYPE"), Some("client_credentials"));
        assert_eq!(p.get("OpenType"), Some("1"));
    }

    #[test]
    fn lists_repeated_comma_and_array_forms() {
        let forms = [
            "members=a@x.com&members=b@x.com",
            "members=a@x.com,b@x.com",
            "members[]=a@x.com&members[]=b@x.com",
            "members[0]=a@x.com&members[1]=b@x.com",
            "members=a@x.com%2C%20b@x.com",
            "Members=+a@x.com+,,b@x.com",
        ];
        for f in forms {
            assert_eq!(
                req(f, None, b"").list("members"),
                vec!["a@x.com", "b@x.com"],
                "{f}"
            );
        }
        let slaves = req("Slave=a@x.com&Slave=b@x.com", None, b"");
        assert_eq!(slaves.all("slave"), vec!["a@x.com", "b@x.com"]);
    }

    #[test]
    fn values_are_trimmed() {
        let p = req("alias=%20test2@x.com%20&name=++Bob", None, b"");
        assert_eq!(p.get("alias"), Some("test2@x.com"));
        assert_eq!(p.get("name"), Some("Bob"));
    }

    #[test]
    fn root_department_forms() {
        for q in ["PartyPath=", "PartyPath=/", "PartyPath", ""] {
            let p = req(q, None, b"");
            let v = p.get("partypath").unwrap_or("");
            assert!(v.is_empty() || v == "/", "{q}");
        }
        assert!(req("PartyPath", None, b"").contains("partypath"));
    }

    #[test]
    fn empty_value_is_not_given() {
        let p = req(
            "name=&gender=&partyPath=&slave=&openType=&password=&md5=",
            None,
            b"",
        );
        assert_eq!(p.get("name"), Some(""));
        assert_eq!(p.get_nonempty("name"), None);
        assert!(p.list("slave").is_empty());
        let p = req("name=&name=Bob", None, b"");
        assert_eq!(p.get_nonempty("name"), Some("Bob"));
    }

    #[test]
    fn unknown_parameters_are_kept_but_harmless() {
        let p = req("Status=1&SlaveList=&Alias=a@x.com", None, b"");
        assert_eq!(p.get("alias"), Some("a@x.com"));
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn too_many_parameters_is_invalid_request() {
        let q: String = (0..1001).map(|i| format!("p{i}=1&")).collect();
        let r = Params::from_request(Some(q.as_bytes()), None, b"", ParamsLimits::default());
        assert_eq!(r, Err(ErrorCode::InvalidRequest));
        let r = Params::from_request(
            Some(q.as_bytes()),
            None,
            b"",
            ParamsLimits { max_params: 2000 },
        );
        assert!(r.is_ok());
    }

    #[test]
    fn log_line_masks_secrets() {
        let p = req(
            "client_id=admin&Client_Secret=abc&access_token=t&Password=pw&name=a%26b",
            None,
            b"",
        );
        assert_eq!(
            p.to_log_line(),
            "client_id=admin&client_secret=***&access_token=***&password=***&name=a%26b"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            query in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            ct in proptest::sample::select(vec![
                None,
                Some("application/x-www-form-urlencoded"),
                Some("application/json"),
                Some("multipart/form-data; boundary=b"),
                Some("multipart/form-data"),
                Some("text/plain"),
            ]),
        ) {
            let _ = Params::from_request(Some(&query), ct, &body, ParamsLimits::default());
        }

        #[test]
        fn arbitrary_json_like_bodies_never_panic(s in "\\{[ -~]{0,80}") {
            let _ = Params::from_request(None, None, s.as_bytes(), ParamsLimits::default());
        }

        #[test]
        fn arbitrary_multipart_bodies_never_panic(s in "(--b\r\n|Content-Disposition: form-data; name=\"[a-z]{1,3}\"\r\n|\r\n|[a-z%]{0,5}|--b--)*") {
            let _ = Params::from_request(None, Some("multipart/form-data; boundary=b"), s.as_bytes(), ParamsLimits::default());
        }
    }
}
