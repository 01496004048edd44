//! Time on the runtime's clock (Stage 8): [`sleep`], [`sleep_until`], [`timeout`], [`now`],
//! and [`Clock`], which a test can pause and move by hand.
//!
//! A [`Sleep`] is ready once the clock reads its deadline or later, never before. Its first
//! Pending poll stores its waker in the reactor's timer store (later polls replace it), and a
//! reactor turn wakes it once the deadline has passed. Dropping it removes the entry.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::{Reactor, TimerKey};
use crate::runtime;

/// Where a runtime's "now" comes from. Cloning shares the clock; it may be moved to and
/// advanced from any thread.
///
/// * [`Clock::real`] reads `std::time::Instant::now()`.
/// * [`Clock::paused`] starts at the real time of its creation and moves **only** when
///   [`Clock::advance`] is called. A runtime on a paused clock never sleeps for a timer: it
///   waits for I/O or for `advance`, which wakes it and fires every timer now due. Tests use
///   it so that expiry needs no real sleep.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

struct ClockInner {
    /// `Some(now)` when paused: the time only `advance` moves.
    paused: Option<Mutex<Instant>>,
    /// The reactor to poke after `advance` (set when a runtime is built on this clock).
    reactor: OnceLock<Arc<mio::Waker>>,
}

impl Clock {
    /// The real clock.
    pub fn real() -> Clock {
        Clock::with(None)
    }

    /// A paused clock, reading the real time of this call until [`advance`](Clock::advance)d.
    pub fn paused() -> Clock {
        Clock::with(Some(Mutex::new(Instant::now())))
    }

    fn with(paused: Option<Mutex<Instant>>) -> Clock {
        Clock {
            inner: Arc::new(ClockInner {
                paused,
                reactor: OnceLock::new(),
            }),
        }
    }

    /// Whether this clock is paused.
    pub fn is_paused(&self) -> bool {
        self.inner.paused.is_some()
    }

    /// The time now.
    pub fn now(&self) -> Instant {
        match &self.inner.paused {
            Some(now) => *now.lock().unwrap_or_else(PoisonError::into_inner),
            None => Instant::now(),
        }
    }

    /// Moves a paused clock forward by `by` and wakes its runtime, which then fires every
    /// timer whose deadline is now reached. Callable from any thread.
    ///
    /// # Panics
    ///
    /// If the clock is not paused.
    pub fn advance(&self, by: Duration) {
        let paused = self
            .inner
            .paused
            .as_ref()
            .expect("advance needs a paused clock");
        {
            let mut now = paused.lock().unwrap_or_else(PoisonError::into_inner);
            *now += by;
        }
        if let Some(waker) = self.inner.reactor.get() {
            waker.wake().expect("could not wake the runtime's reactor");
        }
    }

    /// Called once by the reactor built on this clock.
    pub(crate) fn attach(&self, waker: Arc<mio::Waker>) {
        let _ = self.inner.reactor.set(waker);
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .field("now", &self.now())
            .finish()
    }
}

/// The current runtime's time.
///
/// # Panics
///
/// Outside a runtime's `block_on`.
pub fn now() -> Instant {
    runtime::reactor().now()
}

/// A future ready once `duration` has passed on the current runtime's clock.
///
/// # Panics
///
/// Outside a runtime's `block_on`.
pub fn sleep(duration: Duration) -> Sleep {
    let reactor = runtime::reactor();
    let now = reactor.now();
    // A duration too large for `Instant` means "never" in practice: about 30 years.
    let deadline = now
        .checked_add(duration)
        .unwrap_or(now + Duration::from_secs(86_400 * 365 * 30));
    Sleep {
        reactor,
        deadline,
        entry: None,
    }
}

/// A future ready once the current runtime's clock reads `deadline` or later.
///
/// # Panics
///
/// Outside a runtime's `block_on`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        reactor: runtime::reactor(),
        deadline,
        entry: None,
    }
}

/// See [`sleep`].
#[must_use = "a Sleep does nothing unless polled or awaited"]
pub struct Sleep {
    /// The reactor whose clock and timer store it uses.
    reactor: Reactor,
    /// Ready when the clock reads this or later.
    deadline: Instant,
    /// Its entry in the timer store, once a poll returned Pending.
    entry: Option<TimerKey>,
}

impl Sleep {
    /// When it becomes ready.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline; the next poll registers the new one.
    pub fn reset(&mut self, deadline: Instant) {
        if let Some(key) = self.entry.take() {
            self.reactor.remove_timer(key);
        }
        self.deadline = deadline;
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.reactor.now() >= this.deadline {
            if let Some(key) = this.entry.take() {
                this.reactor.remove_timer(key);
            }
            return Poll::Ready(());
        }
        match this.entry {
            Some(key) if this.reactor.set_timer_waker(key, cx.waker()) => {}
            _ => this.entry = Some(this.reactor.insert_timer(this.deadline, cx.waker())),
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.entry.take() {
            self.reactor.remove_timer(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.entry.is_some())
            .finish()
    }
}

/// The error of a [`timeout`] whose time ran out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `duration`: its output, or `Err(Elapsed)` if the time ran out
/// first (the future is then dropped). The future is polled before the clock is checked, so
/// a future that is ready wins even with a zero duration.
///
/// # Panics
///
/// Outside a runtime's `block_on`.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = std::pin::pin!(future);
    let mut sleep = std::pin::pin!(sleep(duration));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        sleep.as_mut().poll(cx).map(|()| Err(Elapsed))
    })
    .await
}
