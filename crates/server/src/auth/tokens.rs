//! Access tokens: 64 random bytes as base64url without padding (86 characters, like the real
//! ones, §3). Only their SHA-256 is stored; a 512-bit random token needs no slow hash.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A fresh access token.
pub fn new_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(super::random_bytes::<64>())
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_86_urlsafe_characters_and_distinct() {
        let t = new_token();
        assert_eq!(t.len(), 86);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(t, new_token());
        assert_eq!(token_hash(&t).len(), 32);
        assert_eq!(token_hash(&t), token_hash(&t));
    }
}
