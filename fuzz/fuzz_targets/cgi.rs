//! The newer API's field reader and every request parser on any query and body, and its callback
//! cryptography on any ciphertext: they may refuse, never panic. A log line never carries a control
//! character, and whatever is encrypted decrypts back to itself.
#![no_main]

use bizmail_protocol::cgi::crypto::CallbackKey;
use bizmail_protocol::cgi::fields::Fields;
use bizmail_protocol::cgi::requests as rq;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Query and body split at the first NUL.
    let (query, body) = match data.iter().position(|b| *b == 0) {
        Some(i) => (std::str::from_utf8(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };
    if let Some(f) = Fields::from_request(query, body) {
        let line = f.to_log_line();
        assert!(!line.chars().any(char::is_control), "{line:?}");
        let _ = rq::DeptCreate::from_fields(&f);
        let _ = rq::DeptUpdate::from_fields(&f);
        let _ = rq::DeptSearch::from_fields(&f);
        let _ = rq::UserCreate::from_fields(&f);
        let _ = rq::UserFields::from_fields(&f);
        let _ = rq::UserListing::from_fields(&f);
        let _ = rq::batchcheck(&f);
        let _ = rq::GroupWrite::create_from_fields(&f);
        let _ = rq::GroupWrite::from_fields(&f);
        let _ = rq::TagMembers::from_fields(&f);
        let _ = rq::option_types(&f);
        let _ = rq::option_values(&f);
        let _ = rq::day_range(&f);
        let _ = rq::optional_day_range(&f);
    }
    let Ok(key) = CallbackKey::from_encoding_aes_key("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")
    else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = key.decrypt(text);
        let sealed = key.encrypt([7; 16], text, "wm0123456789abcdef");
        assert_eq!(
            key.decrypt(&sealed),
            Ok((text.to_owned(), "wm0123456789abcdef".to_owned()))
        );
    }
});
