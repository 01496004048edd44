//! A waker a test can interrogate: how often it was woken, how many clones are alive, and
//! "wait until it is woken" for wakes that come from another thread.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

/// The source of one distinct waker, and everything a test may ask about it.
///
/// ```
/// use harness::WakeProbe;
///
/// let probe = WakeProbe::new();
/// let waker = probe.waker();
/// let stored = waker.clone();
/// assert_eq!(probe.live_wakers(), 2);
/// stored.wake();
/// assert_eq!((probe.wakes(), probe.live_wakers()), (1, 1));
/// ```
///
/// Two probes give two wakers that do not `will_wake` each other, which is how a test checks
/// that a future keeps the *latest* waker it was polled with.
/// A probe is deliberately not `Clone`: it is the test's one handle, and every other strong
/// reference to its state is a waker, which is what [`WakeProbe::live_wakers`] counts.
#[derive(Debug, Default)]
pub struct WakeProbe {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    wakes: Mutex<usize>,
    woken: Condvar,
}

impl Wake for Inner {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.wakes.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.woken.notify_all();
    }
}

impl WakeProbe {
    pub fn new() -> Self {
        Self::default()
    }

    /// A waker reporting to this probe. Every call returns a clone of the same waker.
    pub fn waker(&self) -> Waker {
        Waker::from(Arc::clone(&self.inner))
    }

    /// Wakes so far, through any clone, by `wake` or `wake_by_ref`.
    pub fn wakes(&self) -> usize {
        *self
            .inner
            .wakes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many wakers (clones included) are alive right now. A future that stores its waker
    /// holds one; a future that clones it on every poll and keeps the clones holds many.
    pub fn live_wakers(&self) -> usize {
        // The probe's own reference is the only one that is not a waker.
        Arc::strong_count(&self.inner) - 1
    }

    /// Blocks until the waker has been woken at least `count` times in all, or `limit`
    /// passes. Returns whether it was.
    pub fn wait_for_wakes(&self, count: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut wakes = self
            .inner
            .wakes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *wakes < count {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            wakes = self
                .inner
                .woken
                .wait_timeout(wakes, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}
