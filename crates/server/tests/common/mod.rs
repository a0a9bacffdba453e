//! Helpers shared by the protocol tests: an authenticated caller for one tenant, with the typed
//! SDK (`client`) for plain calls and raw form posts for the tests of the wire's own quirks
//! (parameter spellings, lists, bodies) that a typed client cannot express.

#![allow(dead_code)] // each test file uses a different subset

pub mod dns;
pub mod rspamd;
pub mod tls;

use bizmail_testkit::{SeededTenant, TestServer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Calls the OpenApi as one tenant.
pub struct Api<'a> {
    /// The server under test.
    pub srv: &'a TestServer,
    /// A token of the tenant.
    pub token: String,
    /// The tenant whose token it is.
    pub tenant: SeededTenant,
    /// The typed SDK, as the same tenant's admin.
    pub client: bizmail_client::Client,
}

impl<'a> Api<'a> {
    /// A caller for the server's seeded tenant.
    pub async fn new(srv: &'a TestServer) -> Api<'a> {
        Api {
            srv,
            token: srv.token().await,
            tenant: srv.tenant().clone(),
            client: srv.client(),
        }
    }

    /// A caller for another, fresh tenant.
    pub async fn other(srv: &'a TestServer) -> Api<'a> {
        let tenant = srv.seed_tenant().await;
        Api {
            srv,
            token: srv.token_for(&tenant).await,
            client: srv.client_for(&tenant),
            tenant,
        }
    }

    /// `user/get` through the typed SDK.
    pub async fn user(&self, alias: &str) -> bizmail_client::UserInfo {
        self.client.user_get(alias).await.expect("user/get")
    }

    /// `party/list` through the typed SDK: the child department names.
    pub async fn parties(&self, path: &str) -> Vec<String> {
        let list = self.client.party_list(path).await.expect("party/list");
        values(list)
    }

    /// `partyuser/list` through the typed SDK: the members' primary addresses.
    pub async fn party_members(&self, path: &str) -> Vec<String> {
        let list = self.client.party_users(path).await.expect("partyuser/list");
        values(list)
    }

    /// `user/check` through the typed SDK: each address with its type.
    pub async fn check(&self, emails: &[&str]) -> Vec<(String, i8)> {
        let list = self.client.user_check(emails).await.expect("user/check");
        assert_eq!(list.count, list.list.len(), "Count matches List");
        list.list.into_iter().map(|c| (c.email, c.kind)).collect()
    }

    /// `mail/newcount` through the typed SDK: the count as the wire carries it (a string).
    pub async fn new_count(&self, alias: &str) -> String {
        let n = self
            .client
            .mail_new_count(alias)
            .await
            .expect("mail/newcount");
        n.new_count
    }

    /// `name@<tenant domain>`.
    pub fn addr(&self, local: &str) -> String {
        format!("{local}@{}", self.tenant.domain)
    }

    /// POSTs form fields; returns the body (asserting HTTP 200).
    pub async fn post(&self, endpoint: &str, fields: &[(&str, &str)]) -> String {
        let (status, body) = self
            .srv
            .call(&self.token, &format!("openapi/{endpoint}"), fields)
            .await;
        assert_eq!(status, 200, "{endpoint}: {body}");
        body
    }

    /// POSTs and expects success without data (an empty body).
    pub async fn ok(&self, endpoint: &str, fields: &[(&str, &str)]) {
        let body = self.post(endpoint, fields).await;
        assert_eq!(body, "", "{endpoint} {fields:?}");
    }

    /// POSTs and returns the `errcode` of the error answer.
    pub async fn err(&self, endpoint: &str, fields: &[(&str, &str)]) -> String {
        let body = self.post(endpoint, fields).await;
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("{endpoint}: not JSON: {body:?}"));
        v["errcode"]
            .as_str()
            .unwrap_or_else(|| panic!("{endpoint}: no errcode: {body}"))
            .to_owned()
    }

    /// POSTs and parses a JSON answer.
    pub async fn json(&self, endpoint: &str, fields: &[(&str, &str)]) -> serde_json::Value {
        let body = self.post(endpoint, fields).await;
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("{endpoint}: not JSON: {body:?}"));
        assert!(v.get("errcode").is_none(), "{endpoint} {fields:?}: {body}");
        v
    }

    /// Adds a member with a name and password, in `parties` (may be empty).
    pub async fn add_member(&self, local: &str, parties: &[&str]) -> String {
        let a = self.addr(local);
        let mut f = vec![
            ("Action", "2"),
            ("Alias", a.as_str()),
            ("Name", local),
            ("Password", "secret123"),
        ];
        for p in parties {
            f.push(("PartyPath", p));
        }
        self.ok("user/sync", &f).await;
        a
    }

