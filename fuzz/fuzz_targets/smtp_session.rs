//! The SMTP receiver's session over an in-memory stream, against a real server on a SQLite file
//! (started once): any bytes a client may send, pipelined or cut anywhere. The session must end
//! (the client's side closes after the input) without a panic, and every reply it writes is a
//! well-formed reply line.
#![no_main]

use bizmail_fuzz::{assert_smtp_replies, config, converse, runtime, smtp_settings};
use bizmail_server::smtp::SmtpSettings;
use bizmail_server::{Running, Server};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct World {
    runtime: tokio::runtime::Runtime,
    running: Running,
    settings: SmtpSettings,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = runtime();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = config(dir.path());
        let settings = smtp_settings(&config);
        let running = runtime.block_on(async {
            let running = Server::start(config).await.expect("the server starts");
            running
                .admin()
                .bootstrap_if_empty()
                .await
                .expect("a tenant");
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
        let ip = "192.0.2.7".parse().expect("an address");
        let replies = converse(data, |server| {
            let session = w.running.smtp_session(server, ip, w.settings.clone());
            async move {
                session.run().await;
            }
        })
        .await;
        assert_smtp_replies(&replies);
    });
});
