//! The reactor: a timer store beside a `mio::Poll`, and one `turn` that waits for the earliest
//! deadline and wakes what is due.
//!
//! ```text
//!   turn(max):
//!     lock state ── now = clock.now()
//!                   timeout = min(max, earliest − now rounded UP to whole ms)
//!                   waiting = the deadline this wait was computed from     ┐ one critical
//!     unlock                                                               ┘ section
//!     poll.poll(timeout)  ◄─── mio::Waker ◄── insert_timer (earlier than `waiting`)
//!                                         ◄── advance, wake
//!     lock state ── waiting = Not; due = take_due(clock.now())
//!     unlock
//!     wake every waker in `due`      (no lock held: a waker may call back into the reactor)
//! ```

use std::fmt;
use std::io;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::store::TimerKey;
use crate::sync::Arc;

/// What one [`Reactor::turn`] did, for the runtime and for tests.
///
/// Given: nothing to write here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn {
    /// The timeout the turn passed to `mio::Poll::poll`: `None` for "wait until woken".
    pub timeout: Option<Duration>,
    /// How many timers were due after the wait, and so woken.
    pub fired: usize,
    /// Whether the reactor's `mio::Waker` was among the events (a [`Reactor::wake`], an
    /// earlier timer inserted, an [`Reactor::advance`]), so the wait may have ended early.
    pub poked: bool,
}

/// A reactor for time: the timers, a clock, a `mio::Poll` to wait in and a `mio::Waker` to
/// end that wait from another thread. Shared as an `Arc<Reactor>` by the runtime, its timers
/// and other threads.
pub struct Reactor {
    // TODO: the clock; the timer store behind a `crate::sync::Mutex` (with what a waiting
    // turn waits for, under the same lock); the `mio::Poll` with its `Events`; a `mio::Waker`.
    _todo: (),
}

impl Reactor {
    /// A reactor with no timers that reads `clock`.
    ///
    /// # Errors
    /// If the OS refuses the `mio::Poll` or the `mio::Waker`.
    pub fn new(clock: Clock) -> io::Result<Arc<Reactor>> {
        todo!("a mio::Poll, a mio::Waker registered with it, an empty store, this clock")
    }

    /// The reactor's clock.
    pub fn clock(&self) -> &Clock {
        todo!("the clock")
    }

    /// The reactor's current time: `self.clock().now()`.
    pub fn now(&self) -> Instant {
        todo!("the clock's reading")
    }

    /// Registers a timer due at `deadline` that wakes `waker`, and returns its key.
    ///
    /// A deadline in the past is stored like any other: the next turn finds it due. If a
    /// thread is waiting in [`turn`](Self::turn) (or has computed its timeout and is about to
    /// wait) with no timeout, or with a timeout computed from an instant later than `deadline`
    /// (the earliest deadline it saw, or its now + `max` if that is sooner, timer or no timer),
    /// it is woken (the `mio::Waker`), so that it computes its wait again and the new timer is
    /// not late. A `deadline` at or after that instant needs no poke (the wait, rounded up,
    /// does not end before it, and the turn reads the clock after the wait); a poke anyway is
    /// allowed.
    pub fn insert_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        todo!("insert under the lock; poke the mio::Waker if a waiting turn would wake too late")
    }

    /// Removes the timer `key` and returns its waker, without waking it; `None` if it is not
    /// registered (removed already, or fired: a fired timer is no longer registered).
    pub fn remove_timer(&self, key: TimerKey) -> Option<Waker> {
        todo!("remove from the store")
    }

    /// Makes the timer `key` wake `waker` from now on (keeping the stored waker if it
    /// `will_wake` the same task). `false` if the timer is not registered (removed, or fired).
    pub fn set_timer_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        todo!("replace the waker in the store")
    }

    /// How many timers are registered (a dropped `Sleep` must leave none behind).
    pub fn timers(&self) -> usize {
        todo!("the store's length")
    }

    /// The earliest deadline of any registered timer, or `None` if there is none.
    pub fn earliest(&self) -> Option<Instant> {
        todo!("the store's earliest deadline")
    }

    /// Waits for the earliest timer (or at most `max`, or for a [`wake`](Self::wake)), then
    /// wakes every timer that is due.
    ///
    /// * The timeout passed to `mio::Poll::poll`, reported as [`Turn::timeout`], is the time
    ///   from now to the earliest deadline, **rounded up** to a whole number of milliseconds
    ///   (epoll's resolution: 0.3 ms waits 1 ms, never 0, so a timer never looks due early),
    ///   and at most `max`. It is `Some(ZERO)` if a timer is already due, `max` if there is
    ///   no timer, and `None` (wait until woken) if there is neither a timer nor a `max`.
    /// * After the wait it reads the clock once and fires every timer whose deadline is at or
    ///   before that reading (a deadline equal to now fires; a later one never does), in
    ///   deadline order, and removes them from the store.
    /// * It wakes them with no lock of the reactor held: a waker may insert, remove or reset
    ///   timers, drop a `Sleep`, or call any other method of the reactor.
    /// * A timer inserted from another thread while this turn waits, earlier than the wait's
    ///   end (or while it waits with no timeout), ends the wait (see
    ///   [`insert_timer`](Self::insert_timer)); so do [`wake`](Self::wake) and
    ///   [`advance`](Self::advance).
    /// * A wait interrupted by a signal is not an error: the turn goes on as if the timeout
    ///   had passed.
    ///
    /// One thread turns at a time; a second caller waits for the first.
    ///
    /// # Errors
    /// If `mio::Poll::poll` fails for another reason than an interruption.
    pub fn turn(&self, max: Option<Duration>) -> io::Result<Turn> {
        todo!(
            "compute the timeout (rounded up) and note what you wait for, in ONE critical section; poll; take what is due; unlock; wake"
        )
    }

    /// What a runtime calls when it has no task ready to run.
    ///
    /// * With a real clock: one [`turn`](Self::turn) with no `max` (it waits for the earliest
    ///   timer, or until woken).
    /// * With a manual (paused) clock: a `turn(Some(ZERO))` first. Only if it fired nothing
    ///   and was not poked (nothing became ready), the clock **jumps to the earliest
    ///   deadline** (exactly there, never further) and a second `turn(Some(ZERO))` fires what
    ///   is due then. With no timer at all it waits with `turn(None)` instead (until woken):
    ///   there is no deadline to jump to.
    ///
    /// Returns the report of the last turn it made.
    ///
    /// # Errors
    /// As [`turn`](Self::turn).
    pub fn park(&self) -> io::Result<Turn> {
        todo!(
            "real clock: turn(None); paused: turn(Some(ZERO)), and if nothing happened jump to the earliest deadline and turn again"
        )
    }

    /// Ends the wait of a thread in [`turn`](Self::turn) (its report says `poked`); if no
    /// thread waits, the next turn to wait ends at once instead. Any thread may call it.
    pub fn wake(&self) {
        todo!("wake the mio::Waker")
    }

    /// Moves a manual clock forward by `by`, and if a thread is waiting in
    /// [`turn`](Self::turn) (or about to), wakes it so that it fires what became due without
    /// waiting out a timeout computed from the old time.
    ///
    /// # Panics
    /// On a real clock ("time is not paused").
    pub fn advance(&self, by: Duration) {
        todo!("move the clock; wake a waiting turn")
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor").finish_non_exhaustive()
    }
}
