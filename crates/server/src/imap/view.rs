//! The selected folder as the client knows it: the copies by sequence number, their flags as last
//! told, and the folder's modseq then. [`View::sync`] compares that with the store and says what
//! changed, as EXPUNGE, EXISTS and FETCH FLAGS lines — holding back expunges while a command
//! that uses sequence numbers runs (RFC 3501 §7.4.1).

use crate::mail::folders::{Entry, Folder};
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use std::collections::HashMap;

/// A selected folder.
pub struct View {
    /// The folder as it was when selected (its id and UIDVALIDITY do not change).
    pub folder: Folder,
    /// EXAMINE: nothing may change (not even `\Seen` by a FETCH).
    pub read_only: bool,
    /// The copies, index + 1 = sequence number.
    pub entries: Vec<Entry>,
    /// The folder's modseq when last compared.
    pub modseq: i64,
}

impl View {
    /// A view of `folder` holding `entries`.
    pub fn new(folder: Folder, entries: Vec<Entry>, read_only: bool) -> View {
        let modseq = folder.modseq;
        View {
            folder,
            read_only,
            entries,
            modseq,
        }
    }

    /// How many copies the client knows of.
    pub fn exists(&self) -> usize {
        self.entries.len()
    }

    /// The sequence number of a UID.
    pub fn seq_of(&self, uid: i64) -> Option<usize> {
        self.entries
            .binary_search_by_key(&uid, |e| e.uid)
            .ok()
            .map(|i| i + 1)
    }

