//! What the parts share. (Not a test target: cargo only builds `tests/*.rs` files as targets,
//! and each part includes this with `mod common;`.)
#![allow(dead_code)] // each part uses some of these

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use harness::Watchdog;
use timers::{Clock, Reactor};

/// A watchdog with the causes every hang in this stage shares.
pub fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "a turn that wakes its due timers while it still holds the reactor's lock: a waker \
             that calls back into the reactor (removes, inserts or resets a timer, drops a \
             Sleep) then waits for that lock forever. Take what is due, unlock, then wake.",
        )
        .likely_cause(
            "a turn that waits in mio::Poll::poll although a timer is due, or that nobody wakes: \
             an insert earlier than the current wait (or any insert while it waits with no \
             timeout) and Reactor::advance must wake the mio::Waker",
        )
        .likely_cause(
            "a paused runtime whose park waits for real instead of jumping the clock to the \
             earliest deadline (Reactor::park with a manual clock)",
        )
}

/// Milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A reactor on a paused (manual) clock.
pub fn manual_reactor() -> Arc<Reactor> {
    Reactor::new(Clock::manual()).expect("Reactor::new failed")
}

/// A reactor on real time.
pub fn real_reactor() -> Arc<Reactor> {
    Reactor::new(Clock::real()).expect("Reactor::new failed")
}

/// A waker that runs `f` each time it is woken.
pub fn waker_fn(f: impl Fn() + Send + Sync + 'static) -> Waker {
    struct FnWaker<F>(F);
    impl<F: Fn() + Send + Sync + 'static> Wake for FnWaker<F> {
        fn wake(self: Arc<Self>) {
            (self.0)();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            (self.0)();
        }
    }
    Waker::from(Arc::new(FnWaker(f)))
}

/// A log the labelled wakers write to, in the order they were woken.
#[derive(Clone, Default)]
pub struct WakeLog(Arc<Mutex<Vec<String>>>);

impl WakeLog {
    pub fn new() -> WakeLog {
        WakeLog::default()
    }

    /// A waker that appends `label` to the log when woken.
    pub fn waker(&self, label: &str) -> Waker {
        let log = Arc::clone(&self.0);
        let label = label.to_owned();
        waker_fn(move || log.lock().unwrap().push(label.clone()))
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Polls `future` once with `waker`.
pub fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// `later - earlier` in a message: "12.5 ms".
pub fn since(later: Instant, earlier: Instant) -> String {
    match later.checked_duration_since(earlier) {
        Some(d) => format!("{d:?}"),
        None => format!("-{:?}", earlier - later),
    }
}
