//! What FETCH reads out of a stored message: ENVELOPE, BODYSTRUCTURE and body sections
//! (RFC 3501 §6.4.5, §7.4.2), from `mail-parser`'s part tree and its byte offsets into the raw
//! message, which is never rewritten: `BODY[]` is the bytes as stored.

use super::wire::{nstring, string};
use mail_parser::{Address, Message, MessagePart, MimeHeaders as _, PartType};

/// A section of a message as FETCH names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// `BODY[]`, `RFC822`: the whole message.
    Whole,
    /// `[HEADER]` of the message or of a part that is a message.
    Header(Vec<u32>),
    /// `[HEADER.FIELDS (…)]`, or with `not` `[HEADER.FIELDS.NOT (…)]`.
    Fields(Vec<u32>, Vec<String>, bool),
    /// `[TEXT]`.
    Text(Vec<u32>),
    /// `[1.2]`: a part's content.
    Part(Vec<u32>),
    /// `[1.2.MIME]`: a part's own header.
    Mime(Vec<u32>),
}

/// A part found by its number, with the bytes of the message that holds it.
struct Found<'m> {
    raw: &'m [u8],
    part: &'m MessagePart<'m>,
}

/// Finds a part by its IMAP number (`[]` is the root).
fn locate<'m>(msg: &'m Message<'m>, path: &[u32]) -> Option<Found<'m>> {
    let mut holder = msg;
    let mut part = msg.parts.first()?;
    let mut at_root = true;
    for &n in path {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        match &part.body {
            PartType::Multipart(children) => {
                part = holder
                    .parts
                    .get(usize::try_from(*children.get(index)?).ok()?)?;
            }
            _ if at_root => {
                // A single-part message has one part, its body: "1".
                if index != 0 {
                    return None;
                }
            }
            PartType::Message(nested) => {
                holder = nested;
                let root = nested.parts.first()?;
                part = match &root.body {
                    PartType::Multipart(children) => nested
                        .parts
                        .get(usize::try_from(*children.get(index)?).ok()?)?,
                    _ if index == 0 => root,
                    _ => return None,
                };
            }
            _ => return None,
        }
        at_root = false;
    }
    Some(Found {
        raw: holder.raw_message.as_ref(),
        part,
    })
}

/// The message a part holds (a `message/rfc822` part), or the message itself for `[]`.
fn message_at<'m>(msg: &'m Message<'m>, path: &[u32]) -> Option<&'m Message<'m>> {
    if path.is_empty() {
        return Some(msg);
    }
    match &locate(msg, path)?.part.body {
        PartType::Message(nested) => Some(nested),
        _ => None,
    }
}

fn slice(raw: &[u8], from: u32, to: u32) -> &[u8] {
    let (from, to) = (from as usize, (to as usize).min(raw.len()));
    raw.get(from.min(to)..to).unwrap_or_default()
}

/// The bytes of a section; empty when the message has no such part (RFC 3501 lets a server
/// answer an empty string rather than fail the whole FETCH).
pub fn section(raw: &[u8], msg: Option<&Message<'_>>, which: &Section) -> Vec<u8> {
    let Some(msg) = msg else {
        return match which {
            Section::Whole => raw.to_vec(),
            _ => Vec::new(),
        };
    };
    match which {
        Section::Whole => raw.to_vec(),
        Section::Header(path) => message_at(msg, path).map_or_else(Vec::new, header_block),
        Section::Text(path) => message_at(msg, path).map_or_else(Vec::new, |m| {
            m.parts.first().map_or_else(Vec::new, |root| {
                slice(m.raw_message.as_ref(), root.offset_body, root.offset_end).to_vec()
            })
        }),
        Section::Fields(path, names, not) => {
            message_at(msg, path).map_or_else(Vec::new, |m| fields(&header_block(m), names, *not))
        }
        Section::Part(path) => locate(msg, path).map_or_else(Vec::new, |f| {
            slice(f.raw, f.part.offset_body, f.part.offset_end).to_vec()
        }),
        Section::Mime(path) => locate(msg, path).map_or_else(Vec::new, |f| {
            slice(f.raw, f.part.offset_header, f.part.offset_body).to_vec()
        }),
    }
}

