//! bug: Deadline compares with `>` instead of `>=`, so it is late when the clock reads exactly
//! the deadline
//! replaces: src/deadline.rs
//! caught-by: part2_deadline::deadline_becomes_ready_exactly_at_its_time

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use harness::ManualClock;

/// A future that completes once `clock` reads more than `at`.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Deadline {
    clock: ManualClock,
    at: Duration,
}

impl Deadline {
    /// A deadline at time `at` on `clock`.
    pub fn new(clock: ManualClock, at: Duration) -> Self {
        Deadline { clock, at }
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.now() > self.at {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
