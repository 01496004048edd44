//! The runtime: a ready queue run by `block_on`, and handles that spawn onto it from anywhere.
//!
//! ```text
//!   Runtime ──owns──► Handle ──Arc──► Shared { queue + condvar, blocking pool }
//!                       ▲  (clones: thread-local context, other threads, tasks)
//!   block_on(main):
//!     loop { main woken? poll it (Ready: return)
//!            run every queued task once
//!            nothing to do? sleep on the condvar until a push or main's waker }
//! ```
//!
//! Like tokio's current-thread runtime, tasks run only while some thread is inside `block_on`;
//! `spawn` from any thread queues the task and wakes a sleeping `block_on`.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::pin;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use crate::blocking::Pool;
use crate::context::{self, EnterGuard};
use crate::join::JoinHandle;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use crate::task::{Runnable, Task};

/// Default limit on blocking threads (tokio's is 512; a course machine is smaller).
const DEFAULT_MAX_BLOCKING_THREADS: usize = 64;
/// Default time an idle blocking thread waits for a new job before it exits (as tokio's).
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A single-threaded runtime with a blocking pool. See the crate docs.
pub struct Runtime {
    handle: Handle,
}

/// A cheap, clonable, `Send` reference to a runtime: spawn onto it from any thread.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// Configures a [`Runtime`].
#[derive(Debug, Clone)]
pub struct Builder {
    max_blocking_threads: usize,
    keep_alive: Duration,
}

pub(crate) struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a task is pushed or a `block_on`'s future is woken.
    pushed: Condvar,
    pub(crate) pool: Arc<Pool>,
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<Arc<dyn Runnable>>,
    /// How many `block_on`s sleep on `pushed`.
    sleeping: usize,
    /// The runtime was dropped: tasks pushed now are dropped (and so cancelled).
    closed: bool,
}

impl Builder {
    /// At most `max` threads run blocking jobs at a time; more jobs wait in a queue.
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn max_blocking_threads(&mut self, max: usize) -> &mut Builder {
        assert!(max > 0, "a blocking pool needs at least one thread");
        self.max_blocking_threads = max;
        self
    }

    /// How long an idle blocking thread waits for a new job before it exits.
    pub fn blocking_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.keep_alive = keep_alive;
        self
    }

    pub fn build(&self) -> Runtime {
        Runtime {
            handle: Handle {
                shared: Arc::new(Shared {
                    queue: Mutex::new(Queue::default()),
                    pushed: Condvar::new(),
                    pool: Pool::new(self.max_blocking_threads, self.keep_alive),
                }),
            },
        }
    }
}

impl Runtime {
    /// A runtime with the default settings.
    pub fn new() -> Runtime {
        Runtime::builder().build()
    }

    pub fn builder() -> Builder {
        Builder {
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
        }
    }

    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// See [`Handle::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// See [`Handle::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, job: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(job)
    }

    /// Makes this runtime current on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// Runs `future` to completion on this thread, running spawned tasks meanwhile; sleeps
    /// while there is nothing to do. The runtime is current on this thread while it runs, and
    /// the previous context is restored when it returns or unwinds.
    ///
    /// # Panics
    /// If this thread is already inside a `block_on` (of any runtime); with a message saying
    /// it cannot be called "from within a runtime". A panic of `future` itself propagates.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _context = context::enter_block_on(self.handle.clone());
        let shared = &*self.handle.shared;
        let mut future = pin!(future);
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            shared: Arc::clone(&self.handle.shared),
        });
        let waker = Waker::from(Arc::clone(&main));
        let mut cx = Context::from_waker(&waker);
        let mut batch = VecDeque::new();
        loop {
            if main.woken.swap(false, Ordering::AcqRel)
                && let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx)
            {
                return output;
            }
            {
                let mut queue = shared.lock();
                while queue.ready.is_empty() && !main.woken.load(Ordering::Acquire) {
                    queue.sleeping += 1;
                    queue = shared
                        .pushed
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                    queue.sleeping -= 1;
                }
                mem::swap(&mut queue.ready, &mut batch);
            }
            for task in batch.drain(..) {
                task.run();
            }
        }
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let shared = &self.handle.shared;
        // Tasks hold the shared state and the queue holds tasks: break the cycle. Dropped
        // after unlocking (a future's destructor may wake, and so push, another task).
        let queued = {
            let mut queue = shared.lock();
            queue.closed = true;
            mem::take(&mut queue.ready)
        };
        drop(queued);
        shared.pool.shutdown();
    }
}

impl Handle {
    /// The runtime current on this thread.
    ///
    /// # Panics
    /// Outside a runtime's context ("must be called from the context of a runtime").
    pub fn current() -> Handle {
        context::current("Handle::current")
    }

    /// The runtime current on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        context::try_current()
    }

    /// Makes this runtime current on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        context::enter(self.clone())
    }

    /// Spawns a task; it runs inside this runtime's `block_on`. From any thread.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = Task::new(future, Arc::clone(&self.shared));
        let handle = JoinHandle::new(task.clone());
        task.schedule();
        handle
    }

    /// Runs `job` on the blocking pool, where it may block without stalling any task.
    pub fn spawn_blocking<F, R>(&self, job: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::blocking::spawn_blocking(self, job)
    }

    pub(crate) fn pool(&self) -> &Arc<Pool> {
        &self.shared.pool
    }

    /// Threads of the blocking pool alive now (running a job or idle).
    pub fn blocking_threads(&self) -> usize {
        self.shared.pool.threads()
    }

    /// Threads of the blocking pool waiting for a job now.
    pub fn idle_blocking_threads(&self) -> usize {
        self.shared.pool.idle_threads()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(&self, task: Arc<dyn Runnable>) {
        let mut queue = self.lock();
        if queue.closed {
            drop(queue);
            drop(task);
            return;
        }
        queue.ready.push_back(task);
        if queue.sleeping > 0 {
            self.pushed.notify_all();
        }
    }
}

/// The waker of the future given to `block_on`.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        // Taken so that the flag cannot be set between block_on's check and its sleep.
        let queue = self.shared.lock();
        if queue.sleeping > 0 {
            self.shared.pushed.notify_all();
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}
