//! Run one future on the current thread, sleeping while it waits.

use std::future::Future;

/// Runs `future` to completion on the current thread and returns its output.
///
/// Between polls the thread sleeps until the future's waker is woken; it must not spin.
/// A wake that arrives while the future is being polled (or before the thread goes to sleep)
/// must not be lost, so the waker sets a flag that this function checks before sleeping: set
/// and checked under the same lock (from `crate::sync`), or an atomic flag with `park`.
///
/// The future is polled again only after its waker was woken: never after a timeout, and never
/// because a wait returned while the flag was still clear. Each call has a flag of its own: a
/// `block_on` nested inside the future must not clear (or set) the outer call's.
pub fn block_on<F: Future>(future: F) -> F::Output {
    // Optional: `harness::trace::parked()` before sleeping and `unparked()` after, as in
    // `Executor::run`, so that `cargo xtask trace` shows when the thread slept.
    todo!("a waker that sets a flag and wakes this thread; poll, sleep until the flag is set")
}
