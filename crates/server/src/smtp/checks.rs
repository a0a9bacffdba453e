//! Checks on mail received from outside (port 25): SPF for the MAIL FROM domain (the HELO name for
//! the null sender), DKIM signatures, ARC chains, and DMARC for the From domain, with `mail-auth`. The
//! verdict goes into an `Authentication-Results` header (RFC 8601) under our host name; with
//! `dmarc_enforce`, a failure under `p=reject` is refused and one under `p=quarantine` goes to
//! Junk.
//!
//! Decided: a DNS failure never refuses mail (the results say `temperror`); only a published
//! policy the message fails does.

use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DmarcResult, MessageAuthenticator};
use std::net::IpAddr;
use std::sync::Arc;

/// What the checks decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Deliver to INBOX.
    Deliver,
    /// Deliver to Junk (DMARC `p=quarantine`).
    Junk,
    /// Refuse with this reply.
    Reject(&'static str),
}

/// The outcome of the checks on one message.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The `Authentication-Results: …` header, CRLF-terminated.
    pub header: String,
    /// Where the message goes.
    pub disposition: Disposition,
}

/// Runs the checks; one per server, shared by its sessions.
pub struct Checker {
    auth: MessageAuthenticator,
    hostname: String,
    enforce: bool,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("hostname", &self.hostname)
            .finish()
    }
}

impl Checker {
    /// A checker resolving over `dns_servers` (the system's when empty); `None`, logged, when no
    /// resolver can be made: mail then flows unchecked, as with `inbound_auth = false`.
    pub fn new(
        dns_servers: &[std::net::SocketAddr],
        hostname: &str,
        enforce: bool,
    ) -> Option<Arc<Checker>> {
        let made = crate::dns::config(dns_servers).and_then(|(config, options)| {
            MessageAuthenticator::new(config, options)
                .map_err(|e| std::io::Error::other(e.to_string()))
        });
        match made {
            Ok(auth) => Some(Arc::new(Checker {
                auth,
                hostname: hostname.to_owned(),
                enforce,
            })),
            Err(e) => {
                tracing::warn!(error = %e, "no DNS resolver: inbound SPF/DKIM/DMARC checks are off");
                None
            }
        }
    }

    /// Checks one message as received from `ip`, which said `helo` and `MAIL FROM:<sender>`.
    pub async fn check(&self, ip: IpAddr, helo: &str, sender: &str, data: &[u8]) -> Verdict {
        let Some(message) = AuthenticatedMessage::parse(data) else {
            let header = format!("Authentication-Results: {}; none\r\n", self.hostname);
            return Verdict {
                header,
                disposition: Disposition::Deliver,
            };
        };
        let dkim = self.auth.verify_dkim(&message).await;
        // ARC (RFC 8617) is cheap once the message is parsed: its verdict is reported, and a
        // forwarder's seal is there for a reader to weigh; it does not change the disposition.
        let arc = self.auth.verify_arc(&message).await;
        let (spf_domain, spf) = if let Some((_, domain)) = sender.rsplit_once('@') {
            let params = SpfParameters::verify_mail_from(ip, helo, &self.hostname, sender);
            (domain.to_owned(), self.auth.verify_spf(params).await)
        } else {
            let params = SpfParameters::verify_ehlo(ip, helo, &self.hostname);
            (helo.to_owned(), self.auth.verify_spf(params).await)
        };
        let dmarc = self
            .auth
            .verify_dmarc(DmarcParameters::new(&message, &dkim, &spf_domain, &spf))
            .await;
        let from = message.from().to_owned();
        let mut results =
            AuthenticationResults::new(&self.hostname).with_dkim_results(&dkim, &from);
        results = if sender.contains('@') {
            results.with_spf_mailfrom_result(&spf, ip, sender, helo)
        } else {
            results.with_spf_ehlo_result(&spf, ip, helo)
        };
        let results = results.with_arc_result(&arc, ip).with_dmarc_result(&dmarc);
        let header = mail_auth::common::headers::HeaderWriter::to_header(&results);
        // Failed: aligned by neither DKIM nor SPF, and not for want of an answer from DNS.
        let (d, s) = (dmarc.dkim_result(), dmarc.spf_result());
        let failed = !matches!(d, DmarcResult::Pass | DmarcResult::TempError(_))
            && !matches!(s, DmarcResult::Pass | DmarcResult::TempError(_));
        let disposition = match (self.enforce && failed, dmarc.policy()) {
            (true, Policy::Reject) => {
                Disposition::Reject("550 5.7.1 Rejected by the sender domain's DMARC policy")
            }
            (true, Policy::Quarantine) => Disposition::Junk,
            _ => Disposition::Deliver,
        };
        Verdict {
            header,
            disposition,
        }
    }
}

/// Runs the checks when configured: the message with its `Authentication-Results` header in
/// front, and where it goes.
pub async fn apply(
    checker: Option<&Checker>,
    ip: IpAddr,
    helo: &str,
    sender: &str,
    data: Vec<u8>,
) -> (Vec<u8>, Disposition) {
    let Some(checker) = checker else {
        return (data, Disposition::Deliver);
    };
    let verdict = checker.check(ip, helo, sender, &data).await;
    let mut stamped = verdict.header.into_bytes();
    stamped.extend_from_slice(&data);
    (stamped, verdict.disposition)
}

/// Scores the message with rspamd when configured: the message with its `X-Spam-*` headers in
/// front, and either the tenants whose copies go to Junk or the refusal. Each tenant's own
/// thresholds apply to its recipients; decided: one tenant's refusal refuses the message (a
/// refusal after DATA is for the whole message), and the headers show the first tenant's
/// thresholds.
pub async fn spam(
    rspamd: Option<&crate::mail::spam::Rspamd>,
    store: &crate::store::Store,
    boxes: &[crate::mail::route::Mailbox],
    ip: IpAddr,
    helo: &str,
    sender: &str,
    data: Vec<u8>,
) -> (Vec<u8>, Result<Vec<i64>, &'static str>) {
    use crate::mail::spam::{Thresholds, Verdict};
    let Some(rspamd) = rspamd else {
        return (data, Ok(Vec::new()));
    };
    let rcpts: Vec<String> = boxes.iter().map(|b| b.address.clone()).collect();
    let Some(scan) = rspamd.scan(ip, helo, sender, &rcpts, &data).await else {
        return (data, Ok(Vec::new()));
    };
    let mut tenants: Vec<i64> = boxes.iter().map(|b| b.tenant_id).collect();
    tenants.dedup();
    let mut junk = Vec::new();
    let mut headers = None;
    for tenant in tenants {
        let own = crate::store::tenants::spam_thresholds(store, tenant).await;
        let (j, r) = own.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read a tenant's spam thresholds");
            (None, None)
        });
        let t = Thresholds {
            junk: j.map_or(rspamd.defaults.junk, |t| t as f64 / 10.0),
            reject: r.map_or(rspamd.defaults.reject, |t| t as f64 / 10.0),
        };
        headers.get_or_insert_with(|| scan.headers(&t));
        match scan.verdict(&t) {
            Verdict::Reject => {
                crate::telemetry::smtp_message("spam");
                return (data, Err("550 5.7.1 Message refused as spam"));
            }
            Verdict::Junk => junk.push(tenant),
            Verdict::Inbox => {}
        }
    }
    let mut stamped = headers.unwrap_or_default().into_bytes();
    stamped.extend_from_slice(&data);
    (stamped, Ok(junk))
}
