//! `/admin/directory/import`: an org chart uploaded as CSV (the format of `bizmail import`) and
//! loaded in the background by the directory's own importer (`directory::import`: departments as
//! `party/sync` ADD, each row a `user/sync` ADD or MOD with its rules, batches of 100 rows, one
//! transaction each), with a page that refreshes itself every second (no script: a
//! `<meta http-equiv="refresh">`) until the summary: added, changed, unchanged, and each refused
//! row with its line and reason.
//!
//! Bounded: a file of at most 4 MB and 20,000 rows (`csv_rows` reads it), one running import per
//! tenant, results kept for 10 minutes (in this process's memory: a restart forgets them; the rows
//! already loaded stay, and loading the same file again changes nothing).

use super::csv_rows::parse_csv;
use super::texts::{DirTexts, refusal};
use super::{Said, SignedAdmin, Tabs, log_line, with_status};
use crate::config::Config;
use crate::directory::DirError;
use crate::directory::import::ImportRow;
use crate::http::AppState;
use crate::http::console::texts::Ct;
use crate::http::console::unavailable;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use bizmail_protocol::ErrorCode;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// The largest file taken.
const MAX_FILE: usize = 4 * 1024 * 1024;
/// The largest request body of an upload (the file and the form around it).
pub const MAX_UPLOAD: usize = MAX_FILE + 64 * 1024;
/// Rows per transaction.
const BATCH: usize = 100;
/// How long a finished import's result is kept.
const KEEP: Duration = Duration::from_secs(10 * 60);
/// The most imports remembered at once (running or finished), over every tenant.
const MAX_JOBS: usize = 256;

/// How an import ended early.
#[derive(Debug, Clone, Copy)]
enum Stopped {
    /// The store failed (logged).
    Unavailable,
    /// The directory refused the departments of the file.
    Refused(ErrorCode),
}

/// Where an import is.
#[derive(Debug, Clone, Default)]
struct Progress {
    done: usize,
    added: u64,
    changed: u64,
    unchanged: u64,
    refused: Vec<(u64, String, ErrorCode)>,
    finished: Option<Instant>,
    stopped: Option<Stopped>,
}

/// One import, running or finished.
#[derive(Debug)]
struct Job {
    id: String,
    /// The server it runs in (several servers share a test process): its configuration, which
    /// lives as long as it does.
    owner: Weak<Config>,
    tenant_id: i64,
    file: String,
    total: usize,
    progress: Mutex<Progress>,
}

/// Every import this process remembers.
static JOBS: LazyLock<Mutex<Vec<Arc<Job>>>> = LazyLock::new(Mutex::default);

/// A lock that a panicked holder did not leave unusable (the data is counts only).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Job {
    fn progress(&self) -> Progress {
        lock(&self.progress).clone()
    }

    fn is_running(&self) -> bool {
        lock(&self.progress).finished.is_none()
    }

    fn belongs(&self, state: &AppState, tenant_id: i64) -> bool {
        self.tenant_id == tenant_id && Weak::ptr_eq(&self.owner, &Arc::downgrade(&state.config))
    }
}

/// Forgets finished imports older than [`KEEP`] and those of servers that stopped.
fn sweep(jobs: &mut Vec<Arc<Job>>) {
    jobs.retain(|j| {
        let kept = lock(&j.progress)
            .finished
            .is_none_or(|at| at.elapsed() < KEEP);
        kept && j.owner.strong_count() > 0
    });
}

/// The tenant's import `id`.
fn find(state: &AppState, tenant_id: i64, id: &str) -> Option<Arc<Job>> {
    let mut jobs = lock(&JOBS);
    sweep(&mut jobs);
    jobs.iter()
        .find(|j| j.id == id && j.belongs(state, tenant_id))
        .cloned()
}

/// The tenant's newest import.
fn latest(state: &AppState, tenant_id: i64) -> Option<Arc<Job>> {
    let mut jobs = lock(&JOBS);
    sweep(&mut jobs);
    jobs.iter()
        .rev()
        .find(|j| j.belongs(state, tenant_id))
        .cloned()
}

