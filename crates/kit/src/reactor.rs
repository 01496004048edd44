//! The reactor: I/O readiness from mio (Stage 4) and the timer store (Stage 8), in one place,
//! because both decide how long the runtime may sleep.
//!
//! * **Readiness is latched** (Stage 4): an event sets a source's direction ready and wakes the
//!   waiting task; only an operation that returned `WouldBlock` clears it again, and only if
//!   no newer event arrived meanwhile (the tick). So an edge-triggered event is never lost.
//! * **Timers** (Stage 8) are a `BTreeMap` ordered by deadline: the earliest one bounds the
//!   `epoll_wait` timeout, and every turn wakes the timers whose deadline has passed.
//! * **The clock** may be paused ([`Clock`]): then time moves only by [`Clock::advance`], which
//!   pokes the reactor so the runtime notices, and a turn never waits for a timer by sleeping.
//!
//! Single-threaded: the reactor lives on the runtime's thread (`Rc`, `RefCell`); only the
//! `mio::Waker` (inside [`Clock`] and the runtime's wakers) is shared with other threads.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Token};
use slab::Slab;

pub use crate::time::Clock;

/// The token of the `mio::Waker` that ends a blocking turn from another thread.
const WAKE_TOKEN: Token = Token(usize::MAX);
/// Events fetched per turn; more simply wait for the next turn (they stay latched in the OS).
const EVENTS_PER_TURN: usize = 1024;

/// Which half of a source a task waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Readable, read-closed or error.
    Read,
    /// Writable, write-closed or error.
    Write,
}

/// One direction's state: latched readiness, the event count that set it, the waiting task.
#[derive(Default)]
struct Slot {
    /// Set by an event, cleared by a `WouldBlock` (if `tick` did not move meanwhile).
    ready: bool,
    /// Counts events, so a clear can tell whether a newer event arrived after its operation.
    tick: u64,
    /// The waker of the latest poll that found the direction not ready.
    waker: Option<Waker>,
}

/// The readiness of one registered source (Stage 4's `IoState`).
#[derive(Default)]
struct IoState {
    /// Indexed by [`Direction`]: `[read, write]`.
    slots: RefCell<[Slot; 2]>,
}

