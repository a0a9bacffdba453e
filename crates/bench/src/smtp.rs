//! `smtp-ingest`: 20 KB messages from 16 concurrent senders, each keeping one SMTP session open
//! and sending message after message (as an MTA does), to one member. Latency is per message, from
//! MAIL FROM to the 250 after DATA, which bizmail sends only once the message is committed.

use crate::target::Target;
use crate::{Args, Outcome};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Size of each message body.
const MESSAGE_BYTES: usize = 20 * 1024;

/// Reads one SMTP reply (all its lines) and checks its code.
pub(crate) async fn expect(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    code: &str,
) -> anyhow::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        anyhow::ensure!(r.read_line(&mut line).await? > 0, "connection closed");
        if line.len() >= 4 && line.as_bytes()[3] == b'-' {
            continue;
        }
        anyhow::ensure!(line.starts_with(code), "expected {code}, got {line:?}");
        return Ok(());
    }
}

/// Runs the scenario against `target`.
pub async fn ingest(target: &Target, args: &Args) -> anyhow::Result<Outcome> {
    let token = target.token().await?;
    let to = target.member(&token, "ingest").await?;
    let line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
    let text = line.repeat(MESSAGE_BYTES / line.len());
    let message =
        format!("From: bench@outside.example\r\nTo: {to}\r\nSubject: ingest\r\n\r\n{text}.\r\n");
    let addr = target.smtp;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (message, to) = (message.clone(), to.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let run = async {
                let (r, mut w) = TcpStream::connect(addr).await?.into_split();
                let mut r = BufReader::new(r);
                expect(&mut r, "220").await?;
                w.write_all(b"EHLO bench\r\n").await?;
                expect(&mut r, "250").await?;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let envelope =
                        format!("MAIL FROM:<bench@outside.example>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
                    w.write_all(envelope.as_bytes()).await?;
                    for code in ["250", "250", "354"] {
                        expect(&mut r, code).await?;
                    }
                    w.write_all(message.as_bytes()).await?;
                    match expect(&mut r, "250").await {
                        Ok(()) => {
                            lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))
                        }
                        Err(_) => errors += 1,
                    }
                }
                anyhow::Ok(())
            };
            if run.await.is_err() {
                errors += 1;
            }
            (lat, errors)
        }));
    }
    Outcome::gather(tasks, start).await
}
