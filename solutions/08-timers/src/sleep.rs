//! `Sleep`: a future that completes at a deadline, registered in the reactor's timer store.
//!
//! ```text
//!   created ──first poll, not due──► registered (key, waker of this poll)
//!      │                               │ polled again, other waker: set_timer_waker
//!      │                               │ reset(t): remove; t due? wake : insert(t)
//!      │                               │ the reactor fires it: entry removed, waker woken
//!      └──any poll at/after deadline──►└──► Ready (entry removed if still there)
//!   dropped: its entry (if any) is removed
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::clock::FAR_FUTURE;
use crate::context;
use crate::reactor::Reactor;
use crate::store::TimerKey;
use crate::sync::Arc;

/// Waits until `duration` has passed on the current reactor's clock: the deadline is the
/// clock's reading at this call plus `duration`. If that sum does not fit in an `Instant`
/// (`Duration::MAX`), the deadline is `now + FAR_FUTURE` instead: no panic, no overflow.
///
/// # Panics
/// Outside a runtime's context (no current reactor: see [`Reactor::enter`]).
pub fn sleep(duration: Duration) -> Sleep {
    let reactor = context::current();
    let deadline = deadline_after(reactor.now(), duration);
    Sleep::new(reactor, deadline)
}

/// Waits until the current reactor's clock reads `deadline` or later.
///
/// # Panics
/// Outside a runtime's context, as [`sleep`].
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(context::current(), deadline)
}

/// `now + duration`, or `now + FAR_FUTURE` when the sum does not fit in an `Instant`.
pub(crate) fn deadline_after(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration).unwrap_or(now + FAR_FUTURE)
}

/// A future that completes once its reactor's clock reads its deadline or later.
///
/// * **Never early**: every poll reads the clock; `Ready` only when `now >= deadline`.
/// * **Registered on its first poll**, not when created: creating a `Sleep` touches no store;
///   the first poll that finds it not yet due inserts one timer with that poll's waker. A
///   poll that finds it due completes without registering.
/// * **The latest waker**: a later poll with a waker that would not wake the same task
///   replaces the stored one, so the task that polled last is the one woken.
/// * **One entry at most**, and none once it completed or was dropped: completing removes
///   its entry, and so does `Drop`.
///
/// `Sleep` is `Unpin`: no pinning is needed to poll or [`reset`](Sleep::reset) it.
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless polled or awaited"]
pub struct Sleep {
    /// The reactor whose clock and store this sleep uses (the current one at creation).
    reactor: Arc<Reactor>,
    /// When it completes.
    deadline: Instant,
    /// Its registration, once a poll found it not due. `None` before the first such poll,
    /// after completing, and after a reset that woke the task instead of registering.
    entry: Option<TimerKey>,
}

impl Sleep {
    fn new(reactor: Arc<Reactor>, deadline: Instant) -> Sleep {
        Sleep {
            reactor,
            deadline,
            entry: None,
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the reactor's clock reads the deadline or later (the next poll completes).
    pub fn is_elapsed(&self) -> bool {
        self.reactor.now() >= self.deadline
    }

    /// Moves the deadline to `deadline`, earlier or later, and keeps the sleep waiting for it.
    ///
    /// If the sleep is registered (a task is waiting for it), the registration follows:
    /// * a new deadline still in the future: the timer moves there, with the same waker, so
    ///   that task is woken at the new deadline (not the old one);
    /// * a new deadline at or before now: the entry is removed and the waiting task is **woken
    ///   at once**; the next poll completes.
    ///
    /// If it is not registered (never polled, or completed), only the deadline changes; the
    /// next poll registers or completes as usual. A completed sleep reset to a later deadline
    /// waits again.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        let Some(key) = self.entry.take() else {
            return;
        };
        // Fired already (the reactor took it): its task was woken and will poll again.
        let Some(waker) = self.reactor.remove_timer(key) else {
            return;
        };
        if self.reactor.now() >= deadline {
            waker.wake();
        } else {
            self.entry = Some(self.reactor.insert_timer(deadline, &waker));
        }
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
            // Not registered yet, or fired between our clock reading and now (a real clock
            // moves): register again, or we would return Pending with nothing to wake us.
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
