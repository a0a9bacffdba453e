//! Every redirect the server answers is built here, from a path that must be on this origin: a
//! `Location` can never send a browser to another host, whatever a request smuggled into it.
//!
//! A path is accepted only if it starts with one `/` and holds nothing but visible ASCII other
//! than `\`. That refuses `//host` and `/\host` (other hosts to a browser), and every control
//! character: browsers drop tabs and newlines from URLs, so `/<TAB>/host` would become `//host`,
//! and CR, LF or NUL cannot be a header value at all.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `candidate` if it is a path on this origin, else `None`.
pub fn local_path(candidate: &str) -> Option<&str> {
    let mut bytes = candidate.bytes();
    let first_is_slash = bytes.next() == Some(b'/');
    let second = candidate.as_bytes().get(1).copied();
    let visible = candidate
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'\\');
    (first_is_slash && second != Some(b'/') && visible).then_some(candidate)
}

/// A `303 See Other` to `candidate` when it is a path on this origin, else to `fallback`.
pub fn see_other(candidate: &str, fallback: &'static str) -> Response {
    to(StatusCode::SEE_OTHER, candidate, fallback)
}

/// A `302 Found` to `candidate` when it is a path on this origin, else to `fallback` (the
/// status `/cgi-bin/login` has always answered).
pub fn found(candidate: &str, fallback: &'static str) -> Response {
    to(StatusCode::FOUND, candidate, fallback)
}

fn to(status: StatusCode, candidate: &str, fallback: &'static str) -> Response {
    let target = local_path(candidate).unwrap_or(fallback);
    // Visible ASCII is always a valid header value; the fallback is a constant of ours.
    let location = HeaderValue::from_str(target).unwrap_or(HeaderValue::from_static("/"));
    (status, [(header::LOCATION, location)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_origin() {
        for ok in [
            "/",
            "/mail/",
            "/mail/?page=2",
            "/mail/read/AbC-_.~%E4%BD%A0",
        ] {
            assert_eq!(local_path(ok), Some(ok), "{ok:?}");
        }
        for bad in [
            "",
            "mail/",
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "/\r\n/x",
            "/\0",
            "/\x1b[0m",
            "/ space",
            "/\u{7f}",
            "/中文",
            "https://evil.example/",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
