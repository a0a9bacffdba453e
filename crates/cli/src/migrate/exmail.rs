//! Reading a directory out of Exmail's newer API (`gettoken`, `department/list`,
//! `user/list?fetch_child=1`, `group/get`, `tag/list`, `tag/get`), tolerant of what its answers
//! vary in (ids and flags as numbers or strings). The secret and the token never reach an error
//! text: reqwest's errors name the URL, which carries them, so the URL is dropped from them.

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;

/// A signed-in reader of one corp's directory.
pub struct Exmail {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Exmail {
    /// Gets a token for the directory application (通讯录管理) of `corpid`.
    pub async fn sign_in(base: &str, corpid: &str, secret: &str) -> anyhow::Result<Exmail> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        let base = base.trim_end_matches('/').to_owned();
        let answer = get(
            &http,
            &format!("{base}/cgi-bin/gettoken"),
            &[("corpid", corpid), ("corpsecret", secret)],
        )
        .await
        .context("gettoken")?;
        let token = answer["access_token"]
            .as_str()
            .ok_or_else(|| anyhow!("gettoken answered without an access_token"))?
            .to_owned();
        Ok(Exmail { http, base, token })
    }

    /// Calls a read endpoint with query fields; its answer when `errcode` is 0.
    pub async fn read(&self, endpoint: &str, query: &[(&str, &str)]) -> anyhow::Result<Value> {
        let mut q = vec![("access_token", self.token.as_str())];
        q.extend_from_slice(query);
        get(&self.http, &format!("{}/cgi-bin/{endpoint}", self.base), &q)
            .await
            .with_context(|| endpoint.to_owned())
    }

    /// Every department below the root, parents before children.
    pub async fn departments(&self) -> anyhow::Result<Vec<Value>> {
        let answer = self.read("department/list", &[("id", "1")]).await?;
        Ok(list(&answer, "department"))
    }

    /// Every member, with all of `user/get`'s fields.
    pub async fn members(&self) -> anyhow::Result<Vec<Value>> {
        let q = [("department_id", "1"), ("fetch_child", "1")];
        Ok(list(&self.read("user/list", &q).await?, "userlist"))
    }

    /// The named mail groups and the groups inside them (the API cannot list groups).
    pub async fn groups(&self, named: &[String]) -> anyhow::Result<Vec<Value>> {
        let mut queue: Vec<String> = named.iter().map(|g| g.trim().to_lowercase()).collect();
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        while let Some(g) = queue.pop() {
            if g.is_empty() || !seen.insert(g.clone()) {
                continue;
            }
            let answer = self.read("group/get", &[("groupid", &g)]).await?;
            queue.extend(
                strings(&answer["grouplist"])
                    .into_iter()
                    .map(|s| s.to_lowercase()),
            );
            out.push(answer);
        }
        Ok(out)
    }

    /// Every tag with its members (`tag/get`'s answer plus `tagid`).
    pub async fn tags(&self) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        for item in list(&self.read("tag/list", &[]).await?, "taglist") {
            let id = int(&item["tagid"]).ok_or_else(|| anyhow!("tag/list: a tag without tagid"))?;
            let mut tag = self.read("tag/get", &[("tagid", &id.to_string())]).await?;
            tag["tagid"] = id.into();
            if tag["tagname"].is_null() {
                tag["tagname"] = item["tagname"].clone();
            }
            out.push(tag);
        }
        Ok(out)
    }
}

async fn get(http: &reqwest::Client, url: &str, query: &[(&str, &str)]) -> anyhow::Result<Value> {
    let response = http
        .get(url)
        .query(query)
        .send()
        .await
        .map_err(|e| anyhow!("{}", e.without_url()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| anyhow!("{}", e.without_url()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|_| anyhow!("HTTP {status}, not a JSON answer"))?;
    match int(&value["errcode"]) {
        Some(0) | None if status.is_success() => Ok(value),
        code => bail!(
            "errcode {} {}",
            code.unwrap_or(-1),
            value["errmsg"].as_str().unwrap_or("")
        ),
    }
}

/// The array under `key` (empty when absent).
pub fn list(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

/// A number given as a number or a string.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A text field (a number is written out; absent is empty).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A list of texts (a scalar is a list of one; `userlist` entries may be `{userid, name}`).
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(o) => o.get("userid").map(text).unwrap_or_default(),
                other => text(other),
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Value::Null => Vec::new(),
        other => vec![text(other)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

/// A list of numbers (a scalar is a list of one).
pub fn ints(v: &Value) -> Vec<i64> {
    match v {
        Value::Array(items) => items.iter().filter_map(int).collect(),
        Value::Null => Vec::new(),
        other => int(other).into_iter().collect(),
    }
}
