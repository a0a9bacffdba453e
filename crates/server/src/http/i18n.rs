//! The mailbox's two languages, Simplified Chinese and English. A page's language is the one the
//! person picked with the switch in the header (a `bizmail_lang` cookie), else the first of
//! `zh`/`en` in their browser's `Accept-Language`, else Chinese (the service being imitated is a
//! Chinese one, and so are most of its users).

use super::redirect;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use std::convert::Infallible;

/// The cookie that remembers the language picked with the switch.
pub const LANG_COOKIE: &str = "bizmail_lang";

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Simplified Chinese.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The language a short code names (`zh`, `zh-CN`, `en-GB`, …), if one of ours.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::Zh)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first of our languages in an `Accept-Language` header, by the header's own weights.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        accept_language::parse(header)
            .iter()
            .find_map(|tag| Lang::from_code(tag))
    }

    /// Every text of the pages, in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Infallible> {
        let jar = CookieJar::from_headers(&parts.headers);
        let picked = jar
            .get(LANG_COOKIE)
            .and_then(|c| Lang::from_code(c.value()));
        let accepted = || {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        };
        Ok(picked.or_else(accepted).unwrap_or(Lang::Zh))
    }
}

/// Where the switch sends the person back to.
#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// `GET /lang/{code}?back=/mail/…`: remembers the language and goes back to the page it was
/// picked on. Only a path on this site is followed (see `redirect`), so the switch cannot be used
/// as an open redirect.
pub async fn switch(Path(code): Path<String>, Query(q): Query<Back>, jar: CookieJar) -> Response {
    let Some(lang) = Lang::from_code(&code) else {
        return redirect::see_other("/mail/", "/mail/");
    };
    let mut c = Cookie::new(LANG_COOKIE, lang.texts().code);
    c.set_path("/");
    c.set_same_site(SameSite::Lax);
    c.make_permanent();
    let back = q.back.as_deref().unwrap_or("/mail/");
    (jar.add(c), redirect::see_other(back, "/mail/")).into_response()
}

