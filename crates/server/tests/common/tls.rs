//! TLS for tests: a self-signed certificate for `localhost`, a client handshake that trusts only
//! it, and a line-at-a-time SMTP client over any stream (plain or TLS).

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// A self-signed certificate for `localhost`, written as PEM files into `dir`: `(cert, key, DER)`.
pub fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key, ck.cert.der().to_vec())
}

/// A TLS client handshake over `tcp` that trusts only the certificate `der`.
pub async fn tls_over(
    tcp: tokio::net::TcpStream,
    der: &[u8],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der.to_vec().into()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// An SMTP client over any stream: sends a line, reads the whole (multi-line) reply.
pub struct Smtp {
    reader: BufReader<Box<dyn AsyncRead + Unpin + Send>>,
    writer: Box<dyn AsyncWrite + Unpin + Send>,
}

impl Smtp {
    /// A client over `stream` (the greeting, if any, is read with [`Smtp::reply`]).
    pub fn over<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(stream: S) -> Smtp {
        let (r, w) = tokio::io::split(stream);
        Smtp {
            reader: BufReader::new(Box::new(r)),
            writer: Box::new(w),
        }
    }

    /// The next reply, all its lines; empty when the server closed the connection.
    pub async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                self.reader.read_line(&mut line),
            );
            if read.await.unwrap().unwrap() == 0 {
                return all;
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    /// Sends one line (CRLF added) and reads its reply.
    pub async fn cmd(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.writer.flush().await.unwrap();
        self.reply().await
    }
}
