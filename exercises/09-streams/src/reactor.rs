//! Given (Stage 4's reference reactor): one `mio::Poll`, the sources registered with it, and the wakers to wake when
//! the OS says a source is ready.
//!
//! ```text
//!   register(io, interest) ──► slab: key k ──► Arc<IoState>   (the same Arc in Registered<T>)
//!                               mio Token(k) = the key
//!
//!   turn(timeout):  lock poll ─► epoll_wait ─► for each event: slab[token].set_ready(dir)
//!                                             collect the wakers ─► unlock ─► wake them all
//!
//!   wake() (any thread): mio::Waker (an eventfd on Linux) ─► a blocked epoll_wait returns
//! ```
//!
//! Invariants:
//! * A source's token is its slab key; the key is freed only after `Registry::deregister`, so
//!   while a key is in the slab it names exactly one live source. An event that was already
//!   fetched for a key that has been freed and reused is delivered to the new source as a
//!   spurious readiness, which every operation tolerates (it gets `WouldBlock` and waits again).
//! * Wakers are woken only after every reactor lock is released: a waker may call straight back
//!   into the reactor (register, deregister, count sources) on this very thread.
//! * Sources are registered once, for both directions they will ever use, edge-triggered
//!   (mio's only mode). They are never re-registered: latched readiness in [`IoState`] makes
//!   re-arming unnecessary.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Registry, Token};
use slab::Slab;

use crate::source::{Direction, IoState, Tick};

/// The token of the reactor's own `mio::Waker`; slab keys never get this high.
const WAKE_TOKEN: Token = Token(usize::MAX);
/// Events fetched per `epoll_wait`; more simply wait for the next turn.
const EVENTS_PER_TURN: usize = 1024;

/// A reactor: waits for OS readiness events and wakes the tasks that wait for them.
///
/// Cheap to clone (every clone is the same reactor) and `Send + Sync`. Each `Reactor::new()`
/// is a separate instance with its own `mio::Poll`: nothing is global.
#[derive(Clone)]
pub struct Reactor {
    inner: Arc<Inner>,
}

struct Inner {
    /// Locked by whoever turns the reactor, for the whole turn (only one thread waits at a time).
    poll: Mutex<(mio::Poll, Events)>,
    /// A clone of the poll's registry: registering never waits for a turn to end.
    registry: Registry,
    sources: Mutex<Slab<Arc<IoState>>>,
    /// Makes a blocked `turn` return, from any thread.
    waker: mio::Waker,
}

/// An I/O object registered with a [`Reactor`], with the readiness the reactor records for it.
/// Dropping it deregisters it.
pub struct Registered<T: Source> {
    io: T,
    key: usize,
    state: Arc<IoState>,
    reactor: Reactor,
}

impl Reactor {
    /// A new reactor with nothing registered.
    pub fn new() -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(Reactor {
            inner: Arc::new(Inner {
                poll: Mutex::new((poll, Events::with_capacity(EVENTS_PER_TURN))),
                registry,
                sources: Mutex::new(Slab::new()),
                waker,
            }),
        })
    }

    /// Registers `io` for `interest` (edge-triggered) and returns it wrapped with its readiness.
    pub fn register<T: Source>(&self, mut io: T, interest: Interest) -> io::Result<Registered<T>> {
        let state = Arc::new(IoState::new());
        let key = self.inner.lock_sources().insert(Arc::clone(&state));
        if let Err(err) = self.inner.registry.register(&mut io, Token(key), interest) {
            self.inner.lock_sources().remove(key);
            return Err(err);
        }
        Ok(Registered {
            io,
            key,
            state,
            reactor: self.clone(),
        })
    }

    /// How many sources are registered right now (the reactor's own waker does not count).
    pub fn registered_sources(&self) -> usize {
        self.inner.lock_sources().len()
    }

    /// Waits for events (at most `timeout`; `None` waits until there is one, or a [`wake`]),
    /// records them as readiness, then wakes the tasks waiting for it. Returns how many
    /// readiness events it delivered; a [`wake`] is not counted.
    ///
    /// [`wake`]: Reactor::wake
    pub fn turn(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut wakers = Vec::new();
        let events = self.react(timeout, &mut wakers)?;
        for waker in wakers {
            waker.wake();
        }
        Ok(events)
    }

    /// [`turn`](Reactor::turn), except that the wakers are pushed onto `wakers` instead of
    /// woken, for a caller that has something to do before waking them. No lock is held when
    /// it returns.
    pub fn react(&self, timeout: Option<Duration>, wakers: &mut Vec<Waker>) -> io::Result<usize> {
        let mut guard = self
            .inner
            .poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (poll, events) = &mut *guard;
        match poll.poll(events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: nothing happened, the caller will turn again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(err) => return Err(err),
        }
        let mut delivered = 0;
        let sources = self.inner.lock_sources();
        for event in events.iter() {
            if event.token() == WAKE_TOKEN {
                continue; // only there to end the wait
            }
            // A key freed (and maybe reused) since the event was fetched: see the invariants.
            let Some(state) = sources.get(event.token().0) else {
                continue;
            };
            // Closed and failed sockets count as ready: the next operation reports it.
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                state.set_ready(Direction::Read, wakers);
            }
            if event.is_writable() || event.is_write_closed() || event.is_error() {
                state.set_ready(Direction::Write, wakers);
            }
            delivered += 1;
        }
        Ok(delivered)
    }

    /// Makes a `turn` that is blocked (or the next one, if none is) return promptly. Any
    /// thread may call it; several calls before the turn ends count as one.
    pub fn wake(&self) -> io::Result<()> {
        self.inner.waker.wake()
    }

    fn deregister<T: Source>(&self, io: &mut T, key: usize) {
        // Deregister first, free the key second: the key must not be handed to a new source
        // while the OS may still report events for the old one under it.
        let _ = self.inner.registry.deregister(io);
        self.inner.lock_sources().try_remove(key);
    }
}

impl Inner {
    fn lock_sources(&self) -> MutexGuard<'_, Slab<Arc<IoState>>> {
        // Only inserts, removes and reads happen under this lock; none can be left half done.
        self.sources.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Source> Registered<T> {
    /// The registered I/O object.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The reactor it is registered with.
    pub fn reactor(&self) -> &Reactor {
        &self.reactor
    }

    /// The readiness the reactor recorded for this source: see [`IoState::poll_ready`].
    pub fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<Tick> {
        self.state.poll_ready(direction, cx)
    }

    /// See [`IoState::clear_ready`].
    pub fn clear_ready(&self, direction: Direction, tick: Tick) {
        self.state.clear_ready(direction, tick);
    }
}

impl<T: Source> Drop for Registered<T> {
    fn drop(&mut self) {
        self.reactor.deregister(&mut self.io, self.key);
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("registered_sources", &self.registered_sources())
            .finish_non_exhaustive()
    }
}

impl<T: Source + fmt::Debug> fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("io", &self.io)
            .field("token", &self.key)
            .field("state", &self.state)
            .finish()
    }
}
