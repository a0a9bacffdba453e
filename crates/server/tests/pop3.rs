//! POP3 through the real server on both backends, raw: CAPA, USER/PASS and AUTH PLAIN, STAT,
//! LIST, UIDL, TOP, RETR (exact bytes, dot-stuffed, marks read), DELE/RSET and the expunge at
//! QUIT, and logins refused in clear. getmail6 runs against it in `mail_clients`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::Config;
use bizmail_testkit::{TestServer, backend_test};
use common::{Api, deliver};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn pop3_on(c: &mut Config) {
    c.pop3_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    c.imap_allow_plaintext = true;
}

/// A raw POP3 client: one-line and multi-line answers.
struct Pop {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Pop {
    async fn connect(srv: &TestServer) -> (Pop, String) {
        let s = tokio::net::TcpStream::connect(srv.running().pop3_addr.unwrap())
            .await
            .unwrap();
        let (r, w) = s.into_split();
        let mut p = Pop {
            r: BufReader::new(r),
            w,
        };
        let greeting = p.line().await;
        (p, greeting)
    }

    async fn line(&mut self) -> String {
        let mut l = String::new();
        tokio::time::timeout(std::time::Duration::from_secs(20), self.r.read_line(&mut l))
            .await
            .unwrap()
            .unwrap();
        l
    }

    async fn cmd(&mut self, c: &str) -> String {
        self.w
            .write_all(format!("{c}\r\n").as_bytes())
            .await
            .unwrap();
        self.line().await
    }

    /// A multi-line answer, up to and including the `.` line.
    async fn multi(&mut self, c: &str) -> String {
        let mut all = self.cmd(c).await;
        if !all.starts_with("+OK") {
            return all;
        }
        loop {
            let l = self.line().await;
            all.push_str(&l);
            if l == ".\r\n" || l.is_empty() {
                return all;
            }
        }
    }
}

backend_test! {
    config = pop3_on;
    async fn a_pop3_session_reads_and_deletes(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        // Stuffed for SMTP's DATA: stored as ".starts with a dot", stuffed again by RETR.
        let first = "Subject: one\r\nMessage-ID: <p1@x>\r\n\r\nline\r\n..starts with a dot\r\n";
        deliver(&srv, &bob, first).await;
        deliver(&srv, &bob, "Subject: two\r\n\r\nsecond\r\n").await;

        let (mut p, greeting) = Pop::connect(&srv).await;
        assert!(greeting.starts_with("+OK"), "{greeting}");
        let capa = p.multi("CAPA").await;
        for cap in ["TOP", "UIDL", "USER", "SASL PLAIN", "RESP-CODES"] {
            assert!(capa.contains(&format!("{cap}\r\n")), "{cap} in {capa}");
        }
        assert!(p.cmd(&format!("USER {bob}")).await.starts_with("+OK"));
        let wrong = p.cmd("PASS nope").await;
        assert!(wrong.starts_with("-ERR [AUTH]"), "{wrong}");
        p.cmd(&format!("USER {bob}")).await;
        let ok = p.cmd("PASS secret123").await;
        assert_eq!(ok, "+OK Maildrop has 2 messages\r\n");

        let stat = p.cmd("STAT").await;
        let list = p.multi("LIST").await;
        let sizes: Vec<u64> = list
            .lines()
            .skip(1)
            .filter(|l| *l != ".")
            .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(stat, format!("+OK 2 {}\r\n", sizes.iter().sum::<u64>()));
        let uidl = p.multi("UIDL").await;
        assert_eq!(uidl.lines().count(), 4, "{uidl}");
        let one = p.cmd("UIDL 1").await;
        assert!(one.starts_with("+OK 1 ") && uidl.contains(one.trim_start_matches("+OK ")), "{one}");

        let top = p.multi("TOP 1 0").await;
        assert!(top.contains("Subject: one\r\n") && !top.contains("line\r\n"), "{top}");
        assert_eq!(api.new_count(&bob).await, "2", "TOP does not mark read");
        let retr = p.multi("RETR 1").await;
        assert!(retr.contains("\r\nline\r\n..starts with a dot\r\n"), "{retr}");
        assert!(retr.ends_with("\r\n.\r\n"), "{retr}");
        let announced: usize = retr.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(announced as u64, sizes[0]);
        assert_eq!(api.new_count(&bob).await, "1", "RETR marks read");

        assert!(p.cmd("DELE 2").await.starts_with("+OK"));
        assert!(p.cmd("RETR 2").await.starts_with("-ERR"));
        assert!(p.cmd("RSET").await.starts_with("+OK"));
        assert!(p.cmd("DELE 2").await.starts_with("+OK"));
        assert!(p.cmd("DELE 9").await.starts_with("-ERR"));
        assert!(p.cmd("QUIT").await.starts_with("+OK"));
        // The unread one was deleted at QUIT: nothing unread, one message left.
        assert_eq!(api.new_count(&bob).await, "0");

        let (mut p, _) = Pop::connect(&srv).await;
        use base64::Engine as _;
        let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{bob}\0secret123"));
        let auth = p.cmd(&format!("AUTH PLAIN {plain}")).await;
        assert_eq!(auth, "+OK Maildrop has 1 messages\r\n");
    }
}

backend_test! {
    config = |c: &mut Config| { c.pop3_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))); };
    async fn pop3_passwords_never_cross_in_clear(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let (mut p, _) = Pop::connect(&srv).await;
        let capa = p.multi("CAPA").await;
        assert!(!capa.contains("USER\r\n"), "{capa}");
        let user = p.cmd(&format!("USER {bob}")).await;
        assert!(user.starts_with("-ERR [AUTH]"), "{user}");
    }
}
