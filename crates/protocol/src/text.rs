//! One rule for control characters, for every text a client sends: a name, a position, a
//! department path, a group name. Control characters (C0 including NUL, DEL, C1) are never part of
//! such a value: they are refused with the parameter's own error code, the same on SQLite and
//! PostgreSQL (which cannot store NUL at all). Values that are only logged are escaped instead.

use std::fmt::Write as _;

/// Whether `s` holds a control character.
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// `s` for a log line: every control character as `%XX` (or `%u{…}` beyond one byte), so a log
/// never carries NUL or a line break from a client.
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            let n = u32::from(c);
            if n < 0x100 {
                let _ = write!(out, "%{n:02X}");
            } else {
                let _ = write!(out, "%u{{{n:X}}}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `s`; a longer value ends in `…(cut)` so a reader knows.
pub fn capped(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(s),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…(cut)", &s[..end])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_found_and_escaped() {
        for bad in [
            "a\0b",
            "a\nb",
            "a\rb",
            "\x1b[0m",
            "a\u{7f}",
            "a\u{85}b",
            "tab\there",
        ] {
            assert!(has_control(bad), "{bad:?}");
        }
        assert!(!has_control("研发/后台 team-1"));
        assert_eq!(escape_controls("a\0b\r\n\u{85}"), "a%00b%0D%0A%85");
        assert_eq!(capped("abcdef", 3), "abc…(cut)");
        assert_eq!(capped("abc", 3), "abc");
        assert_eq!(capped("研发部门", 2), "研发…(cut)");
    }
}
