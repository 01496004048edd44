//! Stage 1 — manual poll: the reference solution.
//!
//! Four small pieces, each in its own module:
//!
//! * [`Countdown`]: a leaf future that is a pure state machine.
//! * [`Deadline`]: a leaf future that watches the outside world (a clock) without blocking.
//! * [`brew`]: an `async fn` with two `.await`s, desugared by hand into an enum.
//! * [`block_on`]: the simplest possible driver, which polls in a loop.

mod block_on;
mod brew;
mod countdown;
mod deadline;

pub use block_on::block_on;
pub use brew::{Brew, brew};
pub use countdown::Countdown;
pub use deadline::Deadline;
