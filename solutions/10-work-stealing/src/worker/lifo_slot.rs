//! A worker's LIFO slot: a queue of one task that only its worker touches.
//!
//! ```text
//!   worker not running (before it starts, after it stopped):
//!       the slot is in the shared state, behind a lock: shutdown empties it there
//!   worker running (from claim to release, on the worker's thread):
//!       the slot is in a thread-local of that thread: take and replace use no lock and no
//!       atomic, and no other thread can reach it (one that tries panics)
//! ```
//!
//! Why not a `Mutex<Option<Task>>` in the shared state: a task that yields goes through the
//! slot twice (its wake puts it in, its worker's next turn takes it out), and two lock round
//! trips per yield were the largest cost of the `yield_many` benchmark
//! (`crates/bench/README.md`). The contract does not change: the slot is never stolen (it is
//! out of a thief's reach while its worker runs) and a task left in it is cancelled at
//! shutdown (the worker hands the slot back before its thread exits, and shutdown drains it
//! after joining the workers).
//!
//! The thread-local holds one entry per claimed slot, keyed like `context.rs`'s entries by
//! `sync::thread::model_thread_key()`: in a race test every model thread runs on the test's
//! one OS thread and shares its thread-locals, so each finds only its own slots. No `unsafe`:
//! a wrong use (a thief calling `take` on another worker's slot, a second claim) panics with a
//! message; it cannot reach a task another thread holds.

use std::cell::RefCell;
use std::ptr;

use crate::sync::thread::model_thread_key;
use crate::sync::{Mutex, MutexGuard, PoisonError};
use crate::task::Task;

thread_local! {
    /// The slots claimed on this thread and not released yet.
    static CLAIMED: RefCell<Vec<Claimed>> = const { RefCell::new(Vec::new()) };
}

/// A slot taken onto the thread that claimed it.
struct Claimed {
    /// The model thread that claimed it (`None` outside race tests).
    key: Option<usize>,
    /// Which slot: its address, compared and never dereferenced. No other slot can have it
    /// while the entry exists: the claiming worker keeps the runtime's shared state (and so
    /// the slot) alive until it has released the slot.
    slot: usize,
    task: Option<Task>,
}

/// A worker's LIFO slot (see the module doc).
pub(crate) struct LifoSlot {
    /// The slot's home in the shared state, where it is while no thread has claimed it.
    home: Mutex<Home>,
}

struct Home {
    /// True from `claim` to `release`: the task is on the claiming thread, not here, and
    /// `task` stays `None` (only `claim`, `release` and access while unclaimed touch it).
    claimed: bool,
    task: Option<Task>,
}

impl LifoSlot {
    /// An empty slot, not claimed.
    pub(crate) fn new() -> LifoSlot {
        LifoSlot {
            home: Mutex::new(Home {
                claimed: false,
                task: None,
            }),
        }
    }

    /// Takes the slot (and its task, if any) onto the calling thread: until [`release`], only
    /// this thread may `take` and `replace`, and does so without a lock. The worker calls it
    /// when it starts, on its own thread.
    ///
    /// # Panics
    ///
    /// If the slot is claimed already (by any thread).
    ///
    /// [`release`]: LifoSlot::release
    pub(crate) fn claim(&self) {
        let task = {
            let mut home = self.home();
            assert!(
                !home.claimed,
                "a LIFO slot is claimed by one worker thread at a time"
            );
            home.claimed = true;
            home.task.take()
        };
        let entry = Claimed {
            key: model_thread_key(),
            slot: self.id(),
            task,
        };
        CLAIMED.with(|claimed| claimed.borrow_mut().push(entry));
    }

    /// Hands the slot (and its task, if any) back to the shared state, where any thread may
    /// take it (shutdown, once the worker has stopped). The worker calls it before its thread
    /// exits, also when unwinding. Nothing if the calling thread has not claimed the slot.
    pub(crate) fn release(&self) {
        let (key, id) = (model_thread_key(), self.id());
        let entry = CLAIMED.with(|claimed| {
            let mut claimed = claimed.borrow_mut();
            let at = claimed
                .iter()
                .rposition(|entry| entry.key == key && entry.slot == id);
            at.map(|at| claimed.remove(at))
        });
        if let Some(entry) = entry {
            let mut home = self.home();
            home.claimed = false;
            home.task = entry.task;
        }
    }

    /// Takes the slot's task, like `Option::take`.
    ///
    /// # Panics
    ///
    /// On a thread other than the one that claimed the slot, while it is claimed: the slot is
    /// private to its worker (a thief must not take its task).
    pub(crate) fn take(&self) -> Option<Task> {
        self.with(Option::take)
    }

    /// Puts `task` in the slot and returns the task that was there, like `Option::replace`.
    ///
    /// # Panics
    ///
    /// As [`take`](LifoSlot::take).
    pub(crate) fn replace(&self, task: Task) -> Option<Task> {
        self.with(|slot| slot.replace(task))
    }

    /// Runs `op` on the slot: on the claiming thread, on its entry in `CLAIMED` (no lock);
    /// while nobody has claimed it, on its home in the shared state, under its lock.
    fn with<R>(&self, op: impl FnOnce(&mut Option<Task>) -> R) -> R {
        let (key, id) = (model_thread_key(), self.id());
        // `op` only moves a task in or out: no other code runs while `CLAIMED` is borrowed.
        let not_mine = CLAIMED.with(|claimed| {
            let mut claimed = claimed.borrow_mut();
            let mine = claimed
                .iter_mut()
                .rev()
                .find(|entry| entry.key == key && entry.slot == id);
            match mine {
                Some(entry) => Ok(op(&mut entry.task)),
                None => Err(op),
            }
        });
        let op = match not_mine {
            Ok(result) => return result,
            Err(op) => op,
        };
        let mut home = self.home();
        if home.claimed {
            drop(home); // not poisoned by the panic below
            panic!(
                "a thread touched the LIFO slot of a worker that is running: the LIFO slot is \
                 private to its worker (never stolen); only that worker's thread takes from \
                 it, and shutdown once the worker has stopped"
            );
        }
        op(&mut home.task)
    }

    fn id(&self) -> usize {
        ptr::from_ref(self).addr()
    }

    fn home(&self) -> MutexGuard<'_, Home> {
        self.home.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
