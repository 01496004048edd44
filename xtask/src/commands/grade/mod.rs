//! `cargo xtask grade`: score a learner's work, test by test.
//!
//! ```text
//! submission ──(only exercises/*/src/**/*.rs)──► scratch copy of the pristine course
//!     │                                              │ cargo build --tests --keep-going (JSON)
//!     └─► integrity: protected files compared        ▼
//!                                           per stage: compile error, or test binaries
//!                                                    │ each test in its own process,
//!                                                    ▼ with the stage's timeout, under a budget
//!                                           Grade (one model) ──► human, json, junit,
//!                                                                 gradescope, classroom, exercism
//! ```
//!
//! Invariants: nothing from the submission but `src/**/*.rs` is ever built or run; the grading
//! workspace has its own target directory (see `scratch.rs`); reports are rewritten after every
//! test, so a report exists whenever the process stops; grading never fails because of what
//! the submission contains (a stage that does not compile is graded as such, the others still
//! are).

mod args;
mod class;
mod flow;
mod slots;
mod stages;

pub use args::Args;
pub use class::TEST_ABORT;
pub use flow::run;