/// Registers a new import, unless one of the tenant's is running (its id is the error) or too
/// many are remembered (no id).
fn register(
    state: &AppState,
    tenant_id: i64,
    file: &str,
    total: usize,
) -> Result<Arc<Job>, Option<String>> {
    let mut jobs = lock(&JOBS);
    sweep(&mut jobs);
    if let Some(j) = jobs
        .iter()
        .find(|j| j.belongs(state, tenant_id) && j.is_running())
    {
        return Err(Some(j.id.clone()));
    }
    if jobs.len() >= MAX_JOBS {
        match jobs.iter().position(|j| !j.is_running()) {
            Some(oldest) => {
                jobs.remove(oldest);
            }
            None => return Err(None),
        }
    }
    let job = Arc::new(Job {
        id: hex::encode(crate::auth::random_bytes::<16>()),
        owner: Arc::downgrade(&state.config),
        tenant_id,
        file: file.to_owned(),
        total,
        progress: Mutex::default(),
    });
    jobs.push(job.clone());
    Ok(job)
}

/// Loads the rows, batch by batch, noting the progress.
async fn run(importer: crate::directory::import::Importer, rows: Vec<ImportRow>, job: Arc<Job>) {
    let stop = |e: DirError| match e {
        DirError::Refused(code) => Stopped::Refused(code),
        other => {
            crate::http::error::log_failure("a console import", &other);
            Stopped::Unavailable
        }
    };
    let mut stopped = importer.ensure_departments(&rows).await.err().map(stop);
    if stopped.is_none() {
        for chunk in rows.chunks(BATCH) {
            match importer.apply_batch(chunk).await {
                Ok(r) => {
                    let mut p = lock(&job.progress);
                    p.done += chunk.len();
                    p.added += r.added;
                    p.changed += r.changed;
                    p.unchanged += r.unchanged;
                    p.refused.extend(r.refused);
                }
                Err(e) => {
                    stopped = Some(stop(e));
                    break;
                }
            }
        }
    }
    let mut p = lock(&job.progress);
    p.stopped = stopped;
    p.finished = Some(Instant::now());
}

/// An import as the page shows it.
struct JobView {
    id: String,
    file: String,
    total: usize,
    done: usize,
    added: u64,
    changed: u64,
    unchanged: u64,
    refused: Vec<(u64, String, String)>,
    finished: bool,
    failed: String,
}

impl JobView {
    fn of(job: &Job, lang: Lang) -> JobView {
        let p = job.progress();
        let dt = super::texts::dt(lang);
        JobView {
            id: job.id.clone(),
            file: job.file.clone(),
            total: job.total,
            done: p.done,
            added: p.added,
            changed: p.changed,
            unchanged: p.unchanged,
            refused: p
                .refused
                .into_iter()
                .map(|(line, alias, code)| (line, alias, refusal(lang, code)))
                .collect(),
            finished: p.finished.is_some(),
            failed: match p.stopped {
                None => String::new(),
                Some(Stopped::Unavailable) => dt.import_failed.to_owned(),
                Some(Stopped::Refused(code)) => refusal(lang, code),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "console/directory_import.html")]
struct ImportTemplate<'a> {
    ct: &'a Ct,
    dt: &'a DirTexts,
    tabs: Tabs,
    said: &'a Said,
    csrf: &'a str,
    domain: &'a str,
    job: Option<JobView>,
    here_is_job: bool,
    show_form: bool,
}

/// The upload page (with the tenant's latest import), or one import's page.
async fn show(state: &AppState, admin: &SignedAdmin, job: Option<&Job>, said: &Said) -> Response {
    let lang = admin.signed.lang;
    let domain = match state.directory.scope(admin.tenant_id).await {
        Ok(s) => s.domains.into_iter().next().unwrap_or_default(),
        Err(e) => return unavailable(lang, "reading the tenant's domains", &e),
    };
    let here_is_job = job.is_some();
    let shown = match job {
        Some(j) => Some(JobView::of(j, lang)),
        None => latest(state, admin.tenant_id).map(|j| JobView::of(&j, lang)),
    };
    let here = match &shown {
        Some(j) if here_is_job => format!("/admin/directory/import/{}", j.id),
        _ => "/admin/directory/import".to_owned(),
    };
    let body = ImportTemplate {
        ct: admin.signed.ct(),
        dt: admin.dt(),
        tabs: Tabs::at(admin.dt(), 3),
        said,
        csrf: &admin.signed.session.csrf,
        domain: &domain,
        job: shown,
        here_is_job,
        show_form: !here_is_job,
    }
    .render()
    .unwrap_or_default();
    let r = admin
        .signed
        .page(admin.signed.ct().nav_directory, &here, &body);
    with_status(r, said.status())
}

/// `GET /admin/directory/import`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> Response {
    match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(admin) => show(&state, &admin, None, &Said::default()).await,
        Err(r) => r,
    }
}

