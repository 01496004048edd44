//! A timer future that is completed by someone else: a [`Trigger`], fired from any thread.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A future that completes once its [`Trigger`] fires.
///
/// - Fired before the first poll: the first poll is `Ready` (a fire is never lost).
/// - Pending: it keeps the waker of the *latest* poll, and `fire` wakes that one.
/// - Polled again and again, with one waker or with wakers that take turns: it keeps one
///   stored waker, not a pile.
/// - Never wakes itself: the trigger will.
/// - "Fired?" is checked, and the waker stored, under one lock, the lock `fire` takes; and
///   `fire` wakes only after releasing it. (Take that lock from `crate::sync`.)
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Timer {
    // TODO: state shared with the trigger (fired yet? which waker to wake?), and for
    // `after_with`, the delay and the start function until the first poll.
}

/// Fires a [`Timer`]. Cheap to clone; send it to whichever thread decides when time is up.
#[derive(Debug, Clone)]
pub struct Trigger {
    // TODO: the state shared with the timer.
}

impl Timer {
    /// A timer that completes when the returned trigger is fired, by anyone, from any thread.
    pub fn manual() -> (Timer, Trigger) {
        todo!("create the shared state and hand one handle to each side")
    }

    /// A timer that completes `delay` after it is first polled: on that poll it starts a thread
    /// that sleeps for `delay`, then fires. No thread starts before the first poll. (Write it
    /// with `after_with`.)
    pub fn after(delay: Duration) -> Timer {
        todo!("Timer::after_with(delay, a start function that spawns a sleeping thread)")
    }

    /// A timer whose clock is started by `start(delay, trigger)`, called exactly once, on the
    /// first poll (never before: futures are lazy), and not while holding the timer's lock:
    /// `start` may fire the trigger at once.
    pub fn after_with(
        delay: Duration,
        start: impl FnOnce(Duration, Trigger) + Send + 'static,
    ) -> Timer {
        todo!("a manual timer that also keeps `delay` and `start` for its first poll")
    }
}

impl Trigger {
    /// Completes the timer and wakes the task that last polled it. Firing again does nothing.
    pub fn fire(&self) {
        todo!("record that the timer fired, and wake the stored waker if there is one")
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        todo!("start the clock on the first poll; Ready if fired; else store the waker")
    }
}
