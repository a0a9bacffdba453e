//! The seeded mails as stored bytes: who gets mail number `k`, when it was written (working
//! hours of the four weeks before today, in China's time), whether it was read, and its MIME —
//! UTF-8 through mail-builder, or GBK written by hand as older Chinese mail clients send it
//! (`charset=GBK` bodies in base64, RFC 2047 `=?GBK?B?…?=` subjects, names and file names).
//! Mail `k` depends only on the seed, `k`, the company and the number of mails.

use super::company::Company;
use super::rng::Rng;
use super::texts::{Attachment, Content, Day, Draft, Party};
use base64::Engine as _;
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};

/// The days before today that mail is spread over.
const DAYS: i64 = 28;
/// China's offset from UTC, in seconds.
const CST: i64 = 8 * 3600;
const DAY_S: i64 = 86_400;

/// One mail, ready to store.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The member whose INBOX it goes to (an index into [`Company::members`]).
    pub recipient: usize,
    /// The message.
    pub raw: Vec<u8>,
    /// When it arrived (INTERNALDATE), Unix milliseconds.
    pub received_ms: i64,
    /// Read already (`\Seen`).
    pub seen: bool,
    /// Written in GBK.
    pub gbk: bool,
    /// With attachments.
    pub attachments: bool,
}

/// The start of today in China, Unix seconds: mail is dated before it, so a run gives the same
/// mails all day long.
pub fn today(now_s: i64) -> i64 {
    (now_s + CST).div_euclid(DAY_S) * DAY_S - CST
}

/// Mail number `k` of `total`, for one of `recipients` (enabled members, not empty), dated in
/// the [`DAYS`] days before `today`.
pub fn generate(
    c: &Company,
    seed: u64,
    (k, total): (u64, u64),
    recipients: &[usize],
    today: i64,
) -> Mail {
    let mut rng = Rng::stream(seed, "mail", k);
    // Heads get more mail than the others.
    let heads: Vec<usize> = recipients
        .iter()
        .copied()
        .filter(|m| c.members[*m].head)
        .collect();
    let recipient = if !heads.is_empty() && rng.chance(30) {
        *rng.pick(&heads)
    } else {
        *rng.pick(recipients)
    };
    // Spread in order over the days, on working hours; most weekend mail moves to Friday.
    let span = DAYS * DAY_S;
    let mut day_start = today - span
        + (i64::try_from(k).unwrap_or(0) * span / i64::try_from(total.max(1)).unwrap_or(1))
            .div_euclid(DAY_S)
            * DAY_S;
    let weekday = ((day_start + CST).div_euclid(DAY_S) + 4).rem_euclid(7); // 0 is Sunday
    // Drawn whatever the day: the draws after it must not depend on the date of the run.
    let to_friday = rng.chance(75);
    if (weekday == 0 || weekday == 6) && to_friday {
        day_start -= if weekday == 0 { 2 } else { 1 } * DAY_S;
    }
    let sent = day_start + 8 * 3600 + 1800 + i64::try_from(rng.range(0, 11 * 3600)).unwrap_or(0);
    let age_days = (today - sent) / DAY_S;
    let unread = match age_days {
        0..3 => 75,
        3..10 => 45,
        _ => 22,
    };
    let seen = !rng.chance(unread);
    let day = civil(sent);
    let draft = c.compose(&mut rng, recipient, &day);
    let gbk = rng.chance(if draft.external { 60 } else { 10 });
    let domain = draft.from.address.rsplit('@').next().unwrap_or("localhost");
    let message_id = format!("{:016x}.{k}@{domain}", rng.next_u64());
    let date = rfc5322(sent);
    let raw = if gbk {
        gbk_message(&draft, &date, &message_id, k)
    } else {
        None
    };
    let (raw, gbk) = match raw {
        Some(raw) => (raw, true),
        None => (utf8_message(&draft, &date, &message_id, k), false),
    };
    let received_s = sent + i64::try_from(rng.range(2, 90)).unwrap_or(2);
    Mail {
        recipient,
        raw,
        received_ms: received_s * 1000,
        seen,
        gbk,
        attachments: !draft.attachments.is_empty(),
    }
}

