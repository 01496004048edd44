//! bug: Countdown returns Pending without waking anyone; it only works under a driver that
//! spins regardless of wakes
//! replaces: src/countdown.rs
//! caught-by: part1_countdown::countdown_wakes_its_waker_every_time_it_returns_pending

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

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        assert!(!self.finished, "Countdown polled after completion");
        if self.remaining == 0 {
            self.finished = true;
            return Poll::Ready(());
        }
        self.remaining -= 1;
        Poll::Pending
    }
}
