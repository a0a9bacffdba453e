//! DKIM keys per tenant domain (`bizmail dkim create|list|remove`) and the signing of submitted
//! mail with `mail-auth` (RFC 6376; Ed25519 per RFC 8463). The private key is sealed with the
//! vault like interface keys; the public key is printed as the DNS TXT record to publish.
//!
//! Rotation: `create` with a new selector makes the new key the one that signs and keeps the old
//! one (inactive) until `remove`, so mail already on its way still verifies while DNS changes.

use crate::auth::vault::Vault;
use crate::store::{self, Store, StoreError};
use base64::Engine as _;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter as _;
use mail_auth::dkim::DkimSigner;
use mail_auth::dkim::generate::DkimKeyPair;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};

/// Header fields signed, when present (RFC 6376 §5.4.1's recommendations).
const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// The key kinds `bizmail dkim create` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSA 2048 with SHA-256: what every verifier accepts.
    Rsa,
    /// Ed25519 with SHA-256 (RFC 8463): short, but not every verifier knows it yet.
    Ed25519,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Rsa => "rsa-sha256",
            Algorithm::Ed25519 => "ed25519-sha256",
        }
    }
}

/// A key as `bizmail dkim list` shows it, with the DNS record that publishes it.
#[derive(Debug, Clone)]
pub struct DkimKey {
    /// The signing domain.
    pub domain: String,
    /// The selector.
    pub selector: String,
    /// `rsa-sha256` or `ed25519-sha256`.
    pub algorithm: String,
    /// Whether it signs new mail (only the newest key of a domain does).
    pub active: bool,
    /// Where the TXT record goes: `<selector>._domainkey.<domain>`.
    pub dns_name: String,
    /// The TXT record's value, split into strings of at most 255 characters, each quoted.
    pub dns_value: String,
}

impl DkimKey {
    fn of(row: &store::outbound::DkimRow) -> DkimKey {
        let k = if row.algorithm.starts_with("ed25519") {
            "ed25519"
        } else {
            "rsa"
        };
        let text = format!("v=DKIM1; k={k}; p={}", row.public_key);
        let dns_value = text
            .as_bytes()
            .chunks(255)
            .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
            .collect::<Vec<_>>()
            .join(" ");
        DkimKey {
            domain: row.domain.clone(),
            selector: row.selector.clone(),
            algorithm: row.algorithm.clone(),
            active: row.active,
            dns_name: format!("{}._domainkey.{}", row.selector, row.domain),
            dns_value,
        }
    }
}

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    /// The domain already has a key under this selector.
    #[error("{domain} already has a key with the selector {selector}")]
    SelectorTaken {
        /// The domain.
        domain: String,
        /// The selector.
        selector: String,
    },
    /// A selector must be a DNS label.
    #[error("a selector is 1 to 63 letters, digits or hyphens")]
    BadSelector,
    /// Key generation failed.
    #[error("making the key: {0}")]
    Generate(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes a key for `domain` (a domain of `tenant_id`, checked by the caller) under `selector`,
/// and makes it the one that signs.
pub(crate) async fn create(
    store: &Store,
    vault: &Vault,
    tenant_id: i64,
    domain: &str,
    selector: &str,
    algorithm: Algorithm,
) -> Result<DkimKey, DkimError> {
    let valid = !selector.is_empty()
        && selector.len() <= 63
        && selector
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(DkimError::BadSelector);
    }
    // RSA key generation takes a while: off the async threads.
    let pair = tokio::task::spawn_blocking(move || match algorithm {
        Algorithm::Rsa => DkimKeyPair::generate_rsa(2048),
        Algorithm::Ed25519 => DkimKeyPair::generate_ed25519(),
    })
    .await
    .map_err(|e| DkimError::Generate(e.to_string()))?
    .map_err(|e| DkimError::Generate(e.to_string()))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let row = store::outbound::DkimRow {
        tenant_id,
        domain: domain.to_ascii_lowercase(),
        selector: selector.to_owned(),
        algorithm: algorithm.name().to_owned(),
        sealed_key: vault.seal(tenant_id, &b64.encode(pair.private_key())),
        public_key: pair.encoded_public_key(),
        active: true,
        created_ms: store::now_ms(),
    };
    if !store::outbound::add_dkim(store, &row).await? {
        return Err(DkimError::SelectorTaken {
            domain: row.domain,
            selector: row.selector,
        });
    }
    Ok(DkimKey::of(&row))
}

/// A tenant's keys.
pub(crate) async fn list(store: &Store, tenant_id: i64) -> Result<Vec<DkimKey>, StoreError> {
    Ok(store::outbound::dkim_keys(store, tenant_id)
        .await?
        .iter()
        .map(DkimKey::of)
        .collect())
}

/// Removes a tenant's key (a retired selector, once DNS no longer needs it); false when there
/// was none.
pub(crate) async fn remove(
    store: &Store,
    tenant_id: i64,
    domain: &str,
    selector: &str,
) -> Result<bool, StoreError> {
    store::outbound::remove_dkim(store, tenant_id, &domain.to_ascii_lowercase(), selector).await
}

/// Signs outgoing mail with the active key of its sender's domain.
#[derive(Clone)]
pub struct Signer {
    store: Store,
    vault: Vault,
}

impl Signer {
    /// A signer over the keys in `store`, unsealed with `vault`.
    pub(crate) fn new(store: Store, vault: Vault) -> Signer {
        Signer { store, vault }
    }

    /// `raw` with a `DKIM-Signature` of `domain`'s active key in front; unchanged when the domain
    /// has no key. A key that cannot be used is logged and the mail goes unsigned: refusing to
    /// send would lose it, and a receiver treats unsigned mail by the domain's DMARC policy.
    pub async fn sign(&self, domain: &str, raw: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let Some(key) =
            store::outbound::active_dkim(&self.store, &domain.to_ascii_lowercase()).await?
        else {
            return Ok(raw);
        };
        let header = match self.header(&key, &raw) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(domain, selector = %key.selector, error = %e, "DKIM signing failed; sending unsigned");
                return Ok(raw);
            }
        };
        let mut out = Vec::with_capacity(header.len() + raw.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&raw);
        Ok(out)
    }

    fn header(&self, key: &store::outbound::DkimRow, raw: &[u8]) -> Result<String, String> {
        let der = self
            .vault
            .open(key.tenant_id, &key.sealed_key)
            .map_err(|e| e.to_string())?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(der)
            .map_err(|e| e.to_string())?;
        let signature = if key.algorithm.starts_with("ed25519") {
            let k = Ed25519Key::from_pkcs8_der(&der).map_err(|e| e.to_string())?;
            DkimSigner::from_key(k)
                .domain(key.domain.clone())
                .selector(key.selector.clone())
                .headers(SIGNED_HEADERS)
                .sign(raw)
        } else {
            let k =
                RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
                    .map_err(|e| e.to_string())?;
            DkimSigner::from_key(k)
                .domain(key.domain.clone())
                .selector(key.selector.clone())
                .headers(SIGNED_HEADERS)
                .sign(raw)
        };
        signature.map(|s| s.to_header()).map_err(|e| e.to_string())
    }
}
