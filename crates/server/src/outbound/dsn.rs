//! Delivery status notifications (RFC 3464): when a remote recipient is refused for good or given
//! up on, the sender finds a `multipart/report` in their INBOX with a readable explanation, the
//! machine-readable status and the original message's headers. It is delivered like any local
//! mail (so `listen` announces it), from the null sender, so it can never bounce itself.

use crate::mail::deliver::{self, Envelope};
use crate::mail::route;
use crate::push::hub::Hub;
use crate::store::Store;
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;

/// What went wrong for one recipient.
pub(super) struct Failure<'a> {
    /// The recipient.
    pub recipient: &'a str,
    /// The remote server's answer or our own reason, as text.
    pub diagnostic: &'a str,
    /// An enhanced status code (RFC 3463) such as `5.1.1`.
    pub status: &'a str,
    /// Who answered (`dns; mx.example.net`), if a server did.
    pub remote: Option<&'a str>,
}

/// Builds the report about `original` (the bytes that were queued).
pub(super) fn build(
    hostname: &str,
    sender: &str,
    failure: &Failure<'_>,
    original: &[u8],
) -> Vec<u8> {
    let headers_end = find_headers_end(original);
    let original_headers = String::from_utf8_lossy(&original[..headers_end]).into_owned();
    let human = format!(
        "This is the mail system at {hostname}.\r\n\r\n\
         Your message could not be delivered to <{rcpt}>.\r\n\
         您的邮件未能投递给 <{rcpt}>。\r\n\r\n\
         {diag}\r\n",
        rcpt = failure.recipient,
        diag = failure.diagnostic,
    );
    let mut status = format!(
        "Reporting-MTA: dns; {hostname}\r\n\r\nFinal-Recipient: rfc822; {rcpt}\r\n\
         Action: failed\r\nStatus: {code}\r\n",
        rcpt = failure.recipient,
        code = failure.status,
    );
    if let Some(remote) = failure.remote {
        status.push_str(&format!("Remote-MTA: {remote}\r\n"));
    }
    // A diagnostic is one header line: no line breaks from a remote server's multi-line answer.
    let diagnostic: String = failure
        .diagnostic
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    status.push_str(&format!("Diagnostic-Code: smtp; {diagnostic}\r\n"));
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "utf-8"),
                human,
            ),
            MimePart::new("message/delivery-status", status),
            MimePart::new("text/rfc822-headers", original_headers),
        ],
    );
    let daemon = format!("MAILER-DAEMON@{hostname}");
    MessageBuilder::new()
        .from(("Mail Delivery System", daemon.as_str()))
        .to(sender)
        .subject("Undelivered Mail Returned to Sender / 退信通知")
        .header(
            "Auto-Submitted",
            mail_builder::headers::raw::Raw::new("auto-replied"),
        )
        .body(report)
        .write_to_vec()
        .unwrap_or_default()
}

/// Where the header section ends (after its blank line), or the whole message.
fn find_headers_end(raw: &[u8]) -> usize {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len())
}

/// Puts the report in the sender's INBOX. A sender that no longer has a mailbox gets none (it is
/// logged): there is nobody to tell.
pub(super) async fn send(
    store: &Store,
    hub: &Hub,
    hostname: &str,
    sender: &str,
    failure: &Failure<'_>,
    original: &[u8],
) {
    let boxes = match route::resolve(store, None, sender, None).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(sender, recipient = failure.recipient, refusal = ?e, "no mailbox for a delivery failure notice");
            return;
        }
    };
    let report = build(hostname, sender, failure, original);
    let env = Envelope {
        helo: hostname.to_owned(),
        client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        hostname: hostname.to_owned(),
        sender: String::new(),
    };
    if let Err(e) = deliver::deliver(store, hub, &env, &boxes, &report).await {
        tracing::error!(sender, error = %e, "could not store a delivery failure notice");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_has_the_three_parts() {
        let original = b"From: a@x.test\r\nSubject: hi\r\n\r\nsecret body\r\n";
        let f = Failure {
            recipient: "b@y.test",
            diagnostic: "550 5.1.1 no such user\r\nsecond line",
            status: "5.1.1",
            remote: Some("dns; mx.y.test"),
        };
        let out = String::from_utf8(build("mx.x.test", "a@x.test", &f, original)).unwrap();
        assert!(out.contains("multipart/report"), "{out}");
        assert!(
            out.contains("report-type=\"delivery-status\"")
                || out.contains("report-type=delivery-status"),
            "{out}"
        );
        assert!(out.contains("Final-Recipient: rfc822; b@y.test"));
        assert!(out.contains("Status: 5.1.1"));
        assert!(out.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user  second line"));
        assert!(out.contains("Subject: hi"));
        assert!(!out.contains("secret body"), "only the headers go back");
    }
}
