//! Wake-ups: a commit that appends events wakes the polls held for that tenant at once, with no
//! polling loop. In-process through a `Notify` per tenant; across nodes on PostgreSQL through
//! `LISTEN bizmail_events` (the transaction that appends events also sends `pg_notify`).
//!
//! A wake-up carries no data: a woken poll re-reads the event log from its cursor. So a lost
//! wake-up can only delay a notice, never lose it, and after the `LISTEN` connection drops and
//! reconnects every tenant is woken once to catch up on what was sent meanwhile. The polls woken
//! together share that read through their tenant's [`Board`] (see `push::shared`).

use crate::store::Store;
use crate::store::events::Heard;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};

/// One tenant's wake-ups, and what the polls woken by them read of the event log.
#[derive(Default)]
pub struct Board {
    notify: Arc<Notify>,
    /// Counts the wake-ups: a read of the event log begun at generation `g` saw every commit
    /// that woke the tenant up to `g`.
    generation: AtomicU64,
    /// The last read, shared by the polls woken with it (see `push::shared`).
    pub(super) shared: Mutex<Option<super::shared::Snapshot>>,
}

impl Board {
    /// The wake-ups so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The tenant's wake-up.
    pub fn notify(&self) -> &Arc<Notify> {
        &self.notify
    }

    fn wake(&self) {
        // Counted before the waiters hear it, so that whatever a woken poll reads is counted.
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
}

/// The wake-up board. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    tenants: Arc<Mutex<HashMap<i64, Arc<Board>>>>,
    closing: watch::Sender<bool>,
    held: Arc<std::sync::atomic::AtomicUsize>,
    /// The cursor claims of woken polls, written in batches.
    pub(super) claims: super::claims::Claims,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("held", &self.held()).finish()
    }
}

/// Counts a poll as held while it lives (dropped with the poll, however the poll ends).
pub struct Held(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Default for Hub {
    fn default() -> Hub {
        Hub {
            tenants: Arc::default(),
            closing: watch::channel(false).0,
            held: Arc::default(),
            claims: super::claims::Claims::default(),
        }
    }
}

impl Hub {
    /// The tenant's wake-up, created on first use.
    pub fn tenant(&self, tenant_id: i64) -> Arc<Notify> {
        self.board(tenant_id).notify.clone()
    }

    /// The tenant's board, created on first use.
    pub fn board(&self, tenant_id: i64) -> Arc<Board> {
        match self.tenants.lock() {
            Ok(mut map) => map.entry(tenant_id).or_default().clone(),
            // A poisoned map cannot be trusted for wake-ups; a fresh board makes polls fall
            // back on their timeout, which is slow but correct.
            Err(_) => Arc::default(),
        }
    }

    /// Marks a poll as held until the returned guard drops.
    pub fn hold(&self) -> Held {
        self.held.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Held(self.held.clone())
    }

    /// How many polls this process holds right now.
    pub fn held(&self) -> usize {
        self.held.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Wakes every poll held for the tenant in this process.
    pub fn wake(&self, tenant_id: i64) {
        let board = self
            .tenants
            .lock()
            .ok()
            .and_then(|m| m.get(&tenant_id).cloned());
        if let Some(b) = board {
            b.wake();
        }
    }

    /// Wakes every held poll (after a missed-notification window).
    pub fn wake_all(&self) {
        let all: Vec<Arc<Board>> = self
            .tenants
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for b in all {
            b.wake();
        }
    }

    /// Tells held polls the server is going down: they answer `{"Ret":0}` at once.
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    /// Resolves when [`Hub::close`] was called.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// On PostgreSQL, relays what the other nodes commit (`store::events::Wakeups`) to this
    /// one's waiters until `stopped`. Does nothing on SQLite (one process owns the file).
    pub fn spawn_listener(
        &self,
        store: &Store,
        mut stopped: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let mut wakeups = store.wakeups()?;
        let hub = self.clone();
        Some(tokio::spawn(async move {
            loop {
                let heard = tokio::select! {
                    _ = stopped.wait_for(|s| *s) => return,
                    heard = wakeups.next() => heard,
                };
                match heard {
                    Heard::Tenant(tenant) => hub.wake(tenant),
                    Heard::Everyone => hub.wake_all(),
                }
            }
        }))
    }
}
