//! What the parts share. (Not a test target: cargo only builds `tests/*.rs` files as targets,
//! and each part includes this with `mod common;`.)
#![allow(dead_code)] // each part uses some of these

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use harness::Watchdog;

/// A watchdog with the causes every hang in this stage shares.
pub fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "a JoinHandle never woken: the task's completion must wake the waker the handle \
             stored when it returned Pending (and the handle must store it under the same lock \
             it checks for the result)",
        )
        .likely_cause(
            "`block_on` sleeps with work queued, or never wakes when a task is spawned or woken \
             from another thread, or when its own future is woken",
        )
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

/// Sets its flag when dropped: "was this task's future dropped?"
pub struct DropFlag(pub Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A future that is never ready and counts its polls; it holds a `DropFlag`.
pub struct Forever {
    pub polls: Arc<AtomicUsize>,
    pub _flag: DropFlag,
}

impl Forever {
    /// The future, its poll counter and its "dropped" flag.
    pub fn new() -> (Forever, Arc<AtomicUsize>, Arc<AtomicBool>) {
        let polls = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicBool::new(false));
        let future = Forever {
            polls: Arc::clone(&polls),
            _flag: DropFlag(Arc::clone(&dropped)),
        };
        (future, polls, dropped)
    }
}

impl Future for Forever {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

/// A gate a blocking closure waits at until the test opens it. (Plain `std` on purpose: this
/// is the "blocking call" of the blocking tests.) `wait` gives up after 10 s and says so, so a
/// gate nobody opens cannot hold a thread forever.
#[derive(Clone, Default)]
pub struct Gate(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

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
        let (open, opened) = &*self.0;
        let guard = open.lock().unwrap();
        let (guard, _) = opened
            .wait_timeout_while(guard, std::time::Duration::from_secs(10), |open| !*open)
            .unwrap();
        *guard
    }
}

/// Counts how many times it ran, and can be read from anywhere.
#[derive(Clone, Default)]
pub struct Counter(pub Arc<AtomicUsize>);

impl Counter {
    pub fn tick(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Spins (yielding the thread) until `done()` or 5 s passed; says whether it became true.
/// Only for states that correct code reaches on its own (a pool thread going idle or exiting).
pub fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(5) {
        if done() {
            return true;
        }
        std::thread::yield_now();
    }
    done()
}
