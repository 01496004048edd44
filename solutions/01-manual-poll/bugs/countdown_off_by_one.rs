//! bug: Countdown counts down before checking, so it is Ready one poll early
//! replaces: src/countdown.rs
//! caught-by: part1_countdown::countdown_is_pending_exactly_n_times_then_ready

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that is `Pending` the first `n` times it is polled and `Ready(())` on the next.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Countdown {
    remaining: u32,
    finished: bool,
}

impl Countdown {
    /// A countdown that needs `n` polls of waiting before it completes.
    pub fn new(n: u32) -> Self {
        Countdown {
            remaining: n,
            finished: false,
        }
    }
}

impl Future for Countdown {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        assert!(!self.finished, "Countdown polled after completion");
        self.remaining = self.remaining.saturating_sub(1);
        if self.remaining == 0 {
            self.finished = true;
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
