//! What the parts share. (Not a test target: cargo only builds `tests/*.rs` files as targets,
//! and each part includes this with `mod common;`.)
#![allow(dead_code)] // each part uses some of these

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use harness::Watchdog;
use stealing::{Builder, Runtime};

/// A watchdog with the causes every hang in this stage shares.
pub fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "a task pushed while every worker was going to sleep was never seen: a worker \
             must announce it is idle, THEN re-check every queue (injector and local queues), \
             and only then park; a push must put the task in its queue BEFORE it looks for a \
             worker to wake",
        )
        .likely_cause(
            "a spawn or wake from outside the workers (the test's thread, block_on) goes to the \
             injector but wakes no sleeping worker, or a task pushed onto a worker's local queue \
             never wakes a sleeping worker that could steal it",
        )
        .likely_cause(
            "`block_on` sleeps and its future's waker does not unpark it, or the runtime's drop \
             never returns (a worker asleep that shutdown did not wake, or a worker that keeps \
             running tasks after shutdown began)",
        )
}

/// A runtime with `workers` worker threads (LIFO slot and stealing on).
pub fn runtime(workers: usize) -> Runtime {
    Builder::new().worker_threads(workers).build()
}

/// Returns Pending once (waking itself first), then Ready: lets other tasks run.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Counts how many times it ran, and can be read from anywhere.
#[derive(Clone, Default)]
pub struct Counter(pub Arc<AtomicUsize>);

impl Counter {
    pub fn tick(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Counts drops of the values it hands out: "was this task's future dropped, and how often?"
#[derive(Clone, Default)]
pub struct Drops(pub Arc<AtomicUsize>);

/// Dropped with the future that holds it.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drops {
    pub fn guard(&self) -> DropGuard {
        DropGuard(Arc::clone(&self.0))
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A gate a task (or thread) blocks at, for real, until the test opens it. (Plain `std` on
/// purpose: this is the "blocking call" that holds a worker.) `wait` gives up after 10 s and
/// says so, so a gate nobody opens cannot hold a thread forever.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    pub fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }

    /// Blocks the calling thread until the gate is open; false if it gave up.
    pub fn wait(&self) -> bool {
        self.wait_at_most(Duration::from_secs(10))
    }

    /// Blocks the calling thread until the gate is open, or `limit` passed (false). The
    /// limit only bounds how long a broken runtime takes to fail: correct code opens the gate
    /// in milliseconds.
    pub fn wait_at_most(&self, limit: Duration) -> bool {
        let (open, opened) = &*self.0;
        let guard = open.lock().unwrap();
        let (guard, _) = opened
            .wait_timeout_while(guard, limit, |open| !*open)
            .unwrap();
        *guard
    }

    pub fn is_open(&self) -> bool {
        *self.0.0.lock().unwrap()
    }
}

/// Spins (yielding the thread) until `done()` or 5 s passed; says whether it became true.
/// Only for states that correct code reaches on its own (a worker going to sleep, a task
/// starting on a free worker): it decides nothing by timing, it only waits for the state.
pub fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if done() {
            return true;
        }
        std::thread::yield_now();
    }
    done()
}

/// Waits until every worker of `rt` is asleep (`Metrics::parked_workers`), or panics naming
/// what it saw.
pub fn until_all_parked(rt: &Runtime, when: &str) {
    let workers = rt.metrics().workers;
    assert!(
        eventually(|| rt.metrics().parked_workers == workers),
        "{when}: with nothing to do, every worker should go to sleep (Metrics::parked_workers \
         should reach {workers}), but after 5 s it is {}: does a worker with nothing to do park \
         (and count itself in parked_workers while it sleeps)?",
        rt.metrics().parked_workers
    );
}

/// A future that is never ready and counts its polls; it holds a `DropGuard`.
pub struct Forever {
    pub polls: Counter,
    pub _guard: DropGuard,
}

impl Future for Forever {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.polls.tick();
        Poll::Pending
    }
}

/// Sets its flag when dropped.
pub struct DropFlag(pub Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A waker slot a task fills on each poll and another party wakes: "wake me later".
#[derive(Clone, Default)]
pub struct Parked(pub Arc<Mutex<Option<Waker>>>);

impl Parked {
    pub fn store(&self, waker: &Waker) {
        *self.0.lock().unwrap() = Some(waker.clone());
    }

    /// Wakes the stored waker, if any; true if there was one.
    pub fn wake(&self) -> bool {
        let waker = self.0.lock().unwrap().take();
        match waker {
            Some(waker) => {
                waker.wake();
                true
            }
            None => false,
        }
    }
}
