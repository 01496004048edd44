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

/// Waits until `duration` has passed on the current reactor's clock: the deadline is the
/// clock's reading at this call plus `duration`. If that sum does not fit in an `Instant`
/// (`Duration::MAX`), the deadline is `now + FAR_FUTURE` instead: no panic, no overflow.
///
/// # Panics
/// Outside a runtime's context (no current reactor: see [`Reactor::enter`]).
pub fn sleep(duration: Duration) -> Sleep {
    todo!("the current reactor; now + duration, saturating to now + FAR_FUTURE")
}

/// Waits until the current reactor's clock reads `deadline` or later.
///
/// # Panics
/// Outside a runtime's context, as [`sleep`].
pub fn sleep_until(deadline: Instant) -> Sleep {
    todo!("the current reactor; this deadline")
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
    // TODO: the reactor (an `Arc<Reactor>`: `crate::context::current()` at creation), the
    // deadline, and the registration (an `Option<TimerKey>`).
    _todo: (),
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        todo!("the deadline")
    }

    /// Whether the reactor's clock reads the deadline or later (the next poll completes).
    pub fn is_elapsed(&self) -> bool {
        todo!("now >= deadline?")
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
        todo!(
            "move the deadline; a registered sleep moves its timer, or wakes its task if the new deadline has passed"
        )
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        todo!(
            "due? Ready (removing the entry). Not yet: register on the first poll, or replace the waker"
        )
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        todo!("remove the entry, if any")
    }
}
