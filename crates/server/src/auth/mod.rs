//! Credentials and who may come in: admin passwords (argon2id), interface keys (sealed at rest,
//! revealable), access tokens, SSO tickets and web sessions, member password and TOTP login, the IP
//! allow list's check, and constant-time comparison of secrets.
//!
//! Nothing here talks to the network or decides protocol answers; callers map failures to codes.

pub mod access;
pub mod allow_list;
pub mod app_passwords;
pub mod console;
pub mod corp;
pub mod member_login;
pub mod password_change;
pub mod passwords;
pub mod tickets;
pub mod tokens;
mod totp;
pub mod vault;

use crate::store::Store;
use subtle::ConstantTimeEq;
use vault::Vault;

/// Who may come in, as one handle for the routes: tokens and their checks (`access`), SSO tickets
/// and web sessions (`tickets`), member password and TOTP logins (`member_login`). Its methods
/// live in those modules. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Auth {
    store: Store,
    vault: Vault,
}

impl Auth {
    /// The credentials kept in `store`, with keys and TOTP secrets sealed by `vault`.
    pub fn new(store: Store, vault: Vault) -> Auth {
        Auth { store, vault }
    }
}

/// Compares two secrets in time that depends only on their lengths, never on where they differ.
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `n` bytes from the operating system's CSPRNG (via `rand`'s thread-local generator, which is
/// seeded from it and reseeds itself).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore as _;
    let mut out = [0u8; N];
    rand::rng().fill_bytes(&mut out);
    out
}

/// A fresh interface key (接口 key): 32 lower-case hex characters, like the real ones (§2).
pub fn new_interface_key() -> String {
    hex::encode(random_bytes::<16>())
}

/// A fresh password for a generated admin account: 20 characters from an unambiguous alphabet.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    random_bytes::<20>()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_keys_look_like_the_real_ones() {
        let k = new_interface_key();
        assert_eq!(k.len(), 32);
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(k, new_interface_key());
    }

    #[test]
    fn constant_time_compare() {
        assert!(secrets_equal(b"abc", b"abc"));
        assert!(!secrets_equal(b"abc", b"abd"));
        assert!(!secrets_equal(b"abc", b"abcd"));
    }
}
