//! Stage 2 — waker & ready queue. Read `README.md` in this directory first.
//!
//! Three pieces, each in its own file, in this order (`cargo test -p waker-queue` runs the
//! parts in order and stops at the first that fails):
//!
//! 1. `timer.rs`: [`Timer`], a future completed from another thread by its [`Trigger`].
//! 2. `block_on.rs`: [`block_on`], which sleeps between polls until the future's waker is woken.
//! 3. `executor.rs`: [`Executor`], tasks in `Arc`s whose wakers put them back on a ready queue.
//!
//! Part 4's tests run your `Timer` under tokio and smol: nothing new to write.
//!
//! Take every `Mutex`, `Condvar`, atomic and `park` from [`sync`] (`use crate::sync::...`),
//! not from `std::sync`: they are `std`'s, and the race tests can swap in a model checker's
//! (README, "`crate::sync`").

// The stubs name their parameters so you can see what each function receives; until you use
// them the compiler would warn. Delete this line when you have finished the stage.
#![allow(unused_variables)]

mod block_on;
mod executor;
pub mod sync;
mod timer;

pub use block_on::block_on;
pub use executor::{Executor, Spawner};
pub use timer::{Timer, Trigger};
