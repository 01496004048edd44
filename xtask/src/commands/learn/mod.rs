//! The learner's commands: where do I stand, what next, run my tests, a hint, start over,
//! show me the answer (`learner.rs`), and the same loop re-run on every save (`watch.rs`);
//! what each is told (`args.rs`).

mod args;
mod learner;
mod watch;

pub use args::{HintArgs, ResetArgs, RunArgs, SolutionArgs, StageArg, WatchArgs};
pub use learner::{cargo_test_note, hint, list, next, readme, reset, run, solution, status};
pub use watch::watch;
