//! Drive a future by hand, one poll at a time, and watch its waker.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_test::task::{AwokenCount, new_count_waker};

/// A test's hand on a future: poll it once, then look at what happened.
///
/// The future is pinned on the heap, so it may be `!Unpin` (an `async` block, say). Every poll
/// uses the same counting waker unless the test supplies another with [`Poller::poll_with`].
///
/// ```
/// use std::task::Poll;
/// use harness::{Poller, yield_times};
///
/// let mut p = Poller::new(yield_times(1));
/// assert!(p.poll().is_pending());
/// assert_eq!(p.wakes(), 1, "a Pending from yield_times wakes its waker");
/// assert_eq!(p.poll(), Poll::Ready(()));
/// assert_eq!(p.polls(), 2);
/// ```
pub struct Poller<F: Future> {
    future: Pin<Box<F>>,
    waker: Waker,
    wakes: AwokenCount,
    polls: usize,
}

impl<F: Future> Poller<F> {
    /// Takes the future; nothing is polled yet.
    pub fn new(future: F) -> Self {
        let (waker, wakes) = new_count_waker();
        Poller {
            future: Box::pin(future),
            waker,
            wakes,
            polls: 0,
        }
    }

    /// Polls once with the poller's own counting waker.
    pub fn poll(&mut self) -> Poll<F::Output> {
        let waker = self.waker.clone();
        self.poll_with(&waker)
    }

    /// Polls once with a waker of the test's choosing (to check that a future keeps the
    /// *latest* waker it was given).
    pub fn poll_with(&mut self, waker: &Waker) -> Poll<F::Output> {
        self.polls += 1;
        self.future.as_mut().poll(&mut Context::from_waker(waker))
    }

    /// How many times the future has been polled.
    pub fn polls(&self) -> usize {
        self.polls
    }

    /// How many times the poller's own waker (or a clone of it) has been woken.
    pub fn wakes(&self) -> usize {
        self.wakes.get()
    }
}

impl<F: Future> fmt::Debug for Poller<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("polls", &self.polls)
            .field("wakes", &self.wakes.get())
            .finish_non_exhaustive()
    }
}
