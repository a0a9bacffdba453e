//! `bizmail seed` run as the real binary on a test server's store (SQLite and PostgreSQL), then
//! looked at from outside: the old OpenApi (`party/list`, `user/list`, `user/get`,
//! `mail/newcount`), the newer API (`department/list`, `user/list`, `group/get`,
//! `mail/newcount`), the operation log, and IMAP (a GBK mail decodes, flags match the unread
//! counts); a second run changes nothing.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod migrate_common;

use bizmail_server::Config;
use bizmail_testkit::{TestServer, backend_test};
use mail_parser::MimeHeaders as _;
use migrate_common::{bizmail, cgi, store_args};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

fn imap_on(c: &mut Config) {
    c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    // Plain LOGIN on loopback: this test reads mail, not TLS.
    c.imap_allow_plaintext = true;
}

/// An old-API call's JSON answer.
async fn old(srv: &TestServer, token: &str, endpoint: &str, fields: &[(&str, &str)]) -> Value {
    let (status, body) = srv
        .call(token, &format!("openapi/{endpoint}"), fields)
        .await;
    assert_eq!(status, 200, "{endpoint}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("{endpoint}: {body}"))
}

/// The number after `key` in a line of the summary (`created` in `members: 50 created, …`).
fn figure(out: &str, line: &str, key: &str) -> u64 {
    let l = out
        .lines()
        .find(|l| l.starts_with(line))
        .unwrap_or_else(|| panic!("no {line:?} in:\n{out}"));
    let words: Vec<&str> = l
        .split([' ', ',', '(', ')'])
        .filter(|w| !w.is_empty())
        .collect();
    let at = words.iter().position(|w| *w == key).unwrap();
    words[at - 1].parse().unwrap()
}

/// Marks a tenant as a sandbox: only sandboxes take demo data.
async fn sandbox(srv: &TestServer, tenant_id: i64) {
    srv.running().sandbox().mark(tenant_id).await.unwrap();
}

/// The names in an old-API `{"Count":n,"List":[{"Value":…}]}` answer.
fn values(v: &Value) -> Vec<String> {
    v["List"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Value"].as_str().unwrap().to_owned())
        .collect()
}

backend_test! {
    async fn a_seeded_tenant_looks_like_a_company_from_outside_and_a_second_run_changes_nothing(srv) {
        let t = srv.tenant().clone();
        let store = store_args(&srv);
        // Demo data lands only in a sandbox.
        let out = bizmail(&["seed", "--tenant", &t.domain], &store).await;
        assert!(!out.ok && out.text.contains("not a sandbox"), "{}", out.text);
        sandbox(&srv, t.tenant_id).await;
        let out = bizmail(&["seed", "--tenant", &t.domain], &store).await;
        assert!(out.ok, "{}", out.text);
        for line in ["departments: 29 created, 0 already there, 0 refused",
            "members: 50 created, 0 already there, 0 refused",
            "groups: 8 created, 0 already there, 0 refused"] {
            assert!(out.text.contains(line), "{line}\n{}", out.text);
        }
        assert_eq!(figure(&out.text, "mails:", "stored"), 300);
        let unread = figure(&out.text, "mails:", "unread");
        // About a third unread, some in GBK, some with attachments.
        assert!((60..=160).contains(&unread), "{}", out.text);
        assert!(figure(&out.text, "mails:", "in") >= 20, "{}", out.text);
        assert!(figure(&out.text, "mails:", "with") >= 10, "{}", out.text);

        // The old OpenApi: departments by path, three levels below the root.
        let token = srv.token().await;
        let top = values(&old(&srv, &token, "party/list", &[]).await);
        for name in ["总经办", "研发中心", "市场部", "财务部", "人力资源部", "行政部"] {
            assert!(top.contains(&name.to_owned()), "{top:?}");
        }
        let rd = values(&old(&srv, &token, "party/list", &[("PartyPath", "研发中心")]).await);
        assert!(rd.contains(&"基础平台部".to_owned()), "{rd:?}");
        let third = values(&old(&srv, &token, "party/list", &[("PartyPath", "研发中心/基础平台部")]).await);
        assert!(third.contains(&"后端组".to_owned()) && third.contains(&"运维组".to_owned()), "{third:?}");
        let east = values(&old(&srv, &token, "party/list", &[("PartyPath", "市场部/华东区")]).await);
        assert!(east.contains(&"上海办事处".to_owned()), "{east:?}");

        // Every member was added, with a Chinese name, a pinyin address and a position.
        let listed = old(&srv, &token, "user/list", &[("Ver", "0")]).await;
        let ver = listed["Ver"].to_string();
        let added: Vec<String> = listed["List"].as_array().unwrap().iter()
            .filter(|e| e["Action"] == 2).map(|e| e["Alias"].as_str().unwrap().to_owned()).collect();
        assert_eq!(added.len(), 50, "{listed}");
        let (mut disabled, mut aliases, mut deep, mut total_unread) = (0, 0, 0, 0u64);
        let mut members = Vec::new();
        for address in &added {
            let (local, domain) = address.split_once('@').unwrap();
            assert_eq!(domain, t.domain);
            let (surname, given) = local.split_once('.').unwrap();
            assert!(surname.bytes().all(|b| b.is_ascii_lowercase()), "{address}");
            assert!(given.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{address}");
            let u = old(&srv, &token, "user/get", &[("Alias", address)]).await;
            let name = u["Name"].as_str().unwrap();
            assert!((2..=4).contains(&name.chars().count()) && name.chars().all(|c| !c.is_ascii()), "{u}");
            assert!(!u["Position"].as_str().unwrap().is_empty(), "{u}");
            let mobile = u["Mobile"].as_str().unwrap();
            assert!(mobile.len() == 11 && mobile.starts_with('1'), "{u}");
            assert_eq!(u["PartyList"]["Count"], 1, "{u}");
            deep += usize::from(u["PartyList"]["List"][0]["Value"].as_str().unwrap().matches('/').count() == 2);
            if let Some(alias) = u["SlaveList"].as_str().filter(|s| !s.is_empty()) {
                aliases += 1;
                // The alias is the name the other way round, and finds the same member.
                assert!(alias.starts_with(&format!("{}.", given.trim_end_matches(|c: char| c.is_ascii_digit()))), "{u}");
                let by_alias = old(&srv, &token, "user/get", &[("Alias", alias)]).await;
                assert_eq!(by_alias["Alias"].as_str(), Some(address.as_str()));
            }
            if u["OpenType"] == 2 {
                disabled += 1;
            } else {
                let n = old(&srv, &token, "mail/newcount", &[("Alias", address)]).await;
                total_unread += n["NewCount"].as_str().unwrap().parse::<u64>().unwrap();
                members.push(address.clone());
            }
        }
        assert!((1..=5).contains(&disabled), "{disabled} disabled");
        assert!(aliases >= 3, "{aliases} aliases");
        assert!(deep >= 10, "{deep} members three levels down");
        // The unread counts the API shows add up to the unread mails stored.
        assert_eq!(total_unread, unread);

        // The newer API: the same departments by id, the groups and their allow lists.
        let dir = srv.corp_token("directory").await;
        let depts = cgi(&srv, &dir, "department/list", json!({"id": 1})).await;
        let depts = depts["department"].as_array().unwrap().clone();
        assert_eq!(depts.len(), 29);
        let parent: HashMap<i64, i64> = depts.iter()
            .map(|d| (d["id"].as_i64().unwrap(), d["parentid"].as_i64().unwrap())).collect();
        let depth = |mut id: i64| { let mut n = 0; while id != 1 { id = parent[&id]; n += 1; } n };
        assert_eq!(parent.keys().map(|id| depth(*id)).max(), Some(3));
        let users = cgi(&srv, &dir, "user/list", json!({"department_id": 1, "fetch_child": 1})).await;
        assert_eq!(users["userlist"].as_array().unwrap().len(), 50);
        let all = cgi(&srv, &dir, "group/get", json!({"groupid": format!("all@{}", t.domain)})).await;
        assert_eq!((all["groupname"].as_str(), all["allow_type"].as_i64()), (Some("全体员工"), Some(3)));
        let allowed = all["allow_userlist"].as_array().unwrap();
        assert!(!allowed.is_empty() && allowed.iter().all(|a| added.contains(&a.as_str().unwrap().to_owned())), "{all}");
        assert!(all["department"].as_array().unwrap().len() >= 8, "{all}");
        let market = cgi(&srv, &dir, "group/get", json!({"groupid": format!("market@{}", t.domain)})).await;
        assert_eq!(market["allow_type"], 1);
        let managers = cgi(&srv, &dir, "group/get", json!({"groupid": format!("managers@{}", t.domain)})).await;
        assert_eq!(managers["allow_type"], 2);
        assert!(managers["userlist"].as_array().unwrap().len() >= 8, "{managers}");
        let office = cgi(&srv, &dir, "group/get", json!({"groupid": format!("office@{}", t.domain)})).await;
        let nested: Vec<&str> = office["grouplist"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
        assert!(nested.contains(&format!("hr@{}", t.domain).as_str()), "{office}");
        // The newer API's unread count agrees with the old one.
        let mail = srv.corp_token("mail").await;
        let first = &members[0];
        let n_old = old(&srv, &token, "mail/newcount", &[("Alias", first)]).await["NewCount"].as_str().unwrap().to_owned();
        let n_new = cgi(&srv, &mail, "mail/newcount", json!({"userid": first})).await;
        assert_eq!(n_new["count"].to_string(), n_old);

        // Written through the API's rules: every write is in the operation log as the seed's.
        let admin = srv.running().admin();
        let log = admin.oplog(&t.admin, 1000).await.unwrap();
        let by = |log: &[bizmail_server::tenants::OplogEntry], e: &str| {
            log.iter().filter(|r| r.endpoint == format!("bizmail/seed/{e}") && r.errcode == 0).count()
        };
        let seeded = |log: &[bizmail_server::tenants::OplogEntry]| {
            (by(log, "department/create"), by(log, "user/create"), by(log, "group/create"))
        };
        assert_eq!(seeded(&log), (29, 50, 8));
        assert!(log.iter().all(|r| !r.endpoint.starts_with("bizmail/seed/") || r.endpoint.ends_with("/create")));
        let stored = admin.mailboxes().stored_messages(t.tenant_id).await.unwrap();
        assert_eq!(stored, 300);

        // Again: everything is there already; nothing changes, not even the version.
        let out = bizmail(&["seed", "--admin", &t.admin], &store).await;
        assert!(out.ok, "{}", out.text);
        for line in ["departments: 0 created, 29 already there, 0 refused",
            "members: 0 created, 50 already there, 0 refused",
            "groups: 0 created, 8 already there, 0 refused",
            "mails: 0 stored (0 unread, 0 in GBK, 0 with attachments), 300 already there"] {
            assert!(out.text.contains(line), "{line}\n{}", out.text);
        }
        let again = old(&srv, &token, "user/list", &[("Ver", &ver)]).await;
        assert_eq!((again["Ver"].to_string(), again["Count"].as_i64()), (ver, Some(0)), "{again}");
        assert_eq!(admin.mailboxes().stored_messages(t.tenant_id).await.unwrap(), 300);
        let mut unread_again = 0;
        for address in &members {
            let n = old(&srv, &token, "mail/newcount", &[("Alias", address)]).await;
            unread_again += n["NewCount"].as_str().unwrap().parse::<u64>().unwrap();
        }
        assert_eq!(unread_again, unread);
        let log = admin.oplog(&t.admin, 1000).await.unwrap();
        assert_eq!(seeded(&log), (29, 50, 8));

        // The same seed elsewhere is the same company; another seed is another one.
        let other = srv.seed_tenant().await;
        sandbox(&srv, other.tenant_id).await;
        let out = bizmail(&["seed", "--admin", &other.admin, "--mails", "0"], &store).await;
        assert!(out.ok, "{}", out.text);
        let first_name = old(&srv, &token, "user/get", &[("Alias", &added[0])]).await["Name"].clone();
        let other_token = srv.token_for(&other).await;
        let mirrored = added[0].replace(&t.domain, &other.domain);
        let u = old(&srv, &other_token, "user/get", &[("Alias", &mirrored)]).await;
        assert_eq!(u["Name"], first_name, "{u}");
        let third = srv.seed_tenant().await;
        sandbox(&srv, third.tenant_id).await;
        let out = bizmail(&["seed", "--admin", &third.admin, "--mails", "0", "--seed", "2"], &store).await;
        assert!(out.ok, "{}", out.text);
        let third_token = srv.token_for(&third).await;
        let listed = old(&srv, &third_token, "user/list", &[("Ver", "0")]).await;
        let third_added: HashSet<String> = listed["List"].as_array().unwrap().iter()
            .map(|e| e["Alias"].as_str().unwrap().replace(&third.domain, &t.domain)).collect();
        assert_ne!(third_added, added.iter().cloned().collect::<HashSet<_>>());
    }
}

/// A minimal IMAP client: commands, and their answers with literals read whole.
struct Imap {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    n: u32,
}

impl Imap {
    async fn login(srv: &TestServer, user: &str, password: &str) -> Imap {
        let tcp = tokio::net::TcpStream::connect(srv.running().imap_addr.unwrap())
            .await
            .unwrap();
        let (r, w) = tcp.into_split();
        let mut c = Imap {
            r: BufReader::new(r),
            w,
            n: 0,
        };
        let mut greeting = String::new();
        c.r.read_line(&mut greeting).await.unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let (status, _, _) = c.cmd(&format!("LOGIN {user} {password}")).await;
        assert!(status.contains(" OK "), "LOGIN {user}: {status}");
        c
    }

    /// Sends a command; answers its tagged status line, the untagged text, and the literals.
    async fn cmd(&mut self, command: &str) -> (String, String, Vec<Vec<u8>>) {
        self.n += 1;
        let tag = format!("a{}", self.n);
        self.w
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .await
            .unwrap();
        let (mut text, mut literals) = (String::new(), Vec::new());
        loop {
            let mut line = Vec::new();
            assert!(
                self.r.read_until(b'\n', &mut line).await.unwrap() > 0,
                "closed"
            );
            let s = String::from_utf8_lossy(&line).into_owned();
            if s.starts_with(&format!("{tag} ")) {
                return (s, text, literals);
            }
            text.push_str(&s);
            if let Some(n) = s
                .trim_end()
                .strip_suffix('}')
                .and_then(|l| l.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok())
            {
                let mut literal = vec![0; n];
                self.r.read_exact(&mut literal).await.unwrap();
                literals.push(literal);
            }
        }
    }
}

backend_test! {
    config = |c: &mut Config| imap_on(c);
    async fn seeded_mail_reads_right_over_imap_gbk_included(srv) {
        let t = srv.tenant().clone();
        sandbox(&srv, t.tenant_id).await;
        let store = store_args(&srv);
        let args = ["seed", "--admin", &t.admin, "--members", "16", "--mails", "120", "--seed", "7",
            "--password", "Seeded-pw-7"];
        let out = bizmail(&args, &store).await;
        assert!(out.ok, "{}", out.text);
        assert!(out.text.contains("members: 16 created"), "{}", out.text);
        assert_eq!(figure(&out.text, "mails:", "stored"), 120);

        let token = srv.token().await;
        let dir = srv.corp_token("directory").await;
        let users = cgi(&srv, &dir, "user/list", json!({"department_id": 1, "fetch_child": 1})).await;
        let enabled: Vec<String> = users["userlist"].as_array().unwrap().iter()
            .filter(|u| u["enable"] == 1).map(|u| u["userid"].as_str().unwrap().to_owned()).collect();
        // One of them left: disabled, and no mail for them.
        assert_eq!((users["userlist"].as_array().unwrap().len(), enabled.len()), (16, 15));
        let (mut messages, mut gbk, mut pngs) = (0, 0, 0);
        for address in &enabled {
            // Each member signs in with the password the seed gave them.
            let mut imap = Imap::login(&srv, address, "Seeded-pw-7").await;
            let (status, text, _) = imap.cmd("SELECT INBOX").await;
            assert!(status.contains(" OK "), "{status}");
            let exists: usize = text.lines().find_map(|l| l.strip_suffix(" EXISTS")?.strip_prefix("* ")?.parse().ok()).unwrap();
            messages += exists;
            if exists == 0 {
                continue;
            }
            let (_, _, raws) = imap.cmd("FETCH 1:* (FLAGS BODY.PEEK[])").await;
            assert_eq!(raws.len(), exists);
            let (_, flags, _) = imap.cmd("FETCH 1:* (FLAGS)").await;
            let unseen = flags.lines().filter(|l| l.contains("FETCH") && !l.contains("\\Seen")).count();
            let n = old(&srv, &token, "mail/newcount", &[("Alias", address)]).await;
            assert_eq!(n["NewCount"].as_str().unwrap(), unseen.to_string(), "{address}");
            for raw in &raws {
                let m = mail_parser::MessageParser::default().parse(raw).unwrap();
                let subject = m.subject().unwrap();
                assert!(!subject.is_ascii(), "{subject}");
                let body = m.body_text(0).unwrap();
                assert!(body.contains('：') || body.contains('，'), "{body}");
                if String::from_utf8_lossy(raw).contains("charset=\"GBK\"") {
                    gbk += 1;
                    // The subject and name are GBK encoded words; they decode to Chinese.
                    assert!(String::from_utf8_lossy(raw).contains("Subject: =?GBK?B?"));
                    let from = m.from().unwrap().first().unwrap();
                    assert!(from.name().unwrap().chars().all(|c| !c.is_ascii()), "{from:?}");
                }
                for a in m.attachments() {
                    assert!(!a.attachment_name().unwrap().is_ascii());
                    if a.content_type().unwrap().subtype() == Some("png") {
                        pngs += 1;
                        assert!(a.contents().starts_with(b"\x89PNG\r\n\x1a\n"));
                    }
                }
            }
        }
        assert_eq!(messages, 120);
        assert!(gbk >= 3, "{gbk} GBK mails");
        assert!(pngs >= 1, "{pngs} screenshots");
    }
}

backend_test! {
    async fn what_the_directory_refuses_is_reported_and_the_rest_is_seeded(srv) {
        // all@ is a member already: the seed's group of that address is the API's refusal.
        let taken = migrate_common::add_member(&srv, "all").await;
        let t = srv.tenant().clone();
        sandbox(&srv, t.tenant_id).await;
        let store = store_args(&srv);
        let args = ["seed", "--admin", &t.admin, "--members", "20", "--mails", "30"];
        let out = bizmail(&args, &store).await;
        assert!(!out.ok, "a refusal makes the exit status 1: {}", out.text);
        assert!(out.text.contains("members: 20 created, 0 already there, 0 refused"), "{}", out.text);
        assert!(out.text.contains("groups: 7 created, 0 already there, 1 refused"), "{}", out.text);
        assert!(out.text.contains(&format!("  {taken}: 600")), "{}", out.text);
        assert_eq!(figure(&out.text, "mails:", "stored"), 30);
        // The member is as it was: still a member, not a group.
        let token = srv.token().await;
        let checked = old(&srv, &token, "user/check", &[("email", &taken)]).await;
        assert_eq!(checked["List"][0]["Type"], 1, "{checked}");
        // A second run reports the same refusal and creates nothing.
        let out = bizmail(&args, &store).await;
        assert!(!out.ok);
        assert!(out.text.contains("members: 0 created, 20 already there, 0 refused"), "{}", out.text);
        assert!(out.text.contains("groups: 0 created, 7 already there, 1 refused"), "{}", out.text);
        assert!(out.text.contains("mails: 0 stored"), "{}", out.text);
    }
}
