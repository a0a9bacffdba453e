//! The source IMAP server, through `async-imap`: connecting (plain or IMAPS), signing in as an
//! account (its password, or a master user's SASL PLAIN with the account as authorization
//! identity), and listing its folders with their places here.

use super::SourceArgs;
use super::accounts::Account;
use super::folders::{self, Mapped};
use anyhow::{Context as _, anyhow};
use async_imap::types::NameAttribute;
use bizmail_server::mail::folders::Special;
use futures_util::TryStreamExt as _;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream to the source, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// A signed-in IMAP session at the source.
pub type Imap = async_imap::Session<Box<dyn Io>>;

/// How to reach the source and sign in, shared by every account of a run.
#[derive(Clone)]
pub struct Source {
    host: String,
    port: u16,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    )>,
    master: Option<(String, String)>,
    /// How long one answer may take: a source that stops answering fails the account (a later
    /// run resumes it) rather than hanging the whole run.
    patience: std::time::Duration,
}

impl Source {
    /// The source the flags name; asks for the master user's password when one is given and
    /// MIGRATE_MASTER_PASSWORD is not set.
    pub fn from_args(args: &SourceArgs) -> anyhow::Result<Source> {
        let port = args.imap_port.unwrap_or(if args.imaps { 993 } else { 143 });
        let tls = if args.imaps {
            let name = rustls_pki_types::ServerName::try_from(args.imap_host.clone())
                .map_err(|_| anyhow!("{:?} is not a host name", args.imap_host))?;
            Some((connector(args.ca_file.as_deref())?, name))
        } else {
            None
        };
        let master = match &args.master_user {
            Some(user) => {
                let password = match std::env::var("MIGRATE_MASTER_PASSWORD") {
                    Ok(p) => p,
                    Err(_) => rpassword::prompt_password(format!("Password of {user}: "))
                        .context("reading the master user's password")?,
                };
                Some((user.clone(), password))
            }
            None => None,
        };
        Ok(Source {
            host: args.imap_host.clone(),
            port,
            tls,
            master,
            patience: std::time::Duration::from_secs(args.timeout.max(1)),
        })
    }

    /// `step` (one exchange with the source), given up after the patience of `--timeout`.
    pub async fn patiently<T>(
        &self,
        step: impl std::future::Future<Output = T>,
    ) -> anyhow::Result<T> {
        tokio::time::timeout(self.patience, step)
            .await
            .map_err(|_| {
                anyhow!(
                    "the source did not answer for {} s",
                    self.patience.as_secs()
                )
            })
    }

    /// `host:port`: how the progress of a folder names its source.
    pub fn name(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Connects and signs in as `account`.
    pub async fn sign_in(&self, account: &Account) -> anyhow::Result<Imap> {
        let tcp = self
            .patiently(tokio::net::TcpStream::connect((
                self.host.as_str(),
                self.port,
            )))
            .await?
            .with_context(|| format!("connecting to {}", self.name()))?;
        // Large FETCH answers are read in big pieces; small writes must not wait.
        tcp.set_nodelay(true).ok();
        let stream: Box<dyn Io> = match &self.tls {
            Some((connector, name)) => Box::new(
                self.patiently(connector.connect(name.clone(), tcp))
                    .await?
                    .context("TLS with the source")?,
            ),
            None => Box::new(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        self.patiently(client.read_response())
            .await?
            .context("reading the source's greeting")?
            .ok_or_else(|| anyhow!("the source closed the connection"))?;
        let session = match &self.master {
            Some((user, password)) => {
                let plain = Plain(format!("{}\0{user}\0{password}", account.login));
                self.patiently(client.authenticate("PLAIN", plain)).await?
            }
            None => {
                self.patiently(client.login(&account.login, &account.password))
                    .await?
            }
        };
        // The error text is the server's answer (never the password we sent).
        session.map_err(|(e, _)| anyhow!("signing in as {} failed: {e}", account.login))
    }
}

/// SASL PLAIN with an authorization identity: a master user acting as the account.
struct Plain(String);

impl async_imap::Authenticator for Plain {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        self.0.clone()
    }
}

/// The TLS client: the web's roots, and the ones in `ca_file`.
fn connector(ca_file: Option<&std::path::Path>) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .with_context(|| format!("reading {}", path.display()))?;
        for cert in certs {
            let cert = cert.with_context(|| format!("reading {}", path.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("a certificate in {}", path.display()))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The account's selectable folders with their places here, INBOX first. Names that are not
/// valid modified UTF-7 come back apart, to be reported.
pub async fn folders(
    source: &Source,
    imap: &mut Imap,
) -> anyhow::Result<(Vec<Mapped>, Vec<String>)> {
    let listing = async {
        imap.list(Some(""), Some("*"))
            .await?
            .try_collect::<Vec<_>>()
            .await
    };
    let names = source
        .patiently(listing)
        .await?
        .context("listing the source's folders")?;
    let mut mapped = Vec::new();
    let mut malformed = Vec::new();
    for n in &names {
        let attributes = n.attributes();
        if attributes.contains(&NameAttribute::NoSelect) {
            continue;
        }
        let role = attributes.iter().find_map(|a| match a {
            NameAttribute::Sent => Some(Special::Sent),
            NameAttribute::Drafts => Some(Special::Drafts),
            NameAttribute::Trash => Some(Special::Trash),
            NameAttribute::Junk => Some(Special::Junk),
            _ => None,
        });
        match folders::map(n.name(), n.delimiter(), role) {
            Some(m) => mapped.push(m),
            None => malformed.push(n.name().to_owned()),
        }
    }
    mapped.sort_by_key(|m| {
        (
            m.target != folders::Target::Special(Special::Inbox),
            m.name.clone(),
        )
    });
    Ok((mapped, malformed))
}
