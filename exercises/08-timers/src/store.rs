//! The timer store: every registered timer, ordered by deadline.
//!
//! ```text
//!   BTreeMap<TimerKey, Waker>        TimerKey = (deadline, id), ordered by deadline, then id
//!
//!   (10ms, #3) ─ (10ms, #7) ─ (25ms, #1) ─ (1h, #2)
//!   └──── take_due(now = 10ms) ───┘           earliest() = 10ms
//! ```
//!
//! The id makes two timers with the same deadline two entries (a map keyed by the deadline
//! alone would let the second overwrite the first: one of the two sleeps would never wake).

use std::fmt;
use std::task::Waker;
use std::time::Instant;

/// Names one timer in a [`TimerStore`]: its deadline, and an id no other timer of the same
/// store was given. Keys order by deadline first, then by id, and ids are handed out in
/// increasing order, so timers with equal deadlines order by insertion.
///
/// Given: nothing to write here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerKey {
    // Field order matters: the derived `Ord` compares `deadline` first.
    deadline: Instant,
    id: u64,
}

impl TimerKey {
    /// A key for the timer numbered `id`, due at `deadline`.
    pub fn new(deadline: Instant, id: u64) -> TimerKey {
        TimerKey { deadline, id }
    }

    /// When the timer is due.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The timer's number in its store.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// Every registered timer and the waker to wake when it is due. A plain data structure: no
/// clock, no locks, no wakes (it hands the due wakers back; waking them is the caller's job).
#[derive(Default)]
pub struct TimerStore {
    // TODO: the timers, ordered by key (a `BTreeMap<TimerKey, Waker>` is enough), and the
    // id the next insert hands out.
    _todo: (),
}

impl TimerStore {
    /// An empty store.
    pub fn new() -> TimerStore {
        todo!("an empty store")
    }

    /// Registers a timer due at `deadline` that wakes `waker`, and returns its key. Every
    /// call returns a key no earlier call returned, even for equal deadlines: two timers due
    /// at the same instant are two timers, and both fire.
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        todo!("give the timer the next id, store (key, waker), return the key")
    }

    /// Removes the timer `key` and returns its waker (without waking it). `None` if there is
    /// no such timer (already removed, or already taken by [`take_due`](Self::take_due)):
    /// removing twice is harmless.
    pub fn remove(&mut self, key: TimerKey) -> Option<Waker> {
        todo!("remove the entry with this key, if any")
    }

    /// Makes the timer `key` wake `waker` instead of the waker it has. Keeps the stored one
    /// when `will_wake` says the two wake the same task (no clone then). Returns `false`, and
    /// changes nothing, if there is no such timer.
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        todo!("replace the stored waker unless it will_wake the same task")
    }

    /// The earliest deadline of any registered timer, or `None` if there is none.
    pub fn earliest(&self) -> Option<Instant> {
        todo!("the first key of the ordered map")
    }

    /// Removes every timer that is due at `now` (its deadline is `now` or earlier: a deadline
    /// equal to `now` is due) and returns their wakers, without waking them, in key order
    /// (earlier deadlines first; equal deadlines in insertion order). Timers due later stay.
    pub fn take_due(&mut self, now: Instant) -> Vec<Waker> {
        todo!("remove and return the wakers of every key whose deadline <= now, in order")
    }

    /// How many timers are registered.
    pub fn len(&self) -> usize {
        todo!("how many timers")
    }

    /// Whether no timer is registered.
    pub fn is_empty(&self) -> bool {
        todo!("no timers?")
    }
}

impl fmt::Debug for TimerStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerStore").finish_non_exhaustive()
    }
}
