//! `timeout`: a future raced against a deadline, the inner future first.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

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
    todo!("the deadline counts from now")
}

/// The future of [`timeout`].
#[derive(Debug)]
#[must_use = "a Timeout does nothing unless polled or awaited"]
pub struct Timeout<F> {
    // TODO: the future (pinned: `pin_project_lite::pin_project!` projects it without
    // `unsafe`) and a `Sleep` for the deadline.
    _todo: std::marker::PhantomData<F>,
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        todo!("the inner future")
    }

    /// The wrapped future, the time limit dropped.
    pub fn into_inner(self) -> F {
        todo!("the inner future")
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("the inner future first; then the deadline")
    }
}
