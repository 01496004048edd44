//! Which reactor is "current" on this thread: how a free `sleep()` finds its reactor.
//!
//! ```text
//!   thread-local CURRENT: RefCell<Option<Arc<Reactor>>>
//!
//!   reactor.enter() ──► CURRENT = Some(reactor)   (the previous value kept in the guard)
//!      │  sleep(d) ───► CURRENT.borrow().clone()  (a clone: the borrow ends on that line)
//!      └─ guard drop ─► CURRENT = previous        (on return AND on unwind)
//! ```
//!
//! This file is given: nothing to write here. `Runtime::block_on` enters its reactor for you;
//! tests that drive a reactor by hand call [`Reactor::enter`] themselves.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::reactor::Reactor;

thread_local! {
    static CURRENT: RefCell<Option<Arc<Reactor>>> = const { RefCell::new(None) };
}

/// Makes a reactor current on this thread until dropped; then the previous one (or none) is
/// current again. Not `Send`: it restores *this* thread's context.
#[must_use = "the reactor is current only until the guard is dropped"]
pub struct EnterGuard {
    /// What was current before; put back on drop.
    previous: Option<Arc<Reactor>>,
    /// `!Send`: the guard must be dropped on the thread whose context it changed.
    _not_send: PhantomData<*const ()>,
}

impl Reactor {
    /// Makes this reactor the current one on this thread (what [`sleep`](crate::sleep),
    /// [`timeout`](crate::timeout) and [`interval`](crate::interval) use) until the guard
    /// is dropped.
    pub fn enter(self: &Arc<Self>) -> EnterGuard {
        let previous = CURRENT.with(|current| current.replace(Some(Arc::clone(self))));
        EnterGuard {
            previous,
            _not_send: PhantomData,
        }
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// The current reactor: the one whose runtime's `block_on` this thread is in, or whose
/// [`EnterGuard`] it holds.
///
/// # Panics
/// Outside any, with a message saying it "must be called from the context of a runtime".
pub fn current() -> Arc<Reactor> {
    try_current().expect(
        "a timer must be called from the context of a runtime (inside Runtime::block_on, or \
         with a Reactor::enter guard alive)",
    )
}

/// The current reactor, or `None` outside any.
pub fn try_current() -> Option<Arc<Reactor>> {
    CURRENT.with(|current| current.borrow().clone())
}
