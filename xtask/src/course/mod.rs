//! The course as declared on disk: its stages, in order, and how to find its files (known-bug variants: `variant.rs`).
//!
//! A stage is declared once, by `exercises/NN-name/exercise.toml`. Everything else xtask knows
//! about a stage is derived from that file and from the directory it sits in; no other code
//! names a stage.

mod declaration;
pub mod freshness;
pub mod integrity;
pub mod points;
pub mod pristine;
pub mod progress;
pub mod standing;
pub mod testscan;
pub mod variant;

#[cfg(test)]
pub use declaration::stage_for_test;
pub use declaration::{Course, OnlyIn, Stage, TestId, parse_duration, support_crates};
