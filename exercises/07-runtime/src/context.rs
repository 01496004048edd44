//! Which runtime is "current" on this thread: a thread-local that holds a *handle*, never a
//! borrow of the runtime (see the README, "The thread-local trap").

use std::future::Future;
use std::marker::PhantomData;

use crate::join::JoinHandle;

/// Makes a runtime current on this thread until dropped; then the previous one (or none) is
/// current again. From [`crate::Runtime::enter`] or [`crate::Handle::enter`]. Not `Send`: it
/// restores *this* thread's context.
#[must_use = "the runtime is current only until the guard is dropped"]
pub struct EnterGuard {
    // TODO: what must be put back when the guard drops.
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// Spawns a task on the current runtime: the one whose `block_on` (or task) this thread is
/// running, or whose `enter` guard it holds.
///
/// # Panics
/// Outside a runtime's context, with a message that says it "must be called from the context
/// of a runtime" (tokio's words), never by dropping the task silently.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    todo!("find the current runtime in the thread-local; spawn on it")
}

/// Runs a blocking closure on the current runtime's blocking pool.
///
/// # Panics
/// Outside a runtime's context, as [`spawn`].
pub fn spawn_blocking<F, R>(job: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    todo!("find the current runtime; hand the job to its blocking pool")
}
