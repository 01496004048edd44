//! `select(a, b)`: the first of two futures to finish wins; the other is handed back, still
//! running, for the caller to keep polling or to drop (cancel).

use std::future::Future;
use std::marker::PhantomData;
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
    todo!("keep both futures; nothing is polled yet")
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
    // TODO: the two futures (and a way to hand them out). This placeholder keeps the stub
    // compiling; delete it when you add your fields.
    _todo: PhantomData<(A, B)>,
}

impl<A, B> Future for Select<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    type Output = Either<(A::Output, B), (B::Output, A)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("poll a, then b; the first Ready wins and the other is handed back")
    }
}
