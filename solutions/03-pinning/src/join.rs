//! `join(a, b)`: run two futures concurrently and complete with both outputs, with the pin
//! projection written by hand.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Starts joining `a` and `b`. Like any future, nothing happens until the first poll.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a,
        b,
        a_output: None,
        b_output: None,
        finished: false,
    }
}

/// The future returned by [`join`]: `Ready((a_output, b_output))` once both children are.
///
/// # Pinning
///
/// Each field is either *always* or *never* structurally pinned:
///
/// * `a` and `b` are **structurally pinned**: a `Pin<&mut Join>` gives a `Pin<&mut A>` and a
///   `Pin<&mut B>` (see [`Join::project`]). Children may be `!Unpin` (an `async` block that
///   borrows from itself), so once polled they must stay where they are until dropped.
/// * `a_output`, `b_output` and `finished` are **never** structurally pinned: plain data that
///   `poll` reads, writes and moves out (`Option::take`) through ordinary `&mut`.
///
/// Promises that make the `unsafe` projection sound; keep them when changing this type:
///
/// 1. `Join` is `Unpin` only when its fields are. There is no `impl Unpin for Join`: the auto
///    trait follows the fields, so a `!Unpin` child makes `Join` `!Unpin`. (If an *output* type
///    were `!Unpin`, `Join` would be too; that is needlessly strict but sound.)
/// 2. No method moves `a` or `b` out, swaps or replaces them, or hands out a `&mut A` or
///    `&mut B`: the only access to them goes through `project`.
/// 3. `Join` has no `Drop` impl. One that moved `a` or `b` (say, into a `mem::replace`) would
///    break the drop guarantee: pinned data stays put until its own destructor has run.
/// 4. `Join` is not `#[repr(packed)]` (the compiler may move the fields of a packed struct to
///    align them).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Join<A: Future, B: Future> {
    a: A,
    b: B,
    /// `Some` once `a` has returned `Ready`; `a` is then never polled again.
    a_output: Option<A::Output>,
    /// `Some` once `b` has returned `Ready`; `b` is then never polled again.
    b_output: Option<B::Output>,
    /// Set when `Join` returns `Ready` (both outputs handed over).
    finished: bool,
}

/// Every field of a pinned [`Join`], each seen the way its pinning rule says.
struct Projection<'a, A: Future, B: Future> {
    a: Pin<&'a mut A>,
    b: Pin<&'a mut B>,
    a_output: &'a mut Option<A::Output>,
    b_output: &'a mut Option<B::Output>,
    finished: &'a mut bool,
}

impl<A: Future, B: Future> Join<A, B> {
    /// Pin projection: splits a `Pin<&mut Join>` into a pinned reference to each child and a
    /// plain `&mut` to each of the other fields.
    fn project(self: Pin<&mut Self>) -> Projection<'_, A, B> {
        // SAFETY: the `&mut Join` never escapes this function and is not used to move the
        // `Join` or any field: it is split into disjoint field references right below, and
        // the pinned fields are wrapped back into `Pin` at once.
        let this = unsafe { self.get_unchecked_mut() };
        Projection {
            // SAFETY: `a` is structurally pinned. `self` was pinned, so the `Join` does not move
            // until it is dropped, and `a` moves only with it: no code moves `a` out or hands
            // out a `&mut A` (promise 2), `Drop` does not move it (promise 3), and `Join` is
            // `!Unpin` whenever `A` is (promise 1).
            a: unsafe { Pin::new_unchecked(&mut this.a) },
            // SAFETY: as for `a`: `b` is structurally pinned under the same four promises.
            b: unsafe { Pin::new_unchecked(&mut this.b) },
            a_output: &mut this.a_output,
            b_output: &mut this.b_output,
            finished: &mut this.finished,
        }
    }
}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.finished {
            panic!("Join polled after completion");
        }
        // Poll *every* child that has not finished, on every poll, with this poll's `cx`. A child
        // that returns Pending has arranged for this task to be woken; the other child may be
        // the one whose event arrives first, and it can only report it through the waker it
        // was given. A finished child is never polled again: its output is kept instead.
        if this.a_output.is_none()
            && let Poll::Ready(output) = this.a.poll(cx)
        {
            *this.a_output = Some(output);
        }
        if this.b_output.is_none()
            && let Poll::Ready(output) = this.b.poll(cx)
        {
            *this.b_output = Some(output);
        }
        match (this.a_output.take(), this.b_output.take()) {
            (Some(a), Some(b)) => {
                *this.finished = true;
                Poll::Ready((a, b))
            }
            // At least one child is still Pending (and has arranged a wake): put back what we
            // took and wait.
            (a, b) => {
                *this.a_output = a;
                *this.b_output = b;
                Poll::Pending
            }
        }
    }
}
