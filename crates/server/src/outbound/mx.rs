//! Where a domain's mail goes: its MX records by preference (RFC 5321 §5.1), the domain itself
//! when it has none (the implicit MX), nowhere for a null MX (RFC 7505) or a domain that does not
//! exist. Domains listed in `outbound_mx_override` are answered from the configuration.

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use std::collections::HashMap;

/// Why no mail exchanger could be found.
#[derive(Debug)]
pub(super) enum NoRoute {
    /// The domain does not exist or accepts no mail: tell the sender.
    Permanent(String),
    /// DNS failed; try again later.
    Transient(String),
}

/// Finds mail exchangers: configured overrides first, then DNS.
pub(super) struct MxResolver {
    dns: Option<TokioResolver>,
    overrides: HashMap<String, Vec<(String, u16)>>,
}

impl MxResolver {
    /// A resolver over `dns_servers` (the system's DNS configuration when empty). Without one (a
    /// sandbox, say), only overridden domains can be reached; the others wait in the queue.
    pub(super) fn new(
        overrides: HashMap<String, Vec<(String, u16)>>,
        dns_servers: &[std::net::SocketAddr],
    ) -> MxResolver {
        let dns = match crate::dns::resolver(dns_servers) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, "no DNS resolver: only outbound_mx_override domains can be reached");
                None
            }
        };
        MxResolver { dns, overrides }
    }

    /// The hosts (and ports) to try for `domain`, best first.
    pub(super) async fn targets(&self, domain: &str) -> Result<Vec<(String, u16)>, NoRoute> {
        let domain = domain.to_ascii_lowercase();
        if let Some(hosts) = self.overrides.get(&domain) {
            return Ok(hosts.clone());
        }
        let Some(dns) = &self.dns else {
            return Err(NoRoute::Transient("no DNS resolver configured".into()));
        };
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        match dns.mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut mx: Vec<(u16, String)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(mx) => Some((
                            mx.preference,
                            mx.exchange.to_ascii().trim_end_matches('.').to_owned(),
                        )),
                        _ => None,
                    })
                    .collect();
                if mx.is_empty() {
                    return Ok(vec![(domain, 25)]);
                }
                if mx.len() == 1 && mx[0].1.is_empty() {
                    return Err(NoRoute::Permanent(format!(
                        "{domain} accepts no mail (null MX)"
                    )));
                }
                mx.sort();
                Ok(mx
                    .into_iter()
                    .filter(|(_, host)| !host.is_empty())
                    .map(|(_, host)| (host, 25))
                    .collect())
            }
            Err(e) if e.is_nx_domain() => Err(NoRoute::Permanent(format!(
                "the domain {domain} does not exist"
            ))),
            Err(e) if e.is_no_records_found() => Ok(vec![(domain, 25)]),
            Err(e) => Err(NoRoute::Transient(format!("DNS lookup of {domain}: {e}"))),
        }
    }
}
