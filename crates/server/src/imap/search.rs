//! SEARCH and UID SEARCH (RFC 3501 §6.4.4, CONDSTORE's MODSEQ). Text keys match without regard
//! to case in the decoded text — RFC 2047 headers and bodies in any charset `mail-parser` reads
//! (GB2312, GBK, Big5, UTF-8) — so `SEARCH CHARSET UTF-8 SUBJECT 项目` finds Chinese subjects.
//! A message's bytes are read only when a key needs them.

use super::session::{Session, State};
use crate::mail::folders::{ANSWERED, DELETED, DRAFT, Entry, FLAGGED};
use chrono::NaiveDate;
use imap_codec::imap_types::core::{Charset, Vec1};
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{Address, Message, MessageParser};
use tokio::io::{AsyncRead, AsyncWrite};

/// A copy and, once a key needed them, its parsed bytes.
struct Candidate<'a> {
    seq: usize,
    entry: &'a Entry,
    raw: Option<Vec<u8>>,
}

fn text(s: &[u8]) -> String {
    String::from_utf8_lossy(s).to_lowercase()
}

fn needs_bytes(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().any(needs_bytes),
        SearchKey::Not(k) => needs_bytes(k),
        SearchKey::Or(a, b) => needs_bytes(a) || needs_bytes(b),
        SearchKey::Bcc(_)
        | SearchKey::Body(_)
        | SearchKey::Cc(_)
        | SearchKey::From(_)
        | SearchKey::Header(..)
        | SearchKey::Subject(_)
        | SearchKey::Text(_)
        | SearchKey::To(_)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_) => true,
        _ => false,
    }
}

fn addresses(list: Option<&Address<'_>>) -> String {
    let mut out = String::new();
    let mut push = |name: Option<&str>, addr: Option<&str>| {
        out.push_str(name.unwrap_or_default());
        out.push_str(" <");
        out.push_str(addr.unwrap_or_default());
        out.push_str("> ");
    };
    match list {
        Some(Address::List(l)) => l
            .iter()
            .for_each(|a| push(a.name.as_deref(), a.address.as_deref())),
        Some(Address::Group(g)) => g.iter().flat_map(|g| g.addresses.iter()).for_each(|a| {
            push(a.name.as_deref(), a.address.as_deref());
        }),
        None => {}
    }
    out.to_lowercase()
}

fn body_text(m: &Message<'_>) -> String {
    let mut out = String::new();
    for i in 0..m.text_body_count().max(m.html_body_count()) {
        if let Some(t) = m.body_text(i) {
            out.push_str(&t);
            out.push('\n');
        }
    }
    out.to_lowercase()
}

fn date_of_ms(ms: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.date_naive())
}

fn sent_date(m: &Message<'_>) -> Option<NaiveDate> {
    let d = m.date()?;
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
}

