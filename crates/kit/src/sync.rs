//! `Notify` (Stage 6's wake-one-waiter rule): a task waits in [`Notify::notified`]; another
//! task or thread calls [`Notify::notify_one`]. A notification that finds no waiter is kept as
//! one permit, so a notify that comes just before the wait is not lost.

use std::fmt;
use std::future::poll_fn;
use std::sync::{Mutex, PoisonError};
use std::task::{Poll, Waker};

/// Wakes one waiting task; see the module docs. `Send + Sync`: share it in an `Arc`.
#[derive(Default)]
pub struct Notify {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// A notification no one has consumed yet (at most one is kept).
    permit: bool,
    /// The waker of the latest Pending poll of `notified`.
    waiter: Option<Waker>,
}

impl Notify {
    /// A `Notify` with no permit.
    pub fn new() -> Notify {
        Notify::default()
    }

    /// Wakes the waiting task, or keeps one permit for the next `notified` if none waits.
    /// The waker is woken after the lock is released.
    pub fn notify_one(&self) {
        let waiter = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.permit = true;
            state.waiter.take()
        };
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    /// Waits until a notification is available, and consumes it. One task waits at a time.
    pub async fn notified(&self) {
        poll_fn(|cx| {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if std::mem::take(&mut state.permit) {
                return Poll::Ready(());
            }
            state.waiter = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiting", &state.waiter.is_some())
            .finish()
    }
}
