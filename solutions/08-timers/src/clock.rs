//! The clock a reactor reads: real time, or a manual ("paused") time that moves only when told.
//!
//! ```text
//!   Clock::real()    now() = Instant::now()
//!   Clock::manual()  now() = start + elapsed      start: Instant::now() when it was made
//!                                                  elapsed: moved only by Reactor::advance
//!                                                  and by Reactor::park's auto-advance
//! ```
//!
//! This file is given: nothing to write here. Clones of a clock share its time.

use std::fmt;
use std::time::{Duration, Instant};

use crate::sync::Arc;
use crate::sync::atomic::{AtomicU64, Ordering};

/// Where a deadline goes when `now + duration` cannot be represented as an `Instant`
/// (`sleep(Duration::MAX)`): this far after `now`, about 30 years (tokio's choice).
pub const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The time source of a [`Reactor`](crate::Reactor): real, or manual (paused).
#[derive(Clone)]
pub struct Clock {
    /// `None` for real time; the paused time otherwise.
    manual: Option<Paused>,
}

/// A paused clock's state, shared by its clones.
#[derive(Clone)]
struct Paused {
    /// The real instant the clock was made at: its reading before any advance.
    start: Instant,
    /// How far it has been advanced since, in nanoseconds (584 years fit). A `crate::sync`
    /// atomic, so that in the race tests every reading and every move is a step the model
    /// checker can put another thread's steps before or after.
    elapsed: Arc<AtomicU64>,
}

impl Clock {
    /// The machine's monotonic clock: `now()` is `Instant::now()`.
    pub fn real() -> Clock {
        Clock { manual: None }
    }

    /// A paused clock: it reads `Instant::now()` of the moment it was made, and from then on
    /// moves only when advanced ([`Reactor::advance`](crate::Reactor::advance), or a paused
    /// runtime's auto-advance in [`Reactor::park`](crate::Reactor::park)).
    pub fn manual() -> Clock {
        Clock {
            manual: Some(Paused {
                start: Instant::now(),
                elapsed: Arc::new(AtomicU64::new(0)),
            }),
        }
    }

    /// Whether this is a manual (paused) clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// The current time.
    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(paused) => {
                paused.start + Duration::from_nanos(paused.elapsed.load(Ordering::Acquire))
            }
        }
    }

    /// Moves a manual clock forward by `by`. Crate-private: the public way is
    /// [`Reactor::advance`](crate::Reactor::advance), which also wakes a waiting reactor.
    ///
    /// # Panics
    /// On a real clock ("time is not paused").
    pub(crate) fn advance(&self, by: Duration) {
        match &self.manual {
            None => panic!("advance: time is not paused (this reactor runs on Clock::real())"),
            Some(paused) => {
                let by = u64::try_from(by.as_nanos()).expect("advance: more than 584 years");
                paused.elapsed.fetch_add(by, Ordering::AcqRel);
            }
        }
    }

    /// Moves a manual clock forward to `deadline`; does nothing if it already reads
    /// `deadline` or later (time never goes back). One thread at a time: two threads that
    /// advance at once may add both steps.
    ///
    /// # Panics
    /// On a real clock, as [`advance`](Self::advance).
    pub(crate) fn advance_to(&self, deadline: Instant) {
        let now = self.now();
        if deadline > now {
            self.advance(deadline - now);
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manual {
            None => f.write_str("Clock::Real"),
            Some(paused) => f
                .debug_struct("Clock::Manual")
                .field(
                    "elapsed",
                    &Duration::from_nanos(paused.elapsed.load(Ordering::Acquire)),
                )
                .finish(),
        }
    }
}
