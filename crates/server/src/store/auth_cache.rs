//! The grants behind access tokens, kept in memory so that an API call costs no database round
//! trip, and forgotten the moment anything they depend on changes, on every process and node.
//!
//! A cached grant carries the [`Stamp`] read *before* the database was asked. It is used only while
//! the stamp is unchanged, and every write that can take a grant away (a rotated key or secret,
//! the sync or application switch, the allow list, a disabled tenant, a restore, revoked tokens)
//! changes the stamp *after* its commit ([`Store::auth_changed`]). So a grant read before a change
//! is never used after it: a call that races the change either read the old rows and carries the
//! old stamp, or read the new rows.
//!
//! How other processes change the stamp:
//! - **SQLite**: the CLI writes the same file as the server. Each change appends a byte to
//!   `<database>-auth` beside the database file; the stamp includes that file's change time and
//!   length, read from the open file with one `fstat` per call ([`super::stamp_file`]).
//! - **PostgreSQL**: each change sends `pg_notify('bizmail_auth')`; every node's listener (the
//!   push wake-ups' connection) bumps its own stamp on hearing it. The cache is used only while
//!   that connection is up, so a node that may have missed a notice asks the database. Another
//!   node forgets within one notification's delivery (well under a millisecond on a LAN).
//!
//! Grants are also dropped after [`MAX_AGE`], which bounds what a process killed between its
//! commit and its notice could leave behind. Unknown tokens are never cached: a stranger's
//! guesses always reach the database and the cache holds only real grants, at most
//! [`MAX_ENTRIES`] of each kind.

use super::Store;
use super::stamp_file::StampFile;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a grant may be used without being read again, whatever the stamp says.
pub const MAX_AGE: Duration = Duration::from_secs(10);
/// Grants kept per kind; when full, the cache starts over.
pub const MAX_ENTRIES: usize = 100_000;

/// What the grants read at one moment depended on: this process's change counter and, on SQLite,
/// the shared stamp file's change time and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    local: u64,
    file: (u64, u64),
}

pub(super) struct Entry<T> {
    pub(super) stamp: Stamp,
    pub(super) at: Instant,
    pub(super) value: T,
}

/// The cache of one store: shared by its clones.
pub struct AuthCache {
    local: AtomicU64,
    /// Whether this process would hear other processes' changes: always on SQLite (the file is
    /// read on every call); on PostgreSQL only while the `LISTEN` connection is up.
    hearing: AtomicBool,
    /// The SQLite stamp file; `None` on PostgreSQL.
    file: Option<StampFile>,
    /// The stamp file as last seen: when it moves, everything is forgotten, so a stamp file
    /// that comes back to an earlier change time and length vouches for nothing.
    last_file: Mutex<(u64, u64)>,
    /// Whether grants may be cached at all (an in-memory SQLite database has no file to share).
    enabled: bool,
    /// The old API's grants.
    pub(super) tokens: Grants<super::secrets::TokenGrant>,
    /// The newer API's grants.
    pub(super) corp: Grants<super::corp::CorpGrant>,
    /// The sandboxes as last read (`store::sandbox::snapshot`): they change as rarely as grants
    /// and every write to them says [`Store::auth_changed`], so they share the stamp.
    pub(super) sandbox: Mutex<Option<Entry<std::sync::Arc<super::sandbox::Snapshot>>>>,
    /// Members as `user/get` answers them: on this cache's stamp, and on each tenant's
    /// directory changes besides (see [`super::dir_cache`]).
    pub directory: super::dir_cache::DirCache,
}

/// One kind of grant, by token hash.
pub struct Grants<T>(Mutex<HashMap<Vec<u8>, Entry<T>>>);

impl<T> Default for Grants<T> {
    fn default() -> Self {
        Grants(Mutex::default())
    }
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache")
            .field("local", &self.local)
            .field("hearing", &self.hearing)
            .finish_non_exhaustive()
    }
}

impl AuthCache {
    /// The cache of a SQLite store whose database is `db_file` (`None`: in memory, not cached).
    pub fn sqlite(db_file: Option<PathBuf>) -> AuthCache {
        let directory = super::dir_cache::DirCache::new(db_file.as_deref());
        let file = db_file.map(|f| StampFile::beside(&f, "-auth"));
        AuthCache {
            enabled: file.is_some(),
            hearing: AtomicBool::new(true),
            file,
            directory,
            ..AuthCache::empty()
        }
    }

    /// The cache of a PostgreSQL store; used once the listener says it hears.
    pub fn postgres() -> AuthCache {
        AuthCache {
            enabled: true,
            ..AuthCache::empty()
        }
    }

    fn empty() -> AuthCache {
        AuthCache {
            local: AtomicU64::new(0),
            hearing: AtomicBool::new(false),
            file: None,
            last_file: Mutex::default(),
            enabled: false,
            tokens: Grants::default(),
            corp: Grants::default(),
            sandbox: Mutex::default(),
            directory: super::dir_cache::DirCache::default(),
        }
    }

    /// The stamp now; `None` when nothing may be cached or used from the cache.
    pub fn stamp(&self) -> Option<Stamp> {
        if !self.enabled || !self.hearing.load(Ordering::Acquire) {
            return None;
        }
        let file = match &self.file {
            Some(f) => f.read()?,
            None => (0, 0),
        };
        {
            let mut last = self.last_file.lock().ok()?;
            if *last != file {
                *last = file;
                self.forget();
            }
        }
        let local = self.local.load(Ordering::Acquire);
        Some(Stamp { local, file })
    }

