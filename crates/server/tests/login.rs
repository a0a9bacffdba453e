//! Password logins to the web mailbox on both backends: plain and MD5 passwords, the forced
//! second factor with its enrolment, rate limits, the pages' language, and the mailbox's forms.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::backend_test;
use common::{Api, Browser, hidden_field, location};

/// Adds a member with a password (plain, or its MD5 hex with `md5`).
async fn member(api: &Api<'_>, local: &str, password: &str, md5: bool) -> String {
    let a = api.addr(local);
    let mut fields = vec![
        ("Action", "2"),
        ("Alias", a.as_str()),
        ("Name", local),
        ("Password", password),
    ];
    if md5 {
        fields.push(("Md5", "1"));
    }
    api.ok("user/sync", &fields).await;
    a
}

/// Signs in with a password; the answer to the POST.
async fn sign_in(b: &mut Browser, address: &str, password: &str) -> reqwest::Response {
    let form = b.page("/login", 200).await;
    let csrf = hidden_field(&form, "csrf");
    b.post(
        "/login",
        &[
            ("csrf", &csrf),
            ("address", address),
            ("password", password),
        ],
    )
    .await
}

/// The TOTP of a base32 secret shown on the enrolment page.
fn totp(secret: &str) -> totp_rs::TOTP {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        String::new(),
    )
}

fn secret_on(page: &str) -> String {
    let start = page.find("id=\"totp-secret\">").expect("the secret") + 17;
    page[start..].split('<').next().unwrap().to_owned()
}

backend_test! {
    async fn plain_and_md5_passwords_open_a_session(srv) {
        let api = Api::new(&srv).await;
        let plain = member(&api, "plain", "secret123", false).await;
        // MD5 of "hunter22": bizmail only ever sees this; the person types the password.
        let md5 = member(&api, "hashed", "cb95015a436fe976eb38e45455372032", true).await;

        let mut b = Browser::new(&srv);
        let r = sign_in(&mut b, &plain, "secret123").await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(location(&r), "/mail/");
        assert!(b.cookies.contains_key("bizmail_session"));
        let inbox = b.page("/mail/", 200).await;
        assert!(inbox.contains(&plain), "{inbox}");
        let again = b.get("/login").await;
        assert_eq!(location(&again), "/mail/", "signed in already: straight to the inbox");

        let mut b = Browser::new(&srv);
        let r = sign_in(&mut b, &md5.to_uppercase(), "hunter22").await;
        assert_eq!(r.status().as_u16(), 303, "an MD5-mode password, typed in clear");
        b.page("/mail/", 200).await;
    }
}

backend_test! {
    async fn wrong_passwords_and_unknown_addresses_get_the_same_refusal(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "careful", "secret123", false).await;
        let off = member(&api, "off", "secret123", false).await;
        api.ok("user/sync", &[("Action", "3"), ("Alias", &off), ("OpenType", "2")]).await;
        let group = api.addr("team");
        api.ok("group/add", &[("group_name", "Team"), ("group_admin", &group), ("status", "all"), ("members", &a)]).await;
        let mut bodies = Vec::new();
        for (address, password) in [
            (a.as_str(), "secret124"),
            (a.as_str(), ""),
            (off.as_str(), "secret123"),
            (group.as_str(), "secret123"),
            ("ghost@nowhere.example", "secret123"),
            ("not an address", "secret123"),
        ] {
            let mut b = Browser::new(&srv);
            let r = sign_in(&mut b, address, password).await;
            assert_eq!(r.status().as_u16(), 401, "{address} / {password}");
            assert!(!b.cookies.contains_key("bizmail_session"));
            let body = r.text().await.unwrap();
            let csrf = hidden_field(&body, "csrf");
            bodies.push(body.replace(address, "ADDRESS").replace(&csrf, "CSRF"));
        }
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "refusals differ");
        assert!(bodies[0].contains("邮箱地址或密码不正确"), "{}", bodies[0]);
    }
}

