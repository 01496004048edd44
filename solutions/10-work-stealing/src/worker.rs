//! A worker thread: where it looks for its next task, how it steals, and how it goes to
//! sleep without missing a push.
//!
//! ```text
//!   each turn (tick += 1):
//!     shutdown begun?                        → stop (the thread exits)
//!     1. every INJECTOR_INTERVAL-th tick: the injector first (before the LIFO slot)
//!     2. LIFO slot, if fewer than LIFO_CAP polls in a row came from it
//!        (else: its task goes to the back of the local queue)
//!     3. the local queue (front)
//!     4. the injector (front)
//!     5. search: steal half of another worker's local queue (victims in turn from
//!        a random one; EVERY other worker is tried once before giving up)
//!     6. nothing anywhere: park
//!
//!   park:  announce "I am idle"  (under the idle lock: on the sleepers list; no longer
//!                                 searching)
//!          re-check every queue  (injector, each local queue)  ── work? ──► take myself off
//!          sleep until notified                                           the list, search
//!
//!   push:  task into a queue, THEN "is anyone searching?"  no → take one sleeper off the
//!          list, count it as searching, unpark it
//!   a searcher that finds work stops searching; if it was the last one, it wakes one more
//! ```
//!
//! Why no push is lost: a pusher puts its task in a queue before it reads the searching
//! count (and the sleepers list, under the idle lock); a parking worker announces itself
//! under the idle lock before it re-checks the queues. Either the pusher sees the worker on
//! the list (and unparks it), or it saw someone searching who had not yet announced itself,
//! and that worker's re-check, which comes after its announcement, sees the task.

mod lifo_slot;

use std::collections::VecDeque;

use crate::context;
use crate::metrics::{self, WorkerCounters};
use crate::runtime::{INJECTOR_INTERVAL, LIFO_CAP, Shared};
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use crate::task::Task;
use lifo_slot::LifoSlot;

/// One worker's queues and parking spot, in the shared state (others steal from `local` and
/// unpark it through `notified` and `wakeup`). Aligned to 128 bytes so that two workers' locks
/// never share a cache line (each worker locks its own local queue on every turn).
#[repr(align(128))]
pub(crate) struct WorkerQueues {
    /// The bounded local queue: the owner pushes to the back and pops from the front;
    /// thieves take from the front.
    local: Mutex<VecDeque<Task>>,
    /// The LIFO slot: the task this worker spawned or woke last. Only the owner touches it
    /// (never stolen), and shutdown once the owner has exited. While the worker runs, the slot
    /// is on its thread: no lock (see `lifo_slot.rs`).
    lifo: LifoSlot,
    /// True once this worker was notified and has not yet consumed it; with `wakeup`.
    notified: Mutex<bool>,
    wakeup: Condvar,
}

impl WorkerQueues {
    pub(crate) fn new() -> WorkerQueues {
        WorkerQueues {
            local: Mutex::new(VecDeque::new()),
            lifo: LifoSlot::new(),
            notified: Mutex::new(false),
            wakeup: Condvar::new(),
        }
    }

    pub(crate) fn local(&self) -> MutexGuard<'_, VecDeque<Task>> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The LIFO slot (`take`, `replace`): on the worker's thread while it runs, anywhere once
    /// it has stopped (another thread panics meanwhile: the slot is never stolen).
    pub(crate) fn lifo(&self) -> &LifoSlot {
        &self.lifo
    }

    fn notified(&self) -> MutexGuard<'_, bool> {
        self.notified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives the worker its wake-up (call it under the idle lock, where the worker was
    /// taken off the sleepers list: see `Worker::park`).
    fn give_wakeup(&self) {
        *self.notified() = true;
    }

    /// Wakes the worker if it is waiting for its wake-up.
    fn unpark(&self) {
        self.wakeup.notify_one();
    }

    /// Wakes the worker for shutdown (it checks the flag under `notified`'s lock before it
    /// sleeps, and the flag is set before this takes the lock).
    pub(crate) fn wake_for_shutdown(&self) {
        let _notified = self.notified();
        self.wakeup.notify_all();
    }

    /// Everything still queued here (shutdown, after the worker exited).
    pub(crate) fn drain(&self) -> Vec<Task> {
        let mut tasks: Vec<Task> = self.lifo().take().into_iter().collect();
        tasks.extend(self.local().drain(..));
        tasks
    }
}

/// The parking protocol's shared state.
pub(crate) struct Idle {
    /// Workers searching for work right now (woken ones count from the moment they are
    /// chosen). Changed only under `sleepers`' lock; read without it by pushers.
    searching: AtomicUsize,
    /// The workers that announced they are going to sleep and were not notified since.
    sleepers: Mutex<Vec<usize>>,
    /// `sleepers.len()`, changed only under its lock; read without it by pushers, so that a
    /// push with nobody asleep takes no lock at all.
    sleeping: AtomicUsize,
}

impl Idle {
    pub(crate) fn new() -> Idle {
        Idle {
            searching: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::new()),
            sleeping: AtomicUsize::new(0),
        }
    }

