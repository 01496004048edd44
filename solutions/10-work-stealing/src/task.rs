//! A spawned task: its future, its result slot, and its scheduling state. Given whole: the
//! scheduler (`runtime.rs`, `worker.rs`) only sees [`Task`], a task of any output type, and
//! calls [`Runnable::run`] to poll it or [`Runnable::cancel`] to drop it at shutdown.
//!
//! ```text
//!            wake / abort                 a worker pops it
//!   IDLE ───────────────────► SCHEDULED ───────────────────► RUNNING ── poll ──┐
//!    ▲   (Shared::schedule:                                    │  wake during  │
//!    │    onto a queue, once)                                  ▼  the poll     │
//!    │                                                      NOTIFIED           │
//!    └──────────── Pending, not woken meanwhile ◄──────────────────────────────┘
//!                  (NOTIFIED: scheduled again once the poll returned)
//! ```
//!
//! Invariant: a task is in at most one queue (or LIFO slot) at a time, and only the worker
//! that popped it polls it: a wake while it is queued does nothing; a wake while it is being
//! polled is remembered (NOTIFIED) and acted on by the polling worker when the poll returns,
//! so two workers never poll one task at once.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use crate::join::{Join, JoinError, JoinState};
use crate::runtime::Shared;
use crate::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use crate::sync::{Arc, Mutex, PoisonError};

/// What the queues hold: any task, whatever its output type.
pub(crate) type Task = Arc<dyn Runnable>;

/// A task as the scheduler sees it.
pub(crate) trait Runnable: Send + Sync {
    /// Polls the task once (or cancels it, if it was aborted). Call it only on a task just
    /// taken from a queue or a LIFO slot. If the task is woken during the poll, `run` schedules
    /// it again (through `Shared::schedule`, on the calling thread) after the poll returned.
    fn run(self: Arc<Self>);

    /// Drops the task's future without polling it and completes its handle with
    /// `JoinError::Cancelled` (shutdown: the task was still queued). Nothing if it finished.
    fn cancel(self: Arc<Self>);
}

/// Not queued, not running: waiting for a wake.
const IDLE: u8 = 0;
/// In a queue or a LIFO slot.
const SCHEDULED: u8 = 1;
/// Being polled by a worker.
const RUNNING: u8 = 2;
/// Being polled, and woken meanwhile: scheduled again when the poll returns.
const NOTIFIED: u8 = 3;

struct TaskCell<F: Future> {
    /// `None` once the task has finished: completed, panicked or cancelled.
    future: Mutex<Option<Pin<Box<F>>>>,
    join: JoinState<F::Output>,
    /// IDLE, SCHEDULED, RUNNING or NOTIFIED (above).
    state: AtomicU8,
    aborted: AtomicBool,
    /// Where a wake sends the task.
    shared: Arc<Shared>,
}

/// A new task for `shared`, not scheduled yet, and the state its `JoinHandle` reads.
pub(crate) fn new_task<F>(future: F, shared: Arc<Shared>) -> Arc<dyn Join<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task = Arc::new(TaskCell {
        future: Mutex::new(Some(Box::pin(future))),
        join: JoinState::new(),
        state: AtomicU8::new(IDLE),
        aborted: AtomicBool::new(false),
        shared,
    });
    Arc::clone(&task).schedule();
    task
}

impl<F> TaskCell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// IDLE → SCHEDULED and onto a queue; RUNNING → NOTIFIED; otherwise nothing to do.
    fn schedule(self: Arc<Self>) {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            let next = match current {
                IDLE => SCHEDULED,
                RUNNING => NOTIFIED,
                _ => return, // queued already, or already noted during the poll
            };
            match self
                .state
                .compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        if current == IDLE {
            // A clone of the task, not of `shared`: every worker shares `shared`'s reference
            // count, and bumping it on every wake would bounce its cache line between cores.
            self.shared.schedule(Arc::clone(&self) as Task);
        }
    }

    /// Drops the future and hands `result` over (the future first: see `join.rs`).
    fn finish(&self, slot: &mut Option<Pin<Box<F>>>, result: Result<F::Output, JoinError>) {
        *slot = None;
        self.join.complete(result);
    }
}

impl<F> Runnable for TaskCell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn run(self: Arc<Self>) {
        self.state.store(RUNNING, Ordering::Release);
        let mut slot = self.future.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(future) = slot.as_mut() else {
            return; // finished already: a late wake or abort
        };
        if self.aborted.load(Ordering::Acquire) {
            // Cancelled at a poll point: the future is dropped here, never polled again.
            self.finish(&mut slot, Err(JoinError::Cancelled));
            return;
        }
        let waker = Waker::from(Arc::clone(&self));
        let mut cx = Context::from_waker(&waker);
        // A panic must not unwind through the worker: it becomes the task's result.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)));
        let result = match outcome {
            Ok(Poll::Pending) => {
                drop(slot);
                if self
                    .state
                    .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                {
                    // Woken during the poll (NOTIFIED): queue it again now.
                    self.state.store(SCHEDULED, Ordering::Release);
                    self.shared.schedule(Arc::clone(&self) as Task);
                }
                return;
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::from_panic(payload)),
        };
        self.finish(&mut slot, result);
    }

    fn cancel(self: Arc<Self>) {
        let mut slot = self.future.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            self.finish(&mut slot, Err(JoinError::Cancelled));
        }
    }
}

impl<F> Join<F::Output> for TaskCell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn state(&self) -> &JoinState<F::Output> {
        &self.join
    }

    fn abort(self: Arc<Self>) {
        self.aborted.store(true, Ordering::Release);
        // Queued so that a worker reaches the next poll point and cancels it there.
        self.schedule();
    }
}

impl<F> Wake for TaskCell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn wake(self: Arc<Self>) {
        self.schedule();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        Arc::clone(self).schedule();
    }
}
