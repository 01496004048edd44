//! An executor: tasks, a ready queue, and wakers that put their task back on the queue.
//!
//! ```text
//!   spawn(f) ──► Task ──push──► ready queue ──pop──► run(): poll the task
//!                  ▲                                        │
//!                  └──── waker.wake(): push it again ◄──────┘ Pending (waker stored somewhere)
//! ```
//!
//! Invariants:
//! * A task is in the queue at most once: `scheduled` is set by whoever pushes it and cleared
//!   by `run` just *before* polling, so a burst of wakes costs one poll, and a wake that
//!   arrives during the poll queues the task again (it is never lost).
//! * A finished task's future is dropped at once and its slot set to `None`; a late wake may
//!   still queue the task, and `run` then skips it.
//! * Queued tasks point back at the queue (tasks hold `Arc<Shared>`, the queue holds tasks),
//!   so dropping the `Executor` closes the queue and drops what is in it; anything pushed
//!   after that is dropped at once. Nothing leaks through the cycle.

use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Wake, Waker};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs spawned tasks on the thread that calls [`Executor::run`].
pub struct Executor {
    shared: Arc<Shared>,
}

/// Spawns tasks onto an [`Executor`] from anywhere: inside a task, or from another thread.
#[derive(Clone)]
pub struct Spawner {
    shared: Arc<Shared>,
}

/// What the executor, its spawners and all its tasks share.
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a task is pushed while `run` is asleep.
    pushed: Condvar,
    /// Tasks spawned and not yet finished. `run` returns when this reaches zero.
    unfinished: AtomicUsize,
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<Arc<Task>>,
    /// `run` is waiting on `pushed`: the next push must signal it.
    sleeping: bool,
    /// The executor was dropped: nothing will run again, so pushed tasks are dropped.
    closed: bool,
}

/// One spawned future, and the way back onto the queue.
struct Task {
    /// `None` once the future has completed.
    future: Mutex<Option<BoxFuture>>,
    /// True while the task is in the ready queue (see the module invariants).
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

impl Executor {
    pub fn new() -> Executor {
        Executor {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                pushed: Condvar::new(),
                unfinished: AtomicUsize::new(0),
            }),
        }
    }

    /// A handle for spawning onto this executor from inside tasks or other threads.
    pub fn spawner(&self) -> Spawner {
        Spawner {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Spawns a task. It first runs when [`Executor::run`] is called.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.shared.spawn(Box::pin(future));
    }

    /// Runs tasks until every spawned task (including those spawned meanwhile) has finished.
    /// When no task is ready, the thread sleeps until a waker pushes one.
    pub fn run(&self) {
        let shared = &*self.shared;
        // Tasks are taken from the shared queue a batch at a time: one lock per batch, not per
        // task. `batch` keeps its allocation from one round to the next.
        let mut batch = VecDeque::new();
        loop {
            {
                let mut queue = shared.lock();
                while queue.ready.is_empty() {
                    if shared.unfinished.load(Ordering::Acquire) == 0 {
                        return;
                    }
                    queue.sleeping = true;
                    // Trace hooks (`cargo xtask trace`): free unless a trace is recorded.
                    harness::trace::parked();
                    queue = shared
                        .pushed
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                    harness::trace::unparked();
                }
                mem::swap(&mut queue.ready, &mut batch);
            }
            for task in batch.drain(..) {
                task.run();
            }
        }
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Break the task -> queue -> task cycle: close the queue and drop what is in it. Taken
        // out first so that the futures are dropped after the lock is released (a future's
        // destructor may wake, and so push, another task).
        let queued = {
            let mut queue = self.shared.lock();
            queue.closed = true;
            mem::take(&mut queue.ready)
        };
        drop(queued);
    }
}

impl Spawner {
    /// Spawns a task onto the executor this spawner came from.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.shared.spawn(Box::pin(future));
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Only pushes and swaps happen under this lock; none can be left half done.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spawn(self: &Arc<Self>, future: BoxFuture) {
        self.unfinished.fetch_add(1, Ordering::AcqRel);
        let task = Arc::new(Task {
            future: Mutex::new(Some(future)),
            scheduled: AtomicBool::new(true),
            shared: Arc::clone(self),
        });
        self.push(task);
    }

    fn push(&self, task: Arc<Task>) {
        let mut queue = self.lock();
        if queue.closed {
            // Dropped after the lock is released, for the same reason as in `Drop`.
            drop(queue);
            drop(task);
            return;
        }
        queue.ready.push_back(task);
        if queue.sleeping {
            queue.sleeping = false;
            self.pushed.notify_one();
        }
    }
}

impl Task {
    /// Polls the task once, if it has not finished.
    fn run(self: Arc<Self>) {
        // Clear before polling: a wake from now on must queue the task again.
        self.scheduled.store(false, Ordering::Release);
        let mut slot = self.future.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(future) = slot.as_mut() else {
            return; // finished already; this was a late wake
        };
        let waker = Waker::from(Arc::clone(&self));
        let mut cx = Context::from_waker(&waker);
        if future.as_mut().poll(&mut cx).is_ready() {
            *slot = None;
            self.shared.unfinished.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            let shared = Arc::clone(&self.shared);
            shared.push(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            self.shared.push(Arc::clone(self));
        }
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field(
                "unfinished",
                &self.shared.unfinished.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner").finish_non_exhaustive()
    }
}
