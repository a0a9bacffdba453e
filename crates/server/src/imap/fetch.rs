//! FETCH and UID FETCH (RFC 3501 §6.4.5, CONDSTORE's CHANGEDSINCE and MODSEQ): flags, dates,
//! sizes, ENVELOPE, BODYSTRUCTURE and sections. Reading a body section without `.PEEK` marks the
//! copy `\Seen` — in a folder opened read-write only (never under EXAMINE).

use super::message::{self, Section as Sec};
use super::session::{Session, State};
use super::wire;
use crate::mail::folders::Entry;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItemName, Part, Section,
};
use imap_codec::imap_types::sequence::SequenceSet;
use mail_parser::MessageParser;
use std::num::NonZeroU32;
use tokio::io::{AsyncRead, AsyncWrite};

fn path(part: Option<&Part>) -> Vec<u32> {
    part.map(|p| p.0.as_ref().iter().map(|n| n.get()).collect())
        .unwrap_or_default()
}

/// Our section, and how the answer names it (`BODY[<this>]`).
fn convert(section: Option<&Section<'_>>) -> (Sec, String) {
    let dotted = |p: &[u32]| p.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
    let prefixed = |p: &[u32], what: &str| {
        if p.is_empty() {
            what.to_owned()
        } else {
            format!("{}.{what}", dotted(p))
        }
    };
    let names = |list: &[imap_codec::imap_types::core::AString<'_>]| -> Vec<String> {
        list.iter()
            .map(|n| String::from_utf8_lossy(n.as_ref()).into_owned())
            .collect()
    };
    match section {
        None => (Sec::Whole, String::new()),
        Some(Section::Part(p)) => {
            let p = path(Some(p));
            let name = dotted(&p);
            (Sec::Part(p), name)
        }
        Some(Section::Header(p)) => {
            let p = path(p.as_ref());
            let name = prefixed(&p, "HEADER");
            (Sec::Header(p), name)
        }
        Some(Section::Text(p)) => {
            let p = path(p.as_ref());
            let name = prefixed(&p, "TEXT");
            (Sec::Text(p), name)
        }
        Some(Section::Mime(p)) => {
            let p = path(Some(p));
            let name = prefixed(&p, "MIME");
            (Sec::Mime(p), name)
        }
        Some(Section::HeaderFields(p, list)) | Some(Section::HeaderFieldsNot(p, list)) => {
            let not = matches!(section, Some(Section::HeaderFieldsNot(..)));
            let p = path(p.as_ref());
            let list = names(list.as_ref());
            let what = if not {
                "HEADER.FIELDS.NOT"
            } else {
                "HEADER.FIELDS"
            };
            // Echoed as Dovecot does: upper-case atoms, quoted only when a name needs it.
            let quoted: Vec<String> = list
                .iter()
                .map(|n| {
                    let atom = !n.is_empty()
                        && n.bytes()
                            .all(|b| b.is_ascii_graphic() && !b"(){%*\"\\]".contains(&b));
                    if atom {
                        return n.to_ascii_uppercase();
                    }
                    let mut out = Vec::new();
                    wire::string(&mut out, n.as_bytes());
                    String::from_utf8_lossy(&out).into_owned()
                })
                .collect();
            let name = format!("{} ({})", prefixed(&p, what), quoted.join(" "));
            (Sec::Fields(p, list, not), name)
        }
    }
}

/// Whether an item needs the message's bytes.
fn needs_bytes(item: &MessageDataItemName<'_>) -> bool {
    !matches!(
        item,
        MessageDataItemName::Uid
            | MessageDataItemName::Flags
            | MessageDataItemName::InternalDate
            | MessageDataItemName::Rfc822Size
            | MessageDataItemName::ModSeq
    )
}

