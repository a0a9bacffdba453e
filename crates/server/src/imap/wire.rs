//! How values are written in IMAP responses (RFC 3501 §4): strings as quoted strings or literals,
//! NIL, flag lists, UID sets, dates, and folder names in modified UTF-7 (§5.1.3).
//!
//! Commands are parsed by `imap-codec`; responses are written here. The types crate builds
//! responses too, but every value passes a fallible constructor (atoms, quoted strings, non-empty
//! vectors), and a BODYSTRUCTURE built that way is three times the code of writing it: one quoting
//! rule, tested below, is easier to trust.
//!
//! Modified UTF-7 is written here rather than taken from `utf7-imap`, which accepts malformed
//! names without complaint (a name is then silently a different folder) and compiles a regular
//! expression on every call.

use crate::mail::folders::{ANSWERED, DELETED, DRAFT, Entry, FLAGGED};
use base64::Engine as _;

/// A string as the grammar's `string`: quoted when it is short, printable ASCII without `"` or
/// `\`-trouble, a literal otherwise (8-bit text, CR, LF).
pub fn string(out: &mut Vec<u8>, value: &[u8]) {
    let quotable = value.len() < 1024
        && value
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t');
    if quotable {
        out.push(b'"');
        for &b in value {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        literal(out, value);
    }
}

/// A literal: `{n}` CRLF and the bytes as they are.
pub fn literal(out: &mut Vec<u8>, value: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", value.len()).as_bytes());
    out.extend_from_slice(value);
}

/// An `nstring`: NIL for nothing, a string otherwise.
pub fn nstring(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(v) => string(out, v),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// The flags of a copy, as a parenthesized list.
pub fn flags(entry: &Entry) -> String {
    let mut names: Vec<&str> = Vec::new();
    if entry.seen {
        names.push("\\Seen");
    }
    for (bit, name) in [
        (ANSWERED, "\\Answered"),
        (FLAGGED, "\\Flagged"),
        (DELETED, "\\Deleted"),
        (DRAFT, "\\Draft"),
    ] {
        if entry.flags & bit != 0 {
            names.push(name);
        }
    }
    names.extend(entry.keywords.split_whitespace());
    format!("({})", names.join(" "))
}

/// A UID set in its shortest form (`1:3,7`), for COPYUID and APPENDUID (and the migration's
/// UID FETCH), from UIDs in ascending order.
pub fn uid_set<T: Copy + Into<i64>>(uids: &[T]) -> String {
    let uids: Vec<i64> = uids.iter().map(|&u| u.into()).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// An INTERNALDATE: `"17-Jul-1996 02:44:25 +0000"`.
pub fn internal_date(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "\"{:02}-{}-{} {:02}:{:02}:{:02} +0000\"",
        at.day(),
        MONTHS[usize::from(u8::from(at.month())) - 1],
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A folder name as it goes on the wire: modified UTF-7.
pub fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |out: &mut String, pending: &mut Vec<u16>| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
        out.push('&');
        out.push_str(&b64.replace('/', ","));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// A folder name from the wire: modified UTF-7 decoded; `None` when it is malformed (an
/// unterminated or invalid shift, 8-bit bytes, a shift that encodes printable ASCII).
pub fn decode_name(wire: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(wire).ok()?;
    if !text.is_ascii() {
        // RFC 3501 names are 7-bit; a client that sends UTF-8 means UTF-8 (many do).
        return Some(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find('-')?;
        let encoded = &after[..end];
        if encoded.is_empty() {
            out.push('&');
        } else {
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(encoded.replace(',', "/"))
                .ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            let decoded = String::from_utf16(&units).ok()?;
            if decoded.chars().any(|c| (' '..='~').contains(&c)) {
                return None;
            }
            out.push_str(&decoded);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_modified_utf7() {
        assert_eq!(encode_name("项目资料"), "&mHl27o1EZZk-");
        assert_eq!(decode_name(b"&mHl27o1EZZk-").as_deref(), Some("项目资料"));
        assert_eq!(encode_name("A&B/子"), "A&-B/&W1A-");
        assert_eq!(decode_name(b"A&-B/&W1A-").as_deref(), Some("A&B/子"));
        assert_eq!(decode_name(b"Sent").as_deref(), Some("Sent"));
        assert_eq!(decode_name("直接".as_bytes()).as_deref(), Some("直接"));
        // Unterminated, not base64, or hiding ASCII: refused, never guessed.
        assert_eq!(decode_name(b"&mHl27o1EZZk"), None);
        assert_eq!(decode_name(b"&!!-"), None);
        assert_eq!(decode_name(b"&AEEAQg-"), None);
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        let mut out = Vec::new();
        string(&mut out, b"a \"b\" \\c");
        assert_eq!(out, b"\"a \\\"b\\\" \\\\c\"");
        out.clear();
        string(&mut out, "中".as_bytes());
        assert_eq!(out, b"{3}\r\n\xe4\xb8\xad");
        out.clear();
        nstring(&mut out, None);
        assert_eq!(out, b"NIL");
    }

    #[test]
    fn uid_sets_are_short() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
    }

    #[test]
    fn dates_are_imap_dates() {
        assert_eq!(internal_date(0), "\"01-Jan-1970 00:00:00 +0000\"");
        assert_eq!(
            internal_date(1_795_000_000_000),
            "\"18-Nov-2026 11:06:40 +0000\""
        );
    }
}
