//! The runtime: a ready queue run by `block_on`, and handles that spawn onto it from anywhere.

use std::future::Future;
use std::time::Duration;

use crate::context::EnterGuard;
use crate::join::JoinHandle;

/// A single-threaded runtime with a blocking pool.
///
/// - Tasks run on the thread that is inside [`Runtime::block_on`], only while it is.
/// - `block_on` returns as soon as its own future is ready (tasks still pending stay queued).
/// - While nothing is ready, `block_on` sleeps until a task is woken or spawned (from any
///   thread) or its own future is woken.
#[derive(Debug)]
pub struct Runtime {
    // TODO: a Handle (or what it points at).
}

/// A cheap, clonable, `Send + Sync` reference to a runtime: spawn onto it from any thread.
#[derive(Debug, Clone)]
pub struct Handle {
    // TODO: an Arc of the runtime's shared state.
}

/// Configures a [`Runtime`]. (Given.)
#[derive(Debug, Clone)]
pub struct Builder {
    max_blocking_threads: usize,
    keep_alive: Duration,
}

impl Builder {
    /// At most `max` threads run blocking jobs at a time; more jobs wait in a queue, in order.
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn max_blocking_threads(&mut self, max: usize) -> &mut Builder {
        assert!(max > 0, "a blocking pool needs at least one thread");
        self.max_blocking_threads = max;
        self
    }

    /// How long an idle blocking thread waits for a new job before it exits, counted from the
    /// moment it becomes idle (each time it does, however long its jobs ran).
    /// `Duration::ZERO`: it exits as soon as it finds no job.
    pub fn blocking_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.keep_alive = keep_alive;
        self
    }

    pub fn build(&self) -> Runtime {
        todo!("the shared state: ready queue, condition variable, blocking pool")
    }
}

impl Runtime {
    /// A runtime with the default settings (64 blocking threads, 10 s keep-alive).
    pub fn new() -> Runtime {
        Runtime::builder().build()
    }

    /// (Given.)
    pub fn builder() -> Builder {
        Builder {
            max_blocking_threads: 64,
            keep_alive: Duration::from_secs(10),
        }
    }

    pub fn handle(&self) -> Handle {
        todo!()
    }

    /// See [`Handle::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        todo!()
    }

    /// See [`Handle::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, job: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        todo!()
    }

    /// Makes this runtime current on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        todo!()
    }

    /// Runs `future` to completion on this thread, running spawned tasks meanwhile; sleeps
    /// while there is nothing to do. The runtime is current on this thread while it runs, and
    /// the previous context is restored when it returns *or unwinds* (a guard).
    ///
    /// # Panics
    /// If this thread is already inside a `block_on` (of any runtime), with a message saying it
    /// cannot be called "from within a runtime"; the refusal leaves the outer `block_on` as it
    /// was (a second nested call is refused too). A panic of `future` itself propagates.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        todo!("enter the context; poll the future when woken, run queued tasks, sleep when idle")
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Handle {
    /// The runtime current on this thread.
    ///
    /// # Panics
    /// Outside a runtime's context ("must be called from the context of a runtime").
    pub fn current() -> Handle {
        todo!()
    }

    /// The runtime current on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        todo!()
    }

    /// Makes this runtime current on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        todo!("save the previous context in the guard")
    }

    /// Spawns a task; it runs inside this runtime's `block_on`. From any thread; a
    /// `block_on` asleep on another thread wakes up to run it.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        todo!("wrap the future in a task, queue it, return its JoinHandle")
    }

    /// Runs `job` on the blocking pool, where it may block without stalling any task. This
    /// runtime (the one whose pool runs the job, whatever is current on the calling thread) is
    /// current inside the job (it may `spawn`). A panic of `job` becomes
    /// `JoinError::Panic`; the pool thread survives it.
    pub fn spawn_blocking<F, R>(&self, job: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        todo!("queue the job; wake an idle pool thread or start one (up to the limit)")
    }

    /// Threads of the blocking pool alive now (running a job or idle).
    pub fn blocking_threads(&self) -> usize {
        todo!()
    }

    /// Threads of the blocking pool waiting for a job now.
    pub fn idle_blocking_threads(&self) -> usize {
        todo!()
    }
}
