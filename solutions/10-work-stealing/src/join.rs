//! `JoinHandle<T>`: the other end of a spawned task, where its output (or its fate) arrives.
//! Given whole: Stage 7 taught it; this stage is about the scheduler behind it.
//!
//! ```text
//!   task (a worker thread)                   JoinHandle (anywhere)
//!   ─────────────────────                    ─────────────────────
//!   poll -> Ready(v) ─┐                  ┌── poll: Done? take it : store waker, Pending
//!   panic (caught) ───┼─► complete(r) ───┤
//!   aborted ──────────┘   one lock:      └── abort(): flag + wake the task
//!                         slot := Done(r),
//!                         take the waker, wake it after unlocking
//! ```
//!
//! Invariant: "is it done?" and "store my waker" happen under the same lock as "mark done and
//! take the waker". Two locks (or a check, an unlock and a store) leave a window in which the
//! task completes, finds no waker, and the handle then sleeps forever.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Why a task produced no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// [`JoinHandle::abort`] was called before the task finished.
    Cancelled,
    /// The task panicked; the panic's message (or `"Box<dyn Any>"` when it was not a string).
    Panic(String),
}

impl JoinError {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panic(_))
    }

    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> JoinError {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        JoinError::Panic(message)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled"),
            JoinError::Panic(message) => write!(f, "task panicked: {message}"),
        }
    }
}

impl std::error::Error for JoinError {}

/// What a `JoinHandle` holds: the task that owns the result slot. One allocation per task: the
/// slot lives inside the task.
pub(crate) trait Join<T>: Send + Sync {
    fn state(&self) -> &JoinState<T>;
    fn abort(self: Arc<Self>);
}

/// Where a task's result waits for its handle.
pub(crate) struct JoinState<T> {
    slot: Mutex<Slot<T>>,
}

enum Slot<T> {
    /// Not finished; the waker of the last poll of the handle, if any.
    Running(Option<Waker>),
    Done(Result<T, JoinError>),
    /// The handle returned the result already.
    Taken,
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> JoinState<T> {
        JoinState {
            slot: Mutex::new(Slot::Running(None)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores the result and wakes the handle. The first result wins; later ones are ignored.
    pub(crate) fn complete(&self, result: Result<T, JoinError>) {
        let waker = {
            let mut slot = self.lock();
            match &mut *slot {
                Slot::Running(waker) => {
                    let waker = waker.take();
                    *slot = Slot::Done(result);
                    waker
                }
                Slot::Done(_) | Slot::Taken => None,
            }
        };
        // Woken after unlocking: the handle's task may be polled right here (same thread).
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn is_complete(&self) -> bool {
        !matches!(&*self.lock(), Slot::Running(_))
    }

    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut slot = self.lock();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Done(result) => Poll::Ready(result),
            Slot::Running(waker) => {
                let waker = match waker {
                    Some(mut waker) => {
                        waker.clone_from(cx.waker());
                        waker
                    }
                    None => cx.waker().clone(),
                };
                *slot = Slot::Running(Some(waker));
                Poll::Pending
            }
            Slot::Taken => panic!("a JoinHandle was polled after it returned its output"),
        }
    }
}

/// An owned permission to await a spawned task's output.
///
/// * Awaiting it gives `Ok(output)`, or `Err(JoinError::Panic(..))` if the task panicked, or
///   `Err(JoinError::Cancelled)` if it was aborted first.
/// * Dropping it *detaches* the task: the task keeps running; its output is dropped.
/// * Polling it again after it returned `Ready` panics.
pub struct JoinHandle<T> {
    task: Arc<dyn Join<T>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Arc<dyn Join<T>>) -> JoinHandle<T> {
        JoinHandle { task }
    }

    /// Cancels the task: it is not polled again; its future is dropped on a worker at the
    /// next point it would have been polled, and the handle then yields
    /// `Err(JoinError::Cancelled)`. A task that already finished keeps its output.
    pub fn abort(&self) {
        Arc::clone(&self.task).abort();
    }

    /// True once the task has finished (returned, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.task.state().is_complete()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.task.state().poll_join(cx)
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