    /// The current directory version (from `user/list` with `Ver=0`).
    pub async fn version(&self) -> u64 {
        self.json("user/list", &[("Ver", "0")]).await["Ver"]
            .as_u64()
            .expect("Ver is a number")
    }

    /// The members `user/list` reports as `(Action, Alias)`.
    pub async fn changes_since(&self, ver: u64) -> Vec<(u64, String)> {
        let v = self.json("user/list", &[("Ver", &ver.to_string())]).await;
        let list = v["List"].as_array().expect("List");
        assert_eq!(v["Count"].as_u64(), Some(list.len() as u64));
        list.iter()
            .map(|e| {
                (
                    e["Action"].as_u64().expect("Action"),
                    e["Alias"].as_str().expect("Alias").to_owned(),
                )
            })
            .collect()
    }
}

/// The seeded tenant's mail log of `mailtype` (0 all, 1 sent, 2 received) through the newer API's
/// `log/mail`, every day: the rows as `(receiver, status)`.
pub async fn mail_log(srv: &TestServer, mailtype: i64) -> Vec<(String, i64)> {
    let token = srv.corp_token("log").await;
    let body = serde_json::json!({"begin_date": "2020-01-01", "end_date": "2099-12-31", "mailtype": mailtype});
    let v: serde_json::Value = srv
        .http
        .post(srv.url(&format!("cgi-bin/log/mail?access_token={token}")))
        .json(&body)
        .send()
        .await
        .expect("log/mail answers")
        .json()
        .await
        .expect("log/mail is JSON");
    assert_eq!(v["errcode"], 0, "{v}");
    v["list"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            let receiver = r["receiver"].as_str().unwrap_or_default().to_owned();
            (receiver, r["status"].as_i64().unwrap_or(-1))
        })
        .collect()
}

/// Delivers one message (`headers\r\n\r\nbody`) over SMTP and asserts it got `250`.
pub async fn deliver(srv: &TestServer, to: &str, message: &str) {
    let s = tokio::net::TcpStream::connect(srv.smtp_addr())
        .await
        .expect("SMTP connects");
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let dialogue = format!(
        "EHLO t\r\nMAIL FROM:<sender@outside.example>\r\nRCPT TO:<{to}>\r\nDATA\r\n{message}\r\n.\r\nQUIT\r\n"
    );
    w.write_all(dialogue.as_bytes()).await.expect("SMTP write");
    let mut all = String::new();
    let mut line = String::new();
    while r.read_line(&mut line).await.expect("SMTP read") > 0 {
        all.push_str(&line);
        line.clear();
    }
    assert!(all.contains("250 2.0.0"), "{all}");
}

/// A minimal browser over HTTP: keeps cookies (`Set-Cookie` in, `Cookie` out, removals honoured)
/// and never follows redirects, so tests see each `Location`.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    /// The cookies held, by name.
    pub cookies: std::collections::BTreeMap<String, String>,
    /// Sent as `Accept-Language` when set.
    pub accept_language: Option<String>,
}

impl Browser {
    /// A browser with no cookies, for `srv`.
    pub fn new(srv: &TestServer) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: srv.url(""),
            cookies: Default::default(),
            accept_language: None,
        }
    }

    fn absolute(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path.trim_start_matches('/'))
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let mut req = req;
        if !self.cookies.is_empty() {
            let header: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", header.join("; "));
        }
        if let Some(l) = &self.accept_language {
            req = req.header("accept-language", l);
        }
        let resp = req.send().await.expect("HTTP request");
        for set in resp.headers().get_all("set-cookie") {
            let set = set.to_str().expect("ASCII cookie");
            let pair = set.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            let removed = set.contains("Max-Age=0") || value.is_empty();
            if removed {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        resp
    }

    /// `GET path` (a path on the server, or an absolute URL).
    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let url = self.absolute(path);
        let req = self.http.get(url);
        self.send(req).await
    }

    /// `POST path` with a form.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let url = self.absolute(path);
        let req = self.http.post(url).form(form);
        self.send(req).await
    }

    /// A browser signed in to the web mailbox as `address` (password `secret123`).
    pub async fn signed_in(srv: &TestServer, address: &str) -> Browser {
        let mut b = Browser::new(srv);
        let form = b.page("/login", 200).await;
        let csrf = hidden_field(&form, "csrf");
        let fields = [
            ("csrf", csrf.as_str()),
            ("address", address),
            ("password", "secret123"),
        ];
        let r = b.post("/login", &fields).await;
        assert_eq!(r.status().as_u16(), 303, "signing in as {address}");
        b
    }

    /// `POST path` with a multipart form (a form with files).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        let url = self.absolute(path);
        let req = self.http.post(url).multipart(form);
        self.send(req).await
    }

    /// `GET path`, asserting the status, and the page's text.
    pub async fn page(&mut self, path: &str, status: u16) -> String {
        let resp = self.get(path).await;
        assert_eq!(resp.status().as_u16(), status, "GET {path}");
        resp.text().await.expect("body")
    }
}

