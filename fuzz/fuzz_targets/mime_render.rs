//! MIME parsing and rendering into the mailbox: any bytes as a received message go through the
//! fields bizmail stores (`parse_fields`), the sender's display, and the HTML sanitizer with and
//! without remote images. Nothing may panic, and a stored field never holds a control character.
#![no_main]

use bizmail_server::mail::{deliver, render};
use libfuzzer_sys::fuzz_target;
use mail_parser::MessageParser;

fuzz_target!(|data: &[u8]| {
    let fields = deliver::parse_fields(1, data.to_vec());
    for f in [&fields.subject, &fields.summary, &fields.from_header, &fields.to_header] {
        assert!(!f.chars().any(char::is_control), "{f:?}");
    }
    let _ = render::display_from(&fields.from_header);
    if let Some(message) = MessageParser::default().parse(data) {
        for i in 0..message.html_body_count() {
            if let Some(html) = message.body_html(i) {
                let _ = render::sanitize_html(&html, false);
                let _ = render::sanitize_html(&html, true);
            }
        }
    }
    // The sanitizer on the raw bytes as HTML too, whatever MIME made of them.
    let _ = render::sanitize_html(&String::from_utf8_lossy(data), false);
});