backend_test! {
    async fn a_login_form_without_its_token_is_refused(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "forged", "secret123", false).await;
        let mut b = Browser::new(&srv);
        let r = b.post("/login", &[("csrf", "0123456789abcdef0123456789abcdef"), ("address", &a), ("password", "secret123")]).await;
        assert_eq!(r.status().as_u16(), 403);
        assert!(!b.cookies.contains_key("bizmail_session"));
    }
}

backend_test! {
    async fn forced_totp_enrols_by_qr_then_asks_for_codes(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "guarded", "secret123", false).await;
        api.ok("user/openwxtoken", &[("Alias", &a)]).await;

        // First password login: the code page with a QR code and the secret.
        let mut b = Browser::new(&srv);
        let r = sign_in(&mut b, &a, "secret123").await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(location(&r), "/login/code");
        assert!(!b.cookies.contains_key("bizmail_session"), "no session before the code");
        b.page("/mail/", 401).await;
        let page = b.page("/login/code", 200).await;
        assert!(page.contains("src=\"data:image/png;base64,"), "{page}");
        let secret = secret_on(&page);
        assert!(secret.len() >= 32, "{secret}");
        assert_eq!(secret_on(&b.page("/login/code", 200).await), secret, "a reload shows the same secret");

        let csrf = hidden_field(&page, "csrf");
        let r = b.post("/login/code", &[("csrf", &csrf), ("code", "000000")]).await;
        assert_eq!(r.status().as_u16(), 401, "a wrong code");
        let code = totp(&secret).generate_current().unwrap();
        let r = b.post("/login/code", &[("csrf", &csrf), ("code", &code)]).await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(location(&r), "/mail/");
        assert!(!b.cookies.contains_key("bizmail_challenge"));
        b.page("/mail/", 200).await;

        // Enrolled: the next login asks for a code without a QR code, and refuses a replayed one.
        let mut b = Browser::new(&srv);
        sign_in(&mut b, &a, "secret123").await;
        let page = b.page("/login/code", 200).await;
        assert!(!page.contains("data:image/png"), "no QR code once enrolled");
        let csrf = hidden_field(&page, "csrf");
        let r = b.post("/login/code", &[("csrf", &csrf), ("code", &code)]).await;
        assert_eq!(r.status().as_u16(), 401, "a code is accepted once");
        assert!(!b.cookies.contains_key("bizmail_session"));

        // A lost phone: the admin resets the enrolment, and the next login enrols a new secret.
        let admin_side = srv.running().admin();
        let admin = api.tenant.admin.clone();
        assert!(admin_side.reset_second_factor(&admin, &a).await.unwrap());
        assert!(!admin_side.reset_second_factor(&admin, &a).await.unwrap(), "nothing left to reset");
        let other = Api::other(&srv).await;
        assert!(admin_side.reset_second_factor(&other.tenant.admin, &a).await.is_err(), "another tenant's member");
        let mut b = Browser::new(&srv);
        sign_in(&mut b, &a, "secret123").await;
        let page = b.page("/login/code", 200).await;
        assert!(page.contains("data:image/png"), "enrolment again");
        assert_ne!(secret_on(&page), secret, "with a new secret");

        // SSO skips the second factor (§7.8).
        let v = api.json("mail/authkey", &[("Alias", &a)]).await;
        let mut b = Browser::new(&srv);
        let r = b.get(&format!("/cgi-bin/login?fun=bizopenssologin&method=bizauth&agent={}&user={a}&ticket={}", api.tenant.admin, v["auth_key"].as_str().unwrap())).await;
        assert_eq!(r.status().as_u16(), 302);
        b.page("/mail/", 200).await;

        // A challenge without its cookie, or a made-up one, starts again.
        let mut b = Browser::new(&srv);
        b.page("/login/code", 401).await;
        b.cookies.insert("bizmail_challenge".into(), "made-up".into());
        let again = b.page("/login/code", 401).await;
        assert!(again.contains("name=\"password\""), "{again}");
    }
}

