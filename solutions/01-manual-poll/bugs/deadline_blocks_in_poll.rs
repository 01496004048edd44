//! bug: Deadline::poll waits inside poll until the clock reaches the deadline; the clock can
//! only move once poll returns, so it waits forever
//! replaces: src/deadline.rs
//! caught-by: part2_deadline::polling_a_distant_deadline_returns_at_once

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
        while self.clock.now() < self.at {
            std::thread::yield_now();
        }
        Poll::Ready(())
    }
}
