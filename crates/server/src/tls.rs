//! TLS certificates from PEM files for every listener (rustls with the ring provider), and the
//! HTTP listener's certificate that can be loaded again while serving (`bizmail serve` does it on
//! SIGHUP, so a renewed certificate needs no restart).

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Why a certificate could not be loaded; the text names the file (and the listener, once the
/// caller has said which with [`TlsError::of`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

impl TlsError {
    /// The error as `listener`'s (`SMTP`, `HTTP`).
    pub fn of(self, listener: &str) -> TlsError {
        TlsError(format!("{listener} {}", self.0))
    }
}

/// An acceptor for the certificate chain in `cert` and the private key in `key` (PEM).
pub fn acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| TlsError(format!("TLS: {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(TlsError(format!("TLS: {}: no certificate", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError(format!("TLS: {}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError(format!("TLS: {}: {e}", cert.display())))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A certificate that can be loaded again from its files while connections use the old one:
/// each new connection takes the acceptor current at its start.
#[derive(Clone)]
pub struct Reloadable {
    files: Arc<(PathBuf, PathBuf)>,
    current: Arc<RwLock<tokio_rustls::TlsAcceptor>>,
}

impl std::fmt::Debug for Reloadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reloadable({})", self.files.0.display())
    }
}

impl Reloadable {
    /// Loads the certificate in `cert` and the key in `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<Reloadable, TlsError> {
        let acceptor = acceptor(cert, key)?;
        Ok(Reloadable {
            files: Arc::new((cert.to_owned(), key.to_owned())),
            current: Arc::new(RwLock::new(acceptor)),
        })
    }

    /// Loads the files again; on failure the old certificate stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = acceptor(&self.files.0, &self.files.1)?;
        let mut slot = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = fresh;
        Ok(())
    }

    /// The acceptor for a new connection.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
