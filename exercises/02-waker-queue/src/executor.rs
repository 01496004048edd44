//! An executor: tasks, a ready queue, and wakers that put their task back on the queue.

use std::future::Future;

/// Runs spawned tasks on the thread that calls [`Executor::run`].
///
/// - A task is polled again only after its waker is woken (a wake during its own poll counts);
///   `run` waking up for one task is no reason to poll the others.
/// - However many times a task is woken before it runs again (by `wake` or `wake_by_ref`, from
///   one thread or several at once, during its own poll or after it), it is polled once.
/// - A finished task is never polled again, even if a stale waker wakes it.
/// - `run` returns once every spawned task has finished; while tasks wait, it sleeps.
/// - A finished task's future is dropped as soon as its poll returns Ready.
/// - Dropping the executor drops every task it still holds, after releasing its locks (a
///   future's destructor may spawn or wake); a task pushed afterwards, by a spawn or a wake,
///   is dropped, not queued.
/// - Its locks, condition variable and atomics come from `crate::sync`.
#[derive(Debug)]
pub struct Executor {
    // TODO: what the executor shares with its spawners and tasks (the ready queue...).
}

/// Spawns tasks onto an [`Executor`] from anywhere: inside a task, or from another thread.
#[derive(Debug, Clone)]
pub struct Spawner {
    // TODO: a handle on the executor's shared state.
}

impl Executor {
    pub fn new() -> Executor {
        todo!("an empty ready queue, no tasks yet")
    }

    /// A handle for spawning onto this executor from inside tasks or other threads.
    pub fn spawner(&self) -> Spawner {
        todo!("a clonable handle on the shared state")
    }

    /// Spawns a task. It first runs when [`Executor::run`] is called.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        todo!("box and pin the future, wrap it in an Arc'd task, push it on the ready queue")
    }

    /// Runs tasks until every spawned task (including those spawned meanwhile) has finished.
    /// When no task is ready, the thread sleeps until a waker pushes one.
    pub fn run(&self) {
        // Optional: call `harness::trace::parked()` just before the thread goes to sleep and
        // `harness::trace::unparked()` when it wakes, and `cargo xtask trace` will show when
        // your executor slept (see the README, "Seeing what your executor did").
        todo!("pop a task, poll it with a waker that re-queues it; sleep when the queue is empty")
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new()
    }
}

impl Spawner {
    /// Spawns a task onto the executor this spawner came from.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        todo!("the same as Executor::spawn")
    }
}
