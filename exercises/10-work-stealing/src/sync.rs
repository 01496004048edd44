//! The synchronisation types of this crate: import them from here, never from `std::sync`.
//!
//! ```ignore
//! use crate::sync::{Arc, Condvar, Mutex};
//! use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
//! use crate::sync::thread;
//! ```
//!
//! In normal use they *are* `std`'s (same methods, same behaviour). In the race tests
//! (`harness::model::check`) the same types become a model checker's, which tries every order
//! in which your threads' locks, waits, wakes and atomic accesses can interleave, so a worker
//! that parks just after a push it did not see is found every time instead of once in a
//! million runs. Code that uses `std::sync` directly is invisible to it, and those tests fail
//! with a message saying so.
//!
//! Start the worker threads with [`thread::spawn`] (not `std::thread::spawn`): in a race test
//! it starts a model thread, so the workers' steps are interleaved too.
//!
//! `Arc` stays `std`'s (wakers need it: `impl Wake for Task` takes `self: Arc<Self>`).

pub use harness::sync::{Condvar, Mutex, MutexGuard, WaitTimeoutResult, atomic, thread};
pub use std::sync::{Arc, LockResult, PoisonError};
