//! `Interval`: ticks on a grid of `start + k × period`, and what to do with ticks missed.
//!
//! ```text
//!   period 10, a tick at 0, then the task is busy until 35:
//!
//!   grid      0    10   20   30   40   50
//!   Burst     0    ·····35 35 35  40   50     every missed slot, back to back, then the grid
//!   Delay     0    ·····35        45   55     the next tick a period after the late one
//!   Skip      0    ·····35        40   50     the missed slots dropped, the grid kept
//! ```
//!
//! (The returned instant is the *scheduled* one: Burst's three late ticks return 10, 20, 30.)

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// What an [`Interval`] does when a tick is late (the clock read past the tick's scheduled
/// instant when it completed). Given: nothing to write here. With `s` the late tick's
/// scheduled instant and `now` the time it completed:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// The next tick is at `s + period`, whatever `now` is: missed ticks complete one after
    /// the other at once until the interval has caught up with the grid. The default.
    #[default]
    Burst,
    /// The next tick is at `now + period`: the grid moves to the late tick.
    Delay,
    /// The next tick is the first grid point `s + k × period` strictly after `now`: the
    /// missed ones are skipped, the grid is kept.
    Skip,
}

/// Ticks at `now, now + period, now + 2 × period, ...` on the current reactor's clock: the
/// first tick completes at once.
///
/// # Panics
/// If `period` is zero; outside a runtime's context, as [`sleep`](crate::sleep).
pub fn interval(period: Duration) -> Interval {
    todo!("start now")
}

/// Ticks at `start, start + period, ...`: the first tick completes when the clock reads
/// `start` (at once if `start` has passed).
///
/// # Panics
/// If `period` is zero; outside a runtime's context, as [`sleep`](crate::sleep).
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    todo!("a Sleep until start; Burst by default")
}

/// A stream of ticks. See [`interval`] and [`MissedTickBehavior`].
#[derive(Debug)]
pub struct Interval {
    // TODO: a `Sleep` for the next tick (its deadline is the tick's scheduled instant), the
    // period, the missed-tick behavior, and what you need to read the clock.
    _todo: (),
}

impl Interval {
    /// Waits for the next tick and returns its **scheduled** instant (not the time it
    /// completed). Cancel-safe: dropping the future before it completes loses no tick.
    pub async fn tick(&mut self) -> Instant {
        todo!("poll_tick, as a future")
    }

    /// The poll form of [`tick`](Self::tick): `Ready(scheduled instant)` once the clock reads
    /// the next tick's instant, and the tick after it is scheduled by the
    /// [`MissedTickBehavior`]; `Pending` (with `cx`'s waker registered, the latest poll's) until
    /// then.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        todo!(
            "wait for the sleep; the next deadline by the missed-tick behavior; return the scheduled instant"
        )
    }

    /// The period.
    pub fn period(&self) -> Duration {
        todo!("the period")
    }

    /// What happens to missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        todo!("the behavior")
    }

    /// Chooses what happens to missed ticks from the next tick on.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        todo!("set the behavior")
    }
}