/// The `value` of the hidden `name` field of the first form on a page.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("the hidden field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The `Location` of a redirect.
pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .expect("a Location")
        .to_str()
        .expect("ASCII")
        .to_owned()
}

/// The values of a `{"Count","List":[{"Value"}]}` answer, checking that `Count` matches.
pub fn values(list: bizmail_client::ValueList) -> Vec<String> {
    assert_eq!(list.count, list.list.len(), "Count matches List");
    list.list.into_iter().map(|v| v.value).collect()
}

/// A raw SMTP client that reads whole (multi-line) replies.
pub struct Raw {
    /// The server's side, read a reply at a time.
    pub reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    /// The client's side.
    pub writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    /// Connects; returns the client and the greeting.
    pub async fn connect(srv: &TestServer) -> (Raw, String) {
        let s = tokio::net::TcpStream::connect(srv.smtp_addr())
            .await
            .unwrap();
        let (r, w) = s.into_split();
        let mut raw = Raw {
            reader: BufReader::new(r),
            writer: w,
        };
        let greeting = raw.reply().await;
        (raw, greeting)
    }

    /// The next reply, all its lines; empty when the server closed the connection.
    pub async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                self.reader.read_line(&mut line),
            )
            .await
            .unwrap()
            .unwrap();
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    /// Sends bytes as they are.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// Sends one command line and reads its reply.
    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }
}

/// A raw IMAP client: sends tagged commands and reads every line up to the tagged answer,
/// literals included (their bytes are kept in the text, as sent).
pub struct ImapRaw {
    reader: BufReader<Box<dyn tokio::io::AsyncRead + Unpin + Send>>,
    writer: Box<dyn tokio::io::AsyncWrite + Unpin + Send>,
    next: u32,
}

impl ImapRaw {
    /// Connects to the IMAP listener; returns the client and the greeting.
    pub async fn connect(srv: &TestServer) -> (ImapRaw, String) {
        let addr = srv.running().imap_addr.expect("IMAP is configured");
        let s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (r, w) = s.into_split();
        ImapRaw::over(r, w).await
    }

    /// A client over any stream halves (an in-memory pipe, say).
    pub async fn over(
        r: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        w: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
    ) -> (ImapRaw, String) {
        let mut raw = ImapRaw {
            reader: BufReader::new(Box::new(r)),
            writer: Box::new(w),
            next: 1,
        };
        let greeting = raw.line().await;
        (raw, greeting)
    }

    /// A client over stream halves where the greeting was read already (after STARTTLS).
    pub fn over_without_greeting(
        r: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        w: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
    ) -> ImapRaw {
        ImapRaw {
            reader: BufReader::new(Box::new(r)),
            writer: Box::new(w),
            next: 100,
        }
    }

    /// Connects and logs in as `address`.
    pub async fn login(srv: &TestServer, address: &str, password: &str) -> ImapRaw {
        let (mut c, _) = ImapRaw::connect(srv).await;
        let answer = c.cmd(&format!("LOGIN {address} {password}")).await;
        assert!(answer.contains("OK"), "{answer}");
        c
    }

    /// One line with any literals it announces (empty when the server closed).
    pub async fn line(&mut self) -> String {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                self.reader.read_until(b'\n', &mut line),
            )
            .await
            .expect("IMAP answer in time")
            .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&line);
            // `{n}` at the end of a line announces n bytes of literal.
            let text = String::from_utf8_lossy(&line);
            let trimmed = text.trim_end();
            let Some(open) = trimmed.rfind('{').filter(|_| trimmed.ends_with('}')) else {
                break;
            };
            let Ok(len) = trimmed[open + 1..trimmed.len() - 1].parse::<usize>() else {
                break;
            };
            let mut literal = vec![0u8; len];
            tokio::io::AsyncReadExt::read_exact(&mut self.reader, &mut literal)
                .await
                .unwrap();
            out.extend_from_slice(&literal);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Sends bytes as they are.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    /// The lines up to and including the one tagged `tag`.
    pub async fn until(&mut self, tag: &str) -> String {
        let mut all = String::new();
        loop {
            let line = self.line().await;
            if line.is_empty() {
                return all;
            }
            all.push_str(&line);
            if line.starts_with(&format!("{tag} ")) {
                return all;
            }
        }
    }

    /// Sends a command with the next tag and returns every line up to its tagged answer.
    pub async fn cmd(&mut self, command: &str) -> String {
        let tag = format!("a{}", self.next);
        self.next += 1;
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until(&tag).await
    }

    /// The tagged answer's status of a transcript (`OK`, `NO` or `BAD`).
    pub fn status(transcript: &str) -> &str {
        let last = transcript.trim_end().lines().last().unwrap_or_default();
        last.split_whitespace().nth(1).unwrap_or_default()
    }
}
