//! `bizmail migrate` against real sources: a private Dovecot (Debian's) holding a few thousand
//! mails in Chinese-named and special folders with flags and internal dates, copied by the real
//! `bizmail` binary into a real store on both backends, interrupted by a kill and resumed, run
//! again (nothing copied twice), fed new mail (only that copied), a folder recreated at the source
//! (new UIDVALIDITY: recognised, not copied twice), a wrong password (reported for that account
//! alone), a master user's delegated login; bizmail's own IMAP (over IMAPS) as a source; a source
//! that stops answering; a full mailbox (the account stops, the next run resumes); and
//! `migrate verify`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod migrate_common;

use bizmail_server::mail::folders::{ANSWERED, FLAGGED};
use bizmail_testkit::dovecot::Dovecot;
use bizmail_testkit::{TestServer, backend_test};
use migrate_common::*;

/// The source's folders as the test fills them: (wire name, messages, where they land here).
const FOLDERS: &[(&str, u32, &str)] = &[
    ("INBOX", 1200, "INBOX"),
    ("Sent Messages", 300, "Sent"), // \Sent by SPECIAL-USE
    ("&XfJT0ZAB-", 100, "Sent"),    // 已发送, by its name
    ("Drafts", 40, "Drafts"),
    ("Deleted Messages", 100, "Trash"),
    ("&V4NXPpCuTvY-", 60, "Junk"),           // 垃圾邮件
    ("&W6JiNw-/&kc2JgQ-", 500, "客户/重要"), // 客户/重要
    ("Archive 2025", 100, "Archive 2025"),
];

fn total() -> u32 {
    FOLDERS.iter().map(|f| f.1).sum()
}

