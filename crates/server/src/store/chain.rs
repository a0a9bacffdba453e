//! SQLite's writer slot, and the chained commits that let concurrent write transactions share
//! one `COMMIT` (one fsync) without any of them being answered before it is durable.
//!
//! SQLite runs one write transaction at a time, and with `synchronous = FULL` each commit waits
//! for the disk: sixteen SMTP sessions delivering at once queued behind one fsync per message.
//! Here a writer that finishes while others wait for the slot does not commit: it releases its
//! savepoint, leaves the still-open transaction (the *chain*) in the slot, and waits. The next
//! writer continues the same transaction under a savepoint of its own, and so on; whoever ends
//! the chain (nobody left waiting, or [`MAX_CHAIN`] members) commits once and answers everyone.
//!
//! What keeps it honest:
//! - every member learns of success only after the chain's `COMMIT` returned;
//! - each member runs inside `SAVEPOINT member`, so one that fails or is dropped is undone alone
//!   (`ROLLBACK TO`), and the others still commit;
//! - if SQLite rolled the whole transaction back under a member (a full disk, an I/O error), that
//!   member's `RELEASE` or `ROLLBACK TO` finds no savepoint, and every member of the chain is told
//!   of the failure; none is told "done" for work that is gone;
//! - a chain left in the slot is always ended: the first hand-on spawns a *closer* that queues for
//!   the slot like any writer and commits whatever chain it finds, so members never wait on a
//!   writer that gave up while queued.
//!
//! A member may read what earlier members of its chain wrote before their commit; that is safe
//! because they commit or fail together.

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// The most members one commit carries, so the first of them never waits long.
pub const MAX_CHAIN: usize = 64;

/// What a member of a chain hears when it ends: `Ok` once committed, or the failure's text.
type Outcome = Result<(), Arc<str>>;

/// The writer slot of one SQLite store, shared by its clones.
#[derive(Default)]
pub struct Writer {
    slot: Arc<Mutex<Slot>>,
    /// Writers queued for the slot (closers not counted): a finishing writer hands its open
    /// transaction on only when someone is there to continue it.
    queued: AtomicUsize,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SQLite writer slot")
    }
}

/// What the slot guards: the open transaction between two members, if any.
#[derive(Default)]
struct Slot {
    chain: Option<Chain>,
}

/// A write transaction carried from member to member.
struct Chain {
    conn: PoolConnection<Sqlite>,
    /// Members that finished and wait for the commit.
    waiting: Vec<oneshot::Sender<Outcome>>,
    /// Whether a closer is queued for this chain already.
    closer: bool,
}

/// The writer slot, held.
pub struct Held {
    guard: OwnedMutexGuard<Slot>,
    writer: Arc<Writer>,
    /// Whether this holder's savepoint is open (its work neither released nor undone yet).
    member: bool,
}

impl Writer {
    /// Waits for the slot.
    pub async fn hold(self: &Arc<Writer>) -> Held {
        struct Queued<'a>(&'a AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = Queued(&self.queued);
        let guard = self.slot.clone().lock_owned().await;
        drop(queued);
        Held {
            guard,
            writer: self.clone(),
            member: false,
        }
    }
}

impl Held {
    /// Whether a chain is open in the slot (a batch of one may then not run on its own).
    pub fn has_chain(&self) -> bool {
        self.guard.chain.is_some()
    }

    /// Opens this holder's part of the transaction: `BEGIN IMMEDIATE` on a pooled connection when
    /// no chain is open, and a savepoint either way.
    pub async fn open(&mut self, pool: &SqlitePool) -> sqlx::Result<()> {
        match self.guard.chain.as_mut() {
            Some(chain) => {
                if let Err(e) = run(&mut chain.conn, "SAVEPOINT member").await {
                    self.fail(&e.to_string()).await;
                    return Err(e);
                }
            }
            None => {
                let mut conn = pool.acquire().await?;
                run(&mut conn, "BEGIN IMMEDIATE; SAVEPOINT member").await?;
                self.guard.chain = Some(Chain {
                    conn,
                    waiting: Vec::new(),
                    closer: false,
                });
            }
        }
        self.member = true;
        Ok(())
    }

