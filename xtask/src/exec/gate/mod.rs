//! What a submission's own code may not do, checked before any of its tests run.
//!
//! A test process reports its result on stdout and through its exit status, and the
//! learner's code runs inside that process, so it could forge a pass: print libtest's "ok"
//! lines itself and end the process with status 0 before the real result is printed, replace
//! the process image, write to fd 1 through another handle, or run code before `main`. No
//! sandbox can stop what a process does to its own verdict, so such code is refused before it
//! runs, by two gates:
//!
//! * `source`: the submitted files read as a syntax tree (every `cfg` branch, every macro's
//!   tokens, `use` aliases flattened);
//! * `symbols`: the compiled library's undefined symbols, constructor sections and unmangled
//!   definitions.
//!
//! `println!` stays allowed: libtest captures it. Nothing in the course's stages needs what is
//! refused here. The runner's strict pass rule (exit 0 *and* the ok line *and* the exact
//! summary) is a third, weaker layer; the residual risk is written in ARCHITECTURE.md.

pub mod source;
pub mod symbols;

use std::collections::BTreeMap;
use std::path::Path;

use crate::files::Sources;

pub use source::Policy;

/// Violations found, by package name: `"src/lib.rs:3: uses std::process ..."`.
pub type Violations = BTreeMap<String, Vec<String>>;

/// The source gate over one stage's files.
pub fn scan(package: &str, sources: &Sources, policy: &Policy, violations: &mut Violations) {
    let found = source::check(sources, policy);
    if !found.is_empty() {
        violations
            .entry(package.to_owned())
            .or_default()
            .extend(found);
    }
}

/// The symbol gate over one stage's compiled library.
pub fn check_library(package: &str, rlib: &Path, violations: &mut Violations) {
    let found = symbols::check_rlib(rlib);
    if !found.is_empty() {
        violations
            .entry(package.to_owned())
            .or_default()
            .extend(found);
    }
}