backend_test! {
    async fn dovecot_mail_is_copied_resumably_and_once(srv) {
        let alice = add_member(&srv, "alice").await;
        let bob = add_member(&srv, "bob").await;
        let dovecot = Dovecot::start(
            &[("alice", "alice-pw"), ("bob", "bob-pw")],
            &[("migrator", "master-pw")],
        )
        .await;
        let mut imap = imap_login(dovecot.addr, "alice", "alice-pw").await;
        let mut n = 0;
        for (wire, count, _) in FOLDERS {
            if *wire != "INBOX" {
                imap.create(wire).await.unwrap();
            }
            append_many(&mut imap, wire, n, *count).await;
            n += count;
        }
        let dir = tempfile::tempdir().unwrap();
        let accounts = dir.path().join("accounts.csv");
        std::fs::write(&accounts, format!("address,login,password\n{alice},alice,alice-pw\n"))
            .unwrap();
        let port = dovecot.addr.port().to_string();
        let mut args = vec!["migrate", "mail", "--imap-host", "127.0.0.1", "--imap-port", &port];
        let accounts_arg = accounts.display().to_string();
        args.extend(["--accounts", &accounts_arg, "--batch", "20"]);
        let store = store_args(&srv);

        // First run, killed part-way.
        let mailboxes = srv.running().mailboxes();
        let tenant = srv.tenant().tenant_id;
        let before_kill = run_and_kill_after(&args, &store, || async {
            mailboxes.stored_messages(tenant).await.unwrap() >= 300
        })
        .await;
        let stored = mailboxes.stored_messages(tenant).await.unwrap();
        assert!(before_kill && stored < i64::from(total()), "not interrupted: {stored}");

        // Resumed: the rest, and nothing twice.
        let out = bizmail(&args, &store).await;
        assert!(out.ok, "{}", out.text);
        let copied = copied_of(&out.text, &alice);
        assert_eq!(i64::from(copied) + stored, i64::from(total()), "{}", out.text);
        assert!(out.text.contains("messages/s"), "{}", out.text);
        let owner = mailboxes.owner(&alice).await.unwrap().unwrap();
        let counts = folder_counts(&mailboxes, &owner).await;
        for (name, expected) in expected_counts() {
            assert_eq!(counts.get(&name).copied(), Some(expected), "{name}: {counts:?}");
        }
        assert!(counts.contains_key("客户"), "the parent level is there: {counts:?}");
        for folder in mailboxes.folders(&owner).await.unwrap() {
            let entries = mailboxes.entries(folder.id).await.unwrap();
            let ids = mailboxes.identities(folder.id).await.unwrap();
            assert_eq!(ids.len(), entries.len(), "a duplicate in {}", folder.name);
        }
        // Flags, keywords and internal dates as the source had them.
        let inbox = mailboxes.folder(&owner, "INBOX").await.unwrap().unwrap();
        let entries = mailboxes.entries(inbox.id).await.unwrap();
        for e in &entries {
            let raw = mailboxes.raw_by_uid(inbox.id, e.uid).await.unwrap().unwrap();
            let k = number_of(&raw);
            assert_eq!(e.seen, k.is_multiple_of(3), "seen of {k}");
            assert_eq!(e.flags & FLAGGED != 0, k.is_multiple_of(7), "flagged of {k}");
            assert_eq!(e.flags & ANSWERED != 0, k.is_multiple_of(11), "answered of {k}");
            assert_eq!(e.keywords == "$Forwarded", k.is_multiple_of(13), "keywords of {k}");
            assert_eq!(e.received_ms, date_of(k) * 1000, "internal date of {k}");
            assert_eq!(raw, message(k).into_bytes(), "the bytes of {k}");
        }

        // Again: nothing new, nothing copied.
        let out = bizmail(&args, &store).await;
        assert!(out.ok, "{}", out.text);
        assert_eq!(copied_of(&out.text, &alice), 0, "{}", out.text);

        // New mail at the source: only that is copied.
        append_many(&mut imap, "INBOX", 20_000, 7).await;
        append_many(&mut imap, "&W6JiNw-/&kc2JgQ-", 20_100, 3).await;
        let out = bizmail(&args, &store).await;
        assert_eq!(copied_of(&out.text, &alice), 10, "{}", out.text);

        // A folder made anew at the source (new UIDVALIDITY) with the same mail and two more:
        // the hundred already here are recognised.
        let archive_start: u32 = FOLDERS.iter().take(7).map(|f| f.1).sum();
        imap.delete("Archive 2025").await.unwrap();
        imap.create("Archive 2025").await.unwrap();
        append_many(&mut imap, "Archive 2025", archive_start, 102).await;
        let out = bizmail(&args, &store).await;
        assert!(out.ok, "{}", out.text);
        assert!(
            out.text.contains("Archive 2025 -> Archive 2025: 2 copied, 100 already here"),
            "{}",
            out.text
        );
        imap.logout().await.unwrap();

        // verify: every folder matches.
        let mut verify_args = args.clone();
        verify_args[1] = "verify";
        verify_args.truncate(verify_args.len() - 2);
        let out = bizmail(&verify_args, &store).await;
        assert!(out.ok, "{}", out.text);
        assert!(out.text.contains(&format!("{alice}: ok")), "{}", out.text);
        assert!(out.text.contains("客户/重要: source 503, here 503"), "{}", out.text);

        // A wrong password fails that account alone, and is never printed.
        std::fs::write(
            &accounts,
            format!("{alice},alice,alice-pw\n{bob},bob,wrong-secret\n"),
        )
        .unwrap();
        let out = bizmail(&args, &store).await;
        assert!(!out.ok, "{}", out.text);
        assert!(out.text.contains(&format!("{alice}: 0 copied")), "{}", out.text);
        assert!(out.text.contains(&format!("{bob}: 0 copied, 0 already here, 0 gone at the source; FAILED: signing in as bob failed")), "{}", out.text);
        assert!(!out.text.contains("wrong-secret"), "{}", out.text);

        // A master user signs in for every account (no passwords in the file).
        let mut bob_imap = imap_login(dovecot.addr, "bob", "bob-pw").await;
        append_many(&mut bob_imap, "INBOX", 30_000, 5).await;
        bob_imap.logout().await.unwrap();
        std::fs::write(&accounts, format!("{alice},alice,\n{bob},bob,\n")).unwrap();
        let mut master_args = args.clone();
        master_args.extend(["--master-user", "migrator"]);
        let out = bizmail_env(&master_args, &store, &[("MIGRATE_MASTER_PASSWORD", "master-pw")]).await;
        assert!(out.ok, "{}\n{}", out.text, dovecot.log());
        assert_eq!(copied_of(&out.text, &bob), 5, "{}", out.text);
        assert_eq!(copied_of(&out.text, &alice), 0, "{}", out.text);

        // Mail at the source that was not copied: verify says so, and fails.
        let mut imap = imap_login(dovecot.addr, "alice", "alice-pw").await;
        append_many(&mut imap, "Drafts", 40_000, 2).await;
        imap.logout().await.unwrap();
        verify_args.extend(["--master-user", "migrator"]);
        let out = bizmail_env(&verify_args, &store, &[("MIGRATE_MASTER_PASSWORD", "master-pw")]).await;
        assert!(!out.ok, "{}", out.text);
        assert!(out.text.contains(&format!("{bob}: ok")), "{}", out.text);
        assert!(out.text.contains(&format!("{alice}: 2 MISSING")), "{}", out.text);
        assert!(out.text.contains("Drafts: source 42, here 40 MISSING"), "{}", out.text);
    }
}