    /// This process's change counter, without reading the shared file; `None` when nothing may
    /// be cached. For caches that ride on this one within a call whose grant was just checked
    /// (that check read the file, and forgot everything if it had moved).
    pub fn local_stamp(&self) -> Option<u64> {
        (self.enabled && self.hearing.load(Ordering::Acquire))
            .then(|| self.local.load(Ordering::Acquire))
    }

    /// Something grants depend on changed (here, or heard from elsewhere): forget them all.
    pub fn forget(&self) {
        self.local.fetch_add(1, Ordering::AcqRel);
        self.tokens.clear();
        self.corp.clear();
        if let Ok(mut s) = self.sandbox.lock() {
            *s = None;
        }
    }

    /// Whether other processes' changes reach this one (PostgreSQL's listener sets it). Turning
    /// it on forgets everything, since notices sent while deaf are gone.
    pub fn set_hearing(&self, hearing: bool) {
        if hearing {
            self.forget();
        }
        self.hearing.store(hearing, Ordering::Release);
    }

    /// Tells the other processes of a SQLite database that grants changed.
    fn bump_file(&self) -> std::io::Result<()> {
        match &self.file {
            Some(f) => f.bump(),
            None => Ok(()),
        }
    }

    /// The grant of `hash` from `kind`, or else from `fetch` (the database read), kept under the
    /// stamp read *before* `fetch` runs, so a change committed meanwhile makes it stale at once.
    /// The read is made and boxed only on a miss: inline, its future (most of a KB) would size
    /// the future of every API call, a held `listen` poll's included.
    pub async fn read_through<T: Clone, F>(
        &self,
        kind: &Grants<T>,
        hash: &[u8],
        fetch: impl FnOnce() -> F,
    ) -> super::StoreResult<Option<T>>
    where
        F: std::future::Future<Output = super::StoreResult<Option<T>>>,
    {
        let stamp = self.stamp();
        if let Some(hit) = stamp.and_then(|s| kind.get(hash, s)) {
            return Ok(Some(hit));
        }
        let grant = Box::pin(fetch()).await?;
        if let (Some(g), Some(s)) = (&grant, stamp) {
            kind.keep(hash, s, g);
        }
        Ok(grant)
    }
}

impl<T: Clone> Grants<T> {
    /// The grant of `hash`, if it was read under `stamp` and is young enough.
    fn get(&self, hash: &[u8], stamp: Stamp) -> Option<T> {
        let map = self.0.lock().ok()?;
        let e = map.get(hash)?;
        (e.stamp == stamp && e.at.elapsed() < MAX_AGE).then(|| e.value.clone())
    }

    /// Keeps a grant read under `stamp`.
    fn keep(&self, hash: &[u8], stamp: Stamp, value: &T) {
        let Ok(mut map) = self.0.lock() else { return };
        if map.len() >= MAX_ENTRIES && !map.contains_key(hash) {
            map.clear();
        }
        map.insert(
            hash.to_vec(),
            Entry {
                stamp,
                at: Instant::now(),
                value: value.clone(),
            },
        );
    }
}

impl<T> Grants<T> {
    fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

impl Store {
    /// Says, after the commit, that something access grants depend on changed: this process
    /// forgets its grants at once and the others are told (see the module's notes). A notice that
    /// cannot be sent is logged; [`MAX_AGE`] bounds what it leaves behind.
    pub async fn auth_changed(&self) {
        let cache = self.auth_cache();
        cache.forget();
        match self {
            Store::Sqlite { .. } => {
                if let Err(e) = cache.bump_file() {
                    tracing::warn!(error = %e, "could not tell other processes that access grants changed");
                }
            }
            Store::Postgres { .. } => {
                if let Err(e) =
                    super::sql::execute(self, "SELECT pg_notify('bizmail_auth', '')", &[]).await
                {
                    tracing::warn!(error = %e, "could not tell other nodes that access grants changed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> super::super::secrets::TokenGrant {
        super::super::secrets::TokenGrant {
            tenant_id: 1,
            admin_id: 2,
            admin_name: "admin".into(),
            expires_ms: 0,
            openapi_enabled: true,
            ip_allow: String::new(),
            sandboxed: false,
        }
    }

    #[test]
    fn a_change_in_another_process_moves_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bizmail.db");
        let here = AuthCache::sqlite(Some(db.clone()));
        let there = AuthCache::sqlite(Some(db));
        let before = here.stamp().unwrap();
        here.tokens.keep(b"h", before, &grant());
        assert!(here.tokens.get(b"h", here.stamp().unwrap()).is_some());
        there.bump_file().unwrap();
        let after = here.stamp().unwrap();
        assert_ne!(before, after);
        assert!(here.tokens.get(b"h", after).is_none());
        // Past the limit the file is cut back, and the stamp still never repeats.
        let mut seen = vec![before, after];
        for _ in 0..(super::super::stamp_file::LIMIT + 2) {
            there.bump_file().unwrap();
            let s = here.stamp().unwrap();
            assert_ne!(Some(&s), seen.last());
            seen.push(s);
        }
        assert!(seen.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn forgetting_here_and_deafness_refuse_the_cache() {
        let pg = AuthCache::postgres();
        assert!(pg.stamp().is_none(), "not used until the listener hears");
        pg.set_hearing(true);
        let s = pg.stamp().unwrap();
        pg.tokens.keep(b"h", s, &grant());
        assert!(pg.tokens.get(b"h", s).is_some());
        pg.forget();
        assert!(pg.tokens.get(b"h", pg.stamp().unwrap()).is_none());
        pg.set_hearing(false);
        assert!(pg.stamp().is_none());
        assert!(AuthCache::sqlite(None).stamp().is_none());
    }
}