backend_test! {
    async fn closing_the_second_factor_lets_the_password_alone_in(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "relaxed", "secret123", false).await;
        api.ok("user/openwxtoken", &[("Alias", &a)]).await;
        api.ok("user/closewxtoken", &[("Alias", &a)]).await;
        let mut b = Browser::new(&srv);
        let r = sign_in(&mut b, &a, "secret123").await;
        assert_eq!(location(&r), "/mail/");
    }
}

backend_test! {
    async fn mailbox_forms_mark_and_delete_through_the_domain(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "reader", "secret123", false).await;
        for n in 0..2 {
            common::deliver(&srv, &a, &format!("From: s@outside.example\r\nSubject: note {n}\r\n\r\nbody {n}")).await;
        }
        assert_eq!(api.new_count(&a).await, "2");
        let mut b = Browser::new(&srv);
        sign_in(&mut b, &a, "secret123").await;
        let inbox = b.page("/mail/", 200).await;
        let csrf = hidden_field(&inbox, "csrf");
        let ids: Vec<String> = inbox
            .match_indices("/mail/read/")
            .map(|(i, _)| inbox[i + 11..].split('"').next().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 2, "{inbox}");

        let r = b.post(&format!("/mail/seen/{}", ids[0]), &[("csrf", &csrf)]).await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(api.new_count(&a).await, "1");
        b.post(&format!("/mail/unread/{}", ids[0]), &[("csrf", &csrf)]).await;
        assert_eq!(api.new_count(&a).await, "2");
        let r = b.post(&format!("/mail/delete/{}", ids[1]), &[("csrf", &csrf)]).await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(api.new_count(&a).await, "1");
        // Delete moves it to Trash, where it can still be read; deleting it there is for good.
        b.page(&format!("/mail/read/{}", ids[1]), 200).await;
        b.post(&format!("/mail/delete/{}", ids[1]), &[("csrf", &csrf)]).await;
        b.page(&format!("/mail/read/{}", ids[1]), 404).await;
        let r = b.post(&format!("/mail/delete/{}", ids[0]), &[("csrf", "forged")]).await;
        assert_eq!(r.status().as_u16(), 403);
        b.page(&format!("/mail/read/{}", ids[0]), 200).await;
        let r = b.post(&format!("/mail/frobnicate/{}", ids[0]), &[("csrf", &csrf)]).await;
        assert_eq!(r.status().as_u16(), 400, "an unknown action");
        let r = b.post(&format!("/mail/read/{}", ids[0]), &[("csrf", &csrf)]).await;
        assert_eq!(r.status().as_u16(), 405, "reading is a GET");
    }
}

