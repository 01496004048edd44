//! What a submission's own code may not do, checked before any of its tests run.
//!
//! A test process reports its result on stdout and through its exit status, and the
//! learner's code runs inside that process, so it could forge a pass: print libtest's "ok"
//! lines itself and end the process with status 0 before the real result is printed, replace
//! the process image, write to fd 1 through another handle, or run code before `main`. No
//! sandbox can stop what a process does to its own verdict. The gates below match names and
//! shapes of code: they raise the cost of a forgery and explain to an honest learner what is
//! not allowed, but they are not a boundary (safe Rust can corrupt memory through compiler
//! bugs such as rust-lang/rust#25860, and from there forge anything). Three parts:
//!
//! * `source`: the submitted files read as a syntax tree (every `cfg` branch, every macro's
//!   tokens, `use` renames resolved) — code that names a refused thing is *refused*;
//! * `forgery`: the shapes memory forgery needs in safe code (lifetime extension, addresses
//!   as integers, reading the process's own image) — the stage is graded, but its points are
//!   *withheld* and it is flagged for review with the evidence;
//! * `symbols`: the compiled library's undefined symbols, constructor sections and unmangled
//!   definitions.
//!
//! Robustness (see `limits`): every file is pre-scanned without recursion (nesting, size)
//! before `syn` sees it, and the parse runs in a child process with a time limit
//! (`isolated`); whatever goes wrong there (a panic, a stack overflow, the limit) refuses that
//! stage, with the reason, and never stops the grader. Messages are capped in number and length.
//!
//! `println!` stays allowed: libtest captures it. Nothing in the course's stages needs what is
//! refused here. The runner's strict pass rule (exit 0 *and* the ok line *and* the exact
//! summary) is another, weaker layer; the residual risk is written in ARCHITECTURE.md.

mod check;
mod forgery;
mod isolated;
pub mod limits;
mod names;
pub mod source;
pub mod symbols;

pub use check::{Violations, check_library, check_sources, scan};
pub use isolated::{CHILD, child_main};
pub use source::{Policy, UNREADABLE};
