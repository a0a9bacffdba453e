//! Compose in a real browser: write a mail with an attachment and send it, answer it from the
//! other side with Reply (threaded), and keep a draft, all through the page's own forms.

use super::chrome::Chrome;
use super::common::Api;
use super::{authkey, keep_screenshot, sso_url};
use bizmail_testkit::backend_test;
use fantoccini::Locator;

backend_test! {
    async fn compose_send_reply_and_draft_in_a_real_browser(srv) {
        let api = Api::new(&srv).await;
        let wang = api.add_member("wang.fang", &[]).await;
        let lin = api.add_member("lin.wei", &[]).await;
        let chrome = Chrome::start().await;
        let ticket = authkey(&api, &wang).await;
        chrome.goto(&sso_url(&srv, &api, &wang, &ticket, None)).await;
        chrome.client.find(Locator::LinkText("写信")).await.unwrap().click().await.unwrap();
        chrome.client.wait().for_element(Locator::Css("form.compose")).await.unwrap();
        assert_eq!(chrome.path().await, "/mail/compose");
        chrome.fill("to", &lin).await;
        chrome.fill("subject", "周报 Weekly report").await;
        chrome.fill("text", "本周进展见附件。").await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.csv");
        std::fs::write(&file, "task,done\nimap,yes\n").unwrap();
        let upload = chrome.client.find(Locator::Css("input[type=file]")).await.unwrap();
        upload.send_keys(file.to_str().unwrap()).await.unwrap();
        keep_screenshot("compose.png", &chrome.screenshot().await);
        chrome.click_button("发送").await;
        assert!(chrome.path().await.starts_with("/mail/"));
        assert!(chrome.text().await.contains("周报 Weekly report"), "the Sent folder lists it");
        assert_eq!(api.new_count(&lin).await, "1");

        // Lin answers from the mail's page.
        chrome.client.delete_all_cookies().await.unwrap();
        let ticket = authkey(&api, &lin).await;
        chrome.goto(&sso_url(&srv, &api, &lin, &ticket, None)).await;
        chrome.client.find(Locator::LinkText("周报 Weekly report")).await.unwrap().click().await.unwrap();
        chrome.client.wait().for_element(Locator::LinkText("回复")).await.unwrap();
        assert!(chrome.text().await.contains("report.csv"), "the attachment is listed");
        chrome.client.find(Locator::LinkText("回复")).await.unwrap().click().await.unwrap();
        chrome.client.wait().for_element(Locator::Css("form.compose")).await.unwrap();
        let to = chrome.client.find(Locator::Css("input[name=to]")).await.unwrap();
        assert_eq!(to.prop("value").await.unwrap().as_deref(), Some(wang.as_str()));
        chrome.fill("text", "收到，谢谢。").await;
        chrome.click_button("发送").await;
        assert_eq!(api.new_count(&wang).await, "1");

        // A draft, kept in Drafts and opened again in the form.
        chrome.client.find(Locator::LinkText("写信")).await.unwrap().click().await.unwrap();
        chrome.client.wait().for_element(Locator::Css("form.compose")).await.unwrap();
        chrome.fill("subject", "草稿 draft").await;
        chrome.click_button("存草稿").await;
        assert!(chrome.text().await.contains("草稿 draft"));
        chrome.client.find(Locator::LinkText("草稿 draft")).await.unwrap().click().await.unwrap();
        chrome.client.wait().for_element(Locator::Css("form.compose")).await.unwrap();
        let subject = chrome.client.find(Locator::Css("input[name=subject]")).await.unwrap();
        assert_eq!(subject.prop("value").await.unwrap().as_deref(), Some("草稿 draft"));
        let console: Vec<String> = chrome.log("browser").await.into_iter().map(|e| e.message).collect();
        assert!(console.is_empty(), "no console errors: {console:?}");
        chrome.close().await;
    }
}