/// Whether a copy matches a key. `msg` is the parsed message, when a key needed it.
fn matches(key: &SearchKey<'_>, c: &Candidate<'_>, msg: Option<&Message<'_>>, all: &State) -> bool {
    let e = c.entry;
    let contains = |hay: String, needle: &[u8]| hay.contains(&text(needle));
    let internal = date_of_ms(e.received_ms);
    match key {
        SearchKey::All | SearchKey::Old => true,
        SearchKey::New | SearchKey::Recent => false,
        SearchKey::And(keys) => keys.as_ref().iter().all(|k| matches(k, c, msg, all)),
        SearchKey::Or(a, b) => matches(a, c, msg, all) || matches(b, c, msg, all),
        SearchKey::Not(k) => !matches(k, c, msg, all),
        SearchKey::Seen => e.seen,
        SearchKey::Unseen => !e.seen,
        SearchKey::Answered => e.flags & ANSWERED != 0,
        SearchKey::Unanswered => e.flags & ANSWERED == 0,
        SearchKey::Deleted => e.flags & DELETED != 0,
        SearchKey::Undeleted => e.flags & DELETED == 0,
        SearchKey::Draft => e.flags & DRAFT != 0,
        SearchKey::Undraft => e.flags & DRAFT == 0,
        SearchKey::Flagged => e.flags & FLAGGED != 0,
        SearchKey::Unflagged => e.flags & FLAGGED == 0,
        SearchKey::Keyword(k) => e
            .keywords
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case(k.as_ref())),
        SearchKey::Unkeyword(k) => !e
            .keywords
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case(k.as_ref())),
        SearchKey::Larger(n) => e.size > i64::from(*n),
        SearchKey::Smaller(n) => e.size < i64::from(*n),
        SearchKey::Before(d) => internal.is_some_and(|i| i < *d.as_ref()),
        SearchKey::On(d) => internal.is_some_and(|i| i == *d.as_ref()),
        SearchKey::Since(d) => internal.is_some_and(|i| i >= *d.as_ref()),
        SearchKey::ModSequence { modseq, .. } => u64::try_from(e.modseq).unwrap_or(0) >= *modseq,
        SearchKey::SequenceSet(set) => match all {
            State::Selected(_, view) => view.contains(set, false, c.seq - 1),
            _ => false,
        },
        SearchKey::Uid(set) => match all {
            State::Selected(_, view) => view.contains(set, true, c.seq - 1),
            _ => false,
        },
        _ => {
            let Some(m) = msg else {
                return false;
            };
            match key {
                SearchKey::From(s) => contains(addresses(m.from()), s.as_ref()),
                SearchKey::To(s) => contains(addresses(m.to()), s.as_ref()),
                SearchKey::Cc(s) => contains(addresses(m.cc()), s.as_ref()),
                SearchKey::Bcc(s) => contains(addresses(m.bcc()), s.as_ref()),
                SearchKey::Subject(s) => {
                    contains(m.subject().unwrap_or_default().to_lowercase(), s.as_ref())
                }
                SearchKey::Header(name, value) => {
                    let name = String::from_utf8_lossy(name.as_ref()).into_owned();
                    let values: Vec<String> = m
                        .headers()
                        .iter()
                        .filter(|h| h.name().eq_ignore_ascii_case(&name))
                        .map(|h| {
                            let decoded = h.value().as_text().unwrap_or_default().to_owned();
                            let raw = m
                                .raw_message()
                                .get(h.offset_start as usize..h.offset_end as usize);
                            format!(
                                "{decoded} {}",
                                String::from_utf8_lossy(raw.unwrap_or_default())
                            )
                        })
                        .collect();
                    !values.is_empty()
                        && values
                            .into_iter()
                            .any(|v| contains(v.to_lowercase(), value.as_ref()))
                }
                SearchKey::Body(s) => contains(body_text(m), s.as_ref()),
                SearchKey::Text(s) => {
                    let headers = String::from_utf8_lossy(
                        m.raw_message()
                            .get(..m.root_part().offset_body as usize)
                            .unwrap_or_default(),
                    )
                    .to_lowercase();
                    let subject = m.subject().unwrap_or_default().to_lowercase();
                    contains(
                        format!("{headers}\n{subject}\n{}", addresses(m.from())),
                        s.as_ref(),
                    ) || contains(body_text(m), s.as_ref())
                }
                SearchKey::SentBefore(d) => sent_date(m).is_some_and(|s| s < *d.as_ref()),
                SearchKey::SentOn(d) => sent_date(m).is_some_and(|s| s == *d.as_ref()),
                SearchKey::SentSince(d) => sent_date(m).is_some_and(|s| s >= *d.as_ref()),
                _ => false,
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// `[UID] SEARCH [CHARSET c] keys`.
    pub(super) async fn search(
        &mut self,
        tag: &str,
        charset: Option<&Charset<'_>>,
        keys: &[SearchKey<'_>],
        uid: bool,
    ) {
        if let Some(c) = charset {
            let name = c.as_ref().to_ascii_uppercase();
            if name != "UTF-8" && name != "US-ASCII" {
                return self.line(&format!(
                    "{tag} NO [BADCHARSET (UTF-8 US-ASCII)] Unknown charset"
                ));
            }
        }
        let State::Selected(_, view) = &self.state else {
            return self.line(&format!("{tag} BAD Select a folder first"));
        };
        let folder_id = view.folder.id;
        let key = match keys {
            [one] => one.clone(),
            many => SearchKey::And(
                Vec1::try_from(many.to_vec()).unwrap_or_else(|_| Vec1::from(SearchKey::All)),
            ),
        };
        let bytes = needs_bytes(&key);
        let uses_modseq = has_modseq(&key);
        let entries: Vec<Entry> = view.entries.clone();
        let mut hits = Vec::new();
        let mut highest = 0;
        for (i, entry) in entries.iter().enumerate() {
            let mut candidate = Candidate {
                seq: i + 1,
                entry,
                raw: None,
            };
            if bytes {
                match self.ctx.mailboxes.raw_by_uid(folder_id, entry.uid).await {
                    Ok(raw) => candidate.raw = raw,
                    Err(e) => return self.unavailable(tag, &e),
                }
            }
            let parsed = candidate
                .raw
                .as_deref()
                .and_then(|r| MessageParser::default().parse(r));
            if matches(&key, &candidate, parsed.as_ref(), &self.state) {
                hits.push(if uid {
                    entry.uid
                } else {
                    i64::try_from(i + 1).unwrap_or(0)
                });
                highest = highest.max(entry.modseq);
            }
        }
        let mut line = String::from("* SEARCH");
        for h in &hits {
            line.push_str(&format!(" {h}"));
        }
        if uses_modseq && !hits.is_empty() {
            self.condstore = true;
            line.push_str(&format!(" (MODSEQ {highest})"));
        }
        self.line(&line);
        self.line(&format!("{tag} OK SEARCH completed"));
    }
}

fn has_modseq(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::ModSequence { .. } => true,
        SearchKey::And(keys) => keys.as_ref().iter().any(has_modseq),
        SearchKey::Not(k) => has_modseq(k),
        SearchKey::Or(a, b) => has_modseq(a) || has_modseq(b),
        _ => false,
    }
}
