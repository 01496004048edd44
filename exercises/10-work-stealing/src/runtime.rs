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

use std::fmt;
use std::future::Future;

use crate::join::JoinHandle;
use crate::metrics::Metrics;
use crate::sync::Arc;
use crate::task::Task;

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
        todo!("check and store the worker count")
    }

    /// With `false`, a spawn or wake on a worker goes to the back of its local queue instead
    /// of the LIFO slot, and `Metrics::lifo_polls` stays 0.
    pub fn lifo_slot(mut self, on: bool) -> Builder {
        todo!("store it")
    }

    /// With `false`, workers never take tasks from each other's local queues (only from their
    /// own queues and the injector), and `Metrics::steals` stays 0. For the benchmark.
    pub fn stealing(mut self, on: bool) -> Builder {
        todo!("store it")
    }

    /// Starts the worker threads (through `crate::sync::thread::spawn`) and returns the
    /// runtime. Each worker makes the runtime current on its thread for its whole life.
    pub fn build(self) -> Runtime {
        todo!("build the shared state, start the workers (crate::worker::run on each)")
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
    // Your fields: a `Handle`, the worker threads' join handles...
    _todo: (),
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
    // Your fields: the workers' local queues and LIFO slots, the injector, the idle/parking
    // state, the shutdown flag, the Builder's switches, and a `crate::metrics::Counters`.
}

impl Runtime {
    /// A runtime with [`Builder::new`]'s defaults (2 workers).
    pub fn new() -> Runtime {
        todo!("Builder::new().build()")
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> Handle {
        todo!("a clone of your handle")
    }

    /// Spawns `future` as a task (see [`Handle::spawn`]).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        todo!("Handle::spawn")
    }

    /// Runs `future` to completion on the calling thread (which is not a worker) and returns
    /// its output; the workers run the tasks meanwhile. The runtime is current on this thread
    /// while it runs, so a free [`crate::spawn`] inside `future` spawns onto it (through the
    /// injector: this thread is not a worker). Waiting does not spin: the thread sleeps until
    /// `future`'s waker is woken.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        todo!("enter the context (crate::context::enter), poll when woken, park otherwise")
    }

    /// The runtime's counters (see [`Metrics`]).
    pub fn metrics(&self) -> Metrics {
        todo!("Handle::metrics")
    }
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        todo!("shut down: see the doc of `Runtime`")
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
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
        todo!("Handle::try_current, or panic with the message above")
    }

    /// The current runtime's handle, or `None` outside any runtime.
    pub fn try_current() -> Option<Handle> {
        todo!("crate::context::current")
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
        todo!("JoinHandle::new(crate::task::new_task(future, ...)): new_task schedules it")
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> Metrics {
        todo!("Counters::snapshot")
    }

    /// True once the `Runtime`'s drop has begun (and for good).
    pub fn is_shutting_down(&self) -> bool {
        todo!("read the shutdown flag")
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
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
        todo!("crate::context::worker_index(self) says which route")
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
    todo!("Handle::try_current(), or panic with the message above")
}
