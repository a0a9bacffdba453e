//! The IP allow list (IP 白名单, §2): which client addresses may call a tenant's OpenApi. Stored as
//! one CIDR range per line; an empty list allows any address.

use ipnet::IpNet;
use std::net::IpAddr;

/// Why an allow-list entry was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an IP address or CIDR range")]
pub struct BadEntry(pub String);

/// Whether `ip` may call the OpenApi under the stored allow list (empty = any address).
/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
pub fn ip_allowed(stored: &str, ip: IpAddr) -> bool {
    let list = parse_allow_list(stored);
    let ip = ip.to_canonical();
    list.is_empty() || list.iter().any(|n| n.contains(&ip))
}

/// One entry as an admin types it: an address (a /32 or /128) or a range, host bits cleared.
pub fn parse_net(entry: &str) -> Result<IpNet, BadEntry> {
    let e = entry.trim();
    e.parse::<IpNet>()
        .or_else(|_| e.parse::<IpAddr>().map(|ip| IpNet::from(ip.to_canonical())))
        .map(|n| n.trunc())
        .map_err(|_| BadEntry(entry.to_owned()))
}

/// The stored list; lines that do not parse are skipped.
pub fn parse_allow_list(stored: &str) -> Vec<IpNet> {
    stored
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// The list as stored.
pub fn format_allow_list(list: &[IpNet]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matching() {
        assert!(ip_allowed("", "10.1.2.3".parse().unwrap()));
        let list = "10.0.0.0/8\n192.168.1.7/32";
        assert!(ip_allowed(list, "10.1.2.3".parse().unwrap()));
        assert!(ip_allowed(list, "192.168.1.7".parse().unwrap()));
        assert!(ip_allowed(list, "::ffff:192.168.1.7".parse().unwrap()));
        assert!(!ip_allowed(list, "127.0.0.1".parse().unwrap()));
        assert_eq!(parse_net("127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert!(parse_net("nope").is_err());
    }
}
