//! The parameter parser and every request type built on it, on any query, content type and body:
//! they may refuse, never panic. The log line of whatever parses never carries a control character.
#![no_main]

use bizmail_protocol::directory::{GroupAdd, PartySync, UserSync};
use bizmail_protocol::params::{Params, ParamsLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the content type; then query and body split at the first NUL.
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let content_type = match kind % 5 {
        0 => None,
        1 => Some("application/x-www-form-urlencoded"),
        2 => Some("application/json"),
        3 => Some("multipart/form-data; boundary=XyZ"),
        _ => Some("text/plain; charset=gbk"),
    };
    let (query, body) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    };
    let Ok(params) = Params::from_request(query, content_type, body, ParamsLimits::default())
    else {
        return;
    };
    let line = params.to_log_line();
    assert!(!line.chars().any(char::is_control), "{line:?}");
    let _ = UserSync::from_params(&params);
    let _ = PartySync::from_params(&params);
    let _ = GroupAdd::from_params(&params);
    let _ = bizmail_protocol::directory::check_emails(&params);
});
