//! Stage 2 — waker & ready queue: the reference solution.
//!
//! * [`Timer`]: a leaf future completed from another thread, which keeps the latest waker.
//! * [`block_on`]: runs one future, sleeping while it waits instead of spinning.
//! * [`Executor`]: many tasks, a ready queue, and wakers that put their task back on it.

mod block_on;
mod executor;
pub mod sync;
mod timer;

pub use block_on::block_on;
pub use executor::{Executor, Spawner};
pub use timer::{Timer, Trigger};