    /// The connection inside the open transaction.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        // `open` put the chain there and only `release`, `undo` and `fail` (which take `self`
        // or end the member) remove it: an invariant of this type, not something input can break.
        #[allow(clippy::expect_used)]
        &mut self
            .guard
            .chain
            .as_mut()
            .expect("a held writer slot is used only after open")
            .conn
    }

    /// Keeps this holder's work: returns once it is committed (possibly together with later
    /// writers' work), or with the error that lost it.
    pub async fn release(mut self) -> sqlx::Result<()> {
        self.member = false;
        let conn = self.conn();
        if let Err(e) = run(conn, "RELEASE member").await {
            self.fail(&e.to_string()).await;
            return Err(e);
        }
        match self.settle(true).await {
            Some(rx) => match rx.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(text)) => Err(lost(&text)),
                Err(_) => Err(lost("the chained commit was abandoned")),
            },
            None => Ok(()),
        }
    }

    /// Undoes this holder's work; the chain's earlier members still commit.
    pub async fn undo(mut self) {
        self.member = false;
        let Some(chain) = self.guard.chain.as_mut() else {
            return;
        };
        if chain.waiting.is_empty() {
            // Nobody else is in this transaction: end it.
            if let Some(chain) = self.guard.chain.take() {
                end_badly(chain.conn).await;
            }
            return;
        }
        if let Err(e) = run(&mut chain.conn, "ROLLBACK TO member; RELEASE member").await {
            self.fail(&e.to_string()).await;
            return;
        }
        // Hand the chain on or commit it for the others; this holder waits for nothing.
        let _ = self.settle(false).await;
    }

    /// Hands the chain on if someone waits for the slot and the chain has room (returning, when
    /// `me`, the receiver this holder waits on); otherwise commits it now and answers its members
    /// (`None` on success, or a receiver that already holds the failure).
    async fn settle(mut self, me: bool) -> Option<oneshot::Receiver<Outcome>> {
        let waiters = self.writer.queued.load(Ordering::SeqCst);
        let chain = self.guard.chain.as_mut()?;
        // Without `me`, only a chain that has members (and so a closer) may be left in the slot.
        let room = chain.waiting.len() + usize::from(me) < MAX_CHAIN;
        if waiters > 0 && room && (me || !chain.waiting.is_empty()) {
            let rx = me.then(|| {
                let (tx, rx) = oneshot::channel();
                chain.waiting.push(tx);
                rx
            });
            if !chain.closer {
                chain.closer = true;
                tokio::spawn(close(self.writer.clone()));
            }
            // Dropping `self` frees the slot with the chain still in it.
            return rx;
        }
        match self.finish().await {
            Ok(()) => None,
            Err(text) => {
                let (tx, rx) = oneshot::channel();
                let _ = tx.send(Err(text));
                Some(rx)
            }
        }
    }

    /// Commits the open chain, frees the slot, then answers the chain's members.
    async fn finish(mut self) -> Outcome {
        let Some(chain) = self.guard.chain.take() else {
            return Ok(());
        };
        let outcome = commit(chain.conn).await;
        // The slot is free before the answers go out: the next writer need not wait for them.
        drop(self);
        for member in chain.waiting {
            let _ = member.send(outcome.clone());
        }
        outcome
    }

    /// Ends the chain after a failure under it: rolls back and tells every waiting member.
    async fn fail(&mut self, text: &str) {
        self.member = false;
        if let Some(chain) = self.guard.chain.take() {
            end_badly(chain.conn).await;
            let text: Arc<str> = Arc::from(format!("the chained commit failed: {text}"));
            for member in chain.waiting {
                let _ = member.send(Err(text.clone()));
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // A holder dropped with its savepoint open (no runtime left to undo it on): the chain's
        // transaction cannot be trusted, so it leaves with its connection, closed rather than
        // pooled (SQLite rolls it back), and its members hear that it was abandoned.
        if self.member
            && let Some(chain) = self.guard.chain.take()
        {
            drop(chain.conn.detach());
        }
    }
}

/// Queues for the slot behind the writers that were waiting when a chain was handed on, and
/// commits whatever chain is open when its turn comes.
async fn close(writer: Arc<Writer>) {
    let guard = writer.slot.clone().lock_owned().await;
    let held = Held {
        guard,
        writer,
        member: false,
    };
    // A failure reaches the members; there is nobody else to tell.
    let _ = held.finish().await;
}

/// Commits; a connection whose commit failed is rolled back (or closed) rather than pooled.
async fn commit(mut conn: PoolConnection<Sqlite>) -> Outcome {
    match run(&mut conn, "COMMIT").await {
        Ok(()) => Ok(()),
        Err(e) => {
            end_badly(conn).await;
            Err(Arc::from(format!("the commit failed: {e}")))
        }
    }
}

/// Rolls back; a connection that cannot is closed rather than returned to the pool.
async fn end_badly(mut conn: PoolConnection<Sqlite>) {
    if run(&mut conn, "ROLLBACK").await.is_err() {
        let _ = conn.close().await;
    }
}

async fn run(conn: &mut SqliteConnection, sql: &'static str) -> sqlx::Result<()> {
    sqlx::raw_sql(sql).execute(conn).await.map(drop)
}

fn lost(text: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use crate::config::Backend;
    use crate::store::{Store, StoreSettings, sql};
    use std::time::Duration;

    fn settings(dir: &tempfile::TempDir) -> StoreSettings {
        StoreSettings {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", dir.path().join("c.db").display()),
            private_dir: None,
            max_connections: 4,
        }
    }

    async fn store(dir: &tempfile::TempDir) -> Store {
        let store = Store::connect(&settings(dir)).await.unwrap();
        sql::execute(&store, "CREATE TABLE c (k BIGINT PRIMARY KEY)", &[])
            .await
            .unwrap();
        store
    }

    async fn insert(tx: &mut crate::store::Tx, k: i64) -> crate::store::StoreResult<u64> {
        sql::execute_in(&mut tx.conn(), "INSERT INTO c (k) VALUES ($1)", &[k.into()]).await
    }

    async fn keys(store: &Store) -> Vec<i64> {
        sql::all::<(i64,)>(store, "SELECT k FROM c ORDER BY k", &[])
            .await
            .unwrap()
            .into_iter()
            .map(|(k,)| k)
            .collect()
    }

    /// Waits until `store`'s writer has `n` writers queued.
    async fn queued(store: &Store, n: usize) {
        let Store::Sqlite { writer, .. } = store else {
            unreachable!()
        };
        while writer.queued.load(std::sync::atomic::Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_followed_by_another_is_answered_only_after_their_shared_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let mut a = store.begin().await.unwrap();
        insert(&mut a, 1).await.unwrap();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let b = tokio::spawn({
            let store = store.clone();
            async move {
                let mut b = store.begin().await.unwrap();
                insert(&mut b, 2).await.unwrap();
                wait.await.unwrap();
                b.commit().await.map(|c| c.no_events())
            }
        });
        queued(&store, 1).await;
        let a = tokio::spawn(async move { a.commit().await.map(|c| c.no_events()) });
        // A handed its transaction to B: it is not answered while B's part is open, and nothing
        // is visible to readers yet.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!a.is_finished(), "A was answered before the shared commit");
        assert!(keys(&store).await.is_empty());
        go.send(()).unwrap();
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();
        assert_eq!(keys(&store).await, [1, 2]);
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_member_that_fails_or_is_dropped_is_undone_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let mut a = store.begin().await.unwrap();
        insert(&mut a, 1).await.unwrap();
        // B inserts, then meets a duplicate and gives up; C is dropped half-way; D commits.
        let spawn_member = |keys: Vec<i64>, keep: bool| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                for k in keys {
                    if insert(&mut tx, k).await.is_err() {
                        return false;
                    }
                }
                if keep {
                    tx.commit().await.unwrap().no_events();
                }
                keep
            })
        };
        let b = spawn_member(vec![2, 1], true);
        queued(&store, 1).await;
        let c = spawn_member(vec![3], false);
        queued(&store, 2).await;
        let d = spawn_member(vec![4], true);
        queued(&store, 3).await;
        a.commit().await.unwrap().no_events();
        assert!(!b.await.unwrap());
        assert!(!c.await.unwrap());
        assert!(d.await.unwrap());
        assert_eq!(keys(&store).await, [1, 4]);
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_chain_ends_even_when_the_next_writer_gives_up_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let mut a = store.begin().await.unwrap();
        insert(&mut a, 1).await.unwrap();
        let gives_up = tokio::spawn({
            let store = store.clone();
            async move { store.begin().await.map(drop) }
        });
        queued(&store, 1).await;
        let a = tokio::spawn(async move { a.commit().await.map(|c| c.no_events()) });
        gives_up.abort();
        tokio::time::timeout(Duration::from_secs(5), a)
            .await
            .expect("the chain was left open")
            .unwrap()
            .unwrap();
        assert_eq!(keys(&store).await, [1]);
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_transactions_all_commit_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let writers: Vec<_> = (0..300)
            .map(|k| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut tx = store.begin().await?;
                    insert(&mut tx, k).await?;
                    insert(&mut tx, 1000 + k).await?;
                    tx.commit().await.map(|c| c.no_events())
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap().unwrap();
        }
        store.close().await;
        let again = Store::connect(&settings(&dir)).await.unwrap();
        assert_eq!(keys(&again).await.len(), 600);
        again.close().await;
    }
}
