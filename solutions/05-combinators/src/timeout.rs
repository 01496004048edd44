//! `timeout(timer, duration, future)`: the future's output, or `Err(Elapsed)` once the timer's
//! clock reaches the deadline first.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use blocks::timer::{Sleep, Timer};
use pin_project_lite::pin_project;

/// The error of a [`Timeout`] whose deadline came first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

/// Runs `future` with a deadline of `timer.now() + duration`, measured when `timeout` is
/// called (not at the first poll).
pub fn timeout<F: Future>(timer: &Timer, duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: timer.sleep(duration),
    }
}

pin_project! {
    /// The future returned by [`timeout`].
    ///
    /// - Every poll polls the inner future first: if it is ready, the output wins
    ///   (`Ok(output)`), even at or after the deadline.
    /// - Otherwise it checks the deadline *through the timer* (polling a [`Sleep`], which
    ///   leaves the task's waker with the timer), so that the timer wakes the task when the
    ///   deadline comes; at or after the deadline it returns `Err(Elapsed)`.
    /// - Dropping it drops the inner future (that is how a timeout cancels) and its sleep
    ///   (the timer forgets it).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // `Sleep` is Unpin: a plain `&mut` field is enough to poll it.
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}
