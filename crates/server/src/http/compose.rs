//! The web mailbox's compose page: new mail, reply, reply to all, forward, drafts. Forms only (no
//! script on the page), CSRF-checked; the message is built with `mail-builder` and sent through
//! `mail::submit::Sender` by the same rules as submission. An HTML part is sanitized with ammonia
//! before it is sent.

use super::AppState;
use super::error::unavailable_page;
use super::i18n::{Lang, Texts};
use super::request::ClientIp;
use super::webmail::{SignedIn, message, owner, page};
use crate::mail::folders::{Entry, Special};
use crate::mail::submit::SendError;
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mail_builder::MessageBuilder;
use mail_parser::{Message, MessageParser};
use serde::Deserialize;

/// The compose page's own texts.
struct ComposeTexts {
    heading: &'static str,
    cc: &'static str,
    subject: &'static str,
    text: &'static str,
    html: &'static str,
    send: &'static str,
    save: &'static str,
    forwarding: &'static str,
    no_recipients: &'static str,
    refused: &'static str,
    too_many: &'static str,
    limit: &'static str,
    too_large: &'static str,
    foreign_from: &'static str,
}

static ZH: ComposeTexts = ComposeTexts {
    heading: "写信",
    cc: "抄送",
    subject: "主题",
    text: "正文",
    html: "HTML 正文（可选）",
    send: "发送",
    save: "存草稿",
    forwarding: "原邮件将作为附件转发。",
    no_recipients: "请填写收件人。",
    refused: "无法投递给这个地址：",
    too_many: "收件人太多。",
    limit: "本小时的发信数量已达上限，请稍后再试。",
    too_large: "邮件太大。",
    foreign_from: "只能以自己的地址发信。",
};

static EN: ComposeTexts = ComposeTexts {
    heading: "New mail",
    cc: "Cc",
    subject: "Subject",
    text: "Message",
    html: "HTML message (optional)",
    send: "Send",
    save: "Save draft",
    forwarding: "The original mail is forwarded as an attachment.",
    no_recipients: "Please enter a recipient.",
    refused: "This address cannot be written to: ",
    too_many: "Too many recipients.",
    limit: "You have sent as many mails as one hour allows; try again later.",
    too_large: "The mail is too large.",
    foreign_from: "You can only send as yourself.",
};

fn texts(t: &Texts) -> &'static ComposeTexts {
    if t.code == "en" { &EN } else { &ZH }
}

/// What the form holds (and gets back after an error).
#[derive(Default)]
struct Fields {
    to: String,
    cc: String,
    subject: String,
    text: String,
    html: String,
    in_reply_to: String,
    references: String,
    forward_of: String,
    draft: String,
}

#[derive(Template)]
#[template(path = "compose.html")]
struct ComposeTemplate<'a> {
    t: &'a Texts,
    c: &'a ComposeTexts,
    error: &'a str,
    csrf: &'a str,
    to: &'a str,
    cc: &'a str,
    subject: &'a str,
    text: &'a str,
    html: &'a str,
    in_reply_to: &'a str,
    references: &'a str,
    forward_of: &'a str,
    draft: &'a str,
}

fn render(
    t: &Texts,
    s: &crate::auth::tickets::Session,
    f: &Fields,
    error: &str,
    status: StatusCode,
) -> Response {
    let c = texts(t);
    let body = ComposeTemplate {
        t,
        c,
        error,
        csrf: &s.csrf,
        to: &f.to,
        cc: &f.cc,
        subject: &f.subject,
        text: &f.text,
        html: &f.html,
        in_reply_to: &f.in_reply_to,
        references: &f.references,
        forward_of: &f.forward_of,
        draft: &f.draft,
    }
    .render()
    .unwrap_or_default();
    let mut r = page(t, c.heading, Some(s), "/mail/compose", &body);
    *r.status_mut() = status;
    r
}

/// `?reply=ID[&all=1]`, `?forward=ID` or `?draft=ID`.
#[derive(Deserialize)]
pub struct ComposeQuery {
    reply: Option<String>,
    all: Option<u8>,
    forward: Option<String>,
    draft: Option<String>,
}