/// What each folder here holds after the first complete run.
fn expected_counts() -> Vec<(String, i64)> {
    let mut out: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (_, n, target) in FOLDERS {
        *out.entry((*target).to_owned()).or_default() += i64::from(*n);
    }
    out.into_iter().collect()
}

backend_test! {
    async fn bizmail_imap_is_a_source_too(srv) {
        let target = add_member(&srv, "carol").await;
        // The source serves IMAPS with a certificate of its own, as a hosted service does.
        let dir = tempfile::tempdir().unwrap();
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        let (c2, k2) = (cert.clone(), key.clone());
        let source = TestServer::builder(srv.backend)
            .with_config(move |c| {
                c.smtp_tls_cert_file = c2;
                c.smtp_tls_key_file = k2;
                c.imaps_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
            })
            .start()
            .await;
        let login = add_member(&source, "carol").await;
        let mailboxes = source.running().mailboxes();
        let owner = mailboxes.owner(&login).await.unwrap().unwrap();
        let inbox = mailboxes.folders(&owner).await.unwrap()[0].clone();
        mailboxes.create_folder(&owner, "项目").await.unwrap();
        mailboxes.create_folder(&owner, "项目/二期").await.unwrap();
        let project = mailboxes.folder(&owner, "项目/二期").await.unwrap().unwrap();
        for k in 0..30u32 {
            let folder = if k < 20 { &inbox } else { &project };
            let mut entry = bizmail_server::mail::folders::Entry::upload(date_of(k) * 1000);
            entry.seen = k.is_multiple_of(3);
            entry.flags = if k.is_multiple_of(7) { FLAGGED } else { 0 };
            mailboxes
                .append(&owner, folder.id, message(k).into_bytes(), entry)
                .await
                .unwrap();
        }
        let imap_port = source.running().imaps_addr.unwrap().port().to_string();
        let accounts = dir.path().join("accounts.csv");
        std::fs::write(&accounts, format!("{target},{login},secret123\n")).unwrap();
        let accounts_arg = accounts.display().to_string();
        let mut args = vec![
            "migrate", "mail", "--imap-host", "localhost", "--imap-port", &imap_port, "--imaps",
            "--accounts", &accounts_arg,
        ];
        let store = store_args(&srv);
        // A certificate nobody vouches for: the account fails, with the reason.
        let out = bizmail(&args, &store).await;
        assert!(!out.ok, "{}", out.text);
        assert!(out.text.contains("FAILED: TLS with the source"), "{}", out.text);
        let cert_arg = cert.display().to_string();
        args.extend(["--ca-file", &cert_arg]);
        let out = bizmail(&args, &store).await;
        assert!(out.ok, "{}", out.text);
        assert_eq!(copied_of(&out.text, &target), 30, "{}", out.text);

        let here = srv.running().mailboxes();
        let me = here.owner(&target).await.unwrap().unwrap();
        let copied = here.folder(&me, "项目/二期").await.unwrap().unwrap();
        let entries = here.entries(copied.id).await.unwrap();
        assert_eq!(entries.len(), 10);
        for e in &entries {
            let raw = here.raw_by_uid(copied.id, e.uid).await.unwrap().unwrap();
            let k = number_of(&raw);
            assert_eq!(e.seen, k.is_multiple_of(3), "seen of {k}");
            assert_eq!(e.flags & FLAGGED != 0, k.is_multiple_of(7), "flagged of {k}");
            assert_eq!(e.received_ms, date_of(k) * 1000, "internal date of {k}");
        }
        // Copying read nothing at the source: its unseen mail stays unseen.
        let (_, unseen, _) = mailboxes.counts(inbox.id).await.unwrap();
        assert_eq!(unseen, (0..20u32).filter(|k| !k.is_multiple_of(3)).count() as i64);

        let out = bizmail(&args, &store).await;
        assert_eq!(copied_of(&out.text, &target), 0, "{}", out.text);
        let mut verify = args.clone();
        verify[1] = "verify";
        let out = bizmail(&verify, &store).await;
        assert!(out.ok, "{}", out.text);
        assert!(out.text.contains("项目/二期: source 10, here 10"), "{}", out.text);
    }
}

