//! The synchronisation types of this crate: import them from here, never from `std::sync`.
//!
//! ```ignore
//! use crate::sync::{Arc, Condvar, Mutex};
//! use crate::sync::atomic::{AtomicBool, Ordering};
//! ```
//!
//! In normal use they *are* `std`'s (same methods, same behaviour). In the race tests
//! (`harness::model::check`) the same types become a model checker's, which tries every order
//! in which your threads' locks, waits, wakes and atomic accesses can interleave, so a lost
//! wakeup between a task finishing and its `JoinHandle` being awaited is found every time
//! instead of once in a thousand runs. Code that uses `std::sync` directly is invisible to it,
//! and those tests fail with a message saying so.
//!
//! `Arc` stays `std`'s (wakers need it: `impl Wake for Task` takes `self: Arc<Self>`).

pub use harness::sync::{Condvar, Mutex, MutexGuard, WaitTimeoutResult, atomic, thread};
pub use std::sync::{Arc, LockResult, PoisonError};
