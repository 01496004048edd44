//! bug: block_on notices Ready, then polls once more to fetch the output
//! replaces: src/block_on.rs
//! caught-by: part4_block_on::block_on_never_polls_a_future_again_after_ready

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs `future` to completion on the current thread and returns its output.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    while future.as_mut().poll(&mut cx).is_pending() {}
    // The output of the Ready above was thrown away; asking again polls a finished future.
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the future was Ready a moment ago"),
    }
}
