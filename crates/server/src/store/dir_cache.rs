//! Members as `user/get` answers them, kept in memory so that the old API's most frequent read
//! costs no database round trip, and forgotten the moment the tenant's directory changes, on every
//! process and node.
//!
//! It follows the grants cache ([`super::auth_cache`]) and rides on its stamp, so whatever makes
//! grants stale (a restore, a listener that stopped hearing) makes members stale too. On top:
//! - **Here**: every transaction that changes a tenant's directory bumps the directory version
//!   (`directory::finish`: the one place that does). It notes the tenant on the transaction
//!   ([`super::Tx::directory_changed`]), and the commit bumps that tenant's generation *after* it
//!   is durable. A read takes the generation *before* asking the database, so one that raced the
//!   change either read the old rows and carries the old generation, or read the new rows.
//! - **SQLite, other processes** (the CLI's import, seed, member commands): the commit also
//!   appends a byte to `<database>-dir`; a read `fstat`s it ([`super::stamp_file`]), and when it
//!   moves nothing kept before is used.
//! - **PostgreSQL, other nodes**: the transaction sends `pg_notify('bizmail_dir', tenant)`, which
//!   PostgreSQL delivers only if it commits; each node's listener bumps that tenant's generation.
//!
//! Only found members are kept (a stranger's guesses always reach the database), for at most
//! [`super::auth_cache::MAX_AGE`] (bounding what a process killed between its commit and its notice
//! leaves behind), and at most [`MAX_ENTRIES`] of them.

use super::auth_cache::{AuthCache, MAX_AGE};
use super::stamp_file::StampFile;
use bizmail_protocol::response::UserInfo;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Members kept; when full, the cache starts over.
pub const MAX_ENTRIES: usize = 100_000;

/// What a kept member was read under: the grants' counter in this process (a moved grants
/// file bumps it at the call's token check, before the member is looked up), the shared
/// directory file and the tenant's generation in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirStamp {
    grants: u64,
    file: (u64, u64),
    generation: u64,
}

/// The members of every tenant, by the address asked for.
#[derive(Default)]
pub struct DirCache {
    /// `<database>-dir` on SQLite; `None` on PostgreSQL.
    file: Option<StampFile>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Each tenant's generation: bumped by every directory change of the tenant.
    generations: HashMap<i64, u64>,
    /// By tenant, then by address: a lookup borrows the address, so a hit allocates nothing.
    entries: HashMap<i64, HashMap<String, Kept>>,
    /// How many members `entries` holds.
    kept: usize,
}

struct Kept {
    stamp: DirStamp,
    at: Instant,
    value: UserInfo,
}