/// China's wall-clock time of a moment (UTC+8, no daylight saving), as a naive date-time.
fn china(s: i64) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp(s + CST, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// The date of a moment in China's time.
fn civil(s: i64) -> Day {
    use chrono::Datelike as _;
    let t = china(s);
    Day {
        year: i64::from(t.year()),
        month: t.month(),
        day: t.day(),
        week: t.ordinal0() / 7 + 1,
    }
}

/// An RFC 5322 date in China's time (`Tue, 3 Jun 2025 09:41:12 +0800`).
fn rfc5322(s: i64) -> String {
    china(s).format("%a, %-d %b %Y %H:%M:%S +0800").to_string()
}

/// Lines ending in CRLF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The mail in UTF-8, through mail-builder (the boundary fixed, so the bytes are the seed's).
fn utf8_message(d: &Draft, date: &str, message_id: &str, k: u64) -> Vec<u8> {
    // Names as encoded words of our own: mail-builder 0.4 puts them in quotes, which RFC 2047
    // does not allow (and strict readers show as is). Raw headers fold at the spaces.
    let names = |ps: &[Party]| Raw::new(parties(ps, encoding_rs::UTF_8, " ").unwrap_or_default());
    let mut b = MessageBuilder::new()
        .header("From", names(std::slice::from_ref(&d.from)))
        .header("To", names(&d.to))
        .subject(d.subject.clone())
        .message_id(message_id.to_owned())
        .header("Date", Raw::new(date.to_owned()))
        .header("X-Mailer", Raw::new("bizmail seed"));
    if !d.cc.is_empty() {
        b = b.header("Cc", names(&d.cc));
    }
    let text = MimePart::new("text/plain", BodyPart::Text(crlf(&d.body).into()));
    let body = if d.attachments.is_empty() {
        text
    } else {
        let mut parts = vec![text];
        for a in &d.attachments {
            let part = match &a.content {
                Content::Csv(csv) => MimePart::new(
                    ContentType::new("text/csv").attribute("charset", "utf-8"),
                    // With a byte-order mark: Excel reads the CSV as UTF-8 then.
                    BodyPart::Text(format!("\u{feff}{}", crlf(csv)).into()),
                ),
                Content::Text(t) => MimePart::new(
                    ContentType::new("text/plain").attribute("charset", "utf-8"),
                    BodyPart::Text(crlf(t).into()),
                ),
                Content::Png(png) => {
                    MimePart::new("image/png", BodyPart::Binary(png.clone().into()))
                }
            };
            parts.push(part.attachment(a.filename.clone()));
        }
        let boundary = format!("----=_Part_seed_{k}");
        MimePart::new(
            ContentType::new("multipart/mixed").attribute("boundary", boundary),
            parts,
        )
    };
    // Writing to memory does not fail.
    b.body(body).write_to_vec().unwrap_or_default()
}

/// Text in GBK, or `None` when a character has no GBK code.
fn gbk(text: &str) -> Option<Vec<u8>> {
    let (bytes, _, errors) = encoding_rs::GBK.encode(text);
    (!errors).then(|| bytes.into_owned())
}

/// Base64 in lines of 76 characters, each ending in CRLF.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push_str("\r\n");
    }
    out
}

