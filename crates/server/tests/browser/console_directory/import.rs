//! A CSV import through the console in Chromium: the upload, the progress page that refreshes
//! itself until the summary (added, unchanged, each refused row with its line and reason), the
//! directory as the API then sees it, the same file again changing nothing, and files refused
//! before anything starts.

use super::{admin_console, member_login, member_logout, submit, text_of};
use crate::common::Api;
use bizmail_testkit::backend_test;
use fantoccini::Locator;
use std::time::Duration;

/// Rows of staff in the file besides the three of interest: enough for several batches.
const STAFF: usize = 400;

backend_test! {
    async fn a_csv_import_shows_its_progress_then_the_summary(srv) {
        let api = Api::new(&srv).await;
        let d = srv.tenant().domain.clone();
        let ver0 = api.version().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("org.csv");
        let mut csv = String::from("\u{feff}alias,name,departments,aliases,position,password\n");
        csv.push_str(&format!("wang.wu@{d},王五,市场/华东;市场/华南,ww@{d},经理,Import-Pass1\n"));
        csv.push_str(&format!("zhao.liu@{d},赵六,市场/华东,,专员,\n"));
        csv.push_str("not an address,无名,,,,\n");
        for i in 0..STAFF {
            csv.push_str(&format!("staff{i}@{d},员工{i},运营,,,\n"));
        }
        std::fs::write(&file, &csv).unwrap();
        let chrome = admin_console(&srv).await;
        chrome.goto(&srv.url("admin/directory/import")).await;
        assert!(chrome.text().await.contains("alias"), "the format is described");
        let upload = "/admin/directory/import";
        let input = chrome.client.find(Locator::Css("input[type='file']")).await.unwrap();
        input.send_keys(file.to_str().unwrap()).await.unwrap();
        submit(&chrome, upload).await;
        assert!(chrome.path().await.starts_with("/admin/directory/import/"), "{}", chrome.path().await);
        // The page refreshes itself (no script: a meta refresh) until the summary.
        let mut text = chrome.text().await;
        if !text.contains("导入完成") {
            assert!(chrome.client.find(Locator::Css("meta[http-equiv='refresh'][content='1']")).await.is_ok(), "{text}");
            assert!(text.contains("正在导入"), "{text}");
        }
        for _ in 0..120 {
            if text.contains("导入完成") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            text = chrome.text().await;
        }
        assert!(text.contains("导入完成"), "{text}");
        assert_eq!(text_of(&chrome, "import-total").await, (STAFF + 3).to_string());
        assert_eq!(text_of(&chrome, "import-done").await, (STAFF + 3).to_string());
        assert_eq!(text_of(&chrome, "import-added").await, (STAFF + 2).to_string());
        assert_eq!(text_of(&chrome, "import-refused").await, "1");
        let errors = text_of(&chrome, "import-errors").await;
        assert!(errors.contains('4') && errors.contains("not an address") && errors.contains("1302"), "{errors}");

        // The directory as the API sees it: members, aliases, departments, the change log.
        let wang = format!("wang.wu@{d}");
        let user = api.json("user/get", &[("Alias", &format!("ww@{d}"))]).await;
        assert_eq!((user["Alias"].as_str(), user["Name"].as_str()), (Some(wang.as_str()), Some("王五")));
        assert_eq!(api.parties("市场").await, ["华东", "华南"]);
        assert_eq!(api.party_members("运营").await.len(), STAFF);
        let changes = api.changes_since(ver0).await;
        assert_eq!(changes.len(), STAFF + 2);
        assert!(changes.contains(&(2, wang.clone())));
        assert_eq!(member_login(&chrome, &srv, &wang, "Import-Pass1").await, "/mail/");
        member_logout(&chrome).await;

        // The same file again changes nothing; the upload page shows the latest import.
        let ver1 = api.version().await;
        chrome.goto(&srv.url("admin/directory/import")).await;
        let input = chrome.client.find(Locator::Css("input[type='file']")).await.unwrap();
        input.send_keys(file.to_str().unwrap()).await.unwrap();
        submit(&chrome, upload).await;
        let mut text = chrome.text().await;
        for _ in 0..120 {
            if text.contains("导入完成") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            text = chrome.text().await;
        }
        assert_eq!(text_of(&chrome, "import-unchanged").await, (STAFF + 2).to_string(), "{text}");
        assert_eq!(text_of(&chrome, "import-added").await, "0");
        assert_eq!(api.version().await, ver1);

        // A file that is not the format is refused before anything starts.
        std::fs::write(&file, "alias,boss\nx@y.z,w\n").unwrap();
        chrome.goto(&srv.url("admin/directory/import")).await;
        let input = chrome.client.find(Locator::Css("input[type='file']")).await.unwrap();
        input.send_keys(file.to_str().unwrap()).await.unwrap();
        submit(&chrome, upload).await;
        assert!(chrome.text().await.contains("未知的列：boss"), "{}", chrome.text().await);
        std::fs::write(&file, b"alias,name\nx@y.z,\xd5\xc5\n").unwrap();
        let input = chrome.client.find(Locator::Css("input[type='file']")).await.unwrap();
        input.send_keys(file.to_str().unwrap()).await.unwrap();
        submit(&chrome, upload).await;
        assert!(chrome.text().await.contains("不是 UTF-8"), "{}", chrome.text().await);

        // The members page after the import (the README's screenshot), and the log.
        chrome.goto(&srv.url("admin/directory/members?dept=%E5%B8%82%E5%9C%BA")).await;
        assert_eq!(text_of(&chrome, "matching").await, "2");
        crate::keep_screenshot("console-directory.png", &chrome.screenshot().await);
        chrome.goto(&srv.url("admin/directory/members")).await;
        assert_eq!(text_of(&chrome, "matching").await, (STAFF + 2).to_string());
        assert_eq!(chrome.client.find_all(Locator::Css("#members tbody tr")).await.unwrap().len(), 50);
        chrome.goto(&srv.url("admin/log?endpoint=console/directory/import")).await;
        let log = chrome.text().await;
        assert!(log.contains("file=org.csv") && log.contains(&format!("rows={}", STAFF + 3)), "{log}");
        assert!(!log.contains("Import-Pass1"));
        chrome.close().await;
    }
}