/// `GET /admin/directory/import/{id}`: the progress, refreshing itself until done.
pub async fn progress(
    State(state): State<AppState>,
    Path(id): Path<String>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> Response {
    let admin = match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match find(&state, admin.tenant_id, &id) {
        Some(job) => show(&state, &admin, Some(&job), &Said::default()).await,
        None => {
            let said = Said::error(admin.dt().import_gone);
            with_status(
                show(&state, &admin, None, &said).await,
                StatusCode::NOT_FOUND,
            )
        }
    }
}

/// What the upload form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    file: String,
    bytes: Vec<u8>,
    too_big: bool,
}

/// Reads the form; a body over the limit (or cut short) is `too_big`.
async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Upload {
    let mut up = Upload::default();
    let Ok(mut multipart) = multipart else {
        return up;
    };
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                if name == "file" {
                    up.file = field.file_name().unwrap_or_default().to_owned();
                    match field.bytes().await {
                        Ok(b) => up.bytes = b.to_vec(),
                        Err(_) => {
                            up.too_big = true;
                            return up;
                        }
                    }
                } else if name == "csrf" {
                    up.csrf = field.text().await.unwrap_or_default();
                }
            }
            Ok(None) => return up,
            Err(_) => {
                up.too_big = true;
                return up;
            }
        }
    }
}

/// `POST /admin/directory/import` (multipart, the file as `file`): checks the whole file, then
/// starts the import and leads to its progress page.
pub async fn upload(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let admin = match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let dt = admin.dt();
    let up = read_upload(multipart).await;
    if !up.too_big && !admin.signed.csrf_ok(&up.csrf) {
        let said = Said::error(admin.signed.ct().form_expired);
        return with_status(
            show(&state, &admin, None, &said).await,
            StatusCode::FORBIDDEN,
        );
    }
    let file: String = up
        .file
        .chars()
        .filter(|c| !c.is_control())
        .take(128)
        .collect();
    let params = log_line(&[("file", &file)]);
    let problem = if up.too_big || up.bytes.len() > MAX_FILE {
        Some(dt.csv_too_big.to_owned())
    } else if up.bytes.is_empty() {
        Some(dt.no_file.to_owned())
    } else {
        None
    };
    let rows = match problem {
        Some(p) => Err(p),
        None => parse_csv(&up.bytes, dt),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(why) => {
            let code = i64::from(ErrorCode::InvalidRequest.code());
            admin
                .signed
                .record(&state, "directory/import", &params, code)
                .await;
            return show(&state, &admin, None, &Said::error(&why)).await;
        }
    };
    let importer = match state.admin.importer(admin.name()).await {
        Ok(i) => i.logged_as("console/directory/import", &ip.to_string()),
        Err(e) => return unavailable(lang, "starting an import", &e),
    };
    let job = match register(&state, admin.tenant_id, &file, rows.len()) {
        Ok(job) => job,
        Err(running) => {
            let said = Said::error(dt.import_busy);
            let r = match running.and_then(|id| find(&state, admin.tenant_id, &id)) {
                Some(job) => show(&state, &admin, Some(&job), &said).await,
                None => show(&state, &admin, None, &said).await,
            };
            return with_status(r, StatusCode::CONFLICT);
        }
    };
    let params = log_line(&[("file", &file), ("rows", &rows.len().to_string())]);
    admin
        .signed
        .record(&state, "directory/import", &params, 0)
        .await;
    let target = format!("/admin/directory/import/{}", job.id);
    tokio::spawn(run(importer, rows, job));
    crate::http::redirect::see_other(&target, "/admin/directory/import")
}
