//! `directory-100k`: a generated org chart of N members in M departments, loaded with the import
//! path (`bizmail import` without the CSV reading), then `user/list?Ver=0` over HTTP. It uses a
//! tenant of its own, so it runs the same after any other scenario.
//!
//! Members get no password: argon2id at its secure cost takes tens of milliseconds per hash, so
//! 100,000 of them would measure the hash, not the directory. (`bizmail import` allows that: such
//! members sign in through SSO.)

use bizmail_server::directory::import::ImportRow;
use bizmail_testkit::{Backend, TestServer};
use std::time::Instant;

/// Generates, imports and lists; prints one line per measurement.
pub async fn run(
    srv: &TestServer,
    backend: Backend,
    members: usize,
    departments: usize,
) -> anyhow::Result<()> {
    // A tenant of its own: the other scenarios add members to the seeded one, and `Count` must be
    // exactly the generated directory's (nor should 100,000 members slow the scenarios after it).
    let t = srv.seed_tenant().await;
    let running = srv.running();
    let importer = running.admin().importer(&t.admin).await?;
    // Departments: `d<i>` at the top, `d<i>/s<j>` below, 50 children each.
    let paths: Vec<String> = (0..departments)
        .map(|i| {
            if i < departments / 50 {
                format!("d{i}")
            } else {
                format!("d{}/s{i}", i % (departments / 50).max(1))
            }
        })
        .collect();
    let rows: Vec<ImportRow> = (0..members)
        .map(|i| ImportRow {
            line: i as u64 + 2,
            alias: format!("user{i}@{}", t.domain),
            name: format!("User {i}"),
            departments: vec![paths[i % paths.len()].clone()],
            position: "engineer".into(),
            ext_id: format!("E{i}"),
            ..ImportRow::default()
        })
        .collect();
    let backend = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };

    let start = Instant::now();
    importer
        .ensure_departments(&rows)
        .await
        .map_err(|e| anyhow::anyhow!("departments: {e}"))?;
    let mut refused = 0;
    for chunk in rows.chunks(500) {
        let r = importer
            .apply_batch(chunk)
            .await
            .map_err(|e| anyhow::anyhow!("batch: {e}"))?;
        refused += r.refused.len();
    }
    let import_s = start.elapsed().as_secs_f64();
    anyhow::ensure!(refused == 0, "{refused} rows refused");
    println!(
        "import     {backend:<9} {members} members in {departments} departments: {import_s:.1} s ({:.0} rows/s)",
        members as f64 / import_s
    );

    let token = srv.token_for(&t).await;
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..7 {
        let start = Instant::now();
        let (status, body) = srv.call(&token, "openapi/user/list", &[("Ver", "0")]).await;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            status == 200 && body.contains(&format!("\"Count\":{members}")),
            "unexpected user/list answer: status {status}, body {:?}",
            body.chars().take(300).collect::<String>()
        );
        bytes = body.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "user/list  {backend:<9} Ver=0 over {members} members: median {:.0} ms, min {:.0} ms, max {:.0} ms ({} KB)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        bytes / 1024
    );
    Ok(())
}

/// `cgi-user-get`: the newer API's `user/get` (GET with the token and `userid` in the query) of
/// one member, next to the old API's `user-get` row and the `ceiling`.
pub async fn cgi_user_get(srv: &TestServer, args: &crate::Args) -> anyhow::Result<crate::Outcome> {
    let token = srv.corp_token("directory").await;
    let userid = format!("bench.cgi@{}", srv.tenant().domain);
    let create = serde_json::json!({
        "userid": userid, "name": "Bench User", "department": [1], "password": "secret123",
        "slaves": [format!("bench.cgi.alias@{}", srv.tenant().domain)],
    });
    let created: serde_json::Value = srv
        .http
        .post(srv.url(&format!("cgi-bin/user/create?access_token={token}")))
        .json(&create)
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        created["errcode"] == 0,
        "seeding the member failed: {created}"
    );
    let url = std::sync::Arc::new(srv.url(&format!(
        "cgi-bin/user/get?access_token={token}&userid={userid}"
    )));
    crate::load(args, move |http| {
        let url = url.clone();
        async move {
            let r = http.get(url.as_str()).send().await?;
            Ok(r.text().await?.contains("\"errcode\":0"))
        }
    })
    .await
}
