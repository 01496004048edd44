//! Building and running versions of a stage: cargo, scratch copies, isolated test processes,
//! the sandbox and the grader's gate. Imports `course`, `files` and `outcome` (`Problem`),
//! never a command, a report or `ui` (see ARCHITECTURE.md, "xtask's layers").

pub mod batch;
pub mod bug_crate;
pub mod build_jail;
pub mod cargo;
pub mod dep_seed;
pub mod features;
pub mod gate;
pub mod interrupt;
pub mod prune;
pub mod runner;
pub mod sandbox;
pub mod scratch;
pub mod tools;
pub mod trybuild_cache;
pub mod verdict;
pub mod version;
pub mod versions;
