//! The DNS resolvers bizmail uses (MX lookups for the outbound queue; SPF, DKIM and DMARC records
//! for inbound checks): the system's (`/etc/resolv.conf`), or the servers `dns_servers` names,
//! which is also how tests point bizmail at a DNS server of their own on loopback.

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use std::net::SocketAddr;

/// The resolver configuration for `servers`, or the system's when the list is empty.
pub(crate) fn config(servers: &[SocketAddr]) -> std::io::Result<(ResolverConfig, ResolverOpts)> {
    if servers.is_empty() {
        return hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| std::io::Error::other(e.to_string()));
    }
    let name_servers = servers
        .iter()
        .map(|s| {
            let mut udp = ConnectionConfig::udp();
            udp.port = s.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = s.port();
            NameServerConfig::new(s.ip(), true, vec![udp, tcp])
        })
        .collect();
    let mut options = ResolverOpts::default();
    // A configured server is trusted as it answers: no search domains, few retries.
    options.attempts = 1;
    options.timeout = std::time::Duration::from_secs(3);
    Ok((ResolverConfig::from_name_servers(name_servers), options))
}

/// A resolver over `servers` (the system's when empty).
pub(crate) fn resolver(servers: &[SocketAddr]) -> std::io::Result<hickory_resolver::TokioResolver> {
    let (config, options) = config(servers)?;
    hickory_resolver::TokioResolver::builder_with_config(
        config,
        hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .map_err(|e| std::io::Error::other(e.to_string()))
}
