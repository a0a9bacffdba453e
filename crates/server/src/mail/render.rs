//! Making received HTML harmless before any browser sees it: ammonia's allow-list (no script, no
//! event handler, no form, no `javascript:`, no style sheet, no frame), links opened in a new tab
//! with `rel="noopener noreferrer"`, and remote images dropped unless the reader asked for them
//! (a remote image is a read receipt and a tracker). The result is still shown only in a sandboxed
//! frame under its own Content-Security-Policy: sanitizing is the first wall, not the only one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The verdicts of an `Authentication-Results` header value (this server's, the topmost),
/// shortly: `SPF pass · DKIM pass · DMARC pass`.
pub fn auth_summary(value: &str) -> String {
    value
        .split(';')
        .skip(1)
        .filter_map(|part| {
            let (method, rest) = part.trim().split_once('=')?;
            let result = rest.split_whitespace().next()?;
            ["spf", "dkim", "dmarc", "arc"]
                .contains(&method)
                .then(|| format!("{} {result}", method.to_uppercase()))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Sanitized HTML, and whether remote images were held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The safe HTML fragment.
    pub html: String,
    /// True when the mail has remote images that were removed (offer "show images").
    pub blocked_images: bool,
}

/// Sanitizes a mail's HTML body; remote images stay only when `remote_images` is true.
pub fn sanitize_html(html: &str, remote_images: bool) -> Rendered {
    let blocked = Arc::new(AtomicBool::new(false));
    let seen = blocked.clone();
    let html = ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(move |element, attribute, value| {
            let remote = {
                let v = value.trim_start().to_ascii_lowercase();
                v.starts_with("http:") || v.starts_with("https:") || v.starts_with("//")
            };
            match (element, attribute) {
                ("img", "src" | "srcset") if remote && !remote_images => {
                    seen.store(true, Ordering::Relaxed);
                    None
                }
                _ => Some(value.into()),
            }
        })
        .clean(html)
        .to_string();
    Rendered {
        html,
        blocked_images: blocked.load(Ordering::Relaxed),
    }
}

/// A From header as a person reads it: RFC 2047 words decoded, `Name <address>`. The pushes keep
/// the header as written (PROTOCOL.md §5); the pages decode it, as any mail client would, since
/// `=?utf-8?B?…?=` means nothing to a person.
pub fn display_from(header: &str) -> String {
    let raw = format!("From: {header}\r\n\r\n");
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes());
    let first = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|a| a.first());
    match first {
        Some(a) => match (a.name(), a.address()) {
            (Some(n), Some(addr)) => format!("{n} <{addr}>"),
            (None, Some(addr)) => addr.to_owned(),
            (Some(n), None) => n.to_owned(),
            (None, None) => header.to_owned(),
        },
        None => header.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_summed_up() {
        let value = "mx.example.com;\r\n\tdkim=pass header.d=a.test header.s=s1 header.b=x;\r\n\t\
            spf=fail (sender is not allowed) smtp.mailfrom=b@a.test;\r\n\tdmarc=none header.from=a.test";
        assert_eq!(auth_summary(value), "DKIM pass · SPF fail · DMARC none");
        assert_eq!(auth_summary("mx.example.com; none"), "");
    }

    #[test]
    fn from_headers_are_decoded_for_people() {
        assert_eq!(
            display_from("=?utf-8?B?5Lq65Yqb6LWE5rqQ6YOo?= <hr@corp.example>"),
            "人力资源部 <hr@corp.example>"
        );
        assert_eq!(
            display_from("\"Test\" <test@gzdev.com>"),
            "Test <test@gzdev.com>"
        );
        assert_eq!(display_from("a@b.example"), "a@b.example");
        assert_eq!(display_from(""), "");
    }

    #[test]
    fn hostile_markup_is_removed() {
        let r = sanitize_html(
            r#"<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(2)">j</a>
<a href="https://example.com/">ok</a><form action="https://evil"><input></form>
<img src="https://tracker.example/p.gif"><svg onload="alert(3)"></svg><iframe src="https://evil"></iframe>
<meta http-equiv="refresh" content="0;url=https://evil"><style>body{background:url(https://evil)}</style></p>"#,
            false,
        );
        let h = r.html.to_ascii_lowercase();
        for bad in [
            "script",
            "onclick",
            "javascript:",
            "<form",
            "tracker.example",
            "onload",
            "<iframe",
            "refresh",
            "<style",
            "evil",
        ] {
            assert!(!h.contains(bad), "{bad} survived: {}", r.html);
        }
        assert!(h.contains(r#"href="https://example.com/""#), "{}", r.html);
        assert!(h.contains(r#"rel="noopener noreferrer""#));
        assert!(h.contains(r#"target="_blank""#));
        assert!(r.blocked_images);
    }

    #[test]
    fn remote_images_on_request() {
        let r = sanitize_html(
            r#"<img src="https://cdn.example/logo.png" alt="logo">"#,
            true,
        );
        assert!(r.html.contains("https://cdn.example/logo.png"));
        assert!(!r.blocked_images);
        let none = sanitize_html("<p>plain</p>", false);
        assert!(!none.blocked_images);
    }
}
