//! The thread-local context: which runtime is current on this thread, and whether this thread
//! is one of its workers (and which). Given whole (Stage 7 taught it).
//!
//! ```text
//!   worker thread i of runtime R:   enter(R, Some(i))  for its whole life
//!   a thread inside R.block_on(..): enter(R, None)     while block_on runs
//!   anywhere else:                  nothing: spawn() panics, Handle::try_current() is None
//! ```
//!
//! The context is a stack (a `block_on` inside a worker's task pushes a level, its guard pops
//! it). Each entry is keyed by `sync::thread::model_thread_key()`: in a race test every model
//! thread runs on the test's one OS thread and shares its thread-locals, so each looks up only
//! its own entries. Only an `Arc` clone is ever taken out: no borrow is held while user code
//! runs.

use std::cell::RefCell;

use crate::runtime::{Handle, Shared};
use crate::sync::Arc;
use crate::sync::thread::model_thread_key;

thread_local! {
    static CONTEXT: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

struct Entry {
    /// The model thread this entry belongs to (`None` outside race tests).
    key: Option<usize>,
    shared: Arc<Shared>,
    /// `Some(i)` on worker thread `i` of this runtime.
    worker: Option<usize>,
}

/// Makes `shared` the current runtime of this thread until the guard is dropped (`worker`:
/// this thread is that runtime's worker `worker`).
pub(crate) fn enter(shared: Arc<Shared>, worker: Option<usize>) -> EnterGuard {
    let key = model_thread_key();
    CONTEXT.with(|context| {
        context.borrow_mut().push(Entry {
            key,
            shared,
            worker,
        })
    });
    EnterGuard { key }
}

/// Undoes [`enter`] when dropped (also while a panic unwinds).
#[derive(Debug)]
pub(crate) struct EnterGuard {
    key: Option<usize>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let removed = CONTEXT.with(|context| {
            let mut context = context.borrow_mut();
            let last = context.iter().rposition(|entry| entry.key == self.key);
            last.map(|at| context.remove(at))
        });
        drop(removed); // outside the borrow: dropping an `Arc<Shared>` may drop tasks
    }
}

/// The current runtime's handle, if any.
pub(crate) fn current() -> Option<Handle> {
    let key = model_thread_key();
    CONTEXT.with(|context| {
        let context = context.borrow();
        let entry = context.iter().rev().find(|entry| entry.key == key)?;
        Some(Handle {
            shared: Arc::clone(&entry.shared),
        })
    })
}

/// `Some(i)` if the calling thread is worker `i` of `shared`'s runtime (and no `block_on` runs
/// on it meanwhile), `None` on any other thread.
pub(crate) fn worker_index(shared: &Arc<Shared>) -> Option<usize> {
    let key = model_thread_key();
    CONTEXT.with(|context| {
        let context = context.borrow();
        let entry = context.iter().rev().find(|entry| entry.key == key)?;
        if Arc::ptr_eq(&entry.shared, shared) {
            entry.worker
        } else {
            None
        }
    })
}
