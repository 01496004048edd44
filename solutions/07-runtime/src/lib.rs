//! Stage 7 — a runtime you can spawn on from anywhere. Read `README.md` in this directory first.
//!
//! * `join.rs`: [`JoinHandle`] and [`JoinError`]: await a task's output, detach, abort, panics.
//! * `task.rs`: a spawned task (its future, its result, its place on the ready queue).
//! * `runtime.rs`: [`Runtime`], [`Handle`], [`Builder`]: `block_on` and `spawn`.
//! * `context.rs`: the thread-local "current runtime": free [`spawn`], [`Handle::current`].
//! * `blocking.rs`: the blocking pool behind [`spawn_blocking`].
//!
//! Take every `Mutex`, `Condvar` and atomic from [`sync`] (`use crate::sync::...`).

mod blocking;
mod context;
mod join;
mod runtime;
pub mod sync;
mod task;

pub use context::{EnterGuard, spawn, spawn_blocking};
pub use join::{JoinError, JoinHandle};
pub use runtime::{Builder, Handle, Runtime};
