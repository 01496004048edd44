//! `Fuse`: a future that is safe to poll after it finished (it then stays `Pending`), and
//! can say so ([`Fuse::is_terminated`]).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future wrapped so that polling it after `Ready` is harmless.
///
/// - Until the inner future is ready, each poll polls it (with the same `cx`).
/// - In the poll where it returns `Ready`, the inner future is dropped, there and then.
/// - From then on the fuse is *terminated*: every poll returns `Pending` without polling
///   anything and without waking the waker (nothing will ever happen), and
///   [`is_terminated`](Fuse::is_terminated) is true.
/// - `Fuse<F>` is `Unpin` when `F` is.
///
/// No `unsafe`: `pin_project_lite::pin_project!` projects a pinned field for you (Stage 3's
/// `join_lite`), or a `Box::pin` keeps the inner future pinned on the heap.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Fuse<F> {
    // TODO: the inner future, until it finishes. This placeholder keeps the stub compiling;
    // delete it when you add your fields.
    _todo: PhantomData<F>,
}

impl<F: Future> Fuse<F> {
    /// Wraps `future`; not terminated until it finishes.
    pub fn new(future: F) -> Fuse<F> {
        todo!("a fuse holding `future`")
    }

    /// A fuse that is terminated from the start: it never completes. Handy as the "nothing to
    /// wait for" value of a branch that is refilled later.
    pub fn terminated() -> Fuse<F> {
        todo!("a fuse holding nothing")
    }

    /// Whether the inner future has finished (or there never was one).
    pub fn is_terminated(&self) -> bool {
        todo!("has the inner future finished?")
    }
}

impl<F: Future> Future for Fuse<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        todo!("poll the inner future until it is Ready, then drop it and stay Pending")
    }
}
