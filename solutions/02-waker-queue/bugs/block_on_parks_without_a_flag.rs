//! bug: block_on sleeps with thread::park and wakes with unpark alone; code inside the future that parks swallows the unpark, and block_on sleeps forever
//! replaces: src/block_on.rs
//! caught-by: part2_block_on::block_on_survives_a_future_that_steals_the_unpark_token

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Runs `future` to completion on the current thread and returns its output.
///
/// Between polls the thread sleeps until the future's waker is woken. Unlike Stage 1's
/// spinning loop, a future waiting for something slow costs no CPU.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// Wakes the blocked thread by unparking it; no flag of its own.
struct Unparker(std::thread::Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}
