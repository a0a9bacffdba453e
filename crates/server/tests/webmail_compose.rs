//! Compose in the web mailbox over HTTP, both backends: a new mail with an attachment and an HTML
//! part (sanitized), reply and reply-all threaded by In-Reply-To, forward as an attachment,
//! drafts saved, reopened and sent, and refusals (a stale form, no recipient, an unknown one).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_server::Config;
use bizmail_testkit::backend_test;
use common::{Api, Browser, ImapRaw, hidden_field};
use reqwest::multipart::{Form, Part};

fn imap_on(c: &mut Config) {
    c.imap_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    c.imap_allow_plaintext = true;
}

/// The compose form's fields (hidden ones included) as `GET path` fills them.
async fn form_of(b: &mut Browser, path: &str) -> Vec<(String, String)> {
    let page = b.page(path, 200).await;
    let mut fields = Vec::new();
    for name in [
        "csrf",
        "in_reply_to",
        "references",
        "forward_of",
        "draft",
        "to",
        "cc",
        "subject",
    ] {
        fields.push((name.to_owned(), hidden_field(&page, name)));
    }
    let text = page.split("name=\"text\" rows=\"14\">").nth(1).unwrap();
    let text = text.split("</textarea>").next().unwrap();
    fields.push(("text".into(), unescape(text)));
    fields
}

fn unescape(html: &str) -> String {
    html.replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    fields.iter_mut().find(|(n, _)| n == name).unwrap().1 = value.to_owned();
}

fn multipart(fields: &[(String, String)], action: &str) -> Form {
    let mut form = Form::new().text("action", action.to_owned());
    for (name, value) in fields {
        form = form.text(name.clone(), unescape(value));
    }
    form
}