/// Every text the mailbox shows, in one language.
#[derive(Debug)]
pub struct Texts {
    /// This language's code, as the switch and the cookie spell it.
    pub code: &'static str,
    /// The `lang` attribute of the pages.
    pub html_lang: &'static str,
    /// The other language's code, for the switch.
    pub other_code: &'static str,
    /// The other language's name, in that language, for the switch.
    pub other_name: &'static str,
    /// Inbox title.
    pub inbox: &'static str,
    /// An empty inbox.
    pub no_mail: &'static str,
    /// A mail without a subject.
    pub no_subject: &'static str,
    /// Newer page.
    pub newer: &'static str,
    /// Older page.
    pub older: &'static str,
    /// Back to the inbox.
    pub back_to_inbox: &'static str,
    /// "From".
    pub from: &'static str,
    /// "To".
    pub to: &'static str,
    /// "Date".
    pub date: &'static str,
    /// What the sender checks (SPF, DKIM, DMARC) found.
    pub verified: &'static str,
    /// Write a new mail.
    pub compose: &'static str,
    /// Answer the sender.
    pub reply: &'static str,
    /// Answer everyone.
    pub reply_all: &'static str,
    /// Forward the mail.
    pub forward: &'static str,
    /// Report as spam (into Junk).
    pub spam: &'static str,
    /// Not spam (back to INBOX).
    pub not_spam: &'static str,
    /// "Attachments".
    pub attachments: &'static str,
    /// Show the remote images of an HTML mail.
    pub show_images: &'static str,
    /// Mark a mail unread.
    pub mark_unread: &'static str,
    /// Mark a mail read.
    pub mark_read: &'static str,
    /// Delete a mail.
    pub delete: &'static str,
    /// The special folders' names: Sent, Drafts, Trash, Junk.
    pub special_folders: [&'static str; 4],
    /// Search (the field and the button).
    pub search: &'static str,
    /// Move a mail to the chosen folder.
    pub move_to: &'static str,
    /// Delete everything in Trash.
    pub empty_trash: &'static str,
    /// A search that found nothing.
    pub nothing_found: &'static str,
    /// Log out.
    pub log_out: &'static str,
    /// After logging out.
    pub signed_out: &'static str,
    /// A page that needs a session, without one.
    pub please_sign_in: &'static str,
    /// How to get in.
    pub how_to_sign_in: &'static str,
    /// The store failed.
    pub unavailable: &'static str,
    /// A mail the member does not have.
    pub no_such_mail: &'static str,
    /// A refused SSO link.
    pub link_invalid: &'static str,
    /// Why an SSO link may be refused, and what to do.
    pub link_invalid_detail: &'static str,
    /// A form sent without its anti-forgery token (or with a stale one).
    pub form_expired: &'static str,
    /// Above the login form after a member's first single sign-on of the newer API.
    pub sso_confirm_password: &'static str,
    /// The new-password page's title (`cpwd_login`).
    pub new_password_title: &'static str,
    /// Why the page asks.
    pub new_password_intro: &'static str,
    /// The first field.
    pub new_password_label: &'static str,
    /// The second field.
    pub repeat_password_label: &'static str,
    /// The button.
    pub save_password_button: &'static str,
    /// The two fields differ.
    pub passwords_differ: &'static str,
    /// The new password breaks the rules.
    pub password_rules: &'static str,
    /// The new password is the current one.
    pub password_unchanged: &'static str,
    /// Password login title.
    pub sign_in: &'static str,
    /// The address field.
    pub address: &'static str,
    /// The password field.
    pub password: &'static str,
    /// The sign-in button.
    pub sign_in_button: &'static str,
    /// A wrong address or password (never says which).
    pub wrong_credentials: &'static str,
    /// A rate limit was hit.
    pub too_many_attempts: &'static str,
    /// Second-factor page title.
    pub second_factor: &'static str,
    /// Enrolment instructions.
    pub enrol_intro: &'static str,
    /// The label of the secret for typing in by hand.
    pub enrol_manual: &'static str,
    /// Instructions when already enrolled.
    pub code_intro: &'static str,
    /// The code field.
    pub code_label: &'static str,
    /// The verify button.
    pub verify_button: &'static str,
    /// A wrong or reused code.
    pub wrong_code: &'static str,
    /// The half-finished login expired.
    pub challenge_expired: &'static str,
    /// The QR code's alt text.
    pub qr_alt: &'static str,
}

/// 简体中文.
pub static ZH: Texts = Texts {
    code: "zh",
    html_lang: "zh-CN",
    other_code: "en",
    other_name: "English",
    inbox: "收件箱",
    no_mail: "没有邮件",
    no_subject: "(无主题)",
    newer: "← 上一页",
    older: "下一页 →",
    back_to_inbox: "← 返回收件箱",
    from: "发件人",
    to: "收件人",
    date: "日期",
    verified: "发件人验证",
    compose: "写信",
    reply: "回复",
    reply_all: "回复全部",
    forward: "转发",
    spam: "这是垃圾邮件",
    not_spam: "这不是垃圾邮件",
    attachments: "附件",
    show_images: "显示图片",
    mark_unread: "标为未读",
    mark_read: "标为已读",
    special_folders: ["已发送", "草稿箱", "已删除", "垃圾箱"],
    search: "搜索",
    move_to: "移动到",
    empty_trash: "清空已删除",
    nothing_found: "没有找到邮件",
    delete: "删除",
    log_out: "退出",
    signed_out: "您已退出邮箱。",
    please_sign_in: "请登录",
    how_to_sign_in: "请从贵公司的系统进入邮箱，或用邮箱密码登录。",
    unavailable: "暂时无法访问，请稍后再试。",
    no_such_mail: "找不到这封邮件。",
    link_invalid: "此登录链接无效",
    link_invalid_detail: "链接可能已使用或已过期，请从贵公司的系统重新进入。",
    form_expired: "页面已过期，请返回后重试。",
    sso_confirm_password: "首次通过单点登录进入邮箱，请输入一次邮箱密码以授权。以后将直接进入。",
    new_password_title: "设置新密码",
    new_password_intro: "管理员要求您在进入邮箱前设置新密码。",
    new_password_label: "新密码",
    repeat_password_label: "再次输入新密码",
    save_password_button: "保存并进入邮箱",
    passwords_differ: "两次输入的密码不一致。",
    password_rules: "密码长度须为 6 到 32 个字符。",
    password_unchanged: "新密码不能与当前密码相同。",
    sign_in: "登录邮箱",
    address: "邮箱地址",
    password: "密码",
    sign_in_button: "登录",
    wrong_credentials: "邮箱地址或密码不正确。",
    too_many_attempts: "尝试次数过多，请稍后再试。",
    second_factor: "动态验证码",
    enrol_intro: "管理员要求此邮箱使用动态验证码。请用身份验证器应用（如腾讯身份验证器、Google Authenticator）扫描下面的二维码，然后输入应用显示的 6 位数字。",
    enrol_manual: "无法扫描时，手动输入此密钥：",
    code_intro: "请输入身份验证器应用显示的 6 位验证码。",
    code_label: "验证码",
    verify_button: "验证",
    wrong_code: "验证码不正确或已使用。",
    challenge_expired: "登录已超时，请重新输入密码。",
    qr_alt: "身份验证器二维码",
};

/// English.
pub static EN: Texts = Texts {
    code: "en",
    html_lang: "en",
    other_code: "zh",
    other_name: "中文",
    inbox: "Inbox",
    no_mail: "No mail",
    no_subject: "(no subject)",
    newer: "← Newer",
    older: "Older →",
    back_to_inbox: "← Inbox",
    from: "From",
    to: "To",
    date: "Date",
    verified: "Sender checks",
    compose: "Compose",
    reply: "Reply",
    reply_all: "Reply all",
    forward: "Forward",
    spam: "Spam",
    not_spam: "Not spam",
    attachments: "Attachments",
    show_images: "Show images",
    mark_unread: "Mark unread",
    mark_read: "Mark read",
    special_folders: ["Sent", "Drafts", "Trash", "Junk"],
    search: "Search",
    move_to: "Move to",
    empty_trash: "Empty Trash",
    nothing_found: "No mail found",
    delete: "Delete",
    log_out: "Log out",
    signed_out: "You have logged out.",
    please_sign_in: "Please sign in",
    how_to_sign_in: "Open your mailbox from your company's portal, or sign in with your mailbox password.",
    unavailable: "Temporarily unavailable. Please try again later.",
    no_such_mail: "No such mail.",
    link_invalid: "This sign-in link is not valid",
    link_invalid_detail: "It may have been used already or have expired: open your mailbox again from your company's portal.",
    form_expired: "This page has expired. Go back and try again.",
    sso_confirm_password: "This is your first single sign-on to your mailbox: enter your mailbox password once to allow it. Next time you will go straight in.",
    new_password_title: "Choose a new password",
    new_password_intro: "Your administrator asks you to choose a new password before you go on.",
    new_password_label: "New password",
    repeat_password_label: "New password again",
    save_password_button: "Save and open my mailbox",
    passwords_differ: "The two passwords differ.",
    password_rules: "A password has 6 to 32 characters.",
    password_unchanged: "Choose a password other than your current one.",
    sign_in: "Sign in",
    address: "Email address",
    password: "Password",
    sign_in_button: "Sign in",
    wrong_credentials: "Wrong email address or password.",
    too_many_attempts: "Too many attempts. Please try again later.",
    second_factor: "Verification code",
    enrol_intro: "Your administrator requires a verification code for this mailbox. Scan the QR code below with an authenticator app (such as Google Authenticator), then type the 6-digit code it shows.",
    enrol_manual: "Cannot scan? Type this key instead:",
    code_intro: "Type the 6-digit code your authenticator app shows.",
    code_label: "Code",
    verify_button: "Verify",
    wrong_code: "The code is wrong or was already used.",
    challenge_expired: "The sign-in timed out. Please enter your password again.",
    qr_alt: "Authenticator QR code",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_of_ours_by_weight() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en;q=0.5, zh;q=0.7"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language(""), None);
        assert_eq!(Lang::from_code("zh_TW"), Some(Lang::Zh));
        assert_eq!(Lang::from_code("EN-gb"), Some(Lang::En));
        assert_eq!(Lang::from_code("xx"), None);
    }
}
