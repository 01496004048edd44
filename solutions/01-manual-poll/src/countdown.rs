use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that is `Pending` the first `n` times it is polled and `Ready(())` on the next.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Countdown {
    /// `Pending`s still to give. Once this reaches zero the next poll completes.
    remaining: u32,
    /// Set when `Ready` has been returned; a finished future must not be polled again.
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
        // `Countdown` is `Unpin` (it holds only plain data), so `Pin<&mut Self>` gives us
        // `&mut Self` for free and fields can be assigned directly.
        assert!(!self.finished, "Countdown polled after completion");
        if self.remaining == 0 {
            self.finished = true;
            return Poll::Ready(());
        }
        self.remaining -= 1;
        // Returning Pending is a promise that someone will wake this task when it is worth
        // polling again. Nothing outside will: we are ready to make progress now, so we wake
        // ourselves.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
