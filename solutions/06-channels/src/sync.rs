//! The synchronisation types of this crate: import them from here, never from `std::sync`.
//!
//! ```ignore
//! use crate::sync::{Arc, Mutex, PoisonError};
//! ```
//!
//! In normal use they *are* `std`'s (same methods, same behaviour). In the race tests
//! (`harness::model::check`) the same types become a model checker's, which tries every order
//! in which two threads' locks, unlocks and atomic accesses can interleave, so a lost wakeup is
//! found every time instead of once in a thousand runs. Code that uses `std::sync` directly is
//! invisible to it, and those tests fail with a message saying so.
//!
//! `Arc` stays `std`'s: a reference count needs no model.

pub use harness::sync::{Condvar, Mutex, MutexGuard, atomic};
pub use std::sync::{Arc, PoisonError};
