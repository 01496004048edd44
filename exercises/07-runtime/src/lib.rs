//! Stage 7 — a runtime you can spawn on from anywhere. Read `README.md` in this directory first.
//!
//! The public API is fixed (the tests use it); everything behind it is yours to design:
//!
//! * `join.rs`: [`JoinHandle`] and [`JoinError`]: await a task's output, detach, abort, panics.
//! * `task.rs`: a spawned task (its future, its result, its place on the ready queue).
//! * `runtime.rs`: [`Runtime`], [`Handle`], [`Builder`]: `block_on` and `spawn`.
//! * `context.rs`: the thread-local "current runtime": free [`spawn`], [`Handle::current`].
//! * `blocking.rs`: the blocking pool behind [`spawn_blocking`].
//!
//! `cargo test -p runtime` runs the parts in order and stops at the first that fails.
//! Take every `Mutex`, `Condvar` and atomic from [`sync`] (`use crate::sync::...`), not from
//! `std::sync`: they are `std`'s, and the race tests can swap in a model checker's.

// The stubs name their parameters so you can see what each function receives; until you use
// them the compiler would warn. Delete this line when you have finished the stage.
#![allow(unused_variables)]

mod blocking;
mod context;
mod join;
mod runtime;
pub mod sync;
mod task;

pub use context::{EnterGuard, spawn, spawn_blocking};
pub use join::{JoinError, JoinHandle};
pub use runtime::{Builder, Handle, Runtime};
