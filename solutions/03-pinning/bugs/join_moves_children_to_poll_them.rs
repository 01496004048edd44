//! bug: join keeps its children in `Option`s and takes each one out to poll it (the Stage 1
//! `mem::replace` pattern), then puts it back: a child is polled in one place and kept (and
//! dropped) in another
//! replaces: src/join.rs
//! caught-by: part4_join::an_unfinished_join_drops_its_children_where_they_were_polled

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Starts joining `a` and `b`.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: Some(a),
        b: Some(b),
        a_output: None,
        b_output: None,
        finished: false,
    }
}

/// The future returned by [`join`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Join<A: Future, B: Future> {
    a: Option<A>,
    b: Option<B>,
    a_output: Option<A::Output>,
    b_output: Option<B::Output>,
    finished: bool,
}

/// Polls the child in `slot` (if it has not finished): takes it out, pins it where it now is,
/// polls it, and puts it back if it is still Pending.
fn poll_child<F: Future>(
    slot: &mut Option<F>,
    output: &mut Option<F::Output>,
    cx: &mut Context<'_>,
) {
    if output.is_some() {
        return;
    }
    // Moves the child out of the Join, onto this stack frame.
    let mut child = slot.take().expect("an unfinished child is in its slot");
    // SAFETY (wrong): `child` does not move while this `Pin` is alive. But a pin is a promise
    // until the value is dropped, and `child` moves back into the Join below.
    let pinned = unsafe { Pin::new_unchecked(&mut child) };
    match pinned.poll(cx) {
        Poll::Ready(value) => *output = Some(value),
        Poll::Pending => *slot = Some(child),
    }
}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY (wrong): "nothing is moved out of the Join"; `poll_child` does move the
        // children out and back in.
        let this = unsafe { self.get_unchecked_mut() };
        if this.finished {
            panic!("Join polled after completion");
        }
        poll_child(&mut this.a, &mut this.a_output, cx);
        poll_child(&mut this.b, &mut this.b_output, cx);
        match (this.a_output.take(), this.b_output.take()) {
            (Some(a), Some(b)) => {
                this.finished = true;
                Poll::Ready((a, b))
            }
            (a, b) => {
                this.a_output = a;
                this.b_output = b;
                Poll::Pending
            }
        }
    }
}
