//! The key vault: seals interface keys with ChaCha20-Poly1305 so they are encrypted at rest yet
//! revealable to an admin who re-enters their password (§2).
//!
//! The 32-byte key-encryption key lives in a file (mode 0600, created on first start) outside the
//! database, so a copy of the database alone reveals no interface key. Nodes sharing one database
//! share the file. The tenant id is bound in as associated data: a sealed key copied to another
//! tenant's row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

const NONCE_LEN: usize = 12;

/// Why the vault could not be opened or a key not unsealed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key file could not be read or created.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The key file does not hold 64 hex characters.
    #[error("key file {0} must hold exactly 64 hex characters")]
    Malformed(String),
    /// A sealed key did not open: wrong key file, or tampered data.
    #[error("a sealed interface key does not open with this key file")]
    Unseal,
}

/// Seals and opens interface keys. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

/// Whether a key file exists and others than its owner may read or write it (mode bits beyond
/// 0600): the key that opens every interface key would then be theirs too.
pub fn key_file_exposed(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

impl Vault {
    /// Opens the key file, creating it with a fresh random key (mode 0600) if it does not exist.
    pub fn open_or_create(path: &Path) -> Result<Vault, VaultError> {
        let io = |source| VaultError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                use std::os::unix::fs::DirBuilderExt as _;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(io)?;
            }
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(mut f) => {
                    let key = hex::encode(super::random_bytes::<32>());
                    f.write_all(format!("{key}\n").as_bytes()).map_err(io)?;
                    f.sync_all().map_err(io)?;
                }
                // Another process created it between our check and our open: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| VaultError::Malformed(path.display().to_string()))?;
        Ok(Vault::from_key(&bytes))
    }

    /// A vault over a raw 32-byte key (tests).
    pub fn from_key(key: &[u8]) -> Vault {
        Vault {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// Seals `secret` for `tenant_id`: nonce followed by ciphertext and tag.
    pub fn seal(&self, tenant_id: i64, secret: &str) -> Vec<u8> {
        let nonce = super::random_bytes::<NONCE_LEN>();
        let aad = tenant_id.to_be_bytes();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: &aad,
                },
            )
            // Encryption of a short message with a valid key cannot fail.
            .unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    /// Opens what [`Vault::seal`] made for the same tenant.
    pub fn open(&self, tenant_id: i64, sealed: &[u8]) -> Result<String, VaultError> {
        if sealed.len() <= NONCE_LEN {
            return Err(VaultError::Unseal);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let aad = tenant_id.to_be_bytes();
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Unseal)?;
        String::from_utf8(plain).map_err(|_| VaultError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn seal_open_bound_to_tenant() {
        let v = Vault::from_key(&[7u8; 32]);
        let sealed = v.seal(1, "563a8c6a89d2368194c1c7889c508b34");
        assert_eq!(
            v.open(1, &sealed).unwrap(),
            "563a8c6a89d2368194c1c7889c508b34"
        );
        assert!(v.open(2, &sealed).is_err());
        assert!(Vault::from_key(&[8u8; 32]).open(1, &sealed).is_err());
        assert!(v.open(1, b"short").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret.key");
        let a = Vault::open_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = Vault::open_or_create(&path).unwrap();
        assert_eq!(b.open(3, &a.seal(3, "k")).unwrap(), "k");
        std::fs::write(&path, "nothex").unwrap();
        assert!(matches!(
            Vault::open_or_create(&path),
            Err(VaultError::Malformed(_))
        ));
    }
}
