//! `timeout`: a future raced against a deadline, the inner future first.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::sleep::{Sleep, sleep};

/// The error of a [`Timeout`] whose deadline passed first. Given: nothing to write here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    /// The one value of this error.
    pub fn new() -> Elapsed {
        Elapsed(())
    }
}

impl Default for Elapsed {
    fn default() -> Elapsed {
        Elapsed::new()
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

/// Runs `future` with a time limit: `Ok(output)` if it completes before `duration` has
/// passed, `Err(Elapsed)` otherwise.
///
/// * The deadline counts **from this call** (the reactor's clock now, plus `duration`,
///   saturating as [`sleep`](crate::sleep) does), not from the first poll.
/// * Every poll polls `future` **first**: a future that is ready is never reported as
///   `Elapsed`, even when the deadline has passed too.
/// * Only when `future` is pending is the deadline checked (a [`Sleep`], registered on the
///   first such poll); so a future that is ready on its first poll registers no timer at all.
///
/// # Panics
/// Outside a runtime's context, as [`sleep`](crate::sleep).
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

pin_project! {
    /// The future of [`timeout`].
    #[derive(Debug)]
    #[must_use = "a Timeout does nothing unless polled or awaited"]
    pub struct Timeout<F> {
        // The future under the limit, polled first on every poll.
        #[pin]
        future: F,
        // The limit (its deadline fixed at creation; registered only if `future` waits).
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The wrapped future, the time limit dropped.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}
