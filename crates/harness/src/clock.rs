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
}

impl ManualClock {
    /// A clock reading zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time since the clock started.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).expect("ManualClock::advance: duration too large");
        self.nanos.fetch_add(by, Ordering::AcqRel);
    }
}