/// Whether an item reads a body and so marks the copy `\Seen`.
fn marks_seen(item: &MessageDataItemName<'_>) -> bool {
    matches!(
        item,
        MessageDataItemName::BodyExt { peek: false, .. }
            | MessageDataItemName::Rfc822
            | MessageDataItemName::Rfc822Text
    )
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// `[UID] FETCH set items [(CHANGEDSINCE n)]`.
    pub(super) async fn fetch(
        &mut self,
        tag: &str,
        set: &SequenceSet,
        items: MacroOrMessageDataItemNames<'_>,
        uid: bool,
        modifiers: &[FetchModifier],
    ) {
        let mut items: Vec<MessageDataItemName<'_>> = match items {
            MacroOrMessageDataItemNames::Macro(m) => m
                .expand()
                .into_iter()
                .map(IntoStatic::into_static)
                .collect(),
            MacroOrMessageDataItemNames::MessageDataItemNames(list) => list,
        };
        let mut changed_since = None;
        for m in modifiers {
            if let FetchModifier::ChangedSince(n) = m {
                changed_since = Some(n.get());
                self.condstore = true;
            }
        }
        if uid && !items.contains(&MessageDataItemName::Uid) {
            items.insert(0, MessageDataItemName::Uid);
        }
        if self.condstore
            && changed_since.is_some()
            && !items.contains(&MessageDataItemName::ModSeq)
        {
            items.push(MessageDataItemName::ModSeq);
        }
        let Some((owner, folder_id, read_only, picked)) = self.pick(tag, set, uid) else {
            return;
        };
        let picked: Vec<usize> = match (changed_since, &self.state) {
            (Some(since), State::Selected(_, view)) => picked
                .into_iter()
                .filter(|&i| u64::try_from(view.entries[i].modseq).unwrap_or(0) > since)
                .collect(),
            _ => picked,
        };
        // Bodies read without .PEEK are marked \Seen first, so the answer shows the new flags.
        if !read_only
            && items.iter().any(marks_seen)
            && let State::Selected(_, view) = &mut self.state
        {
            {
                let unseen: Vec<Entry> = picked
                    .iter()
                    .filter(|&&i| !view.entries[i].seen)
                    .map(|&i| Entry {
                        seen: true,
                        ..view.entries[i].clone()
                    })
                    .collect();
                if !unseen.is_empty() {
                    match self
                        .ctx
                        .mailboxes
                        .set_flags(&owner, folder_id, &unseen)
                        .await
                    {
                        Ok(modseq) => {
                            for e in unseen {
                                if let Some(i) = view.seq_of(e.uid) {
                                    view.entries[i - 1] = Entry { modseq, ..e };
                                }
                            }
                            if !items.contains(&MessageDataItemName::Flags) {
                                items.push(MessageDataItemName::Flags);
                            }
                        }
                        Err(e) => return self.unavailable(tag, &e),
                    }
                }
            }
        }
        let bytes_needed = items.iter().any(needs_bytes);
        for i in picked {
            let State::Selected(_, view) = &self.state else {
                return;
            };
            let entry = view.entries[i].clone();
            let raw = if bytes_needed {
                match self.ctx.mailboxes.raw_by_uid(folder_id, entry.uid).await {
                    Ok(Some(raw)) => Some(raw),
                    // Expunged meanwhile by another session: nothing to say about it.
                    Ok(None) => continue,
                    Err(e) => return self.unavailable(tag, &e),
                }
            } else {
                None
            };
            let line = fetch_line(i + 1, &entry, raw.as_deref(), &items);
            self.out.extend_from_slice(&line);
            if self.flush_if_large().await.is_err() {
                return;
            }
        }
        self.line(&format!("{tag} OK FETCH completed"));
    }

    /// The selected folder's indexes a set names, with what a command needs to act on them; a
    /// tagged answer is said when there is no folder or the set is out of range.
    pub(super) fn pick(
        &mut self,
        tag: &str,
        set: &SequenceSet,
        uid: bool,
    ) -> Option<(crate::mail::mailbox::Owner, i64, bool, Vec<usize>)> {
        let State::Selected(owner, view) = &self.state else {
            self.line(&format!("{tag} BAD Select a folder first"));
            return None;
        };
        if !uid && view.out_of_range(set) {
            self.line(&format!("{tag} BAD Message sequence number out of range"));
            return None;
        }
        let picked = view.select(set, uid);
        Some((owner.clone(), view.folder.id, view.read_only, picked))
    }
}

