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

use mio::{Events, Poll, Token};

use crate::clock::Clock;
use crate::store::{TimerKey, TimerStore};
use crate::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The token of the reactor's `mio::Waker`, the only source registered with its `Poll`.
const WAKE_TOKEN: Token = Token(0);

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
    /// The time every deadline is compared with.
    clock: Clock,
    /// The timers, and what a waiting turn waits for. One lock, so that a turn computing its
    /// timeout and an insert deciding whether to poke see the same state.
    state: Mutex<State>,
    /// The `Poll` and its event buffer: one thread turns at a time.
    poll: Mutex<Polling>,
    /// Ends a wait in `poll` from any thread.
    waker: mio::Waker,
}

/// What is behind the state lock.
struct State {
    timers: TimerStore,
    /// Whether a turn is waiting, or about to wait, and until when.
    waiting: Waiting,
}

/// What a turn's wait was computed from; set and cleared under the state lock.
#[derive(Debug, Clone, Copy)]
enum Waiting {
    /// No turn is between computing its timeout and reading the time after the wait.
    Not,
    /// A turn waits with no timeout: any new timer must poke it.
    Forever,
    /// A turn waits until this instant: a timer due earlier must poke it.
    Until(Instant),
}

/// The `Poll` and its event buffer, behind one lock.
struct Polling {
    poll: Poll,
    events: Events,
}

impl Reactor {
    /// A reactor with no timers that reads `clock`.
    ///
    /// # Errors
    /// If the OS refuses the `mio::Poll` or the `mio::Waker`.
    pub fn new(clock: Clock) -> io::Result<Arc<Reactor>> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(Arc::new(Reactor {
            clock,
            state: Mutex::new(State {
                timers: TimerStore::new(),
                waiting: Waiting::Not,
            }),
            poll: Mutex::new(Polling {
                poll,
                events: Events::with_capacity(16),
            }),
            waker,
        }))
    }

    /// The reactor's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The reactor's current time: `self.clock().now()`.
    pub fn now(&self) -> Instant {
        self.clock.now()
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
        let mut state = self.lock();
        let key = state.timers.insert(deadline, waker.clone());
        let poke = match state.waiting {
            Waiting::Not => false,
            Waiting::Forever => true,
            Waiting::Until(until) => deadline < until,
        };
        if poke {
            // The turn will compute its wait again: no need to poke it twice.
            state.waiting = Waiting::Not;
        }
        drop(state);
        if poke {
            self.wake();
        }
        key
    }

    /// Removes the timer `key` and returns its waker, without waking it; `None` if it is not
    /// registered (removed already, or fired: a fired timer is no longer registered).
    pub fn remove_timer(&self, key: TimerKey) -> Option<Waker> {
        self.lock().timers.remove(key)
    }

    /// Makes the timer `key` wake `waker` from now on (keeping the stored waker if it
    /// `will_wake` the same task). `false` if the timer is not registered (removed, or fired).
    pub fn set_timer_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        self.lock().timers.set_waker(key, waker)
    }

    /// How many timers are registered (a dropped `Sleep` must leave none behind).
    pub fn timers(&self) -> usize {
        self.lock().timers.len()
    }

    /// The earliest deadline of any registered timer, or `None` if there is none.
    pub fn earliest(&self) -> Option<Instant> {
        self.lock().timers.earliest()
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
        let mut polling = self.poll.lock().unwrap_or_else(PoisonError::into_inner);
        let timeout = {
            let mut state = self.lock();
            let now = self.clock.now();
            let earliest = state.timers.earliest();
            let to_earliest = earliest.map(|deadline| round_up_to_ms(deadline - now));
            // `deadline - now` saturates to zero for a deadline already passed.
            let timeout = match (to_earliest, max) {
                (Some(to_earliest), Some(max)) => Some(to_earliest.min(max)),
                (to_earliest, None) => to_earliest,
                (None, max) => max,
            };
            // Set in the same critical section as the timeout was computed from: an insert
            // that comes after this sees it and pokes; one that came before is in `earliest`.
            let ends = [earliest, max.and_then(|max| now.checked_add(max))]
                .into_iter()
                .flatten()
                .min();
            state.waiting = ends.map_or(Waiting::Forever, Waiting::Until);
            timeout
        };
        let Polling { poll, events } = &mut *polling;
        let poked = match poll.poll(events, timeout) {
            Ok(()) => events.iter().any(|event| event.token() == WAKE_TOKEN),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => false,
            Err(error) => {
                self.lock().waiting = Waiting::Not;
                return Err(error);
            }
        };
        drop(polling);
        let due = {
            let mut state = self.lock();
            state.waiting = Waiting::Not;
            state.timers.take_due(self.clock.now())
        };
        // Woken outside every lock: a waker is user code and may call back into the reactor.
        let fired = due.len();
        for waker in due {
            waker.wake();
        }
        Ok(Turn {
            timeout,
            fired,
            poked,
        })
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
        if !self.clock.is_manual() {
            return self.turn(None);
        }
        let first = self.turn(Some(Duration::ZERO))?;
        if first.fired > 0 || first.poked {
            return Ok(first);
        }
        match self.earliest() {
            Some(deadline) => {
                self.clock.advance_to(deadline);
                self.turn(Some(Duration::ZERO))
            }
            None => self.turn(None),
        }
    }

    /// Ends the wait of a thread in [`turn`](Self::turn) (its report says `poked`); if no
    /// thread waits, the next turn to wait ends at once instead. Any thread may call it.
    pub fn wake(&self) {
        // An eventfd write: it fails only if the counter would overflow, which needs 2^64 - 1
        // wakes nobody collected; then the waiting side has a wake pending anyway.
        let _ = self.waker.wake();
    }

    /// Moves a manual clock forward by `by`, and if a thread is waiting in
    /// [`turn`](Self::turn) (or about to), wakes it so that it fires what became due without
    /// waiting out a timeout computed from the old time.
    ///
    /// # Panics
    /// On a real clock ("time is not paused").
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        // The clock moved before this lock: a turn that computes its timeout after it reads
        // the new time; one that computed it before has set `waiting`, seen here.
        let waiting = !matches!(self.lock().waiting, Waiting::Not);
        if waiting {
            self.wake();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `duration` rounded up to a whole number of milliseconds.
fn round_up_to_ms(duration: Duration) -> Duration {
    let millis = duration.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
