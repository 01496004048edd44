use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs `future` to completion on the current thread and returns its output.
///
/// This driver ignores wakes entirely: it polls, and if the answer is `Pending` it polls again
/// at once. That is correct for any future, and wasteful for all of them: while a future waits
/// for something slow, this loop keeps a whole core busy asking "are you done yet?". Stage 2
/// replaces the spin with a thread that sleeps until it is woken.
pub fn block_on<F: Future>(future: F) -> F::Output {
    // A future may hold references into itself once polled (an `async` block that borrows a
    // local across an `.await`), so it must not move after the first poll. `pin!` fixes it in
    // place on this stack frame for as long as we poll it.
    let mut future = pin!(future);
    // We never act on a wake, so a waker that does nothing is enough.
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            // Ready is final: return straight away and never poll this future again.
            return output;
        }
        // Tell the CPU we are spinning (it may save power or yield to a sibling hyperthread).
        std::hint::spin_loop();
    }
}
