//! Given (Stage 4's reference): the state the reactor keeps for one I/O source: latched readiness and the wakers to wake.
//!
//! ```text
//!            reactor: an event for this source          task: poll_ready(dir, cx)
//!                        |                                       |
//!                        v                                       v
//!   +--------------------------------------------------------------------------+
//!   | read:  ready: bool, tick: u64, waker: Option<Waker>                      |
//!   | write: ready: bool, tick: u64, waker: Option<Waker>     (one Mutex)      |
//!   +--------------------------------------------------------------------------+
//!        set_ready: ready = true, tick += 1,           ready?  Ready(tick)
//!        take the waker and hand it back               else    keep cx's waker, Pending
//!                                   clear_ready(dir, tick): ready = false, unless the tick moved
//! ```
//!
//! Invariants (they hold whenever the lock is released):
//! * `ready` is a latch: once an event set it, only `clear_ready` resets it, and only an
//!   operation that returned `WouldBlock` calls that. An event that comes before any task has
//!   polled is therefore remembered, not lost.
//! * `tick` counts the events of one direction. `clear_ready(dir, tick)` clears only if no event
//!   came since `poll_ready` returned that tick, so an event that lands between an operation's
//!   `WouldBlock` and the clear is not thrown away.
//! * Each direction keeps at most one waker, the one of the latest `Pending` poll (replaced
//!   unless it `will_wake` the same task), so a reader and a writer on one socket never steal
//!   each other's wake.
//! * Nothing is ever woken under the lock: `set_ready` hands the wakers back to its caller.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Which half of a source an operation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Data to read, a connection to accept, or the end of the stream.
    Read,
    /// Room in the send buffer, or a finished connect.
    Write,
}

/// Which event a [`IoState::poll_ready`] answer was based on. Hand it back to
/// [`IoState::clear_ready`]; it is only compared for equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick(u64);

/// The readiness of one I/O source, shared by the reactor (which sets it) and the futures
/// that wait on the source (which read and clear it). `Send + Sync`.
pub struct IoState {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    read: Slot,
    write: Slot,
}

/// One direction: the latch, its event count, and who to wake.
#[derive(Default)]
struct Slot {
    ready: bool,
    tick: u64,
    waker: Option<Waker>,
}

impl State {
    fn slot(&mut self, direction: Direction) -> &mut Slot {
        match direction {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }
}

impl IoState {
    /// Not ready in either direction, no waker stored.
    pub fn new() -> IoState {
        IoState {
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update under this lock is a few assignments; none can be left half done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Ready(tick)` if `direction` is ready; otherwise stores `cx`'s waker for that direction
    /// (replacing an older one) and returns `Pending`.
    pub fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<Tick> {
        let mut state = self.lock();
        let slot = state.slot(direction);
        if slot.ready {
            return Poll::Ready(Tick(slot.tick));
        }
        // Checked and stored under the same lock as `set_ready` sets: an event cannot slip in
        // between "not ready" and "waker stored".
        match &slot.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Forgets the readiness of `direction`, unless an event came after `poll_ready` returned
    /// `tick`. Call it when an operation returned `WouldBlock`.
    pub fn clear_ready(&self, direction: Direction, tick: Tick) {
        let mut state = self.lock();
        let slot = state.slot(direction);
        if slot.tick == tick.0 {
            slot.ready = false;
        }
    }

    /// Records an event for `direction` (the reactor calls this) and moves the waker stored for
    /// that direction, if any, into `wakers`. Wakes nothing itself: the caller wakes them once
    /// it holds no lock.
    pub fn set_ready(&self, direction: Direction, wakers: &mut Vec<Waker>) {
        let mut state = self.lock();
        let slot = state.slot(direction);
        slot.ready = true;
        slot.tick = slot.tick.wrapping_add(1);
        if let Some(waker) = slot.waker.take() {
            wakers.push(waker);
        }
    }
}

impl Default for IoState {
    fn default() -> Self {
        IoState::new()
    }
}

impl fmt::Debug for IoState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("IoState")
            .field("readable", &state.read.ready)
            .field("writable", &state.write.ready)
            .field("reader_waiting", &state.read.waker.is_some())
            .field("writer_waiting", &state.write.waker.is_some())
            .finish()
    }
}
