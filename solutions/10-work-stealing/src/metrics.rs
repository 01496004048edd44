//! What the runtime counts, and the snapshot the tests read: [`Metrics`].
//!
//! Given whole. The counters are plain `std` atomics on purpose: counting is not
//! synchronisation (nothing waits on a count), so the race tests' model checker need not
//! reorder it, and keeping these out of `crate::sync` keeps its search small. This file is
//! the one place besides `src/sync.rs` that may name `std::sync`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A snapshot of a runtime's counters, from [`crate::Handle::metrics`]. Every count starts at
/// 0 when the runtime is built and only grows, except `parked_workers`, which is a gauge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    /// The number of worker threads.
    pub workers: usize,
    /// Task polls by the workers (a poll of an aborted task that cancels it counts too).
    pub polls: u64,
    /// Tasks a worker took from its own LIFO slot to poll them.
    pub lifo_polls: u64,
    /// Tasks a worker took from the injector (the global queue).
    pub injector_pops: u64,
    /// Tasks moved out of another worker's local queue by stealing (every task of a batch,
    /// the one polled at once included).
    pub steals: u64,
    /// Tasks moved from a full local queue to the injector.
    pub overflows: u64,
    /// Times a worker went to sleep (each wait that begins after the re-check found nothing).
    pub parks: u64,
    /// Times a worker was chosen to wake up: one per sleeping worker that a push (or a
    /// worker that found work) notified. Shutdown's wake-ups are not counted.
    pub unparks: u64,
    /// Workers asleep right now (parked, waiting for a notification).
    pub parked_workers: usize,
}

/// The live counters behind [`Metrics`]; the runtime's shared state holds one.
///
/// What a worker counts for itself (its polls, LIFO polls, injector pops, steals, parks) goes
/// to that worker's own block, on its own cache line: two workers adding to one shared
/// counter on every poll would pass the line back and forth between their cores, which costs
/// more than the poll. A snapshot adds the blocks up. What anyone may count (overflows,
/// unparks, the parked gauge) is shared.
#[derive(Debug)]
pub(crate) struct Counters {
    workers: Box<[WorkerCounters]>,
    pub(crate) overflows: AtomicU64,
    pub(crate) unparks: AtomicU64,
    pub(crate) parked_workers: AtomicUsize,
}

/// One worker's own counters: only that worker adds to them.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerCounters {
    pub(crate) polls: AtomicU64,
    pub(crate) lifo_polls: AtomicU64,
    pub(crate) injector_pops: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Adds `n` to a counter that only one thread ever adds to, such as a worker's own counter in
/// [`WorkerCounters`] added to on its own thread: a load and a store, without the locked
/// instruction of [`add`] (a poll is cheap enough for that to show). Anyone may read the
/// counter meanwhile and sees the count before or after the addition. With two threads
/// adding, an addition can be lost: use [`add`] for any counter others may add to.
pub(crate) fn add_own(counter: &AtomicU64, n: u64) {
    let count = counter.load(Ordering::Relaxed);
    counter.store(count.wrapping_add(n), Ordering::Relaxed);
}

impl Counters {
    /// Counters for a runtime with `workers` workers, all 0.
    pub(crate) fn new(workers: usize) -> Counters {
        Counters {
            workers: (0..workers).map(|_| WorkerCounters::default()).collect(),
            overflows: AtomicU64::new(0),
            unparks: AtomicU64::new(0),
            parked_workers: AtomicUsize::new(0),
        }
    }

    /// Worker `index`'s own counters (add to them only on that worker's thread).
    pub(crate) fn worker(&self, index: usize) -> &WorkerCounters {
        &self.workers[index]
    }

    /// Worker `index` went to sleep (its `parks` and the gauge).
    pub(crate) fn parked(&self, index: usize) {
        add(&self.workers[index].parks, 1);
        self.parked_workers.fetch_add(1, Ordering::SeqCst);
    }

    /// A worker woke up (the gauge only: `unparks` is counted by whoever notified it).
    pub(crate) fn woke(&self) {
        self.parked_workers.fetch_sub(1, Ordering::SeqCst);
    }

    /// The snapshot.
    pub(crate) fn snapshot(&self) -> Metrics {
        let read = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        let sum = |field: fn(&WorkerCounters) -> &AtomicU64| {
            self.workers.iter().map(|worker| read(field(worker))).sum()
        };
        Metrics {
            workers: self.workers.len(),
            polls: sum(|w| &w.polls),
            lifo_polls: sum(|w| &w.lifo_polls),
            injector_pops: sum(|w| &w.injector_pops),
            steals: sum(|w| &w.steals),
            overflows: read(&self.overflows),
            parks: sum(|w| &w.parks),
            unparks: read(&self.unparks),
            parked_workers: self.parked_workers.load(Ordering::SeqCst),
        }
    }
}
