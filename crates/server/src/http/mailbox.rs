//! The web mailbox's folder views and what changes mail: a folder (INBOX unless another is asked
//! for) newest first with the folder list beside it, search within the folder, marking read or
//! unread, moving to another folder, Delete (into Trash, or for good from Trash) and emptying
//! Trash. Every change is a POST with the session's anti-CSRF token, made through the mail room,
//! so IMAP clients and `listen` see it at once.

use super::AppState;
use super::error::unavailable_page;
use super::i18n::{Lang, Texts};
use super::redirect;
use super::webmail::{SignedIn, message, owner, page, received_at};
use crate::mail::folders::{Folder, Special};
use crate::mail::render;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Mails per page.
const PAGE_SIZE: u32 = 50;
/// The longest search accepted, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// A folder in the list beside the mail.
struct FolderLink {
    id: i64,
    name: String,
    unseen: i64,
    current: bool,
}

struct Row {
    mail_id: String,
    from: String,
    subject: String,
    summary: String,
    when: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct FolderTemplate<'a> {
    t: &'a Texts,
    title: &'a str,
    folders: Vec<FolderLink>,
    folder_id: i64,
    is_trash: bool,
    /// Drafts open in the compose form rather than the read page.
    is_drafts: bool,
    query: &'a str,
    query_in_url: String,
    rows: Vec<Row>,
    prev: Option<i64>,
    next: Option<i64>,
    csrf: &'a str,
}

/// The name a folder is shown by: the special ones in the reader's language.
fn shown_name(t: &Texts, f: &Folder) -> String {
    match f.role() {
        Some(Special::Inbox) => t.inbox.to_owned(),
        Some(Special::Sent) => t.special_folders[0].to_owned(),
        Some(Special::Drafts) => t.special_folders[1].to_owned(),
        Some(Special::Trash) => t.special_folders[2].to_owned(),
        Some(Special::Junk) => t.special_folders[3].to_owned(),
        None => f.name.clone(),
    }
}

/// Which folder, which page, what to look for.
#[derive(Deserialize)]
pub struct FolderQuery {
    folder: Option<i64>,
    page: Option<i64>,
    q: Option<String>,
}

/// `GET /mail/`: a folder, newest first.
pub async fn folder(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    Query(q): Query<FolderQuery>,
) -> Response {
    let t = lang.texts();
    let who = owner(&s);
    let folders = match state.mailboxes.folders(&who).await {
        Ok(f) => f,
        Err(e) => return unavailable_page(t, "listing folders", &e),
    };
    // An unknown folder id (another member's included) shows INBOX, never an error that would
    // tell whether the id exists.
    let current = q
        .folder
        .and_then(|id| folders.iter().find(|f| f.id == id))
        .or_else(|| folders.iter().find(|f| f.role() == Some(Special::Inbox)));
    let Some(current) = current.cloned() else {
        return unavailable_page(t, "finding INBOX", &"the member has no INBOX folder");
    };
    let query: String =
        q.q.unwrap_or_default()
            .chars()
            .take(MAX_QUERY_CHARS)
            .collect();
    // Any page number is accepted; one past the last possible page is an empty page, so the
    // offset and the next page's number cannot overflow.
    let last_page = i64::from(u32::MAX / PAGE_SIZE);
    let page_no = q.page.unwrap_or(0).clamp(0, last_page);
    let offset = u32::try_from(page_no).map_or(u32::MAX, |p| p.saturating_mul(PAGE_SIZE));
    let listed = state
        .mailboxes
        .page(&who, current.id, &query, PAGE_SIZE + 1, offset)
        .await;
    let mut copies = match listed {
        Ok(c) => c,
        Err(e) => return unavailable_page(t, "listing a mailbox", &e),
    };
    let more = copies.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    copies.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let mut links = Vec::with_capacity(folders.len());
    for f in &folders {
        let unseen = match state.mailboxes.counts(f.id).await {
            Ok((_, unseen, _)) => unseen,
            Err(e) => return unavailable_page(t, "counting mail", &e),
        };
        links.push(FolderLink {
            id: f.id,
            name: shown_name(t, f),
            unseen,
            current: f.id == current.id,
        });
    }
    // INBOX and the special folders first, in their usual order, then the member's own.
    links.sort_by_key(|l| {
        let f = folders.iter().find(|f| f.id == l.id);
        let rank = f
            .and_then(Folder::role)
            .and_then(|r| Special::ALL.iter().position(|x| *x == r))
            .unwrap_or(Special::ALL.len());
        (rank, l.name.clone())
    });
    let rows = copies
        .into_iter()
        .map(|c| Row {
            mail_id: c.mail_id,
            from: render::display_from(&c.from_header),
            subject: if c.subject.is_empty() {
                t.no_subject.into()
            } else {
                c.subject
            },
            summary: c.summary,
            when: received_at(c.received_ms),
            unread: !c.seen,
        })
        .collect();
    let title = shown_name(t, &current);
    let body = FolderTemplate {
        t,
        title: &title,
        folders: links,
        folder_id: current.id,
        is_trash: current.role() == Some(Special::Trash),
        is_drafts: current.role() == Some(Special::Drafts),
        query: &query,
        query_in_url: percent_encoding::utf8_percent_encode(
            &query,
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string(),
        rows,
        prev: (page_no > 0).then(|| page_no - 1),
        next: more.then_some(page_no + 1),
        csrf: &s.csrf,
    }
    .render()
    .unwrap_or_default();
    let here = format!("/mail/?folder={}&page={page_no}", current.id);
    page(t, &title, Some(&s), &here, &body)
}

/// The form of every change: the anti-CSRF token, the folder to go back to, and for a move the
/// folder to move to.
#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: String,
    back: Option<i64>,
    to: Option<i64>,
}

