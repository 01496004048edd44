//! Where to pin: on the stack with `pin!` when the future never leaves the function, on the
//! heap with `Box::pin` when it must outlive the call.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

/// Polls `future` with `cx` until it is `Ready` or has been polled `max_polls` times.
///
/// Returns the output, or `None` if the future was still `Pending` after `max_polls` polls; in
/// that case the future is dropped unfinished (this is what cancelling a future means).
///
/// It never polls more than `max_polls` times: with `max_polls == 0` it polls nothing and
/// returns `None`.
pub fn poll_at_most<F: Future>(
    future: F,
    max_polls: usize,
    cx: &mut Context<'_>,
) -> Option<F::Output> {
    // The future lives and dies in this stack frame, so the stack is a fine place to pin it:
    // `pin!` moves it into a slot of this frame that the caller can no longer reach, and gives
    // back a `Pin<&mut F>`. It is dropped in that same slot when the function returns.
    let mut future = pin!(future);
    for _ in 0..max_polls {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Some(output);
        }
    }
    None
}

/// Polls `future` once with `cx`. If it is `Ready`, returns its output; if it is `Pending`,
/// hands it back pinned on the heap, so the caller can keep polling it later.
pub fn poll_once_boxed<F: Future>(
    future: F,
    cx: &mut Context<'_>,
) -> Result<F::Output, Pin<Box<F>>> {
    // The future must outlive this call, and after its first poll it may not move. So it goes
    // to its final place *before* that poll: a box on the heap. Returning the box moves only
    // the pointer. (Polling a stack copy first and boxing it afterwards would move it.)
    let mut future = Box::pin(future);
    match future.as_mut().poll(cx) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(future),
    }
}