backend_test! {
    async fn pages_follow_accept_language_and_the_switch(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "polyglot", "secret123", false).await;
        let mut b = Browser::new(&srv);
        b.accept_language = Some("en-GB,en;q=0.9,zh-CN;q=0.5".into());
        sign_in(&mut b, &a, "secret123").await;
        let inbox = b.page("/mail/", 200).await;
        assert!(inbox.contains("<html lang=\"en\">") && inbox.contains("Inbox"), "{inbox}");
        assert!(inbox.contains("/lang/zh?back=%2Fmail%2F"), "{inbox}");

        let r = b.get("/lang/zh?back=%2Fmail%2F").await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(location(&r), "/mail/");
        let inbox = b.page("/mail/", 200).await;
        assert!(inbox.contains("<html lang=\"zh-CN\">") && inbox.contains("收件箱"), "{inbox}");

        let mut fresh = Browser::new(&srv);
        assert!(fresh.page("/login", 200).await.contains("登录邮箱"), "Chinese by default");
        fresh.accept_language = Some("de, en;q=0.3".into());
        assert!(fresh.page("/login", 200).await.contains("Sign in"));
        // A tab or newline a browser would drop (`/<TAB>/host` reads as `//host`), and CR, LF or
        // NUL that cannot be a header at all (they were a 500): all go back to the inbox.
        for hostile in ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\t/evil.example/", "/\n/evil.example/", "/\r\n/x", "/\0", "/\x1b"] {
            let r = b.get(&format!("/lang/en?back={}", urlencode(hostile))).await;
            assert_eq!(r.status().as_u16(), 303, "{hostile:?}");
            assert_eq!(location(&r), "/mail/", "{hostile:?} is no place to go back to");
        }
        let r = b.get("/lang/en?back=%2Fmail%2F%3Fpage%3D2").await;
        assert_eq!(location(&r), "/mail/?page=2", "a path here is followed");
        // A page past any mailbox is an empty page, not an overflow (it was a 503 on PostgreSQL).
        for page in ["9223372036854775807", "4294967296", "-5"] {
            let body = b.page(&format!("/mail/?page={page}"), 200).await;
            assert!(body.contains("Inbox"), "{page}: {body}");
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

backend_test! {
    config = |c| { c.login_attempts_per_account_per_hour = 3; };
    async fn password_attempts_are_limited_per_mailbox(srv) {
        let api = Api::new(&srv).await;
        let a = api.addr("target");
        let alias = api.addr("target.alias");
        api.ok("user/sync", &[("Action", "2"), ("Alias", &a), ("Name", "T"), ("Password", "secret123"), ("Slave", &alias)]).await;
        // Three guesses, one through the alias: a mailbox's aliases share its allowance.
        for address in [&a, &alias, &a.to_uppercase()] {
            let r = sign_in(&mut Browser::new(&srv), address, "wrong-guess").await;
            assert_eq!(r.status().as_u16(), 401);
        }
        let r = sign_in(&mut Browser::new(&srv), &alias, "secret123").await;
        assert_eq!(r.status().as_u16(), 429, "even the right password waits");
        assert!(r.text().await.unwrap().contains("尝试次数过多"));
        let other = member(&api, "bystander", "secret123", false).await;
        let r = sign_in(&mut Browser::new(&srv), &other, "secret123").await;
        assert_eq!(r.status().as_u16(), 303, "another mailbox is not affected");
    }
}

backend_test! {
    config = |c| { c.login_attempts_per_ip_per_minute = 2; };
    async fn password_attempts_are_limited_per_client_address(srv) {
        let api = Api::new(&srv).await;
        let mut statuses = Vec::new();
        for n in 0..3 {
            let a = member(&api, &format!("m{n}"), "secret123", false).await;
            statuses.push(sign_in(&mut Browser::new(&srv), &a, "secret123").await.status().as_u16());
        }
        assert_eq!(statuses, [303, 303, 429]);
    }
}

backend_test! {
    async fn cookies_are_secure_behind_https(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "tls", "secret123", false).await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let form = http.get(srv.url("login")).header("x-forwarded-proto", "https").send().await.unwrap();
        let set = form.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(set.contains("Secure") && set.contains("HttpOnly"), "{set}");
        let pair = set.split(';').next().unwrap().to_owned();
        let csrf = pair.split('=').nth(1).unwrap().to_owned();
        let r = http.post(srv.url("login")).header("x-forwarded-proto", "https").header("cookie", &pair)
            .form(&[("csrf", csrf.as_str()), ("address", a.as_str()), ("password", "secret123")]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let set = r.headers().get("set-cookie").unwrap().to_str().unwrap();
        assert!(set.starts_with("bizmail_session=") && set.contains("Secure"), "{set}");
        let plain = http.get(srv.url("login")).send().await.unwrap();
        assert!(!plain.headers().get("set-cookie").unwrap().to_str().unwrap().contains("Secure"));
    }
}

backend_test! {
    async fn housekeeping_purges_dead_sessions_and_challenges(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "sleepy", "secret123", false).await;
        let g = member(&api, "sleepy.guarded", "secret123", false).await;
        api.ok("user/openwxtoken", &[("Alias", &g)]).await;
        let mut signed_in = Browser::new(&srv);
        sign_in(&mut signed_in, &a, "secret123").await;
        let mut halfway = Browser::new(&srv);
        sign_in(&mut halfway, &g, "secret123").await;
        let now = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap();
        // Now: nothing is dead yet, so nothing goes.
        srv.running().housekeep_at(now).await;
        signed_in.page("/mail/", 200).await;
        halfway.page("/login/code", 200).await;
        // An hour later both are past their expiry and are deleted.
        let later = now + 3_600_001;
        srv.running().housekeep_at(later).await;
        signed_in.page("/mail/", 401).await;
        halfway.page("/login/code", 401).await;
    }
}

