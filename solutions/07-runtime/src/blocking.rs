//! The blocking pool: a bounded set of threads for closures that block.
//!
//! ```text
//!   spawn_blocking(f) ──push──► jobs ──► an idle thread takes it (notify one)
//!                                  └───► none idle and threads < max: start one
//!                                  └───► else it waits in the queue for a free thread
//!   worker: loop { take a job and run it; else idle: wait up to keep_alive;
//!                  woke with nothing to do after keep_alive: exit }
//! ```
//!
//! Invariant: a worker decides to exit only under the pool's lock, after seeing the queue
//! empty. A submitter that found it idle (and so started no thread) pushed its job under the
//! same lock, so the job is seen: never "retire with a job queued".

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::Duration;

use crate::join::{JoinError, JoinHandle, JoinState};
use crate::runtime::Handle;
use crate::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct Pool {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued for an idle thread, or at shutdown.
    available: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<Job>,
    /// Live threads, running a job or idle.
    threads: usize,
    /// Threads waiting on `available`.
    idle: usize,
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> Arc<Pool> {
        Arc::new(Pool {
            state: Mutex::new(PoolState::default()),
            available: Condvar::new(),
            max_threads,
            keep_alive,
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock, so a panic can never leave the state half changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn threads(&self) -> usize {
        self.lock().threads
    }

    pub(crate) fn idle_threads(&self) -> usize {
        self.lock().idle
    }

    fn submit(self: &Arc<Self>, job: Job) {
        let mut state = self.lock();
        state.jobs.push_back(job);
        // Idle threads each take one job: start a thread only for a job none of them covers.
        if state.idle >= state.jobs.len() {
            self.available.notify_one();
        } else if state.threads < self.max_threads {
            state.threads += 1;
            drop(state);
            let pool = Arc::clone(self);
            thread::Builder::new()
                .name("blocking".into())
                .spawn(move || pool.work())
                .expect("could not start a blocking-pool thread");
        }
    }

    fn work(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                job(); // never unwinds: spawn_blocking catches the closure's panic
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (relocked, waited) = self
                .available
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(PoisonError::into_inner);
            state = relocked;
            state.idle -= 1;
            // Timed out AND nothing to do: a job pushed meanwhile counted on this thread.
            if waited.timed_out() && state.jobs.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }

    pub(crate) fn shutdown(&self) {
        self.lock().shutdown = true;
        self.available.notify_all();
    }
}

pub(crate) fn spawn_blocking<F, R>(handle: &Handle, job: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let state = Arc::new(JoinState::new());
    let result = Arc::clone(&state);
    let context = handle.clone();
    handle.pool().submit(Box::new(move || {
        // The job runs in its runtime's context, so it may `spawn` onto it.
        let _context = context.enter();
        let outcome = panic::catch_unwind(AssertUnwindSafe(job)).map_err(JoinError::from_panic);
        result.complete(outcome);
    }));
    JoinHandle::new(state)
}
