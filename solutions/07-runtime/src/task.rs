//! A spawned task: its future, its result slot (`JoinState`), and the way back onto the ready queue.
//!
//! ```text
//!   spawn(f) ──► Task<F> ──push──► ready queue ──pop──► block_on: task.run()
//!                  ▲                                          │ aborted?  drop f, Cancelled
//!                  │                                          │ Ready(v)  drop f, Ok(v)
//!                  │                                          │ panicked  drop f, Panic(msg)
//!                  └── waker.wake() / abort(): push again ◄───┘ Pending   (waker stored)
//! ```

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use crate::join::{Join, JoinError, JoinState};
use crate::runtime::Shared;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Arc, Mutex, PoisonError};

/// What the ready queue holds: any task, whatever its output type.
pub(crate) trait Runnable: Send + Sync {
    /// Polls the task once (or cancels it, if it was aborted).
    fn run(self: Arc<Self>);
}

pub(crate) struct Task<F: Future> {
    /// `None` once the task has finished: completed, panicked or cancelled.
    future: Mutex<Option<Pin<Box<F>>>>,
    join: JoinState<F::Output>,
    /// True while the task is in the ready queue: a burst of wakes queues it once.
    scheduled: AtomicBool,
    aborted: AtomicBool,
    shared: Arc<Shared>,
}

impl<F> Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// A new task, not queued yet, and the state its `JoinHandle` reads.
    pub(crate) fn new(future: F, shared: Arc<Shared>) -> Arc<Task<F>> {
        Arc::new(Task {
            future: Mutex::new(Some(Box::pin(future))),
            join: JoinState::new(),
            scheduled: AtomicBool::new(false),
            aborted: AtomicBool::new(false),
            shared,
        })
    }

    /// Puts the task on the ready queue unless it is there already.
    pub(crate) fn schedule(self: Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            let shared = Arc::clone(&self.shared);
            shared.push(self);
        }
    }
}

impl<F> Runnable for Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn run(self: Arc<Self>) {
        // Cleared before polling: a wake from now on queues the task again.
        self.scheduled.store(false, Ordering::Release);
        let mut slot = self.future.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(future) = slot.as_mut() else {
            return; // finished already: a late wake or abort
        };
        if self.aborted.load(Ordering::Acquire) {
            // Cancelled at a poll point: the future is dropped here, never polled again.
            *slot = None;
            drop(slot);
            self.join.complete(Err(JoinError::Cancelled));
            return;
        }
        let waker = Waker::from(Arc::clone(&self));
        let mut cx = Context::from_waker(&waker);
        // A panic must not unwind through the runtime: it becomes the task's result.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)));
        let result = match outcome {
            Ok(Poll::Pending) => return,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::from_panic(payload)),
        };
        // The future is dropped before its output is handed over.
        *slot = None;
        drop(slot);
        self.join.complete(result);
    }
}

impl<F> Join<F::Output> for Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn state(&self) -> &JoinState<F::Output> {
        &self.join
    }

    fn abort(self: Arc<Self>) {
        self.aborted.store(true, Ordering::Release);
        // Queued so that the runtime reaches the next poll point and cancels it there.
        self.schedule();
    }
}

impl<F> Wake for Task<F>
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
