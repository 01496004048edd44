//! Time that moves only when the test moves it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A clock for tests: it starts at zero and advances only through [`ManualClock::advance`].
///
/// Clones share the same time, so code under test can hold one clone while the test holds
/// another. Because nothing moves on its own, "the deadline has not passed yet" is a fact the
/// test controls, never a race against the machine's speed.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    // Nanoseconds since the clock was created. A u64 of nanoseconds lasts 584 years.
    nanos: Arc<AtomicU64>,
    // How far every reading moves the clock (after it is taken): 0 except for clocks made by
    // `stepping`. Shared by clones, like the time.
    step: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock reading zero that moves forward by `step` every time it is read: each reading
    /// is `step` later than the one before. It makes "time passed between two readings" a
    /// certainty instead of a race, for tests of code that must read the clock once and
    /// decide everything from that one reading.
    pub fn stepping(step: Duration) -> Self {
        let clock = Self::default();
        let step = u64::try_from(step.as_nanos()).expect("ManualClock::stepping: step too large");
        clock.step.store(step, Ordering::Release);
        clock
    }

    /// The time since the clock started (and, for a [`stepping`](Self::stepping) clock, one
    /// step more for the next reading).
    pub fn now(&self) -> Duration {
        let step = self.step.load(Ordering::Acquire);
        Duration::from_nanos(self.nanos.fetch_add(step, Ordering::AcqRel))
    }

    /// The time the next reading will show, without taking a reading (which would move a
    /// [`stepping`](Self::stepping) clock).
    pub fn peek(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).expect("ManualClock::advance: duration too large");
        self.nanos.fetch_add(by, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stepping_clock_moves_on_every_reading_and_its_clones_share_it() {
        let clock = ManualClock::stepping(Duration::from_nanos(1));
        let clone = clock.clone();
        assert_eq!(clock.now(), Duration::ZERO);
        assert_eq!(clone.now(), Duration::from_nanos(1));
        assert_eq!(clock.peek(), Duration::from_nanos(2));
        clock.advance(Duration::from_nanos(10));
        assert_eq!(clone.now(), Duration::from_nanos(12));
        let still = ManualClock::new();
        assert_eq!((still.now(), still.now()), (Duration::ZERO, Duration::ZERO));
    }
}