/// One `* n FETCH (…)` answer.
fn fetch_line(
    seq: usize,
    e: &Entry,
    raw: Option<&[u8]>,
    items: &[MessageDataItemName<'_>],
) -> Vec<u8> {
    let parsed = raw.and_then(|r| MessageParser::default().parse(r));
    let raw = raw.unwrap_or_default();
    let mut pieces: Vec<Vec<u8>> = Vec::with_capacity(items.len());
    for item in items {
        let mut out = Vec::new();
        match item {
            MessageDataItemName::Uid => out.extend_from_slice(format!("UID {}", e.uid).as_bytes()),
            MessageDataItemName::Flags => {
                out.extend_from_slice(format!("FLAGS {}", wire::flags(e)).as_bytes());
            }
            MessageDataItemName::InternalDate => out.extend_from_slice(
                format!("INTERNALDATE {}", wire::internal_date(e.received_ms)).as_bytes(),
            ),
            MessageDataItemName::Rfc822Size => {
                out.extend_from_slice(format!("RFC822.SIZE {}", raw_len(e, raw)).as_bytes());
            }
            MessageDataItemName::ModSeq => {
                out.extend_from_slice(format!("MODSEQ ({})", e.modseq).as_bytes());
            }
            MessageDataItemName::Envelope => {
                out.extend_from_slice(b"ENVELOPE ");
                match &parsed {
                    Some(m) => message::envelope(&mut out, m),
                    None => out.extend_from_slice(b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"),
                }
            }
            MessageDataItemName::Body | MessageDataItemName::BodyStructure => {
                let extended = matches!(item, MessageDataItemName::BodyStructure);
                out.extend_from_slice(if extended {
                    b"BODYSTRUCTURE "
                } else {
                    b"BODY "
                });
                match &parsed {
                    Some(m) => message::structure(&mut out, m, extended),
                    None => out.extend_from_slice(b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)"),
                }
            }
            MessageDataItemName::Rfc822 => {
                out.extend_from_slice(b"RFC822 ");
                wire::literal(&mut out, raw);
            }
            MessageDataItemName::Rfc822Header => {
                out.extend_from_slice(b"RFC822.HEADER ");
                let bytes = message::section(raw, parsed.as_ref(), &Sec::Header(Vec::new()));
                wire::literal(&mut out, &bytes);
            }
            MessageDataItemName::Rfc822Text => {
                out.extend_from_slice(b"RFC822.TEXT ");
                let bytes = message::section(raw, parsed.as_ref(), &Sec::Text(Vec::new()));
                wire::literal(&mut out, &bytes);
            }
            MessageDataItemName::BodyExt {
                section, partial, ..
            } => {
                let (which, name) = convert(section.as_ref());
                let bytes = message::section(raw, parsed.as_ref(), &which);
                match partial {
                    Some((start, len)) => {
                        let from = usize::try_from(*start)
                            .unwrap_or(usize::MAX)
                            .min(bytes.len());
                        let to = from
                            .saturating_add(usize::try_from(NonZeroU32::get(*len)).unwrap_or(0))
                            .min(bytes.len());
                        out.extend_from_slice(format!("BODY[{name}]<{start}> ").as_bytes());
                        wire::literal(&mut out, &bytes[from..to]);
                    }
                    None => {
                        out.extend_from_slice(format!("BODY[{name}] ").as_bytes());
                        wire::literal(&mut out, &bytes);
                    }
                }
            }
            // BINARY is not announced: a client that asks anyway gets nothing for it.
            MessageDataItemName::Binary { .. } | MessageDataItemName::BinarySize { .. } => {}
        }
        if !out.is_empty() {
            pieces.push(out);
        }
    }
    let mut out = format!("* {seq} FETCH (").into_bytes();
    out.extend_from_slice(&pieces.join(&b' '));
    out.extend_from_slice(b")\r\n");
    out
}

fn raw_len(e: &Entry, raw: &[u8]) -> i64 {
    if raw.is_empty() {
        e.size
    } else {
        i64::try_from(raw.len()).unwrap_or(e.size)
    }
}
