//! `JoinHandle<T>`: the other end of a spawned task, where its output (or its fate) arrives.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Why a task produced no output. (Given: this is the contract's vocabulary.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// [`JoinHandle::abort`] was called before the task finished.
    Cancelled,
    /// The task panicked; the panic's message (or `"Box<dyn Any>"` when it was not a string:
    /// a payload is a `&'static str` or a `String` for `panic!("...")`).
    Panic(String),
}

impl JoinError {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panic(_))
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

/// An owned permission to await a spawned task's output.
///
/// * Awaiting it gives `Ok(output)`, or `Err(JoinError::Panic(..))` if the task panicked, or
///   `Err(JoinError::Cancelled)` if it was aborted before it finished.
/// * Awaiting it from another thread, or from another runtime's task, works too: the task's
///   completion wakes whatever waker the handle was last polled with.
/// * When the task finishes, its future (and everything it owns) is dropped *before* the output
///   is handed over: by the time the handle's waker is woken, or `is_finished()` is true, the
///   future is gone. The waker is woken after the result slot's lock is released, so a waker
///   may call `is_finished()` or poll the handle from inside `wake`.
/// * Dropping it *detaches* the task: the task keeps running; its output is dropped.
/// * Polling it again after it returned `Ready` panics.
/// * It is `Send` (when `T` is) and `Unpin`.
pub struct JoinHandle<T> {
    // TODO: what the handle shares with its task (the result slot, the waker to wake).
    _todo: PhantomData<fn() -> T>,
}

impl<T> JoinHandle<T> {
    /// Cancels the task: it is not polled again; its future is dropped on the runtime's thread
    /// at the next point it would have been polled (even if it is queued right now, or waiting
    /// for a wake that never comes), and the handle then yields `Err(JoinError::Cancelled)`.
    /// A task that already finished keeps its output (also when the runtime takes the aborted
    /// task from its queue before the handle is awaited). On a `spawn_blocking` handle this
    /// does nothing (a running closure cannot be interrupted).
    pub fn abort(&self) {
        todo!("mark the task aborted and make sure the runtime gets to it")
    }

    /// True once the task has finished (returned, panicked or been cancelled), and from then on
    /// for good: also after the handle returned the output, after `abort()`, on any thread.
    pub fn is_finished(&self) -> bool {
        todo!("is the result there?")
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("take the result if it is there; otherwise store the waker, under ONE lock")
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}