/// The MailIds a folder page links to (read links and draft links), in order.
fn mail_ids(page: &str) -> Vec<String> {
    page.match_indices("/mail/read/")
        .chain(page.match_indices("/mail/compose?draft="))
        .map(|(i, m)| page[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect()
}

/// The newest mail of `address`'s `folder`, whole, over IMAP.
async fn newest(srv: &bizmail_testkit::TestServer, address: &str, folder: &str) -> String {
    let mut imap = ImapRaw::login(srv, address, "secret123").await;
    imap.cmd(&format!("SELECT {folder}")).await;
    imap.cmd("FETCH * (BODY.PEEK[])").await
}

backend_test! {
    config = imap_on;
    async fn compose_reply_forward_and_drafts(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let alice = api.add_member("alice", &[]).await;
        let carol = api.add_member("carol", &[]).await;
        let mut b = Browser::signed_in(&srv, &bob).await;
        // A new mail with an attachment and an HTML part that carries a script.
        let mut fields = form_of(&mut b, "/mail/compose").await;
        set(&mut fields, "to", &alice);
        set(&mut fields, "cc", &carol);
        set(&mut fields, "subject", "Plan 计划");
        set(&mut fields, "text", "See the attachment.");
        let form = multipart(&fields, "send")
            .text("html", "<p>See <b>it</b></p><script>steal()</script>")
            .part("attachment", Part::bytes(b"step 1\nstep 2\n".to_vec()).file_name("plan.txt").mime_str("text/plain").unwrap());
        let sent = b.post_multipart("/mail/compose", form).await;
        assert_eq!(sent.status().as_u16(), 303);
        assert!(common::location(&sent).starts_with("/mail/?folder="));
        assert_eq!(api.new_count(&alice).await, "1");
        assert_eq!(api.new_count(&carol).await, "1");
        let arrived = newest(&srv, &alice, "INBOX").await;
        assert!(arrived.contains("plan.txt") && arrived.contains("<b>it</b>"), "{arrived}");
        assert!(!arrived.contains("steal()"), "the HTML part is sanitized: {arrived}");
        assert!(newest(&srv, &bob, "Sent").await.contains("plan.txt"));
        // Alice answers everyone: bob in To, carol in Cc, threaded.
        let mut a = Browser::signed_in(&srv, &alice).await;
        let inbox = a.page("/mail/", 200).await;
        let id = mail_ids(&inbox)[0].clone();
        assert!(a.page(&format!("/mail/read/{id}"), 200).await.contains(&format!("/mail/compose?reply={id}&amp;all=1")));
        let mut reply = form_of(&mut a, &format!("/mail/compose?reply={id}&all=1")).await;
        let get = |f: &[(String, String)], n: &str| f.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get(&reply, "to"), bob);
        assert_eq!(get(&reply, "cc"), carol);
        assert_eq!(get(&reply, "subject"), "Re: Plan 计划");
        assert!(get(&reply, "text").contains("> See the attachment."), "{:?}", get(&reply, "text"));
        let original_id = get(&reply, "in_reply_to");
        assert!(!original_id.is_empty());
        set(&mut reply, "text", "Agreed.");
        assert_eq!(a.post_multipart("/mail/compose", multipart(&reply, "send")).await.status().as_u16(), 303);
        let answer = newest(&srv, &bob, "INBOX").await;
        assert!(answer.contains(&format!("In-Reply-To: <{original_id}>")), "{answer}");
        assert_eq!(api.new_count(&carol).await, "2");
        // Bob forwards the answer to carol: the original rides along as an attachment.
        let inbox = b.page("/mail/", 200).await;
        let id = mail_ids(&inbox)[0].clone();
        let mut fwd = form_of(&mut b, &format!("/mail/compose?forward={id}")).await;
        assert_eq!(get(&fwd, "subject"), "Fwd: Re: Plan 计划");
        set(&mut fwd, "to", &carol);
        assert_eq!(b.post_multipart("/mail/compose", multipart(&fwd, "send")).await.status().as_u16(), 303);
        let forwarded = newest(&srv, &carol, "INBOX").await;
        assert!(forwarded.contains("message/rfc822") && forwarded.contains("Agreed."), "{forwarded}");
        // A draft: saved, listed in Drafts with a link back to the form, reopened, sent.
        let mut draft = form_of(&mut b, "/mail/compose").await;
        set(&mut draft, "to", &alice);
        set(&mut draft, "subject", "Later");
        set(&mut draft, "text", "Not yet.");
        let saved = b.post_multipart("/mail/compose", multipart(&draft, "save")).await;
        assert_eq!(saved.status().as_u16(), 303);
        let drafts_page = b.page(&common::location(&saved), 200).await;
        let draft_id = mail_ids(&drafts_page)[0].clone();
        let mut reopened = form_of(&mut b, &format!("/mail/compose?draft={draft_id}")).await;
        assert_eq!(get(&reopened, "subject"), "Later");
        assert_eq!(get(&reopened, "draft"), draft_id);
        set(&mut reopened, "text", "Now.");
        assert_eq!(b.post_multipart("/mail/compose", multipart(&reopened, "send")).await.status().as_u16(), 303);
        assert!(mail_ids(&b.page(&common::location(&saved), 200).await).is_empty(), "the draft is gone once sent");
        // Alice read the first mail on its page; the draft sent is her one unread mail.
        assert_eq!(api.new_count(&alice).await, "1");
        assert!(newest(&srv, &alice, "INBOX").await.contains("Now."));
    }
}

backend_test! {
    async fn bad_forms_are_refused_clearly(srv) {
        let api = Api::new(&srv).await;
        let bob = api.add_member("bob", &[]).await;
        let mut b = Browser::signed_in(&srv, &bob).await;
        b.accept_language = Some("en".into());
        let mut fields = form_of(&mut b, "/mail/compose").await;
        set(&mut fields, "subject", "x");
        let none = b.post_multipart("/mail/compose", multipart(&fields, "send")).await;
        assert_eq!(none.status().as_u16(), 400);
        assert!(none.text().await.unwrap().contains("Please enter a recipient."));
        set(&mut fields, "to", &api.addr("ghost"));
        let unknown = b.post_multipart("/mail/compose", multipart(&fields, "send")).await;
        assert_eq!(unknown.status().as_u16(), 400);
        let page = unknown.text().await.unwrap();
        assert!(page.contains("This address cannot be written to: ") && page.contains("value=\"x\""), "{page}");
        set(&mut fields, "csrf", "forged");
        let forged = b.post_multipart("/mail/compose", multipart(&fields, "send")).await;
        assert_eq!(forged.status().as_u16(), 403);
        // Someone else's mail cannot be answered or forwarded.
        let other = Browser::new(&srv).get("/mail/compose").await;
        assert_eq!(other.status().as_u16(), 401, "signed out: the sign-in page");
        assert_eq!(b.get("/mail/compose?reply=nope").await.status().as_u16(), 404);
    }
}
