use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use harness::ManualClock;

/// A future that completes once `clock` reads `at` or later (`now >= at`, to the nanosecond:
/// nothing is rounded to milliseconds or seconds).
///
/// - `poll` looks at the clock and returns at once. It never waits for the clock to move:
///   the clock can only move while the caller has control.
/// - Each `poll` reads the clock once, and decides everything from that one reading: `Ready`,
///   or wake and `Pending`. (Another thread may move the clock during a poll; a second reading
///   to decide whether to wake could then return `Pending` without a wake.)
/// - Every `Pending` wakes the waker, because no timer watches this clock for us (yet).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Deadline {
    // TODO: what `poll` needs to decide whether the deadline has passed.
}

impl Deadline {
    /// A deadline at time `at` on `clock` (`clock.now()` tells the time).
    pub fn new(clock: ManualClock, at: Duration) -> Self {
        todo!("keep the clock and the deadline; don't look at the time yet")
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        todo!("Ready once the clock reads `at` or later; otherwise wake and return Pending")
    }
}