/// The addresses of a header (`To`, `Cc`, `From`, `Reply-To`).
fn addresses(m: &Message<'_>, header: &str) -> Vec<String> {
    m.header(header)
        .and_then(|h| h.as_address())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Prefixes `Re: ` or `Fwd: ` unless the subject already has it.
fn prefixed(prefix: &str, subject: &str) -> String {
    if subject.to_lowercase().starts_with(&prefix.to_lowercase()) {
        subject.to_owned()
    } else {
        format!("{prefix}{subject}")
    }
}

/// The form for a reply, a forward or a draft, from the original's bytes.
fn prefill(q: &ComposeQuery, me: &str, id: &str, raw: &[u8]) -> Fields {
    let Some(m) = MessageParser::default().parse(raw) else {
        return Fields::default();
    };
    let subject = m.subject().unwrap_or_default().to_owned();
    let text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let from = addresses(&m, "From").join(", ");
    let date = m.date().map(|d| d.to_rfc822()).unwrap_or_default();
    if q.draft.is_some() {
        return Fields {
            to: addresses(&m, "To").join(", "),
            cc: addresses(&m, "Cc").join(", "),
            subject,
            text,
            html: m.body_html(0).map(|h| h.into_owned()).unwrap_or_default(),
            in_reply_to: m.in_reply_to().as_text().unwrap_or_default().to_owned(),
            references: m
                .references()
                .as_text_list()
                .map(|l| l.join(" "))
                .unwrap_or_default(),
            forward_of: String::new(),
            draft: id.to_owned(),
        };
    }
    if q.forward.is_some() {
        return Fields {
            subject: prefixed("Fwd: ", &subject),
            text: format!(
                "\n\n---------- Forwarded message ----------\nFrom: {from}\nDate: {date}\nSubject: {subject}\n\n{text}"
            ),
            forward_of: id.to_owned(),
            ..Fields::default()
        };
    }
    let mut to = addresses(&m, "Reply-To");
    if to.is_empty() {
        to = addresses(&m, "From");
    }
    let mut cc = Vec::new();
    if q.all == Some(1) {
        for a in addresses(&m, "To").into_iter().chain(addresses(&m, "Cc")) {
            if !a.eq_ignore_ascii_case(me) && !to.contains(&a) && !cc.contains(&a) {
                cc.push(a);
            }
        }
    }
    let message_id = m.message_id().unwrap_or_default().to_owned();
    let mut references: Vec<String> = m
        .references()
        .as_text_list()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    if !message_id.is_empty() {
        references.push(message_id.clone());
    }
    let quoted: String = text.lines().map(|l| format!("> {l}\n")).collect();
    Fields {
        to: to.join(", "),
        cc: cc.join(", "),
        subject: prefixed("Re: ", &subject),
        text: format!("\n\n{from} ({date}):\n{quoted}"),
        in_reply_to: message_id,
        references: references.join(" "),
        ..Fields::default()
    }
}

/// `GET /mail/compose`: an empty form, or one filled for a reply, a forward or a draft.
pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    Query(q): Query<ComposeQuery>,
) -> Response {
    let t = lang.texts();
    let source = q.reply.as_ref().or(q.forward.as_ref()).or(q.draft.as_ref());
    let fields = match source {
        None => Fields::default(),
        Some(id) => match state.mailboxes.raw(&owner(&s), id).await {
            Ok(Some(raw)) => prefill(&q, &s.address, id, &raw),
            Ok(None) => return message(t, StatusCode::NOT_FOUND, t.no_such_mail, "", Some(&s)),
            Err(e) => return unavailable_page(t, "reading a mail to answer", &e),
        },
    };
    render(t, &s, &fields, "", StatusCode::OK)
}