/// RFC 2047 encoded words (`=?GBK?B?…?=`, `=?UTF-8?B?…?=`) short enough for a header line,
/// separated by `sep` (a space, or a fold); `None` when a character has no code in `charset`.
fn words(text: &str, charset: &'static encoding_rs::Encoding, sep: &str) -> Option<String> {
    let utf8 = charset == encoding_rs::UTF_8;
    let mut chunks = Vec::new();
    let mut chunk = String::new();
    let mut bytes = 0;
    for ch in text.chars() {
        // A GBK character is one byte (ASCII) or two.
        let n = match (utf8, ch.is_ascii()) {
            (true, _) => ch.len_utf8(),
            (false, true) => 1,
            (false, false) => 2,
        };
        if bytes + n > 36 {
            chunks.push(std::mem::take(&mut chunk));
            bytes = 0;
        }
        chunk.push(ch);
        bytes += n;
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    let label = if utf8 { "UTF-8" } else { "GBK" };
    let mut out = Vec::with_capacity(chunks.len());
    for c in chunks {
        let (encoded, _, errors) = charset.encode(&c);
        if errors {
            return None;
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(encoded);
        out.push(format!("=?{label}?B?{b64}?="));
    }
    Some(out.join(sep))
}

fn gbk_words(text: &str) -> Option<String> {
    words(text, encoding_rs::GBK, "\r\n ")
}

/// Addresses with their names as encoded words: `=?…?= <a@b>, …`.
fn parties(ps: &[Party], charset: &'static encoding_rs::Encoding, sep: &str) -> Option<String> {
    let list: Option<Vec<String>> = ps
        .iter()
        .map(|p| Some(format!("{} <{}>", words(&p.name, charset, sep)?, p.address)))
        .collect();
    Some(list?.join(&format!(",{sep}")))
}

/// The mail in GBK, as Foxmail or Outlook in China write it; `None` when some text has a
/// character GBK lacks (the caller writes UTF-8 then).
fn gbk_message(d: &Draft, date: &str, message_id: &str, k: u64) -> Option<Vec<u8>> {
    let mut head = format!(
        "From: {}\r\nTo: {}\r\n",
        parties(std::slice::from_ref(&d.from), encoding_rs::GBK, "\r\n ")?,
        parties(&d.to, encoding_rs::GBK, "\r\n ")?
    );
    if !d.cc.is_empty() {
        head.push_str(&format!(
            "Cc: {}\r\n",
            parties(&d.cc, encoding_rs::GBK, "\r\n ")?
        ));
    }
    head.push_str(&format!(
        "Subject: {}\r\nDate: {date}\r\nMessage-ID: <{message_id}>\r\nX-Mailer: Foxmail 7.2.25.375[cn]\r\nMIME-Version: 1.0\r\n",
        gbk_words(&d.subject)?
    ));
    let text = format!(
        "Content-Type: text/plain;\r\n\tcharset=\"GBK\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64_lines(&gbk(&crlf(&d.body))?)
    );
    if d.attachments.is_empty() {
        return Some(format!("{head}{text}").into_bytes());
    }
    let boundary = format!("----=_NextPart_seed_{k}");
    let mut out = format!(
        "{head}Content-Type: multipart/mixed;\r\n\tboundary=\"{boundary}\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--{boundary}\r\n{text}"
    );
    for a in &d.attachments {
        out.push_str(&format!("\r\n--{boundary}\r\n{}", gbk_attachment(a)?));
    }
    out.push_str(&format!("\r\n--{boundary}--\r\n"));
    Some(out.into_bytes())
}

fn gbk_attachment(a: &Attachment) -> Option<String> {
    let name = gbk_words(&a.filename)?.replace("\r\n ", " ");
    let (kind, bytes) = match &a.content {
        Content::Csv(csv) => ("text/csv;\r\n\tcharset=\"GBK\"", gbk(&crlf(csv))?),
        Content::Text(t) => ("text/plain;\r\n\tcharset=\"GBK\"", gbk(&crlf(t))?),
        Content::Png(png) => ("image/png", png.clone()),
    };
    Some(format!(
        "Content-Type: {kind};\r\n\tname=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n\tfilename=\"{name}\"\r\n\r\n{}",
        base64_lines(&bytes)
    ))
}

/// A small screenshot: a window with a title bar, a few rows of a list, and the row in red that
/// the bug report is about: a 48×32 PNG (encoded by the `png` crate).
pub fn screenshot(rng: &mut Rng) -> Vec<u8> {
    let (w, h) = (48u32, 32u32);
    let bad_row = u32::try_from(rng.range(1, 4)).unwrap_or(1);
    let mut raw = Vec::with_capacity((w * 3 * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let px: [u8; 3] = match y {
                0..6 => [0x2b, 0x6c, 0xd6],
                _ if x < 2 || x >= w - 2 || y >= h - 2 => [0xc8, 0xc8, 0xc8],
                _ if (y - 6) / 6 == bad_row && (y - 6) % 6 < 4 => [0xe0, 0x40, 0x40],
                _ if (y - 6) % 6 < 4 => [0xee, 0xee, 0xee],
                _ => [0xff, 0xff, 0xff],
            };
            raw.extend_from_slice(&px);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing into memory cannot fail; an empty attachment would only look broken.
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&raw));
    if written.is_err() {
        png.clear();
    }
    png
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders as _;

    #[test]
    fn dates_are_in_china_time() {
        // 2024-06-03 01:41:12 UTC is 09:41:12 in China, a Monday.
        assert_eq!(rfc5322(1_717_378_872), "Mon, 3 Jun 2024 09:41:12 +0800");
        let d = civil(1_717_378_872);
        assert_eq!((d.year, d.month, d.day, d.week), (2024, 6, 3, 23));
        // Half past midnight in China is still "today" there, though it is yesterday in UTC.
        assert_eq!(today(1_717_345_800), 1_717_344_000);
    }

    #[test]
    fn every_text_can_be_gbk_and_mails_are_what_they_say() {
        let c = Company::generate(1, "demo.cn", 80);
        let recipients: Vec<usize> = (0..80).filter(|m| c.members[*m].enabled).collect();
        let (mut gbk_mails, mut unread) = (0, 0);
        for k in 0..400 {
            let mut rng = Rng::stream(1, "test", k);
            let to = *rng.pick(&recipients);
            let d = c.compose(&mut rng, to, &civil(1_717_378_872));
            assert!(
                gbk(&d.body).is_some() && gbk_words(&d.subject).is_some(),
                "{}",
                d.subject
            );
            let m = generate(&c, 1, (k, 400), &recipients, today(1_717_378_872));
            assert!(m.received_ms / 1000 < today(1_717_378_872) + 3600);
            let parsed = mail_parser::MessageParser::default().parse(&m.raw).unwrap();
            assert!(!parsed.subject().unwrap().is_ascii());
            let from = parsed.from().unwrap().first().unwrap();
            assert!(!from.name().unwrap().is_ascii(), "{from:?}");
            // Encoded words stand bare in address fields (in quotes they would be shown as is).
            let text = String::from_utf8_lossy(&m.raw);
            let head = text.split("\r\n\r\n").next().unwrap();
            assert!(
                head.contains("From: =?") && !head.contains("\"=?"),
                "{head}"
            );
            for a in parsed.attachments() {
                assert!(!a.attachment_name().unwrap().is_ascii());
            }
            assert!(
                parsed.body_text(0).unwrap().contains("：")
                    || parsed.body_text(0).unwrap().contains("，")
            );
            gbk_mails += usize::from(m.gbk);
            unread += usize::from(!m.seen);
        }
        assert!((20..200).contains(&gbk_mails), "{gbk_mails}");
        assert!((80..220).contains(&unread), "{unread}");
        assert_eq!(
            generate(&c, 1, (7, 400), &recipients, 1_717_344_000).raw,
            generate(&c, 1, (7, 400), &recipients, 1_717_344_000).raw
        );
        // Run on another day, a mail is the same mail (its dates aside).
        for k in 0..50 {
            let on = |day: i64| {
                let m = generate(&c, 1, (k, 50), &recipients, 1_717_344_000 + day * DAY_S);
                let p = mail_parser::MessageParser::default().parse(&m.raw).unwrap();
                let from = p
                    .from()
                    .unwrap()
                    .first()
                    .unwrap()
                    .address()
                    .unwrap()
                    .to_owned();
                (m.recipient, from, m.gbk, m.attachments)
            };
            assert!((1..7).all(|day| on(day) == on(0)), "mail {k}");
        }
    }
}
