//! Where to pin: on the stack with `pin!` when the future never leaves the function, on the
//! heap with `Box::pin` when it must outlive the call.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;

/// Polls `future` with `cx` until it is `Ready` or has been polled `max_polls` times.
///
/// - Returns `Some(output)` as soon as a poll is `Ready` (and polls no more), or `None` if the
///   future was still `Pending` after `max_polls` polls.
/// - It never polls more than `max_polls` times: with `max_polls == 0` it polls nothing and
///   returns `None`.
/// - `F` may be `!Unpin` (an `async` block that borrows from itself). The future never leaves
///   this function, so pin it here, on the stack, with `std::pin::pin!`; an unfinished future
///   is dropped where it was pinned when the function returns.
pub fn poll_at_most<F: Future>(
    future: F,
    max_polls: usize,
    cx: &mut Context<'_>,
) -> Option<F::Output> {
    todo!("pin the future on the stack once, then poll `future.as_mut()` up to max_polls times")
}

/// Polls `future` once with `cx`. If it is `Ready`, returns `Ok(output)`; if it is `Pending`,
/// returns `Err(future)`, pinned on the heap, so the caller can keep polling it.
///
/// - `F` may be `!Unpin`: after its first poll the future must never move again, yet it has to
///   outlive this call. So it must already be in its final place when it is first polled.
pub fn poll_once_boxed<F: Future>(
    future: F,
    cx: &mut Context<'_>,
) -> Result<F::Output, Pin<Box<F>>> {
    todo!("Box::pin the future first, poll the box once, and hand that same box back if Pending")
}
