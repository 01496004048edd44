//! `cargo xtask classroom export`: a standalone starter repository for students.
//!
//! The export holds the stubs, their tests and hints, the harness and xtask (so students can
//! run `cargo xtask grade`), a student README, a GitHub Classroom workflow, a Gradescope bundle
//! and `course.sha256` (the checksums `grade` compares protected files with). It never holds
//! solutions, bug variants or anything that depends on them (the benchmark crate).
//!
//! The export is checked before the command reports success: its lockfile is pruned to its
//! own members (registry versions unchanged), it builds with `--locked`, and grading it scores
//! zero, as stubs must.

mod committed;
mod export;

pub use export::{Command, run};
