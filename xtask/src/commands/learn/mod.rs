//! The learner's commands: where do I stand, what next, run my tests, a hint, start over,
//! show me the answer (`learner.rs`), and the same loop re-run on every save (`watch.rs`).

mod learner;
mod watch;

pub use learner::{cargo_test_note, hint, list, next, readme, reset, run, solution, status};
pub use watch::watch;
