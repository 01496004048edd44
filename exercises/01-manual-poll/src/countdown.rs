use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that is `Pending` the first `n` times it is polled and `Ready(())` on the next.
/// `n` may be any `u32`: `0` (Ready on the first poll) and `u32::MAX` included.
///
/// - Every time it returns `Pending` it must wake the waker of *that* poll
///   (`cx.waker().wake_by_ref()`), not a waker saved from an earlier poll: a task may be polled
///   with a different waker each time. Nothing else will wake it, and `Pending` is a promise
///   that somebody will.
/// - Polled again after returning `Ready`, it panics with a message containing
///   "polled after completion".
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Countdown {
    // TODO: the state this future needs between polls.
}

impl Countdown {
    /// A countdown that needs `n` polls of waiting before it completes.
    pub fn new(n: u32) -> Self {
        todo!("store what `poll` needs to count down from `n`")
    }
}

impl Future for Countdown {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Hint: `Countdown` is `Unpin`, so you may write `mut self: Pin<&mut Self>` above and
        // then use `self.field` as if `self` were `&mut Countdown`.
        todo!("Pending (and wake) while polls remain; then Ready(())")
    }
}
