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

/// A waker that counts how many times it (or a clone of it) was cloned. Every clone is the same
/// task to `will_wake` (same data pointer, same vtable), so a store that keeps the stored waker
/// when `will_wake` says "same task" clones nothing, and one that replaces it anyway clones once
/// per call. Returns the waker and the count.
pub fn clone_counting_waker() -> (Waker, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{RawWaker, RawWakerVTable};

    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

    unsafe fn clone(data: *const ()) -> RawWaker {
        // SAFETY: `data` came from `Arc::into_raw` of an `Arc<AtomicUsize>` (below), and the
        // waker that owns it is alive during this call; the extra count is taken by `increment`.
        unsafe { Arc::increment_strong_count(data.cast::<AtomicUsize>()) };
        // SAFETY: as above: the pointer is a live `Arc<AtomicUsize>`'s.
        let clones = unsafe { &*data.cast::<AtomicUsize>() };
        clones.fetch_add(1, Ordering::SeqCst);
        RawWaker::new(data, &VTABLE)
    }
    unsafe fn wake(data: *const ()) {
        // SAFETY: `wake` consumes the waker: drop the count it owned.
        unsafe { drop_waker(data) }
    }
    unsafe fn wake_by_ref(_data: *const ()) {}
    unsafe fn drop_waker(data: *const ()) {
        // SAFETY: every live waker owns one strong count of this `Arc<AtomicUsize>`.
        unsafe { drop(Arc::from_raw(data.cast::<AtomicUsize>())) }
    }

    let clones = Arc::new(AtomicUsize::new(0));
    let data = Arc::into_raw(Arc::clone(&clones)).cast::<()>();
    // SAFETY: `data` is an `Arc<AtomicUsize>` turned into a raw pointer, which is what every
    // function of `VTABLE` expects, and the waker owns that strong count.
    let waker = unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) };
    (waker, clones)
}