    /// The indexes a sequence set names: by sequence number, or by UID (`uid`). `*` is the last
    /// copy; a UID range past the last UID still names the last copy (RFC 3501 §6.4.8).
    pub fn select(&self, set: &SequenceSet, uid: bool) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        if self.entries.is_empty() {
            return out;
        }
        let last_uid = self.entries.last().map_or(0, |e| e.uid);
        let n = self.entries.len();
        let value = |s: &SeqOrUid, largest: i64| match s {
            SeqOrUid::Asterisk => largest,
            SeqOrUid::Value(v) => i64::from(v.get()),
        };
        for seq in set.0.as_ref() {
            let (a, b) = match seq {
                Sequence::Single(s) => (s, s),
                Sequence::Range(a, b) => (a, b),
            };
            if uid {
                let (a, b) = (value(a, last_uid), value(b, last_uid));
                let (lo, hi) = (a.min(b), a.max(b));
                let start = self.entries.partition_point(|e| e.uid < lo);
                let end = self.entries.partition_point(|e| e.uid <= hi);
                out.extend(start..end);
            } else {
                let largest = i64::try_from(n).unwrap_or(i64::MAX);
                let (a, b) = (value(a, largest), value(b, largest));
                let (lo, hi) = (a.min(b).max(1), a.max(b).min(largest));
                if lo <= hi {
                    let lo = usize::try_from(lo - 1).unwrap_or(0);
                    let hi = usize::try_from(hi).unwrap_or(n);
                    out.extend(lo..hi);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the copy at `index` is in a set (by sequence number, or by UID with `uid`),
    /// without listing the set: SEARCH asks it of every copy.
    pub fn contains(&self, set: &SequenceSet, uid: bool, index: usize) -> bool {
        let Some(entry) = self.entries.get(index) else {
            return false;
        };
        let (largest, at) = if uid {
            (self.entries.last().map_or(0, |e| e.uid), entry.uid)
        } else {
            (
                i64::try_from(self.entries.len()).unwrap_or(i64::MAX),
                i64::try_from(index + 1).unwrap_or(i64::MAX),
            )
        };
        let value = |s: &SeqOrUid| match s {
            SeqOrUid::Asterisk => largest,
            SeqOrUid::Value(v) => i64::from(v.get()),
        };
        set.0.as_ref().iter().any(|seq| {
            let (a, b) = match seq {
                Sequence::Single(s) => (value(s), value(s)),
                Sequence::Range(a, b) => (value(a), value(b)),
            };
            (a.min(b)..=a.max(b)).contains(&at)
        })
    }

    /// Whether a sequence-number set names messages the client cannot know of (a number past
    /// EXISTS): RFC 3501 makes that a BAD, unlike a UID set.
    pub fn out_of_range(&self, set: &SequenceSet) -> bool {
        let n = self.entries.len();
        set.0.as_ref().iter().any(|s| {
            let over = |v: &SeqOrUid| match v {
                SeqOrUid::Asterisk => false,
                SeqOrUid::Value(v) => usize::try_from(v.get()).unwrap_or(usize::MAX) > n,
            };
            match s {
                Sequence::Single(a) => over(a),
                Sequence::Range(a, b) => over(a) && over(b),
            }
        })
    }

    /// The folder's copies as stored, from the copies changed or added since this view's modseq
    /// and how many the folder holds: `None` when that count says a copy of the view is gone (then
    /// only the whole folder tells which). The copies are those [`View::sync`] takes.
    pub fn patched(&self, changed: Vec<Entry>, count: i64) -> Option<Vec<Entry>> {
        let last = self.entries.last().map_or(0, |e| e.uid);
        let added = changed.iter().filter(|e| e.uid > last).count();
        if usize::try_from(count).ok()? != self.entries.len() + added {
            return None;
        }
        let mut now = self.entries.clone();
        for c in changed {
            // Sorted by UID, and every added copy is above the view's last.
            match now.binary_search_by_key(&c.uid, |e| e.uid) {
                Ok(i) => now[i] = c,
                Err(_) => now.push(c),
            }
        }
        Some(now)
    }

    /// Brings the view up to `now` (the folder's copies as stored, at `modseq`) and returns the
    /// untagged lines that tell the client. With `expunges` false, copies gone stay in the view
    /// (and the view stays behind `modseq`) until a command that may announce them.
    pub fn sync(
        &mut self,
        now: Vec<Entry>,
        modseq: i64,
        expunges: bool,
        condstore: bool,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        let current: HashMap<i64, &Entry> = now.iter().map(|e| (e.uid, e)).collect();
        let mut held_back = false;
        if expunges {
            // From the highest sequence number down, so each number is right when it is said.
            for i in (0..self.entries.len()).rev() {
                if !current.contains_key(&self.entries[i].uid) {
                    lines.push(format!("* {} EXPUNGE", i + 1));
                    self.entries.remove(i);
                }
            }
        } else {
            held_back = self.entries.iter().any(|e| !current.contains_key(&e.uid));
        }
        for (i, known) in self.entries.iter_mut().enumerate() {
            let Some(fresh) = current.get(&known.uid) else {
                continue;
            };
            if fresh.seen != known.seen
                || fresh.flags != known.flags
                || fresh.keywords != known.keywords
            {
                let flags = super::wire::flags(fresh);
                let modseq = if condstore {
                    format!(" MODSEQ ({})", fresh.modseq)
                } else {
                    String::new()
                };
                lines.push(format!(
                    "* {} FETCH (UID {} FLAGS {flags}{modseq})",
                    i + 1,
                    fresh.uid
                ));
            }
            *known = (*fresh).clone();
        }
        let last = self.entries.last().map_or(0, |e| e.uid);
        let before = self.entries.len();
        self.entries
            .extend(now.into_iter().filter(|e| e.uid > last));
        if self.entries.len() != before {
            lines.push(format!("* {} EXISTS", self.entries.len()));
            lines.push("* 0 RECENT".to_owned());
        }
        if !held_back {
            self.modseq = modseq;
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(uid: i64, seen: bool, modseq: i64) -> Entry {
        Entry {
            uid,
            seen,
            modseq,
            mail_id: format!("m{uid}"),
            ..Entry::upload(0)
        }
    }

    fn view(entries: Vec<Entry>) -> View {
        let folder = Folder {
            id: 1,
            name: "INBOX".into(),
            special: Some("inbox".into()),
            uidnext: 10,
            modseq: 5,
            subscribed: true,
        };
        View::new(folder, entries, false)
    }

    #[test]
    fn a_patch_of_changed_and_new_copies_gives_what_a_whole_read_would() {
        let mut v = view(vec![
            entry(1, false, 2),
            entry(3, false, 3),
            entry(4, false, 4),
        ]);
        let changed = vec![entry(3, true, 6), entry(7, false, 7)];
        let now = v.patched(changed, 4).expect("nothing is gone");
        let whole = [
            entry(1, false, 2),
            entry(3, true, 6),
            entry(4, false, 4),
            entry(7, false, 7),
        ];
        assert_eq!(
            now.iter().map(|e| (e.uid, e.seen)).collect::<Vec<_>>(),
            whole.iter().map(|e| (e.uid, e.seen)).collect::<Vec<_>>()
        );
        let lines = v.sync(now, 7, true, false);
        assert_eq!(
            lines,
            [
                "* 2 FETCH (UID 3 FLAGS (\\Seen))",
                "* 4 EXISTS",
                "* 0 RECENT"
            ]
        );
    }

    #[test]
    fn a_copy_gone_sends_the_refresh_to_the_whole_folder() {
        let v = view(vec![entry(1, false, 2), entry(3, false, 3)]);
        // One copy expunged and one added: the count alone would balance without the new one.
        assert!(v.patched(vec![entry(5, false, 6)], 2).is_none());
        assert!(v.patched(Vec::new(), 1).is_none());
        assert!(v.patched(Vec::new(), 2).is_some());
    }
}
