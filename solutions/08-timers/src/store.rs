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

use std::collections::BTreeMap;
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
    /// One entry per registered timer. Invariant: the map holds exactly the timers inserted
    /// and neither removed nor taken, so `len()` is the number of live registrations.
    timers: BTreeMap<TimerKey, Waker>,
    /// The id the next insert gets; ids only grow, so no key is ever handed out twice.
    next_id: u64,
}

impl TimerStore {
    /// An empty store.
    pub fn new() -> TimerStore {
        TimerStore::default()
    }

    /// Registers a timer due at `deadline` that wakes `waker`, and returns its key. Every
    /// call returns a key no earlier call returned, even for equal deadlines: two timers due
    /// at the same instant are two timers, and both fire.
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = TimerKey::new(deadline, self.next_id);
        self.next_id += 1;
        self.timers.insert(key, waker);
        key
    }

    /// Removes the timer `key` and returns its waker (without waking it). `None` if there is
    /// no such timer (already removed, or already taken by [`take_due`](Self::take_due)):
    /// removing twice is harmless.
    pub fn remove(&mut self, key: TimerKey) -> Option<Waker> {
        self.timers.remove(&key)
    }

    /// Makes the timer `key` wake `waker` instead of the waker it has. Keeps the stored one
    /// when `will_wake` says the two wake the same task (no clone then). Returns `false`, and
    /// changes nothing, if there is no such timer.
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.timers.get_mut(&key) {
            None => false,
            Some(stored) => {
                if !stored.will_wake(waker) {
                    stored.clone_from(waker);
                }
                true
            }
        }
    }

    /// The earliest deadline of any registered timer, or `None` if there is none.
    pub fn earliest(&self) -> Option<Instant> {
        self.timers.first_key_value().map(|(key, _)| key.deadline)
    }

    /// Removes every timer that is due at `now` (its deadline is `now` or earlier: a deadline
    /// equal to `now` is due) and returns their wakers, without waking them, in key order
    /// (earlier deadlines first; equal deadlines in insertion order). Timers due later stay.
    pub fn take_due(&mut self, now: Instant) -> Vec<Waker> {
        let mut due = Vec::new();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            due.push(entry.remove());
        }
        due
    }

    /// How many timers are registered.
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether no timer is registered.
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }
}

impl fmt::Debug for TimerStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerStore")
            .field("len", &self.len())
            .field("earliest", &self.earliest())
            .finish()
    }
}