    fn sleepers(&self) -> MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Shared {
    /// Wakes one sleeping worker if nobody is searching (a searcher will find the new work
    /// and, when it stops searching, wake the next one). Called after every push into a
    /// queue.
    pub(crate) fn notify_parked(&self) {
        // Fast path, no lock: someone is searching, or nobody sleeps. (A worker counts itself
        // in `sleeping` before its re-check, so a push it could miss is seen here: see the
        // module doc.)
        if self.idle.searching.load(Ordering::SeqCst) != 0
            || self.idle.sleeping.load(Ordering::SeqCst) == 0
        {
            return;
        }
        let chosen = {
            let mut sleepers = self.idle.sleepers();
            if self.idle.searching.load(Ordering::SeqCst) != 0 {
                return;
            }
            let chosen = sleepers.pop();
            if let Some(index) = chosen {
                self.idle.sleeping.fetch_sub(1, Ordering::SeqCst);
                // Searching from now on: no second worker is woken for the same push.
                self.idle.searching.fetch_add(1, Ordering::SeqCst);
                // Under the idle lock: a worker that finds itself off the list knows its
                // wake-up is already there.
                self.workers[index].give_wakeup();
            }
            chosen
        };
        if let Some(index) = chosen {
            metrics::add(&self.counters.unparks, 1);
            self.workers[index].unpark();
        }
    }

    /// True if any queue worker `index` could take from holds a task: the injector, and the
    /// local queues (the others' only when stealing is on; the LIFO slots are private).
    fn any_work(&self, index: usize) -> bool {
        !self.lock_injector().tasks.is_empty()
            || self
                .workers
                .iter()
                .enumerate()
                .filter(|&(other, _)| self.stealing || other == index)
                .any(|(_, queues)| !queues.local().is_empty())
    }
}

/// A worker's private state.
struct Worker {
    shared: Arc<Shared>,
    index: usize,
    /// Turns of the loop so far (wrapping).
    tick: u32,
    /// Polls in a row that took their task from the LIFO slot.
    lifo_streak: u32,
    /// Counted in `Idle::searching`.
    searching: bool,
    /// xorshift state for picking the first victim.
    rng: u32,
}

/// The worker thread's body: runs tasks until the runtime shuts down.
pub(crate) fn run(shared: Arc<Shared>, index: usize) {
    // The LIFO slot onto this thread, until `Worker`'s drop hands it back.
    shared.workers[index].lifo().claim();
    let _context = context::enter(Arc::clone(&shared), Some(index));
    let mut worker = Worker {
        shared,
        index,
        tick: 0,
        lifo_streak: 0,
        searching: false,
        rng: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
    };
    while !worker.shared.is_shutdown() {
        worker.tick = worker.tick.wrapping_add(1);
        let task = match worker.next_task() {
            Some(task) => Some(task),
            None => worker.steal(),
        };
        match task {
            Some(task) => {
                worker.stop_searching();
                metrics::add_own(&worker.shared.counters.worker(worker.index).polls, 1);
                task.run();
            }
            None => worker.park(),
        }
    }
}

impl Drop for Worker {
    /// Hands the LIFO slot back to the shared state, task included, where shutdown cancels
    /// it: when the loop ends, and also if it unwinds (a worker thread never exits with the
    /// slot still claimed).
    fn drop(&mut self) {
        self.queues().lifo().release();
    }
}

impl Worker {
    fn queues(&self) -> &WorkerQueues {
        &self.shared.workers[self.index]
    }

