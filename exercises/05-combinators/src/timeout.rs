//! `timeout(timer, duration, future)`: the future's output, or `Err(Elapsed)` once the timer's
//! clock reaches the deadline first.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use blocks::timer::{Sleep, Timer};

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
    todo!("keep the future, and a Sleep made NOW (timer.sleep)")
}

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
    // TODO: the inner future and a `Sleep`. This placeholder keeps the stub compiling; delete
    // it when you add your fields.
    _todo: PhantomData<(F, Sleep)>,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("poll the future first, then the sleep")
    }
}
