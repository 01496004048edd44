//! `join(a, b)`: run two futures concurrently and complete with both outputs, with the pin
//! projection written by hand.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Starts joining `a` and `b`. Like any future, nothing happens until the first poll.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    todo!("store both children, with no output yet")
}

/// The future returned by [`join`]: `Ready((a_output, b_output))` once both children are.
///
/// - Every poll polls each child that has not finished yet, with the `cx` of that poll (never a
///   waker kept from an earlier poll: the task's waker may change between polls), so that
///   whichever child's event comes first can wake the task. A finished child is never polled
///   again: keep its output until the other one finishes.
/// - `Join` is `Unpin` when both children are, and `!Unpin` when either is not. Store each child
///   in a field whose type contains it (simplest: a field of type `A` / `B`; an enum that holds
///   the child, then its output, works too) and write no `impl Unpin`: the auto trait then does
///   it for you.
/// - The children are *structurally pinned* (a pinned `Join` gives `Pin<&mut A>`); the outputs
///   are not (plain `&mut`). Write that split once, as a private `project` method, with a
///   `// SAFETY:` comment on each `unsafe` block saying which promise makes it sound.
/// - Polled again after it returned `Ready`, it panics with a message containing "polled after
///   completion".
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Join<A: Future, B: Future> {
    // TODO: the two children and their outputs (and whatever else `poll` needs). This
    // placeholder keeps the stub compiling; delete it when you add your fields.
    _todo: PhantomData<fn() -> (A, B)>,
}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("project, poll each unfinished child with cx, Ready once both outputs are in")
    }
}
