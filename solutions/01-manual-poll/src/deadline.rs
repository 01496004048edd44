use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use harness::ManualClock;

/// A future that completes once `clock` reads `at` or later.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Deadline {
    clock: ManualClock,
    at: Duration,
}

impl Deadline {
    /// A deadline at time `at` on `clock`. Creating it reads nothing: the clock is checked
    /// when the future is polled.
    pub fn new(clock: ManualClock, at: Duration) -> Self {
        Deadline { clock, at }
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Look, never wait: poll must return promptly whatever the answer is.
        if self.clock.now() >= self.at {
            return Poll::Ready(());
        }
        // No timer will tell us when the clock moves, so the only honest promise we can make
        // is "poll me again soon". That is a busy wait: correct, but it keeps a core busy.
        // Stage 2 replaces it with a timer that wakes the task exactly once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
