//! Stage 1 — manual poll. Read `README.md` in this directory first.
//!
//! Four small pieces, each in its own file. Do them in order; `cargo test -p manual-poll`
//! shows what is left, and `cargo test -p manual-poll --test part1_countdown` runs one part.
//!
//! 1. `countdown.rs`: [`Countdown`], a future that is a pure state machine.
//! 2. `deadline.rs`: [`Deadline`], a future that watches a clock without blocking.
//! 3. `brew.rs`: [`brew`], an `async fn` with two `.await`s, desugared by hand.
//! 4. `block_on.rs`: [`block_on`], the simplest driver: poll in a loop.

// The stubs name their parameters so you can see what each function receives; until you use
// them the compiler would warn. Delete this line when you have finished the stage.
#![allow(unused_variables)]

mod block_on;
mod brew;
mod countdown;
mod deadline;

pub use block_on::block_on;
pub use brew::{Brew, brew};
pub use countdown::Countdown;
pub use deadline::Deadline;