#[tokio::test]
async fn bad_accounts_files_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.csv");
    std::fs::write(&accounts, "a@x.test,a,pw\nnot an address,b,pw\n").unwrap();
    let data = dir.path().join("data").display().to_string();
    let file = accounts.display().to_string();
    let args = [
        "migrate",
        "mail",
        "--imap-host",
        "127.0.0.1",
        "--accounts",
        &file,
    ];
    let out = bizmail(&args, &["--data-dir".to_owned(), data]).await;
    assert!(!out.ok);
    assert!(out.text.contains("line 2:"), "{}", out.text);
    let out = bizmail(&["migrate", "mail", "--help"], &[]).await;
    assert!(out.text.contains("address,login,password"), "{}", out.text);
    assert!(out.text.contains("UIDVALIDITY"), "{}", out.text);
    // The long help of a subcommand is the one on its variant (bizmail import's had gone missing).
    let out = bizmail(&["import", "--help"], &[]).await;
    assert!(
        out.text.contains("departments  department paths"),
        "{}",
        out.text
    );
}

backend_test! {
    async fn a_source_that_stops_answering_fails_its_account_in_time(srv) {
        let dana = add_member(&srv, "dana").await;
        // Accepts connections and never says a word (not even a greeting).
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port().to_string();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((c, _)) = silent.accept().await {
                open.push(c);
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let accounts = dir.path().join("accounts.csv");
        std::fs::write(&accounts, format!("{dana},dana,pw\n")).unwrap();
        let file = accounts.display().to_string();
        let args = ["migrate", "mail", "--imap-host", "127.0.0.1", "--imap-port", &port,
            "--accounts", &file, "--timeout", "1"];
        let started = std::time::Instant::now();
        let out = bizmail(&args, &store_args(&srv)).await;
        assert!(!out.ok, "{}", out.text);
        assert!(out.text.contains(&format!("{dana}: 0 copied")), "{}", out.text);
        assert!(out.text.contains("the source did not answer for 1 s"), "{}", out.text);
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        held.abort();
    }
}

backend_test! {
    async fn a_full_mailbox_stops_its_account_and_the_next_run_resumes(srv) {
        let erin = add_member(&srv, "erin").await;
        let dovecot = Dovecot::start(&[("erin", "erin-pw")], &[]).await;
        let mut imap = imap_login(dovecot.addr, "erin", "erin-pw").await;
        let big = format!("Subject: big\r\nMessage-ID: <big@x>\r\n\r\n{}", "x".repeat(600_000));
        for n in 0..3 {
            let raw = big.replace("<big@", &format!("<big{n}@"));
            imap.append("INBOX", None, None, raw).await.unwrap();
        }
        imap.logout().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let accounts = dir.path().join("accounts.csv");
        std::fs::write(&accounts, format!("{erin},erin,erin-pw\n")).unwrap();
        let (port, file) = (dovecot.addr.port().to_string(), accounts.display().to_string());
        let args = ["migrate", "mail", "--imap-host", "127.0.0.1", "--imap-port", &port,
            "--accounts", &file, "--batch", "1"];
        let store = store_args(&srv);
        // The configuration's default quota (1 MB) holds one of the three.
        let out = bizmail_env(&args, &store, &[("BIZMAIL_MAILBOX_QUOTA_MB", "1")]).await;
        assert!(!out.ok, "{}", out.text);
        assert_eq!(copied_of(&out.text, &erin), 1, "{}", out.text);
        assert!(out.text.contains("quota is reached"), "{}", out.text);
        let out = bizmail_env(&args, &store, &[("BIZMAIL_MAILBOX_QUOTA_MB", "10")]).await;
        assert!(out.ok, "{}", out.text);
        assert_eq!(copied_of(&out.text, &erin), 2, "{}", out.text);
    }
}
