//! Code shared by more than one test file of this stage.
//!
//! A directory under `tests/` is not a test target of its own: a test file that needs this
//! says `mod common;`, which finds `tests/common/mod.rs` next to it. Not every file uses every
//! helper.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use blocks::timer::Timer;
use harness::{Journal, Poller, Watchdog};

/// A future that is Pending until the test opens it, then Ready with its value. It keeps the
/// waker of its latest poll, and opening it wakes that waker, the way a socket or a timer would.
/// It also keeps that waker after it finished, so a test can fire a *stale* wake
/// ([`Gate::wake_again`]).
#[derive(Clone)]
pub struct Gate<T: Clone> {
    value: T,
    state: Arc<Mutex<GateState>>,
}

#[derive(Default)]
struct GateState {
    open: bool,
    waker: Option<Waker>,
    polls: usize,
}

impl<T: Clone> Gate<T> {
    pub fn new(value: T) -> Gate<T> {
        Gate {
            value,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the gate and wakes the waker of its latest poll (if it was polled).
    pub fn open(&self) {
        let waker = {
            let mut state = self.state();
            state.open = true;
            state.waker.clone()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes the waker of the latest poll again, whether or not the gate is open.
    pub fn wake_again(&self) {
        let waker = self.state().waker.clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// How many times this gate (any clone) was polled.
    pub fn polls(&self) -> usize {
        self.state().polls
    }

    /// The waker of the latest poll.
    pub fn waker(&self) -> Option<Waker> {
        self.state().waker.clone()
    }
}

impl<T: Clone> Future for Gate<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state();
        state.polls += 1;
        state.waker = Some(cx.waker().clone());
        if state.open {
            Poll::Ready(self.value.clone())
        } else {
            Poll::Pending
        }
    }
}

/// Writes `"<name> dropped"` into a journal when dropped: put one inside a future to see when
/// the future is dropped (cancelled).
pub struct OnDrop {
    pub name: String,
    pub journal: Journal,
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.journal.write(format!("{} dropped", self.name));
    }
}

/// A never-ending worker: writes `"<name> tick"` into the journal every `every` of `timer`,
/// and `"<name> dropped"` when it is dropped (cancelled).
pub async fn ticker(name: &str, timer: Timer, every: Duration, journal: Journal) {
    let _guard = OnDrop {
        name: name.to_owned(),
        journal: journal.clone(),
    };
    loop {
        timer.sleep(every).await;
        journal.write(format!("{name} tick"));
    }
}

/// How many journal entries are exactly `entry`.
pub fn count(journal: &Journal, entry: &str) -> usize {
    journal.entries().iter().filter(|e| *e == entry).count()
}

/// Polls until Ready, at most `max` times; fails with `why` (what a long Pending means).
pub fn drive<F: Future>(poller: &mut Poller<F>, max: usize, why: &str) -> F::Output {
    loop {
        if let Poll::Ready(output) = poller.poll() {
            return output;
        }
        assert!(
            poller.polls() < max,
            "still Pending after {max} polls. {why}",
        );
    }
}

/// A watchdog for a test that may hang in the learner's code.
pub fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "a `poll` that loops waiting for a child instead of returning Pending (the child \
             will wake the task; poll must return)",
        )
        .likely_cause(
            "a future whose Pending left no waker behind (a child polled with a waker that \
             reaches nobody), so nothing ever woke the task again",
        )
}

/// Milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A future with a drop guard *in the future itself*: unlike a local inside an `async` block
/// (dropped when the block completes), the guard goes only when this future is dropped. So the
/// journal's "<name> dropped" tells when the combinator holding it let it go.
pub struct Guarded<F> {
    pub future: F,
    pub guard: OnDrop,
}

impl<F: Future + Unpin> Future for Guarded<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        Pin::new(&mut self.future).poll(cx)
    }
}

/// The order in which [`Logged`] futures were polled: each one writes its name here on every
/// poll. [`PollLog::take`] returns what was written since the last `take`, so a test can look
/// at one poll of a combinator at a time.
#[derive(Clone, Default)]
pub struct PollLog(Arc<Mutex<Vec<String>>>);

impl PollLog {
    pub fn new() -> PollLog {
        PollLog::default()
    }

    fn push(&self, name: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name.to_owned());
    }

    /// The names written since the last `take`, in order; the log is then empty.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A future that writes its name into a [`PollLog`] every time it is polled, then polls the
/// future inside it.
pub struct Logged<F> {
    pub name: String,
    pub log: PollLog,
    pub future: F,
}

impl<F> Logged<F> {
    pub fn new(name: impl Into<String>, log: &PollLog, future: F) -> Logged<F> {
        Logged {
            name: name.into(),
            log: log.clone(),
            future,
        }
    }
}

impl<F: Future + Unpin> Future for Logged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        this.log.push(&this.name);
        Pin::new(&mut this.future).poll(cx)
    }
}