impl IoState {
    fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<u64> {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[direction as usize];
        if slot.ready {
            return Poll::Ready(slot.tick);
        }
        match &slot.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn clear_ready(&self, direction: Direction, tick: u64) {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[direction as usize];
        if slot.tick == tick {
            slot.ready = false;
        }
    }

    fn set_ready(&self, direction: Direction, wakers: &mut Vec<Waker>) {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[direction as usize];
        slot.ready = true;
        slot.tick = slot.tick.wrapping_add(1);
        wakers.extend(slot.waker.take());
    }
}

/// A timer's key in the store: its deadline, then a sequence number (two timers may share a
/// deadline).
pub(crate) type TimerKey = (Instant, u64);

/// The reactor of one runtime. Cloning shares it.
#[derive(Clone)]
pub struct Reactor {
    inner: Rc<Inner>,
}

struct Inner {
    /// mio's poll and its event buffer; borrowed only during a turn.
    poll: RefCell<(mio::Poll, Events)>,
    /// The sources' states by token; a key is freed only after mio forgot the source.
    sources: RefCell<Slab<Rc<IoState>>>,
    /// Stage 8's timer store: the waker of every pending `Sleep`, earliest first.
    timers: RefCell<BTreeMap<TimerKey, Waker>>,
    /// The next timer's sequence number.
    next_timer: Cell<u64>,
    /// Shared with other threads: ends a blocking turn.
    waker: Arc<mio::Waker>,
    /// Where "now" comes from: the real clock or a paused one.
    clock: Clock,
}

/// A source registered with a [`Reactor`]; deregistered when dropped.
pub struct Registered<T: Source> {
    /// The mio source.
    io: T,
    /// Its token in the reactor's slab.
    key: usize,
    /// Its readiness, shared with the reactor.
    state: Rc<IoState>,
    /// The reactor it is registered with (kept alive by it).
    reactor: Reactor,
}

impl Reactor {
    /// A reactor whose time comes from `clock` (see [`Clock::paused`]).
    pub fn new(clock: Clock) -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKE_TOKEN)?);
        clock.attach(Arc::clone(&waker));
        Ok(Reactor {
            inner: Rc::new(Inner {
                poll: RefCell::new((poll, Events::with_capacity(EVENTS_PER_TURN))),
                sources: RefCell::new(Slab::new()),
                timers: RefCell::new(BTreeMap::new()),
                next_timer: Cell::new(0),
                waker,
                clock,
            }),
        })
    }

    /// Registers `io` for `interest`; events are delivered to the tasks that poll it.
    pub fn register<T: Source>(&self, mut io: T, interest: Interest) -> io::Result<Registered<T>> {
        let state = Rc::new(IoState::default());
        let key = self.inner.sources.borrow_mut().insert(Rc::clone(&state));
        let registry = self.inner.poll.borrow();
        if let Err(err) = registry
            .0
            .registry()
            .register(&mut io, Token(key), interest)
        {
            self.inner.sources.borrow_mut().remove(key);
            return Err(err);
        }
        Ok(Registered {
            io,
            key,
            state,
            reactor: self.clone(),
        })
    }

    /// How many sources are registered (each live `TcpStream` and `TcpListener` is one).
    pub fn registered_sources(&self) -> usize {
        self.inner.sources.borrow().len()
    }

    /// The reactor's current time (the paused clock's, if paused).
    pub fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    /// The clock this reactor reads.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// A handle that ends a blocking turn from any thread.
    pub(crate) fn waker(&self) -> Arc<mio::Waker> {
        Arc::clone(&self.inner.waker)
    }

    /// Stores `waker` to be woken at `deadline`; returns the entry's key.
    pub(crate) fn insert_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        let seq = self.inner.next_timer.get();
        self.inner.next_timer.set(seq.wrapping_add(1));
        let key = (deadline, seq);
        self.inner.timers.borrow_mut().insert(key, waker.clone());
        key
    }

    /// Replaces a stored timer's waker; false if the entry is gone (it fired).
    pub(crate) fn set_timer_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        match self.inner.timers.borrow_mut().get_mut(&key) {
            Some(stored) => {
                if !stored.will_wake(waker) {
                    *stored = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    /// Removes a timer (a dropped or finished `Sleep`).
    pub(crate) fn remove_timer(&self, key: TimerKey) {
        self.inner.timers.borrow_mut().remove(&key);
    }

    /// How many timers are stored.
    pub fn pending_timers(&self) -> usize {
        self.inner.timers.borrow().len()
    }

    /// One turn: waits for I/O events (not at all if `block` is false; with a real clock, at
    /// most until the earliest timer), latches them, then collects the wakers of the sources
    /// that became ready and of the timers that are due into `wakers` (woken by the caller,
    /// outside every borrow).
    pub(crate) fn turn(&self, block: bool, wakers: &mut Vec<Waker>) -> io::Result<()> {
        let timeout = if !block {
            Some(Duration::ZERO)
        } else {
            let earliest = self.inner.timers.borrow().keys().next().map(|k| k.0);
            match earliest {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(self.now());
                    if left.is_zero() {
                        Some(Duration::ZERO)
                    } else if self.inner.clock.is_paused() {
                        None // only `advance` moves a paused clock, and it pokes us
                    } else {
                        // Round up: a turn that wakes a little early would spin once more.
                        Some(left + Duration::from_micros(999))
                    }
                }
            }
        };
        {
            let mut guard = self.inner.poll.borrow_mut();
            let (poll, events) = &mut *guard;
            match poll.poll(events, timeout) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
            let sources = self.inner.sources.borrow();
            for event in events.iter() {
                let Some(state) = sources.get(event.token().0) else {
                    continue; // the wake token, or a source dropped meanwhile
                };
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    state.set_ready(Direction::Read, wakers);
                }
                if event.is_writable() || event.is_write_closed() || event.is_error() {
                    state.set_ready(Direction::Write, wakers);
                }
            }
        }
        let now = self.now();
        let mut timers = self.inner.timers.borrow_mut();
        while let Some(entry) = timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            wakers.push(entry.remove());
        }
        Ok(())
    }
}

impl<T: Source> Registered<T> {
    /// The source.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// Runs `op` once the direction is ready; on `WouldBlock` clears the readiness (unless a
    /// newer event arrived) and waits again. Stores the waker of the latest poll.
    pub fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let Poll::Ready(tick) = self.state.poll_ready(direction, cx) else {
                return Poll::Pending;
            };
            match op(&self.io) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.state.clear_ready(direction, tick);
                }
                result => return Poll::Ready(result),
            }
        }
    }
}

impl<T: Source> Drop for Registered<T> {
    fn drop(&mut self) {
        // mio forgets the source first, then the key is freed: a new source cannot get the
        // key while the OS can still report events for the old one.
        let _ = self
            .reactor
            .inner
            .poll
            .borrow()
            .0
            .registry()
            .deregister(&mut self.io);
        self.reactor.inner.sources.borrow_mut().try_remove(self.key);
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("registered_sources", &self.registered_sources())
            .field("pending_timers", &self.pending_timers())
            .finish_non_exhaustive()
    }
}

impl<T: Source + fmt::Debug> fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("io", &self.io)
            .field("token", &self.key)
            .finish()
    }
}
