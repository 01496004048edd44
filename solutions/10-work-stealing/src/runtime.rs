//! [`Runtime`], [`Handle`], [`Builder`] and the scheduling entry point every wake goes through.
//!
//! ```text
//!   spawn / wake on worker i of this runtime          spawn / wake anywhere else
//!   ────────────────────────────────────────          ──────────────────────────
//!   LIFO slot of worker i  (its old task, if any,      injector (global, FIFO)
//!     goes to the back of worker i's local queue)        then notify a sleeping worker
//!   local queue full? half of it + the task go            (only if nobody is searching)
//!     to the injector
//!   a task landed in a queue? notify a sleeping
//!     worker (only if nobody is searching)
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use crate::context;
use crate::join::JoinHandle;
use crate::metrics::{self, Counters, Metrics};
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Arc, Mutex, MutexGuard, PoisonError, thread};
use crate::task::{Task, new_task};
use crate::worker::{self, Idle, WorkerQueues};

/// How many tasks a worker's local queue holds. A push onto a full local queue moves the
/// older half of it (`LOCAL_QUEUE_CAPACITY / 2` tasks, from the front) and the pushed task to
/// the injector, so a local queue never holds more than this.
pub const LOCAL_QUEUE_CAPACITY: usize = 256;

/// A worker takes a task from the injector before its own queues on every tick that is a
/// multiple of this (a tick is one turn of the worker's loop: one task taken and polled), so
/// the injector's front task is polled after at most this many polls by any one worker
/// that keeps finding work of its own.
pub const INJECTOR_INTERVAL: u32 = 61;

/// At most this many polls in a row take their task from the LIFO slot. On the next turn, the
/// slot's task goes to the back of the local queue and the worker takes the front one.
pub const LIFO_CAP: u32 = 3;

/// Configures and builds a [`Runtime`].
///
/// Defaults: 2 worker threads, the LIFO slot on, stealing on.
#[derive(Debug, Clone)]
pub struct Builder {
    workers: usize,
    lifo_slot: bool,
    stealing: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: 2 worker threads, LIFO slot on, stealing on.
    pub fn new() -> Builder {
        Builder {
            workers: 2,
            lifo_slot: true,
            stealing: true,
        }
    }

    /// The number of worker threads.
    ///
    /// # Panics
    ///
    /// If `workers` is 0 ("a runtime needs at least one worker thread").
    pub fn worker_threads(mut self, workers: usize) -> Builder {
        assert!(workers > 0, "a runtime needs at least one worker thread");
        self.workers = workers;
        self
    }

    /// With `false`, a spawn or wake on a worker goes to the back of its local queue instead
    /// of the LIFO slot, and `Metrics::lifo_polls` stays 0.
    pub fn lifo_slot(mut self, on: bool) -> Builder {
        self.lifo_slot = on;
        self
    }

    /// With `false`, workers never take tasks from each other's local queues (only from their
    /// own queues and the injector), and `Metrics::steals` stays 0. For the benchmark.
    pub fn stealing(mut self, on: bool) -> Builder {
        self.stealing = on;
        self
    }

    /// Starts the worker threads (through `crate::sync::thread::spawn`) and returns the
    /// runtime. Each worker makes the runtime current on its thread for its whole life.
    pub fn build(self) -> Runtime {
        let shared = Arc::new(Shared {
            workers: (0..self.workers).map(|_| WorkerQueues::new()).collect(),
            injector: Mutex::new(Injector {
                tasks: VecDeque::new(),
                closed: false,
            }),
            idle: Idle::new(),
            shutdown: AtomicBool::new(false),
            lifo_slot: self.lifo_slot,
            stealing: self.stealing,
            counters: Counters::new(self.workers),
        });
        let threads = (0..self.workers)
            .map(|index| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || worker::run(shared, index))
            })
            .collect();
        Runtime {
            handle: Handle { shared },
            threads,
        }
    }
}

