//! The IMAP server's session over an in-memory stream, signed in as a member whose mailbox holds
//! a few mails and a folder, against a real server on a SQLite file (started once): any bytes a
//! client may send after login — commands, literals, IDLE, cut anywhere. The session must end
//! when the client's side closes, without a panic.
#![no_main]

use bizmail_fuzz::{config, converse, runtime};
use bizmail_server::{Config, Running, Server};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct World {
    runtime: tokio::runtime::Runtime,
    running: Running,
    owner: bizmail_server::mail::Owner,
    _dir: tempfile::TempDir,
}

const MAILS: [&str; 3] = [
    "Subject: one\r\nFrom: A <a@x.example>\r\n\r\nplain text\r\n",
    "Subject: =?UTF-8?B?6aG555uu?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ny\r\n--b--\r\n",
    "Subject: three\r\nTo: b@y.example\r\n\r\n.dot\r\n",
];

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = runtime();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = Config {
            imap_idle_timeout_secs: 60,
            mailbox_quota_mb: 1,
            ..config(dir.path())
        };
        let (running, owner) = runtime.block_on(async {
            let running = Server::start(config).await.expect("the server starts");
            let first = running
                .admin()
                .bootstrap_if_empty()
                .await
                .expect("a tenant");
            let first = first.expect("a first tenant");
            // The member, through the import (the admin's one way to add members).
            let address = format!("fuzz@{}", first.domains[0]);
            let row = bizmail_server::directory::import::ImportRow {
                line: 1,
                alias: address.clone(),
                name: "Fuzz".into(),
                password: "secret123".into(),
                ..Default::default()
            };
            let importer = running
                .admin()
                .importer(&first.admin)
                .await
                .expect("an importer");
            importer.apply_batch(&[row]).await.expect("imported");
            let boxes = running.mailboxes();
            let owner = boxes
                .owner(&address)
                .await
                .expect("the store answers")
                .expect("the member");
            let folders = boxes.folders(&owner).await.expect("folders");
            let inbox = folders
                .iter()
                .find(|f| f.name == "INBOX")
                .expect("INBOX")
                .id;
            for raw in MAILS {
                let entry = bizmail_server::mail::folders::Entry::upload(1_795_000_000_000);
                boxes
                    .append(&owner, inbox, raw.as_bytes().to_vec(), entry)
                    .await
                    .expect("stored");
            }
            boxes
                .create_folder(&owner, "Projects")
                .await
                .expect("a folder");
            (running, owner)
        });
        World {
            runtime,
            running,
            owner,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    w.runtime.block_on(async {
        let ip = "192.0.2.7".parse().expect("an address");
        let answers = converse(data, |server| {
            let session = w
                .running
                .imap_session(server, ip, true)
                .signed_in(w.owner.clone());
            async move {
                session.run(true).await;
            }
        })
        .await;
        assert!(answers.starts_with(b"* OK "), "a greeting first");
    });
});
