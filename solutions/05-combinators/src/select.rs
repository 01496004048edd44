//! `select(a, b)`: the first of two futures to finish wins; the other is handed back, still
//! running, for the caller to keep polling or to drop (cancel).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One of two things. [`Select`] returns `Left((a_output, b))` when `a` won and
/// `Right((b_output, a))` when `b` won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<L, R> {
    /// The first future (`a`) finished first.
    Left(L),
    /// The second future (`b`) finished first.
    Right(R),
}

/// Races `a` against `b`. Both must be `Unpin`: the loser is handed back *by value*, and a
/// future that is pinned cannot be moved. Pass `&mut fut` (a `&mut F` is a future when
/// `F: Unpin`) to keep the loser yourself, or `Box::pin(fut)` to make any future `Unpin`.
pub fn select<A, B>(a: A, b: B) -> Select<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    Select {
        inner: Some((a, b)),
    }
}

/// The future returned by [`select`].
///
/// - Every poll polls `a`, then `b`, with the task's `cx`; so whichever event comes first
///   wakes the task.
/// - If `a` is ready, `b` is not polled in that poll: `a` wins (also when both would have been
///   ready). The winner is returned with the loser, which is never polled by `Select` again.
/// - Polled again after it returned `Ready`, it panics with a message containing "polled
///   after completion".
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Select<A, B> {
    /// Both futures until one wins; `None` after that (they were handed out).
    inner: Option<(A, B)>,
}

impl<A, B> Future for Select<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    type Output = Either<(A::Output, B), (B::Output, A)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (a, b) = self.inner.as_mut().expect("Select polled after completion");
        if let Poll::Ready(output) = Pin::new(a).poll(cx) {
            let (_, b) = self.inner.take().expect("checked above");
            return Poll::Ready(Either::Left((output, b)));
        }
        if let Poll::Ready(output) = Pin::new(b).poll(cx) {
            let (a, _) = self.inner.take().expect("checked above");
            return Poll::Ready(Either::Right((output, a)));
        }
        Poll::Pending
    }
}
