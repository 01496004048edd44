//! Which runtime is "current" on this thread: a thread-local that holds a *handle*.
//!
//! ```text
//!   thread-local CURRENT: RefCell<Option<Handle>>      (Handle = Arc<Shared>: cheap to clone)
//!
//!   block_on ── enter ──► CURRENT = Some(this)  (the previous value saved in the guard)
//!      │   spawn()  ─────► CURRENT.borrow().clone() ── a clone, the borrow ends at once
//!      └── guard drop ───► CURRENT = previous    (on return AND on unwind)
//! ```
//!
//! The trap this avoids: a thread-local that holds the executor itself, borrowed (`borrow_mut`)
//! for as long as it runs. A task that calls `spawn()` then borrows it again and panics with
//! `BorrowMutError`. Here no borrow outlives the line that takes it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;

use crate::join::JoinHandle;
use crate::runtime::Handle;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// True while this thread is inside a `block_on`.
    static IN_BLOCK_ON: Cell<bool> = const { Cell::new(false) };
}

/// Makes a runtime current on this thread until dropped; then the previous one is current
/// again. From [`crate::Runtime::enter`] or [`Handle::enter`]. Not `Send`: it restores *this*
/// thread's context.
#[must_use = "the runtime is current only until the guard is dropped"]
pub struct EnterGuard {
    previous: Option<Handle>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let previous = CURRENT.with(|current| current.replace(Some(handle)));
    EnterGuard {
        previous,
        _not_send: PhantomData,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Marks this thread as inside `block_on` (refusing a nested one) and makes `handle` current;
/// both are undone when the guard drops, including during a panic.
pub(crate) struct BlockOnGuard {
    _enter: EnterGuard,
}

pub(crate) fn enter_block_on(handle: Handle) -> BlockOnGuard {
    if IN_BLOCK_ON.with(|inside| inside.replace(true)) {
        panic!(
            "cannot call `block_on` from within a runtime: this thread is already inside \
             `block_on` (a task or future it runs called `block_on` again), which would stall \
             the outer runtime. Use `.await` instead, or `spawn_blocking` for blocking work."
        );
    }
    BlockOnGuard {
        _enter: enter(handle),
    }
}

impl Drop for BlockOnGuard {
    fn drop(&mut self) {
        IN_BLOCK_ON.with(|inside| inside.set(false));
    }
}

pub(crate) fn try_current() -> Option<Handle> {
    CURRENT.with(|current| current.borrow().clone())
}

pub(crate) fn current(what: &str) -> Handle {
    try_current().unwrap_or_else(|| {
        panic!(
            "`{what}` must be called from the context of a runtime: inside `Runtime::block_on`, \
             a task it runs, a `spawn_blocking` job, or while a `Runtime::enter` guard is held"
        )
    })
}

/// Spawns a task on the current runtime (the one whose `block_on`, task or `enter` guard this
/// thread is in).
///
/// # Panics
/// Outside a runtime's context, with a message saying it "must be called from the context of
/// a runtime".
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    current("runtime::spawn").spawn(future)
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
    current("runtime::spawn_blocking").spawn_blocking(job)
}
