//! A trusted future that yields a fixed number of times.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that returns `Pending` `n` times, waking its waker each time, then `Ready(())`.
///
/// Tests use it to give a driver something that needs several polls, without depending on
/// code the learner wrote.
pub fn yield_times(n: usize) -> YieldTimes {
    YieldTimes { remaining: n }
}

/// The future returned by [`yield_times`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct YieldTimes {
    remaining: usize,
}

impl Future for YieldTimes {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.remaining == 0 {
            return Poll::Ready(());
        }
        self.remaining -= 1;
        // Nothing external will wake us, and we can make progress right away: ask to be polled
        // again. Returning Pending without this would strand any event-driven executor.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
