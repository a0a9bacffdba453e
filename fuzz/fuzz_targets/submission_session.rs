//! A submission session (as on the implicit-TLS port, so AUTH is offered) over an in-memory
//! stream, against a real server on a SQLite file with one member (`fuzz@example.com`, password
//! `secret123`) whose DKIM key signs: any bytes, AUTH PLAIN and LOGIN with their challenges,
//! senders, local and remote recipients, DATA. The session must end without a panic, and every
//! reply it writes is a well-formed reply line.
#![no_main]

use bizmail_fuzz::{assert_smtp_replies, config, converse, runtime, smtp_settings};
use bizmail_server::smtp::SmtpSettings;
use bizmail_server::{Config, Running, Server};
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
        let config = Config {
            // Remote recipients wait in the queue: their MX is a closed port.
            outbound_mx_override: vec!["remote.example=127.0.0.1:9".into()],
            outbound_retry_base_secs: 3600,
            submission_messages_per_hour: u32::MAX,
            login_attempts_per_ip_per_minute: u32::MAX,
            login_attempts_per_account_per_hour: u32::MAX,
            ..config(dir.path())
        };
        let settings = smtp_settings(&config);
        let running = runtime.block_on(async {
            let running = Server::start(config).await.expect("the server starts");
            let admin = running.admin();
            let t = admin
                .bootstrap_if_empty()
                .await
                .expect("a tenant")
                .expect("a new tenant");
            admin
                .dkim_create(
                    &t.admin,
                    "example.com",
                    "fuzz",
                    bizmail_server::outbound::dkim::Algorithm::Ed25519,
                )
                .await
                .expect("a DKIM key");
            // The member, through the import (the admin's one way to add members).
            let row = bizmail_server::directory::import::ImportRow {
                line: 1,
                alias: "fuzz@example.com".into(),
                name: "Fuzz".into(),
                password: "secret123".into(),
                ..Default::default()
            };
            let importer = admin.importer(&t.admin).await.expect("an importer");
            importer.apply_batch(&[row]).await.expect("imported");
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
        let ip = "192.0.2.8".parse().expect("an address");
        let replies = converse(data, |server| {
            let session = w
                .running
                .submission_session(server, ip, w.settings.clone(), true);
            async move {
                session.run().await;
            }
        })
        .await;
        assert_smtp_replies(&replies);
    });
});
