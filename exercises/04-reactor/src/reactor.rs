//! The reactor: one `mio::Poll`, the sources registered with it, and the wakers to wake when
//! the OS says a source is ready.
//!
//! ```text
//!   register(io, interest) ──► slab: key k ──► Arc<IoState>   (the same Arc in Registered<T>)
//!                               mio Token(k) = the key
//!
//!   react(timeout):  lock the poll ─► epoll_wait ─► for each event: slab[token].set_ready(dir)
//!                                                   (the wakers collect in a Vec) ─► unlock
//!   turn(timeout):   react, then wake the collected wakers
//!
//!   wake() (any thread): mio::Waker (an eventfd on Linux) ─► a blocked epoll_wait returns
//! ```

use std::io;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mio::Interest;
use mio::event::Source;

use crate::source::{Direction, Tick};

/// A reactor: waits for OS readiness events and wakes the tasks that wait for them.
///
/// - Cheap to clone (every clone is the same reactor) and `Send + Sync`.
/// - Each `Reactor::new()` is a separate instance with its own `mio::Poll`: nothing global.
/// - Sources live in a `slab::Slab<Arc<IoState>>`; a source's `mio::Token` is its slab key.
/// - Wakers are woken only once every reactor lock is released, the poll's as well as the
///   slab's: a waker may call straight back into the reactor, even turn it again.
#[derive(Debug, Clone)]
pub struct Reactor {
    // TODO: an Arc around what every clone shares: the mio::Poll (and its Events buffer)
    // behind a Mutex, a clone of its Registry, the slab of sources behind a Mutex, and a
    // mio::Waker registered under a token no slab key will reach (usize::MAX).
}

/// An I/O object registered with a [`Reactor`], together with the readiness the reactor records
/// for it. Dropping it deregisters it.
#[derive(Debug)]
pub struct Registered<T: Source> {
    io: T,
    // TODO: its slab key, its Arc<IoState>, and the Reactor (to deregister from).
}

// TODO: impl<T: Source> Drop for Registered<T>: deregister `io` from mio's Registry, then remove
// its slab entry (in that order, so the key is not reused while the OS may still report it).

impl Reactor {
    /// A new reactor with nothing registered.
    pub fn new() -> io::Result<Reactor> {
        todo!("mio::Poll::new, registry().try_clone(), mio::Waker::new, an empty Slab")
    }

    /// Registers `io` for `interest` (edge-triggered, once: it is never re-registered) and
    /// returns it wrapped with a fresh [`IoState`].
    pub fn register<T: Source>(&self, io: T, interest: Interest) -> io::Result<Registered<T>> {
        todo!("insert an Arc<IoState> in the slab, register io with Token(key)")
    }

    /// How many sources are registered right now (the reactor's own waker does not count).
    pub fn registered_sources(&self) -> usize {
        todo!("the slab's length")
    }

    /// Waits for events (at most `timeout`; `None` waits until there is one, or a
    /// [`wake`](Reactor::wake)), records them as readiness, then wakes the tasks waiting for
    /// them. Returns how many readiness events it delivered; a wake is not counted.
    pub fn turn(&self, timeout: Option<Duration>) -> io::Result<usize> {
        todo!("react into a Vec, then wake every waker in it")
    }

    /// [`turn`](Reactor::turn), except that the wakers are pushed onto `wakers` instead of
    /// woken. No lock is held when it returns.
    ///
    /// For each event: skip the waker's token; look the token up in the slab (skip it if the
    /// key is gone); `set_ready(Read)` if the event is readable, read-closed or an error,
    /// `set_ready(Write)` if it is writable, write-closed or an error. An interrupted poll
    /// (`ErrorKind::Interrupted`) is not an error: it delivered 0 events.
    pub fn react(&self, timeout: Option<Duration>, wakers: &mut Vec<Waker>) -> io::Result<usize> {
        todo!("lock the poll, poll(events, timeout), deliver each event to its source's IoState")
    }

    /// Makes a `turn` that is blocked (or the next one, if none is) return promptly. Any thread
    /// may call it.
    pub fn wake(&self) -> io::Result<()> {
        todo!("the mio::Waker")
    }
}

impl<T: Source> Registered<T> {
    /// The registered I/O object.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The reactor it is registered with.
    pub fn reactor(&self) -> &Reactor {
        todo!("the Reactor stored at registration")
    }

    /// The readiness the reactor recorded for this source: see [`IoState::poll_ready`].
    ///
    /// [`IoState::poll_ready`]: crate::IoState::poll_ready
    pub fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<Tick> {
        todo!("ask the source's IoState")
    }

    /// See [`IoState::clear_ready`](crate::IoState::clear_ready).
    pub fn clear_ready(&self, direction: Direction, tick: Tick) {
        todo!("tell the source's IoState")
    }

    /// Runs the non-blocking operation `op` once `direction` is ready, and again after every
    /// `WouldBlock` that left it ready. Returns `Ready` with the first result that is not
    /// `WouldBlock`, or `Pending` (with the waker stored) once the readiness is cleared.
    ///
    /// Readiness is cleared only on `WouldBlock`, never after a success: with edge-triggered
    /// events, more data may be waiting that the OS will not report again.
    pub fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        todo!("loop: poll_ready (Pending? return it), op, on WouldBlock clear_ready(tick)")
    }
}