impl std::fmt::Debug for DirCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirCache")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl DirCache {
    /// The cache of a SQLite database file (`None`: in memory) or of PostgreSQL (`None`).
    pub fn new(db_file: Option<&std::path::Path>) -> DirCache {
        DirCache {
            file: db_file.map(|f| StampFile::beside(f, "-dir")),
            state: Mutex::default(),
        }
    }

    /// The stamp of `tenant_id` now, and the member kept under it if any; no stamp when nothing
    /// may be cached or used. One lock for both.
    fn look(
        &self,
        grants: &AuthCache,
        tenant_id: i64,
        address: &str,
    ) -> Option<(DirStamp, Option<UserInfo>)> {
        let grants = grants.local_stamp()?;
        let file = match &self.file {
            Some(f) => f.read()?,
            None => (0, 0),
        };
        let state = self.state.lock().ok()?;
        let stamp = DirStamp {
            grants,
            file,
            generation: state.generations.get(&tenant_id).copied().unwrap_or(0),
        };
        // Entries read under another stamp (another file, an older generation) are not used,
        // and are replaced by the read that follows.
        let hit = state
            .entries
            .get(&tenant_id)
            .and_then(|m| m.get(address))
            .filter(|k| k.stamp == stamp && k.at.elapsed() < MAX_AGE)
            .map(|k| k.value.clone());
        Some((stamp, hit))
    }

    /// The member `address` of `tenant_id` from the cache, or else from `fetch` (the database
    /// read), kept under the stamp read before `fetch` runs.
    pub async fn read_through<E>(
        &self,
        grants: &AuthCache,
        tenant_id: i64,
        address: &str,
        fetch: impl std::future::Future<Output = Result<UserInfo, E>>,
    ) -> Result<UserInfo, E> {
        let stamp = match self.look(grants, tenant_id, address) {
            Some((_, Some(hit))) => return Ok(hit),
            Some((stamp, None)) => Some(stamp),
            None => None,
        };
        let value = fetch.await?;
        if let Some(s) = stamp
            && let Ok(mut state) = self.state.lock()
        {
            if state.kept >= MAX_ENTRIES {
                state.entries.clear();
                state.kept = 0;
            }
            let kept = Kept {
                stamp: s,
                at: Instant::now(),
                value: value.clone(),
            };
            let tenant = state.entries.entry(tenant_id).or_default();
            if tenant.insert(address.to_owned(), kept).is_none() {
                state.kept += 1;
            }
        }
        Ok(value)
    }

    /// The directories of `tenants` changed (committed here, or heard from another node): what
    /// was kept of them is stale from now on.
    pub fn changed(&self, tenants: &[i64]) {
        if let Ok(mut state) = self.state.lock() {
            for t in tenants {
                *state.generations.entry(*t).or_default() += 1;
                // Stale from now on: freed rather than kept until replaced.
                if let Some(gone) = state.entries.remove(t) {
                    state.kept = state.kept.saturating_sub(gone.len());
                }
            }
        }
    }

    /// Tells the other processes of a SQLite database that a directory changed.
    pub(super) fn bump_file(&self) {
        if let Some(f) = &self.file
            && let Err(e) = f.bump()
        {
            tracing::warn!(error = %e, "could not tell other processes that a directory changed");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn info(name: &str) -> UserInfo {
        UserInfo {
            alias: "a@x.com".into(),
            name: name.into(),
            gender: 0,
            slave_list: String::new(),
            position: String::new(),
            tel: String::new(),
            mobile: String::new(),
            ext_id: String::new(),
            status: 1,
            party_list: bizmail_protocol::response::ValueList::of(Vec::new()),
            open_type: 1,
        }
    }

    async fn read(cache: &DirCache, grants: &AuthCache, tenant: i64, name: &str) -> String {
        cache
            .read_through::<()>(grants, tenant, "a@x.com", async { Ok(info(name)) })
            .await
            .unwrap()
            .name
    }

    #[tokio::test]
    async fn a_change_of_the_tenant_here_or_in_another_process_forgets_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite");
        let grants = AuthCache::sqlite(Some(db.clone()));
        let here = DirCache::new(Some(&db));
        let other = DirCache::new(Some(&db));
        assert_eq!(read(&here, &grants, 1, "old").await, "old");
        assert_eq!(read(&here, &grants, 2, "two").await, "two");
        assert_eq!(read(&here, &grants, 1, "new").await, "old", "kept");
        here.changed(&[1]);
        assert_eq!(read(&here, &grants, 1, "new").await, "new");
        assert_eq!(read(&here, &grants, 2, "2b").await, "two", "another tenant");
        other.bump_file();
        assert_eq!(read(&here, &grants, 2, "2b").await, "2b", "the file moved");
        // Another process's change of grants, seen at the next token check.
        grants.forget();
        assert_eq!(
            read(&here, &grants, 2, "2c").await,
            "2c",
            "grants forgotten"
        );
    }

    #[tokio::test]
    async fn without_a_shared_file_nothing_is_kept() {
        let grants = AuthCache::sqlite(None);
        let cache = DirCache::new(None);
        assert_eq!(read(&cache, &grants, 1, "a").await, "a");
        assert_eq!(read(&cache, &grants, 1, "b").await, "b");
    }
}
