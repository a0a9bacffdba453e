//! The tenant's directory version, `Ver` (§1).
//!
//! A strictly increasing integer that looks like Unix time in milliseconds. On the wire it is a JSON
//! *number* in `user/list` and a JSON *string* in `listen` answers (both as recorded from the real
//! service), and clients send it back as either. [`Ver`] serializes as a number; use
//! [`ver::as_string`](as_string) on a field that must carry it as a string.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A directory version. `Ver(0)` is what a client that knows nothing sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ver(pub u64);

impl Ver {
    /// Reads a version as a client sent it in a parameter: decimal digits, surrounding whitespace
    /// already trimmed. Anything else (`"abc"`, `"-1"`, `"1.5"`, empty) is `None`; callers decide
    /// what a non-number means (for `user/list` it means "send the full list", §7.3).
    pub fn parse_param(value: &str) -> Option<Ver> {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        value.parse().ok().map(Ver)
    }
}

impl fmt::Display for Ver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Ver {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

struct VerVisitor;

impl Visitor<'_> for VerVisitor {
    type Value = Ver;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a version as a number or a string of digits")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ver, E> {
        Ok(Ver(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ver, E> {
        u64::try_from(v).map(Ver).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Ver, E> {
        Ver::parse_param(v.trim()).ok_or_else(|| E::custom("not a version"))
    }
}

impl<'de> Deserialize<'de> for Ver {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ver, D::Error> {
        d.deserialize_any(VerVisitor)
    }
}

/// Serde helper for a `Ver` field that travels as a JSON string (`listen` answers, §5):
/// `#[serde(with = "bizmail_protocol::ver::as_string")]`. Reading accepts a number as well.
pub mod as_string {
    use super::Ver;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the version as a string of digits.
    pub fn serialize<S: Serializer>(v: &Ver, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a version from a string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ver, D::Error> {
        Ver::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_digits_only() {
        assert_eq!(Ver::parse_param("0"), Some(Ver(0)));
        assert_eq!(
            Ver::parse_param("1467945892870"),
            Some(Ver(1_467_945_892_870))
        );
        assert_eq!(Ver::parse_param(""), None);
        assert_eq!(Ver::parse_param("abc"), None);
        assert_eq!(Ver::parse_param("-1"), None);
        assert_eq!(Ver::parse_param("1.5"), None);
        assert_eq!(Ver::parse_param("99999999999999999999999"), None);
    }

    #[test]
    fn number_out_string_helper_and_both_in() {
        #[derive(Serialize, Deserialize)]
        struct Listen {
            #[serde(rename = "Ver", with = "as_string")]
            ver: Ver,
        }
        assert_eq!(serde_json::to_string(&Ver(12)).unwrap(), "12");
        assert_eq!(
            serde_json::to_string(&Listen { ver: Ver(12) }).unwrap(),
            r#"{"Ver":"12"}"#
        );
        let a: Ver = serde_json::from_str("12").unwrap();
        let b: Ver = serde_json::from_str(r#""12""#).unwrap();
        assert_eq!(a, b);
        let l: Listen = serde_json::from_str(r#"{"Ver":13}"#).unwrap();
        assert_eq!(l.ver, Ver(13));
    }
}
