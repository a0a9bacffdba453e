//! The SMTP receiver's session over an in-memory stream, against a real server on a SQLite file
//! (started once): any bytes a client may send, pipelined or cut anywhere. The session must end
//! (the client's side closes after the input) without a panic, and every reply it writes is a
//! well-formed reply line.
#![no_main]

use bizmail_server::smtp::SmtpSettings;
use bizmail_server::{Config, Running, Server};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    runtime: tokio::runtime::Runtime,
    running: Running,
    settings: SmtpSettings,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = Config {
            data_dir: dir.path().join("data"),
            http_addr: ([127, 0, 0, 1], 0).into(),
            smtp_addr: ([127, 0, 0, 1], 0).into(),
            // No DNS leaves the fuzzing machine: the inbound checks would wait on it.
            inbound_auth: false,
            ..Config::default()
        };
        let mut settings = SmtpSettings::from_config(&config).expect("settings");
        settings.command_timeout = Duration::from_secs(2);
        settings.rejected_recipient_delay = Duration::ZERO;
        let running = runtime.block_on(async {
            let running = Server::start(config).await.expect("the server starts");
            running.admin().bootstrap_if_empty().await.expect("a tenant");
            running
        });
        World {
            runtime,
            running,
            settings,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    w.runtime.block_on(async {
        let (client, server) = tokio::io::duplex(256 * 1024);
        let session = w
            .running
            .smtp_session(server, "192.0.2.7".parse().expect("an address"), w.settings.clone());
        let task = tokio::spawn(async move {
            session.run().await;
        });
        let (mut r, mut wr) = tokio::io::split(client);
        let _ = wr.write_all(data).await;
        let _ = wr.shutdown().await;
        drop(wr);
        let mut replies = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), r.read_to_end(&mut replies)).await;
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the session ended")
            .expect("the session did not panic");
        for line in String::from_utf8_lossy(&replies).split_terminator("\r\n") {
            let code = line.get(..3).unwrap_or("");
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{line:?}");
        }
    });
});
