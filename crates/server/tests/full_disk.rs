//! A full disk under SQLite: the data folder lives on a small tmpfs of the test's own; once it is
//! full, SMTP answers 451 (the sender retries) and nothing half-written remains; when space
//! returns, mail is accepted again without a restart, and every mail that got 250 is there.
//!
//! Mounting needs root (as on CI and the development machines here); elsewhere the test says so
//! and checks nothing.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{Backend, TestServer};
use common::{Api, Raw};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size`, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir.to_owned()))
    }

    /// Bytes still free.
    fn free(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.0)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

async fn send(srv: &TestServer, to: &str, subject: &str, body_bytes: usize) -> String {
    let (mut c, _) = Raw::connect(srv).await;
    c.cmd("EHLO full").await;
    c.cmd("MAIL FROM:<x@outside.example>").await;
    let rcpt = c.cmd(&format!("RCPT TO:<{to}>")).await;
    if !rcpt.starts_with("250") {
        return rcpt;
    }
    c.cmd("DATA").await;
    let body = "y".repeat(76) + "\r\n";
    let lines = body.repeat(body_bytes / body.len() + 1);
    c.cmd(&format!("Subject: {subject}\r\n\r\n{lines}.")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_full_disk_answers_451_and_recovers_when_space_returns() {
    let mount_point = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(mount_point.path(), "12m") else {
        eprintln!("full disk test: cannot mount a tmpfs here (needs root); nothing checked");
        return;
    };
    let data = disk.0.join("data");
    let srv = TestServer::builder(Backend::Sqlite)
        .with_config(move |c| c.data_dir = data)
        .start()
        .await;
    let api = Api::new(&srv).await;
    let a = api.add_member("full", &[]).await;
    assert!(send(&srv, &a, "room", 10_000).await.starts_with("250"));

    // Leave about 400 KB, then send 100 KB mails until the disk is full.
    let filler = disk.0.join("filler");
    let keep = 400 * 1024;
    let fill = disk.free().saturating_sub(keep);
    std::fs::write(&filler, vec![0u8; usize::try_from(fill).unwrap()]).unwrap();
    let mut accepted = 1;
    let mut refused = None;
    for i in 0..40 {
        let r = send(&srv, &a, &format!("m{i}"), 100_000).await;
        if r.starts_with("250") {
            accepted += 1;
        } else {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the disk filled up");
    eprintln!(
        "full disk: {accepted} mails accepted, then {}",
        refused.trim()
    );
    assert!(
        refused.starts_with("451") || refused.starts_with("452"),
        "{refused}"
    );
    // Reading still works, and says exactly what was acknowledged.
    assert_eq!(api.new_count(&a).await, accepted.to_string());

    // Space returns: mail is accepted again, no restart.
    std::fs::remove_file(&filler).unwrap();
    // Every connection of the pool, not only the next one: a commit that failed on the full
    // disk used to leave its connection broken for good.
    for i in 0..8 {
        let r = send(&srv, &a, &format!("after{i}"), 10_000).await;
        assert!(r.starts_with("250"), "after {i}: {r}");
        accepted += 1;
    }
    assert!(send(&srv, &a, "after", 10_000).await.starts_with("250"));
    accepted += 1;
    assert_eq!(api.new_count(&a).await, accepted.to_string());
    srv.shutdown().await;
    drop(disk);
}
