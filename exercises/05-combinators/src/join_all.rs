//! `join_all`: run N futures of one type concurrently; complete with every output, in input
//! order. Each child gets a waker of its own, so a wake polls only the child it belongs to.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Starts joining every future of `futures`. Like any future, nothing happens until the first
/// poll.
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    todo!("box and pin each child, make one waker per child, nothing polled yet")
}

/// The future returned by [`join_all`]: `Ready(outputs)` once every child is, with
/// `outputs[i]` the output of the `i`-th future given (input order, not completion order).
///
/// - The first poll polls every child once. After that, a poll polls only the children whose
///   own waker was woken since they were last polled (each child is polled with a waker of its
///   own, which records "child i is ready" and then wakes the task that polled the `JoinAll`
///   most recently).
/// - A child that wakes its waker *during* its own poll is polled again (in this poll of the
///   `JoinAll` or the next one: the wake is not lost).
/// - A finished child is dropped at once and never polled again, even if its waker is woken.
/// - Polled again after it returned `Ready`, it panics with a message containing "polled
///   after completion".
///
/// No `unsafe` needed: keep each child in a `Pin<Box<F>>` (a box never moves its contents when
/// the `Vec` holding it grows or moves).
#[must_use = "futures do nothing unless polled"]
pub struct JoinAll<F: Future> {
    // TODO: the children, their outputs, their wakers, what the wakers share. This placeholder
    // keeps the stub compiling; delete it when you add your fields.
    _todo: PhantomData<fn() -> F>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("remember cx's waker, poll the children that were woken, Ready when all are done")
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll").finish_non_exhaustive()
    }
}