/// A multi-threaded, work-stealing runtime: `N` worker threads, each with a bounded local
/// queue and a LIFO slot, sharing one injector.
///
/// Dropping it shuts it down:
///
/// 1. from then on no task is polled again: a worker finishes the poll it is in (if any),
///    then stops and its thread exits; the drop returns only once every worker thread has
///    exited;
/// 2. every task still queued (in the injector, a local queue or a LIFO slot) is cancelled:
///    its future is dropped exactly once, without being polled, and its handle gives
///    `Err(JoinError::Cancelled)`;
/// 3. a task woken after that (from another thread) is cancelled the same way, at once, on
///    the waking thread; a task that waits for a wake that never comes is dropped when the
///    last of its wakers and its handle is.
pub struct Runtime {
    handle: Handle,
    /// The worker threads, joined on drop.
    threads: Vec<thread::JoinHandle<()>>,
}

/// A cheap, cloneable reference to a runtime: spawn on it from any thread, read its metrics.
/// Keeping a `Handle` does not keep the runtime running: once the `Runtime` is dropped, tasks
/// spawned through a `Handle` are cancelled at once.
#[derive(Clone)]
pub struct Handle {
    /// Keep this field as it is: `context.rs` (given) builds and reads handles through it.
    pub(crate) shared: Arc<Shared>,
}

/// What the workers and every handle share.
pub(crate) struct Shared {
    /// One entry per worker: its local queue, LIFO slot and parking spot.
    pub(crate) workers: Box<[WorkerQueues]>,
    /// The global queue: spawns and wakes from outside the workers, and overflow.
    pub(crate) injector: Mutex<Injector>,
    /// Who is asleep and how many are searching: the parking protocol (`worker.rs`).
    pub(crate) idle: Idle,
    /// Set once when the `Runtime` is dropped; never cleared.
    pub(crate) shutdown: AtomicBool,
    /// Whether spawns and wakes on a worker use its LIFO slot (`Builder::lifo_slot`).
    pub(crate) lifo_slot: bool,
    /// Whether idle workers steal (`Builder::stealing`).
    pub(crate) stealing: bool,
    pub(crate) counters: Counters,
}

/// The injector's queue and whether it still takes tasks.
pub(crate) struct Injector {
    pub(crate) tasks: VecDeque<Task>,
    /// Set (under this lock) by shutdown before it drains `tasks`: a push that finds it set
    /// cancels its task instead, so no task is left behind in a queue nobody reads.
    pub(crate) closed: bool,
}

