//! Where a source folder lands here: special folders (by SPECIAL-USE attribute, else by the names
//! Exmail, QQ Mail, Outlook, Apple Mail and Dovecot give them) become bizmail's own; the others
//! keep their decoded Unicode names, with `/` between levels whatever the source's delimiter.

use bizmail_server::mail::folders::Special;

/// A source folder and its place here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The name on the wire at the source (modified UTF-7), for EXAMINE.
    pub wire: String,
    /// The decoded name at the source (its levels joined by `/`): the key of its progress.
    pub name: String,
    /// Where it goes here.
    pub target: Target,
}

/// A folder here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One of the member's special folders.
    Special(Special),
    /// A folder of this name (levels joined by `/`).
    Named(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Special(s) => f.write_str(s.default_name()),
            Target::Named(n) => f.write_str(n),
        }
    }
}

/// Names that mean a special folder, compared without case. Exmail (like QQ Mail) calls them
/// "Sent Messages", "Drafts", "Deleted Messages", "Junk"; Chinese clients made 已发送 & co.
const NAMES: &[(Special, &[&str])] = &[
    (
        Special::Sent,
        &[
            "sent",
            "sent messages",
            "sent items",
            "sent mail",
            "已发送",
            "已发送邮件",
            "已发邮件",
        ],
    ),
    (Special::Drafts, &["drafts", "draft", "草稿箱", "草稿"]),
    (
        Special::Trash,
        &[
            "trash",
            "deleted messages",
            "deleted items",
            "deleted",
            "已删除",
            "已删除邮件",
            "废纸篓",
        ],
    ),
    (
        Special::Junk,
        &[
            "junk",
            "spam",
            "junk e-mail",
            "junk email",
            "bulk mail",
            "垃圾邮件",
            "垃圾箱",
        ],
    ),
];

/// Maps one LIST answer: its wire name, delimiter and SPECIAL-USE role (if the source said).
/// `None` when the name is not valid modified UTF-7 (it would be a different folder here).
pub fn map(wire: &str, delimiter: Option<&str>, role: Option<Special>) -> Option<Mapped> {
    let decoded = bizmail_server::imap::decode_folder_name(wire.as_bytes())?;
    let levels: Vec<&str> = match delimiter {
        Some(d) if !d.is_empty() => decoded.split(d).filter(|l| !l.is_empty()).collect(),
        _ => vec![decoded.as_str()],
    };
    let name = levels.join("/");
    let target = if name.eq_ignore_ascii_case("INBOX") {
        Target::Special(Special::Inbox)
    } else if let Some(role) = role.filter(|r| *r != Special::Inbox) {
        Target::Special(role)
    } else if let Some(role) = by_name(&levels) {
        Target::Special(role)
    } else if levels
        .first()
        .is_some_and(|l| l.eq_ignore_ascii_case("INBOX"))
    {
        // INBOX's children keep INBOX as it is spelled here.
        let rest = levels.get(1..).unwrap_or_default().join("/");
        Target::Named(format!("INBOX/{rest}"))
    } else {
        Target::Named(name.clone())
    };
    Some(Mapped {
        wire: wire.to_owned(),
        name,
        target,
    })
}

/// A special role guessed from the name of a top-level folder, or of one directly under INBOX
/// (servers with an `INBOX.` namespace prefix).
fn by_name(levels: &[&str]) -> Option<Special> {
    let last = match levels {
        [one] => one,
        [inbox, one] if inbox.eq_ignore_ascii_case("INBOX") => one,
        _ => return None,
    };
    let last = last.to_lowercase();
    NAMES
        .iter()
        .find(|(_, names)| names.contains(&last.as_str()))
        .map(|(role, _)| *role)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(wire: &str, delimiter: &str, role: Option<Special>) -> Target {
        map(wire, Some(delimiter), role).unwrap().target
    }

    #[test]
    fn special_folders_by_attribute_and_by_name() {
        assert_eq!(target("inbox", "/", None), Target::Special(Special::Inbox));
        assert_eq!(
            target("Gesendet", "/", Some(Special::Sent)),
            Target::Special(Special::Sent)
        );
        assert_eq!(
            target("Sent Messages", "/", None),
            Target::Special(Special::Sent)
        );
        // 已发送, 草稿箱, 垃圾邮件 and "Deleted Messages" under an INBOX. prefix.
        assert_eq!(
            target("&XfJT0ZAB-", "/", None),
            Target::Special(Special::Sent)
        );
        assert_eq!(
            target("&g0l6P3ux-", "/", None),
            Target::Special(Special::Drafts)
        );
        assert_eq!(
            target("&V4NXPpCuTvY-", ".", None),
            Target::Special(Special::Junk)
        );
        assert_eq!(
            target("INBOX.Deleted Messages", ".", None),
            Target::Special(Special::Trash)
        );
    }

    #[test]
    fn other_folders_keep_their_decoded_names_and_levels() {
        // 客户.重要 with Dovecot's Maildir++ delimiter.
        let m = map("&W6JiNw-.&kc2JgQ-", Some("."), None).unwrap();
        assert_eq!(m.name, "客户/重要");
        assert_eq!(m.target, Target::Named("客户/重要".into()));
        assert_eq!(m.wire, "&W6JiNw-.&kc2JgQ-");
        assert_eq!(
            target("Projects/Sent", "/", None),
            Target::Named("Projects/Sent".into())
        );
        assert_eq!(
            target("inbox/Lists", "/", None),
            Target::Named("INBOX/Lists".into())
        );
        assert_eq!(map("&Jjo", Some("/"), None), None);
    }
}