/// What a mailbox form does to one mail: the `{action}` of `POST /mail/{action}/{mail_id}`.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailAction {
    /// `seen`: mark read.
    Seen,
    /// `unread`: mark unread.
    Unread,
    /// `delete`: into Trash, or for good from Trash.
    Delete,
    /// `move`: into the form's `to` folder.
    Move,
    /// `spam`: into Junk, teaching rspamd that it is spam.
    Spam,
    /// `ham`: out of Junk into INBOX, teaching rspamd that it is not.
    Ham,
}

fn back_to(back: Option<i64>) -> Response {
    match back {
        Some(id) => redirect::see_other(&format!("/mail/?folder={id}"), "/mail/"),
        None => redirect::see_other("/mail/", "/mail/"),
    }
}

/// `POST /mail/{seen|unread|delete|move}/{mail_id}`: checks the form's token, changes the mail
/// through the mail room (which sends the unread notice) and goes back to the folder.
pub async fn act(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    Path((action, mail_id)): Path<(MailAction, String)>,
    Form(form): Form<ChangeForm>,
) -> Response {
    let t = lang.texts();
    if !crate::auth::secrets_equal(s.csrf.as_bytes(), form.csrf.as_bytes()) {
        return message(t, StatusCode::FORBIDDEN, t.form_expired, "", Some(&s));
    }
    let (boxes, who) = (&state.mailboxes, &owner(&s));
    let done = match action {
        MailAction::Seen => boxes.mark(who, &mail_id, true).await.map(|_| ()),
        MailAction::Unread => boxes.mark(who, &mail_id, false).await.map(|_| ()),
        MailAction::Delete => boxes.delete(who, &mail_id).await.map(|_| ()),
        MailAction::Move | MailAction::Spam | MailAction::Ham => {
            let folders = match boxes.folders(who).await {
                Ok(f) => f,
                Err(e) => return unavailable_page(t, "listing folders", &e),
            };
            let target = |f: &&crate::mail::folders::Folder| match action {
                MailAction::Spam => f.role() == Some(Special::Junk),
                MailAction::Ham => f.role() == Some(Special::Inbox),
                _ => Some(f.id) == form.to,
            };
            match folders.iter().find(target) {
                Some(to) => boxes.move_mail(who, &mail_id, to).await.map(|_| ()),
                None => {
                    return message(t, StatusCode::BAD_REQUEST, t.no_such_mail, "", Some(&s));
                }
            }
        }
    };
    match done {
        Ok(()) => back_to(form.back).into_response(),
        Err(e) => unavailable_page(t, "changing a mail", &e),
    }
}

/// `POST /mail/empty-trash`: deletes everything in Trash for good.
pub async fn empty_trash(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    Form(form): Form<ChangeForm>,
) -> Response {
    let t = lang.texts();
    if !crate::auth::secrets_equal(s.csrf.as_bytes(), form.csrf.as_bytes()) {
        return message(t, StatusCode::FORBIDDEN, t.form_expired, "", Some(&s));
    }
    match state.mailboxes.empty_trash(&owner(&s)).await {
        Ok(()) => back_to(form.back).into_response(),
        Err(e) => unavailable_page(t, "emptying Trash", &e),
    }
}