impl Runtime {
    /// A runtime with [`Builder::new`]'s defaults (2 workers).
    pub fn new() -> Runtime {
        Builder::new().build()
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Spawns `future` as a task (see [`Handle::spawn`]).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `future` to completion on the calling thread (which is not a worker) and returns
    /// its output; the workers run the tasks meanwhile. The runtime is current on this thread
    /// while it runs, so a free [`crate::spawn`] inside `future` spawns onto it (through the
    /// injector: this thread is not a worker). Waiting does not spin: the thread sleeps until
    /// `future`'s waker is woken.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _context = context::enter(Arc::clone(&self.handle.shared), None);
        let waker = Arc::new(ThreadWaker {
            thread: thread::current(),
            woken: AtomicBool::new(true),
        });
        let as_waker = Waker::from(Arc::clone(&waker));
        let mut cx = Context::from_waker(&as_waker);
        let mut future = pin!(future);
        loop {
            if waker.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
                }
            } else {
                thread::park();
            }
        }
    }

    /// The runtime's counters (see [`Metrics`]).
    pub fn metrics(&self) -> Metrics {
        self.handle.metrics()
    }
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let shared = &self.handle.shared;
        shared.shutdown.store(true, Ordering::SeqCst);
        for queues in shared.workers.iter() {
            queues.wake_for_shutdown();
        }
        for thread in self.threads.drain(..) {
            // A worker never unwinds (task panics are caught), so `Err` cannot happen; if
            // it did, the remaining tasks are still cancelled below.
            let _ = thread.join();
        }
        // The workers are gone: nobody but this thread touches the local queues and LIFO
        // slots now, and the closed injector refuses late pushes.
        let mut left: Vec<Task> = {
            let mut injector = shared.lock_injector();
            injector.closed = true;
            injector.tasks.drain(..).collect()
        };
        for queues in shared.workers.iter() {
            left.extend(queues.drain());
        }
        for task in left {
            task.cancel();
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.handle.shared.workers.len())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// The handle of the runtime current on this thread (a worker, or a thread inside
    /// `block_on`).
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message saying it "must be called from the context of a
    /// runtime".
    pub fn current() -> Handle {
        Handle::try_current().expect(
            "Handle::current() must be called from the context of a runtime (a task, or \
             inside block_on)",
        )
    }

    /// The current runtime's handle, or `None` outside any runtime.
    pub fn try_current() -> Option<Handle> {
        context::current()
    }

    /// Spawns `future` as a task and returns its handle. From a worker thread of this runtime
    /// the task goes to that worker's LIFO slot (or the back of its local queue without the
    /// LIFO slot); from any other thread, to the injector, and a sleeping worker is woken if
    /// no worker is searching. After the runtime was dropped, the task is cancelled at once.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        JoinHandle::new(new_task(future, Arc::clone(&self.shared)))
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> Metrics {
        self.shared.counters.snapshot()
    }

    /// True once the `Runtime`'s drop has begun (and for good).
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutdown.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.workers.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Puts a task that was just scheduled (spawned, woken or aborted) where a worker will
    /// find it; called by `task.rs` for every task that became SCHEDULED. The routes:
    ///
    /// * on worker `i` of this runtime, with the LIFO slot on: into `i`'s LIFO slot; the task
    ///   that was there (if any) goes to the back of `i`'s local queue;
    /// * on worker `i`, LIFO slot off: to the back of `i`'s local queue;
    /// * a push onto a full local queue first moves the front half of it to the injector,
    ///   then the task too (see [`LOCAL_QUEUE_CAPACITY`]);
    /// * anywhere else (another thread, `block_on`, another runtime's worker): to the back of
    ///   the injector;
    /// * once a task went into a queue (local or injector, not the LIFO slot alone), a
    ///   sleeping worker is woken, but only if no worker is searching for work right now;
    /// * after shutdown began and the injector closed: the task is cancelled at once.
    pub(crate) fn schedule(self: &Arc<Self>, task: Task) {
        match context::worker_index(self) {
            Some(index) => self.schedule_local(index, task),
            None => self.push_injector(std::iter::once(task)),
        }
    }

    fn schedule_local(self: &Arc<Self>, index: usize, task: Task) {
        let queues = &self.workers[index];
        let to_queue = if self.lifo_slot {
            match queues.lifo().replace(task) {
                Some(previous) => previous,
                None => return, // the worker polls it next: nobody else needs to wake
            }
        } else {
            task
        };
        self.push_local(index, to_queue);
    }

    /// Pushes a task to the back of worker `index`'s local queue (moving half of a full one
    /// and the task to the injector instead), then wakes a sleeping worker if nobody is
    /// searching.
    pub(crate) fn push_local(self: &Arc<Self>, index: usize, to_queue: Task) {
        let overflow = {
            let mut local = self.workers[index].local();
            if local.len() < LOCAL_QUEUE_CAPACITY {
                local.push_back(to_queue);
                None
            } else {
                let mut moved: Vec<Task> = local.drain(..LOCAL_QUEUE_CAPACITY / 2).collect();
                moved.push(to_queue);
                Some(moved)
            }
        };
        match overflow {
            None => self.notify_parked(),
            Some(moved) => {
                metrics::add(&self.counters.overflows, moved.len() as u64);
                self.push_injector(moved);
            }
        }
    }

    /// Pushes tasks onto the injector (one lock) and wakes a worker if nobody is searching;
    /// after shutdown closed it, cancels them instead.
    fn push_injector(self: &Arc<Self>, tasks: impl IntoIterator<Item = Task>) {
        let refused: Vec<Task> = {
            let mut injector = self.lock_injector();
            if injector.closed {
                tasks.into_iter().collect()
            } else {
                injector.tasks.extend(tasks);
                Vec::new()
            }
        };
        if refused.is_empty() {
            self.notify_parked();
        }
        for task in refused {
            task.cancel();
        }
    }

    pub(crate) fn lock_injector(&self) -> MutexGuard<'_, Injector> {
        self.injector.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// `block_on`'s waker: marks the main future woken and unparks the waiting thread.
struct ThreadWaker {
    thread: thread::Thread,
    /// Set by a wake, cleared by `block_on` before it polls: poll only when woken.
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Spawns `future` onto the current runtime (see [`Handle::spawn`]).
///
/// # Panics
///
/// Outside a runtime, with a message saying it "must be called from the context of a runtime".
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match Handle::try_current() {
        Some(handle) => handle.spawn(future),
        None => panic!(
            "spawn() must be called from the context of a runtime (a task, or inside block_on)"
        ),
    }
}