/// An attached file.
struct Upload {
    name: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// Reads the multipart form; `None` when it is malformed.
async fn read_form(mut multipart: Multipart) -> Option<(Fields, String, String, Vec<Upload>)> {
    let (mut f, mut csrf, mut action, mut uploads) =
        (Fields::default(), String::new(), String::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.ok()? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "attachment" {
            let file = field.file_name().unwrap_or_default().to_owned();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = field.bytes().await.ok()?.to_vec();
            if !file.is_empty() || !bytes.is_empty() {
                uploads.push(Upload {
                    name: file,
                    content_type,
                    bytes,
                });
            }
            continue;
        }
        let value = field.text().await.ok()?;
        match name.as_str() {
            "csrf" => csrf = value,
            "action" => action = value,
            "to" => f.to = value,
            "cc" => f.cc = value,
            "subject" => f.subject = value,
            "text" => f.text = value,
            "html" => f.html = value,
            "in_reply_to" => f.in_reply_to = value,
            "references" => f.references = value,
            "forward_of" => f.forward_of = value,
            "draft" => f.draft = value,
            _ => {}
        }
    }
    Some((f, csrf, action, uploads))
}

/// The addresses typed in a field, separated by commas, semicolons or spaces.
fn split_addresses(field: &str) -> Vec<String> {
    field
        .split([',', ';', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /mail/compose`: sends the mail, or saves it in Drafts.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    ClientIp(ip): ClientIp,
    multipart: Multipart,
) -> Response {
    let t = lang.texts();
    let c = texts(t);
    let Some((f, csrf, action, uploads)) = read_form(multipart).await else {
        return message(t, StatusCode::BAD_REQUEST, t.form_expired, "", Some(&s));
    };
    if !crate::auth::secrets_equal(s.csrf.as_bytes(), csrf.as_bytes()) {
        return message(t, StatusCode::FORBIDDEN, t.form_expired, "", Some(&s));
    }
    let who = owner(&s);
    let (to, cc) = (split_addresses(&f.to), split_addresses(&f.cc));
    let forwarded = if f.forward_of.is_empty() {
        None
    } else {
        match state.mailboxes.raw(&who, &f.forward_of).await {
            Ok(raw) => raw,
            Err(e) => return unavailable_page(t, "reading a mail to forward", &e),
        }
    };
    let mut m = MessageBuilder::new()
        .from(s.address.as_str())
        .subject(f.subject.as_str())
        .text_body(f.text.replace("\r\n", "\n").replace('\n', "\r\n"));
    if !to.is_empty() {
        m = m.to(to.iter().map(String::as_str).collect::<Vec<_>>());
    }
    if !cc.is_empty() {
        m = m.cc(cc.iter().map(String::as_str).collect::<Vec<_>>());
    }
    if !f.html.trim().is_empty() {
        m = m.html_body(crate::mail::render::sanitize_html(&f.html, true).html);
    }
    if !f.in_reply_to.is_empty() {
        m = m.in_reply_to(f.in_reply_to.as_str());
    }
    let references: Vec<&str> = f.references.split_whitespace().collect();
    if !references.is_empty() {
        m = m.references(references);
    }
    for u in &uploads {
        m = m.attachment(u.content_type.as_str(), u.name.as_str(), u.bytes.as_slice());
    }
    if let Some(raw) = &forwarded {
        m = m.attachment("message/rfc822", "forwarded.eml", raw.as_slice());
    }
    let Ok(bytes) = m.write_to_vec() else {
        return render(t, &s, &f, c.too_large, StatusCode::BAD_REQUEST);
    };
    let folders = match state.mailboxes.folders(&who).await {
        Ok(folders) => folders,
        Err(e) => return unavailable_page(t, "listing folders", &e),
    };
    let folder_of = |role| {
        folders
            .iter()
            .find(|x| x.role() == Some(role))
            .map(|x| x.id)
    };
    if action == "save" {
        let Some(drafts) = folder_of(Special::Drafts) else {
            return unavailable_page(t, "finding Drafts", &"no Drafts folder");
        };
        let mut entry = Entry::upload(crate::clock::now_ms());
        entry.seen = true;
        entry.flags = crate::mail::folders::DRAFT;
        if let Err(e) = state.mailboxes.append(&who, drafts, bytes, entry).await {
            return unavailable_page(t, "saving a draft", &e);
        }
    } else {
        let recipients: Vec<String> = to.into_iter().chain(cc).collect();
        let error = match state.sender.send(&who, ip, &recipients, &bytes).await {
            Ok(_) => None,
            Err(SendError::NoRecipients) => {
                Some((c.no_recipients.to_owned(), StatusCode::BAD_REQUEST))
            }
            Err(SendError::TooManyRecipients) => {
                Some((c.too_many.to_owned(), StatusCode::BAD_REQUEST))
            }
            Err(SendError::Refused(a)) => {
                Some((format!("{}{a}", c.refused), StatusCode::BAD_REQUEST))
            }
            Err(SendError::HourlyLimit) => {
                Some((c.limit.to_owned(), StatusCode::TOO_MANY_REQUESTS))
            }
            Err(SendError::TooLarge) => {
                Some((c.too_large.to_owned(), StatusCode::PAYLOAD_TOO_LARGE))
            }
            Err(SendError::Submit(crate::mail::submit::SubmitError::ForeignFrom)) => {
                Some((c.foreign_from.to_owned(), StatusCode::BAD_REQUEST))
            }
            Err(SendError::Submit(crate::mail::submit::SubmitError::Store(e))) => {
                return unavailable_page(t, "sending a mail", &e);
            }
        };
        if let Some((text, status)) = error {
            return render(t, &s, &f, &text, status);
        }
    }
    // The draft this came from is replaced by what was just saved or sent.
    if !f.draft.is_empty()
        && let Err(e) = state.mailboxes.discard_draft(&who, &f.draft).await
    {
        return unavailable_page(t, "removing a sent draft", &e);
    }
    let shown = if action == "save" {
        Special::Drafts
    } else {
        Special::Sent
    };
    match folder_of(shown) {
        Some(id) => Redirect::to(&format!("/mail/?folder={id}")).into_response(),
        None => Redirect::to("/mail/").into_response(),
    }
}
