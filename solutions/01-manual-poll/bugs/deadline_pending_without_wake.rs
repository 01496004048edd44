//! bug: Deadline returns Pending without arranging any wake (the seeds' I/O futures do this);
//! under an executor that sleeps until woken, the task would never run again
//! replaces: src/deadline.rs
//! caught-by: part2_deadline::deadline_wakes_its_waker_every_time_it_returns_pending

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
    /// A deadline at time `at` on `clock`.
    pub fn new(clock: ManualClock, at: Duration) -> Self {
        Deadline { clock, at }
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.now() >= self.at {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
