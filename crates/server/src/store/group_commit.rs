//! Group commit for SQLite's single-statement writes: the writes that arrive while another is
//! being committed share the next commit, so a burst of them costs one fsync rather than one each.
//!
//! SQLite runs one write transaction at a time, and with `synchronous = FULL` each commit waits
//! for the disk. A thousand held `listen` polls woken by one mail each advance their cursor, and
//! at one commit apiece the last of them answered some 300 ms after the first. Here a write
//! queues its statement; whoever holds the writer slot next (the *leader*) runs every queued
//! statement in one `BEGIN IMMEDIATE` transaction, in arrival order, commits once, and only then
//! hands each writer its own result. So every caller still learns of success only after its
//! statement is durable, and each statement still sees the ones before it (a compare-and-set
//! such as the cursor's claim stays exact). A statement that fails is undone on its own (SQLite
//! rolls back just that statement); if the commit fails, every writer of the batch gets the error.
//!
//! A batch is also a member of the chained commits of [`super::chain`]: it runs inside the
//! transaction a finishing writer left open, when there is one, and hands it on in turn.

use super::chain::{Held, Writer};
use super::sql::{Arg, execute_in};
use super::{Conn, StoreError, StoreResult};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// An argument the queue owns (the caller's borrowed [`Arg`] cannot wait in a queue).
#[derive(Debug, Clone)]
enum Owned {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

impl Owned {
    fn of(a: &Arg<'_>) -> Owned {
        match *a {
            Arg::Int(v) => Owned::Int(v),
            Arg::OptInt(v) => Owned::OptInt(v),
            Arg::Text(v) => Owned::Text(v.to_owned()),
            Arg::Bytes(v) => Owned::Bytes(v.to_vec()),
            Arg::Bool(v) => Owned::Bool(v),
        }
    }

    fn arg(&self) -> Arg<'_> {
        match self {
            Owned::Int(v) => Arg::Int(*v),
            Owned::OptInt(v) => Arg::OptInt(*v),
            Owned::Text(v) => Arg::Text(v),
            Owned::Bytes(v) => Arg::Bytes(v),
            Owned::Bool(v) => Arg::Bool(*v),
        }
    }
}

struct Job {
    sql: &'static str,
    args: Vec<Owned>,
    done: oneshot::Sender<StoreResult<u64>>,
}

/// The queue of one SQLite store; shared by its clones.
#[derive(Default)]
pub struct Queue {
    jobs: Mutex<Vec<Job>>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("group commit queue")
    }
}

/// Runs one write statement in the next group commit; returns the rows it affected, once the
/// commit that holds it is durable.
pub async fn execute(
    pool: &sqlx::SqlitePool,
    writer: &Arc<Writer>,
    queue: &Queue,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<u64> {
    let (done, mut result) = oneshot::channel();
    queue
        .jobs
        .lock()
        .map_err(|_| StoreError::unavailable("the group-commit queue is poisoned"))?
        .push(Job {
            sql,
            args: args.iter().map(Owned::of).collect(),
            done,
        });
    let held = tokio::select! {
        biased;
        // Another leader took this statement and committed it.
        r = &mut result => return r.unwrap_or_else(|_| Err(StoreError::unavailable("the group commit was dropped"))),
        held = writer.hold() => held,
    };
    if let Ok(r) = result.try_recv() {
        return r;
    }
    let jobs = std::mem::take(
        &mut *queue
            .jobs
            .lock()
            .map_err(|_| StoreError::unavailable("the group-commit queue is poisoned"))?,
    );
    // The batch is led by a task of its own: a caller that goes away (a client hanging up) must
    // not take the other writers' statements down with its future. An empty batch means the
    // previous leader took this statement and is about to answer.
    if jobs.is_empty() {
        drop(held);
    } else {
        tokio::spawn(lead(pool.clone(), held, jobs));
    }
    result
        .await
        .unwrap_or_else(|_| Err(StoreError::unavailable("the group commit was dropped")))
}

/// Runs `jobs` in one transaction (or in the chain another writer left open) and answers each
/// once it is committed.
async fn lead(pool: sqlx::SqlitePool, mut held: Held, jobs: Vec<Job>) {
    // A batch of one runs on its own, as an autocommit statement: no BEGIN/COMMIT round trips.
    if jobs.len() == 1 && !held.has_chain() {
        for job in jobs {
            let r = match pool.acquire().await {
                Ok(mut c) => run(&mut Conn::Sqlite(&mut c), &job).await,
                Err(e) => Err(StoreError::Db(e)),
            };
            let _ = job.done.send(r);
        }
        drop(held);
        return;
    }
    if let Err(e) = held.open(&pool).await {
        let text = e.to_string();
        for job in jobs {
            let _ = job.done.send(Err(StoreError::unavailable(&text)));
        }
        return;
    }
    let mut results = Vec::with_capacity(jobs.len());
    for job in &jobs {
        results.push(run(&mut Conn::Sqlite(held.conn()), job).await);
    }
    match held.release().await {
        Ok(()) => {
            for (job, r) in jobs.into_iter().zip(results) {
                let _ = job.done.send(r);
            }
        }
        Err(e) => {
            let text = format!("the group commit failed: {e}");
            for job in jobs {
                let _ = job.done.send(Err(StoreError::unavailable(&text)));
            }
        }
    }
}

async fn run(conn: &mut Conn<'_>, job: &Job) -> StoreResult<u64> {
    let args: Vec<Arg<'_>> = job.args.iter().map(Owned::arg).collect();
    execute_in(conn, job.sql, &args).await
}

#[cfg(test)]
mod tests {
    use crate::config::Backend;
    use crate::store::{Store, StoreSettings, sql};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_each_get_their_own_result_and_all_are_durable() {
        let dir = tempfile::tempdir().unwrap();
        let settings = StoreSettings {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", dir.path().join("g.db").display()),
            private_dir: None,
            max_connections: 4,
        };
        let store = Store::connect(&settings).await.unwrap();
        sql::execute(&store, "CREATE TABLE g (k BIGINT PRIMARY KEY)", &[])
            .await
            .unwrap();
        // 200 writers at once, five of them inserting a key another one inserts too: the
        // batches they share must answer each alone, and a failed statement undoes only itself.
        let keys: Vec<i64> = (0..200).chain([7, 70, 77, 150, 199]).collect();
        let writes = keys.iter().map(|&k| {
            let store = store.clone();
            tokio::spawn(async move {
                sql::execute(&store, "INSERT INTO g (k) VALUES ($1)", &[k.into()]).await
            })
        });
        let mut inserted = 0;
        let mut refused = 0;
        for w in writes.collect::<Vec<_>>() {
            match w.await.unwrap() {
                Ok(1) => inserted += 1,
                Err(e) if e.is_unique_violation() => refused += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((inserted, refused), (200, 5));
        store.close().await;
        // What was answered as written is there after the store is opened again.
        let again = Store::connect(&settings).await.unwrap();
        let n: i64 = sql::value(&again, "SELECT COUNT(*) FROM g", &[])
            .await
            .unwrap();
        assert_eq!(n, 200);
        again.close().await;
    }
}