/// The header of a message, up to and including the empty line. A message inside another may
/// share its holder's bytes, so its own root part says where it starts.
fn header_block(m: &Message<'_>) -> Vec<u8> {
    m.parts.first().map_or_else(Vec::new, |root| {
        slice(m.raw_message.as_ref(), root.offset_header, root.offset_body).to_vec()
    })
}

/// The header lines (with their continuation lines) whose names are in `names` — or, with `not`,
/// are not — followed by the empty line.
fn fields(header: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            let name = String::from_utf8_lossy(name);
            let listed = names.iter().any(|n| n.eq_ignore_ascii_case(name.trim()));
            keep = listed != not;
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Writes the ENVELOPE of a message (RFC 3501 §7.4.2): header values as written, addresses
/// split into name, mailbox and host.
pub fn envelope(out: &mut Vec<u8>, msg: &Message<'_>) {
    let raw = |name: &str| msg.header_raw(name).map(|v| v.trim().as_bytes().to_vec());
    out.push(b'(');
    nstring(out, raw("Date").as_deref());
    out.push(b' ');
    nstring(out, raw("Subject").as_deref());
    let from = msg.from();
    for list in [
        from,
        msg.sender().or(from),
        msg.reply_to().or(from),
        msg.to(),
        msg.cc(),
        msg.bcc(),
    ] {
        out.push(b' ');
        addresses(out, list);
    }
    out.push(b' ');
    nstring(out, raw("In-Reply-To").as_deref());
    out.push(b' ');
    nstring(out, raw("Message-ID").as_deref());
    out.push(b')');
}

fn addresses(out: &mut Vec<u8>, list: Option<&Address<'_>>) {
    let Some(list) = list else {
        out.extend_from_slice(b"NIL");
        return;
    };
    let mut items: Vec<(Option<&str>, Option<&str>)> = Vec::new();
    match list {
        Address::List(addrs) => {
            items.extend(
                addrs
                    .iter()
                    .map(|a| (a.name.as_deref(), a.address.as_deref())),
            );
        }
        Address::Group(groups) => {
            for g in groups {
                items.extend(
                    g.addresses
                        .iter()
                        .map(|a| (a.name.as_deref(), a.address.as_deref())),
                );
            }
        }
    }
    if items.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (name, address) in items {
        let address = address.unwrap_or_default();
        let (mailbox, host) = address.rsplit_once('@').unwrap_or((address, ""));
        out.push(b'(');
        nstring(out, name.map(str::as_bytes));
        out.extend_from_slice(b" NIL ");
        string(out, mailbox.as_bytes());
        out.push(b' ');
        if host.is_empty() {
            out.extend_from_slice(b"NIL");
        } else {
            string(out, host.as_bytes());
        }
        out.push(b')');
    }
    out.push(b')');
}

/// Writes BODY (`extended = false`) or BODYSTRUCTURE (`extended = true`).
pub fn structure(out: &mut Vec<u8>, msg: &Message<'_>, extended: bool) {
    match msg.parts.first() {
        Some(root) => part_structure(out, msg, root, extended),
        None => out.extend_from_slice(
            b"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)",
        ),
    }
}

fn part_structure(out: &mut Vec<u8>, msg: &Message<'_>, part: &MessagePart<'_>, extended: bool) {
    let ctype = part.content_type();
    let subtype = ctype.and_then(|c| c.subtype()).unwrap_or("plain");
    if let PartType::Multipart(children) = &part.body {
        out.push(b'(');
        for &child in children {
            if let Some(p) = msg.parts.get(child as usize) {
                part_structure(out, msg, p, extended);
            }
        }
        out.push(b' ');
        string(out, subtype.to_ascii_uppercase().as_bytes());
        if extended {
            out.push(b' ');
            params(out, part);
            out.extend_from_slice(b" NIL NIL NIL");
        }
        out.push(b')');
        return;
    }
    let (main, subtype) = match ctype {
        Some(c) => (c.ctype(), subtype),
        None => ("text", "plain"),
    };
    let raw = msg.raw_message.as_ref();
    let body = slice(raw, part.offset_body, part.offset_end);
    out.push(b'(');
    string(out, main.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    string(out, subtype.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    if ctype.is_none() {
        out.extend_from_slice(b"(\"CHARSET\" \"US-ASCII\")");
    } else {
        params(out, part);
    }
    out.push(b' ');
    nstring(out, part.content_id().map(str::as_bytes));
    out.push(b' ');
    nstring(out, part.content_description().map(str::as_bytes));
    out.push(b' ');
    let encoding = part.content_transfer_encoding().unwrap_or("7bit");
    string(out, encoding.to_ascii_uppercase().as_bytes());
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    let lines = body.iter().filter(|&&b| b == b'\n').count();
    match &part.body {
        PartType::Message(nested) => {
            out.push(b' ');
            envelope(out, nested);
            out.push(b' ');
            structure(out, nested, extended);
            out.extend_from_slice(format!(" {lines}").as_bytes());
        }
        _ if main.eq_ignore_ascii_case("text") => {
            out.extend_from_slice(format!(" {lines}").as_bytes());
        }
        _ => {}
    }
    if extended {
        out.extend_from_slice(b" NIL ");
        match part.content_disposition() {
            Some(d) => {
                out.push(b'(');
                string(out, d.ctype().to_ascii_uppercase().as_bytes());
                out.push(b' ');
                attributes(out, d.attributes());
                out.push(b')');
            }
            None => out.extend_from_slice(b"NIL"),
        }
        out.extend_from_slice(b" NIL NIL");
    }
    out.push(b')');
}

fn params(out: &mut Vec<u8>, part: &MessagePart<'_>) {
    attributes(out, part.content_type().and_then(|c| c.attributes()));
}

fn attributes(out: &mut Vec<u8>, attrs: Option<&[mail_parser::Attribute<'_>]>) {
    match attrs {
        Some(list) if !list.is_empty() => {
            out.push(b'(');
            for (i, a) in list.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                string(out, a.name.to_ascii_uppercase().as_bytes());
                out.push(b' ');
                string(out, a.value.as_bytes());
            }
            out.push(b')');
        }
        _ => out.extend_from_slice(b"NIL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    const MIXED: &[u8] = b"From: A <a@x.example>\r\nTo: b@y.example\r\nSubject: hi\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\nworld\r\n--b1\r\n\
Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b1--\r\n";

    #[test]
    fn sections_come_from_the_raw_bytes() {
        let msg = MessageParser::default().parse(MIXED).unwrap();
        let get = |s: Section| String::from_utf8(section(MIXED, Some(&msg), &s)).unwrap();
        assert!(get(Section::Header(vec![])).ends_with("boundary=\"b1\"\r\n\r\n"));
        assert_eq!(get(Section::Part(vec![1])), "hello\r\nworld");
        assert_eq!(
            get(Section::Mime(vec![1])),
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        );
        assert_eq!(get(Section::Header(vec![2])), "Subject: inner\r\n\r\n");
        assert_eq!(get(Section::Text(vec![2])).trim_end(), "inner body");
        assert_eq!(
            get(Section::Fields(
                vec![],
                vec!["subject".into(), "TO".into()],
                false
            )),
            "To: b@y.example\r\nSubject: hi\r\n\r\n"
        );
        assert_eq!(get(Section::Part(vec![9])), "");
        let text = get(Section::Text(vec![]));
        assert!(
            text.starts_with("preamble\r\n") && text.ends_with("--b1--\r\n"),
            "{text}"
        );
    }

    #[test]
    fn a_single_part_message_is_part_one() {
        let raw = b"Subject: x\r\n\r\nbody\r\n";
        let msg = MessageParser::default().parse(raw.as_slice()).unwrap();
        assert_eq!(
            section(raw, Some(&msg), &Section::Part(vec![1])),
            b"body\r\n"
        );
        let mut out = Vec::new();
        structure(&mut out, &msg, false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 6 1)"
        );
    }

    #[test]
    fn envelopes_split_addresses() {
        let msg = MessageParser::default().parse(MIXED).unwrap();
        let mut out = Vec::new();
        envelope(&mut out, &msg);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("(NIL \"hi\" ((\"A\" NIL \"a\" \"x.example\"))"),
            "{text}"
        );
        assert!(text.contains("((NIL NIL \"b\" \"y.example\"))"), "{text}");
    }
}
