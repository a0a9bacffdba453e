//! What the session fuzz targets share: a runtime, a server configuration on a temporary SQLite
//! file, and one in-memory conversation (any bytes in, the replies out, the session's end awaited).

use bizmail_server::Config;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// A one-worker runtime, built once per target.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A server configuration in `dir`: ports chosen by the system, no inbound DNS checks (no DNS
/// leaves the fuzzing machine).
pub fn config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.join("data"),
        http_addr: ([127, 0, 0, 1], 0).into(),
        smtp_addr: ([127, 0, 0, 1], 0).into(),
        inbound_auth: false,
        ..Config::default()
    }
}

/// SMTP settings for fuzzing: short command timeout, no tarpit.
pub fn smtp_settings(config: &Config) -> bizmail_server::smtp::SmtpSettings {
    let mut settings = bizmail_server::smtp::SmtpSettings::from_config(config).expect("settings");
    settings.command_timeout = Duration::from_secs(2);
    settings.rejected_recipient_delay = Duration::ZERO;
    settings
}

/// Feeds `data` to a session started by `start` on the server's side of a pipe, closes the
/// client's side, and returns every byte the session wrote. Panics if the session panics or does
/// not end.
pub async fn converse<F, Fut>(data: &[u8], start: F) -> Vec<u8>
where
    F: FnOnce(DuplexStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (client, server) = tokio::io::duplex(256 * 1024);
    let task = tokio::spawn(start(server));
    let (mut r, mut w) = tokio::io::split(client);
    let _ = w.write_all(data).await;
    let _ = w.shutdown().await;
    drop(w);
    let mut replies = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), r.read_to_end(&mut replies)).await;
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the session ended")
        .expect("the session did not panic");
    replies
}

/// Checks that every SMTP reply line starts with a three-digit code.
pub fn assert_smtp_replies(replies: &[u8]) {
    for line in String::from_utf8_lossy(replies).split_terminator("\r\n") {
        let code = line.get(..3).unwrap_or("");
        assert!(code.bytes().all(|b| b.is_ascii_digit()), "{line:?}");
    }
}