    fn counters(&self) -> &WorkerCounters {
        self.shared.counters.worker(self.index)
    }

    /// Steps 1 to 4: the injector on its tick, the LIFO slot (capped), the local queue, the
    /// injector.
    fn next_task(&mut self) -> Option<Task> {
        if self.tick.is_multiple_of(INJECTOR_INTERVAL)
            && let Some(task) = self.pop_injector()
        {
            self.lifo_streak = 0;
            return Some(task);
        }
        let from_lifo = self.queues().lifo().take();
        if let Some(task) = from_lifo {
            if self.lifo_streak < LIFO_CAP {
                self.lifo_streak += 1;
                metrics::add_own(&self.counters().lifo_polls, 1);
                return Some(task);
            }
            // Capped: to the back of the local queue, so the front gets its turn.
            self.shared.push_local(self.index, task);
        }
        self.lifo_streak = 0;
        let local = self.queues().local().pop_front();
        local.or_else(|| self.pop_injector())
    }

    fn pop_injector(&self) -> Option<Task> {
        let task = self.shared.lock_injector().tasks.pop_front();
        if task.is_some() {
            metrics::add(&self.counters().injector_pops, 1);
        }
        task
    }

    /// Step 5: half (rounded up) of the first non-empty local queue among the others, from
    /// its front, starting at a random victim; the first stolen task is returned, the rest
    /// go to the back of this worker's local queue. One lock at a time.
    fn steal(&mut self) -> Option<Task> {
        let workers = self.shared.workers.len();
        if !self.shared.stealing || workers < 2 {
            return None;
        }
        self.start_searching();
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        let start = self.rng as usize % workers;
        for offset in 0..workers {
            let victim = (start + offset) % workers;
            if victim == self.index {
                continue;
            }
            let mut batch = {
                let mut queue = self.shared.workers[victim].local();
                let take = queue.len().div_ceil(2);
                queue.drain(..take).collect::<VecDeque<Task>>()
            };
            let Some(first) = batch.pop_front() else {
                continue;
            };
            metrics::add(&self.counters().steals, batch.len() as u64 + 1);
            if !batch.is_empty() {
                self.queues().local().extend(batch);
            }
            return Some(first);
        }
        None
    }

    fn start_searching(&mut self) {
        if !self.searching {
            self.searching = true;
            let _sleepers = self.shared.idle.sleepers();
            self.shared.idle.searching.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Found work: no longer searching; the last searcher to stop wakes one more worker, in
    /// case there is more work than this one task.
    fn stop_searching(&mut self) {
        if self.searching {
            self.searching = false;
            let last = {
                let _sleepers = self.shared.idle.sleepers();
                self.shared.idle.searching.fetch_sub(1, Ordering::SeqCst) == 1
            };
            if last {
                self.shared.notify_parked();
            }
        }
    }

    /// Step 6: announce, re-check, sleep.
    fn park(&mut self) {
        let idle = &self.shared.idle;
        {
            let mut sleepers = idle.sleepers();
            if self.searching {
                self.searching = false;
                idle.searching.fetch_sub(1, Ordering::SeqCst);
            }
            sleepers.push(self.index);
            idle.sleeping.fetch_add(1, Ordering::SeqCst);
        }
        if self.shared.any_work(self.index) {
            // Work arrived meanwhile: take myself off the list and search.
            let mut sleepers = idle.sleepers();
            if let Some(at) = sleepers.iter().position(|&index| index == self.index) {
                sleepers.swap_remove(at);
                idle.sleeping.fetch_sub(1, Ordering::SeqCst);
                idle.searching.fetch_add(1, Ordering::SeqCst);
            } else {
                // A notifier took me off the list, counted me as searching and gave me my
                // wake-up (all under this lock): consume it, or it would end a later park.
                *self.queues().notified() = false;
            }
            self.searching = true;
            return;
        }
        let queues = &self.shared.workers[self.index];
        let mut notified = queues.notified();
        if !*notified && !self.shared.is_shutdown() {
            self.shared.counters.parked(self.index);
            while !*notified && !self.shared.is_shutdown() {
                notified = queues
                    .wakeup
                    .wait(notified)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            self.shared.counters.woke();
        }
        if *notified {
            // Chosen by a notifier, who counted me as searching.
            *notified = false;
            self.searching = true;
        }
    }
}
