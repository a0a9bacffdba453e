//! Client-specific passwords: generated for one mail client of a member (`bizmail member
//! app-password add`), shown once, accepted by IMAP and POP3 in place of the member's password —
//! the only way into a mail client for a member whose second factor is forced.
//!
//! A password is 16 random lowercase letters (about 75 bits), shown in groups of four. Being
//! generated, it needs no slow hash: its SHA-256 is stored, and what a client sends is compared
//! by hash after dropping spaces and dashes and lowering its case, so it may be typed as shown.

use super::random_bytes;
use sha2::{Digest as _, Sha256};

/// Letters in a client password.
const LETTERS: usize = 16;

/// A new client password, `abcd-efgh-ijkl-mnop`.
pub fn generate() -> String {
    let bytes = random_bytes::<LETTERS>();
    let letters: Vec<char> = bytes
        .iter()
        // 256 is not a multiple of 26: the first 20 letters are a little likelier (by 1/256),
        // which costs well under a bit of the 75.
        .map(|b| char::from(b'a' + b % 26))
        .collect();
    letters
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a client password (or of what a client typed).
pub fn hash(typed: &str) -> [u8; 32] {
    let normalized: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    Sha256::digest(normalized.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_as_shown_or_not() {
        let p = generate();
        assert_eq!(p.len(), 19);
        assert!(
            p.split('-')
                .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_lowercase()))
        );
        assert_eq!(hash(&p), hash(&p.replace('-', " ").to_uppercase()));
        assert_ne!(hash(&p), hash(&generate()));
    }
}
