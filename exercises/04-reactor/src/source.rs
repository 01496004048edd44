//! The state the reactor keeps for one I/O source: latched readiness and the wakers to wake.
//!
//! The reactor calls [`IoState::set_ready`] when the OS reports an event; futures call
//! [`IoState::poll_ready`] before trying an operation, and [`IoState::clear_ready`] when the
//! operation says `WouldBlock`. This is Stage 2's `Timer` twice over (a latched flag and the
//! latest waker, under one lock), once per direction, plus a counter that makes clearing safe.

use std::task::{Context, Poll, Waker};

/// Which half of a source an operation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Data to read, a connection to accept, or the end of the stream.
    Read,
    /// Room in the send buffer, or a finished connect.
    Write,
}

/// Which event a [`IoState::poll_ready`] answer was based on: the number of events seen so far
/// in that direction. Hand it back to [`IoState::clear_ready`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick(u64);

/// The readiness of one I/O source, shared by the reactor (which sets it) and the futures that
/// wait on the source (which read and clear it). Must be `Send + Sync`.
///
/// Per direction (read, write):
/// - `ready` is a latch: an event sets it, and only `clear_ready` clears it. An event that
///   comes before any task has polled is remembered.
/// - a count of events (the tick), so that `clear_ready` can tell whether an event came since.
/// - at most one waker: the one of the latest `Pending` poll in that direction.
///
/// `set_ready` never wakes anything itself: it hands the waker back to the reactor, which wakes
/// it once it holds no lock.
#[derive(Debug)]
pub struct IoState {
    // TODO: one lock around the state of both directions (ready, tick, waker each).
}

impl IoState {
    /// Not ready in either direction, no waker stored.
    pub fn new() -> IoState {
        todo!("a Mutex around both directions' state: not ready, tick 0, no waker")
    }

    /// `Ready(tick)` if `direction` is ready, where `tick` is its current event count.
    /// Otherwise stores `cx`'s waker for that direction (replacing the stored one unless it
    /// `will_wake` the same task) and returns `Pending`. Never wakes anything.
    pub fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<Tick> {
        todo!("under the lock: ready? Ready(Tick(count)). Else keep the latest waker, Pending")
    }

    /// Forgets the readiness of `direction`, unless an event came after `poll_ready` returned
    /// `tick` (the count moved on). Operations call this when they get `WouldBlock`.
    pub fn clear_ready(&self, direction: Direction, tick: Tick) {
        todo!("under the lock: clear `ready` only if the count is still `tick`")
    }

    /// Records an event for `direction` (the reactor calls this): sets the latch, counts the
    /// event, and moves the stored waker, if any, into `wakers` (without waking it).
    pub fn set_ready(&self, direction: Direction, wakers: &mut Vec<Waker>) {
        todo!("under the lock: ready = true, count += 1, take() the waker into `wakers`")
    }
}

impl Default for IoState {
    fn default() -> Self {
        IoState::new()
    }
}
