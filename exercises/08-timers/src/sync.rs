//! The synchronisation types of this crate: import them from here, never from `std::sync`.
//!
//! ```ignore
//! use crate::sync::{Arc, Mutex};
//! use crate::sync::atomic::{AtomicBool, Ordering};
//! ```
//!
//! In normal use they *are* `std`'s (same methods, same behaviour). In the race tests
//! (`harness::model::check`) the same types become a model checker's, which tries every order
//! in which your threads' locks and atomic accesses can interleave, so a timer inserted while
//! the reactor is about to wait, and never noticed, is found every time instead of once in a
//! thousand runs. Code that uses `std::sync` directly is invisible to it, and those tests fail
//! with a message saying so.
//!
//! `Arc` stays `std`'s (wakers need it: `impl Wake for Task` takes `self: Arc<Self>`).

pub use harness::sync::{Condvar, Mutex, MutexGuard, atomic};
pub use std::sync::{Arc, LockResult, PoisonError};
