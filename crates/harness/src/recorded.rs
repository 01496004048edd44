//! Wrap a future so a test can see how a driver (an executor, `block_on`) polled it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

/// Wraps `future` and returns it with a handle on its poll statistics.
///
/// The wrapper enforces the one rule every driver must keep: **a future that returned `Ready` is
/// finished**. Polling it again panics with a message that says so, naming the wrapped future
/// by `name`.
pub fn recorded<F: Future>(name: &str, future: F) -> (Recorded<F>, PollStats) {
    let stats = PollStats::default();
    let wrapper = Recorded {
        name: name.to_owned(),
        // Boxing keeps `Recorded` itself `Unpin` whatever `F` is, so no pin projection is
        // needed here.
        future: Box::pin(future),
        stats: stats.clone(),
        finished: false,
    };
    (wrapper, stats)
}

/// A future wrapped by [`recorded`].
#[derive(Debug)]
pub struct Recorded<F: Future> {
    name: String,
    future: Pin<Box<F>>,
    stats: PollStats,
    finished: bool,
}

impl<F: Future> Future for Recorded<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if self.finished {
            panic!(
                "{} was polled again after it returned Ready (poll #{}). A Ready future is \
                 finished: the driver must stop polling it and hand back the output.",
                self.name,
                self.stats.polls() + 1
            );
        }
        self.stats.inner.polls.fetch_add(1, Ordering::Relaxed);
        let poll = self.future.as_mut().poll(cx);
        match poll {
            Poll::Pending => self.stats.inner.pendings.fetch_add(1, Ordering::Relaxed),
            Poll::Ready(_) => {
                self.finished = true;
                self.stats.inner.readies.fetch_add(1, Ordering::Relaxed)
            }
        };
        poll
    }
}

/// How a [`Recorded`] future was polled. Clones share the same counters.
#[derive(Debug, Clone, Default)]
pub struct PollStats {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    polls: AtomicUsize,
    pendings: AtomicUsize,
    readies: AtomicUsize,
}

impl PollStats {
    /// Polls so far.
    pub fn polls(&self) -> usize {
        self.inner.polls.load(Ordering::Relaxed)
    }

    /// Polls that returned `Pending`.
    pub fn pendings(&self) -> usize {
        self.inner.pendings.load(Ordering::Relaxed)
    }

    /// Polls that returned `Ready` (0 or 1: a second one panics).
    pub fn readies(&self) -> usize {
        self.inner.readies.load(Ordering::Relaxed)
    }
}