backend_test! {
    config = |c| { c.session_idle_secs = 1; };
    async fn an_idle_session_expires_and_a_busy_one_does_not(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "idle", "secret123", false).await;
        let mut busy = Browser::new(&srv);
        sign_in(&mut busy, &a, "secret123").await;
        let mut idle = Browser::new(&srv);
        sign_in(&mut idle, &a, "secret123").await;
        for _ in 0..6 {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            busy.page("/mail/", 200).await;
        }
        idle.page("/mail/", 401).await;
    }
}

backend_test! {
    async fn a_message_goes_with_its_last_copy(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "first", "secret123", false).await;
        let b = member(&api, "second", "secret123", false).await;
        let group = api.addr("both");
        api.ok("group/add", &[("group_name", "Both"), ("group_admin", &group), ("status", "all"), ("members", &a), ("members", &b)]).await;
        common::deliver(&srv, &group, "Subject: to both\r\n\r\none message, two copies").await;
        let count = || async {
            srv.running().mailboxes().stored_messages(api.tenant.tenant_id).await.unwrap()
        };
        assert_eq!(count().await, 1);

        // The first reader deletes their copy: the other copy still needs the bytes.
        let mut browser = Browser::new(&srv);
        sign_in(&mut browser, &a, "secret123").await;
        let inbox = browser.page("/mail/", 200).await;
        let csrf = hidden_field(&inbox, "csrf");
        let start = inbox.find("/mail/read/").unwrap() + 11;
        let id = inbox[start..].split('"').next().unwrap().to_owned();
        let r = browser.post(&format!("/mail/delete/{id}"), &[("csrf", &csrf)]).await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(count().await, 1);
        // Deleted again from Trash: gone for good from this mailbox, the bytes still needed.
        browser.post(&format!("/mail/delete/{id}"), &[("csrf", &csrf)]).await;
        browser.page(&format!("/mail/read/{id}"), 404).await;
        assert_eq!(count().await, 1);

        // The second member is deleted with their mailbox: the last copy, so the bytes go too.
        api.ok("user/sync", &[("Action", "1"), ("Alias", &b)]).await;
        assert_eq!(count().await, 0);
    }
}

backend_test! {
    config = |c| { c.login_attempts_per_account_per_hour = 3; };
    async fn code_attempts_count_against_the_mailbox(srv) {
        let api = Api::new(&srv).await;
        let a = member(&api, "coded", "secret123", false).await;
        api.ok("user/openwxtoken", &[("Alias", &a)]).await;
        let mut b = Browser::new(&srv);
        sign_in(&mut b, &a, "secret123").await; // attempt 1
        let page = b.page("/login/code", 200).await;
        let (csrf, secret) = (hidden_field(&page, "csrf"), secret_on(&page));
        for _ in 0..2 {
            // attempts 2 and 3
            let r = b.post("/login/code", &[("csrf", &csrf), ("code", "000000")]).await;
            assert_eq!(r.status().as_u16(), 401);
        }
        let code = totp(&secret).generate_current().unwrap();
        let r = b.post("/login/code", &[("csrf", &csrf), ("code", &code)]).await;
        assert_eq!(r.status().as_u16(), 429, "guessing codes spends the mailbox's allowance too");
        assert!(!b.cookies.contains_key("bizmail_session"));
    }
}
