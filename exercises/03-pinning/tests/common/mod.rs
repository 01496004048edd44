//! Code shared by more than one test file of this stage.
//!
//! A directory under `tests/` is not a test target of its own: a test file that needs this
//! says `mod common;`, which finds `tests/common/mod.rs` next to it.

pub mod join_contract;
