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

mod forgery;
mod isolated;
pub mod limits;
mod names;
pub mod source;
pub mod symbols;

use std::collections::BTreeMap;
use std::path::Path;

use crate::files::Sources;

pub use isolated::{CHILD, child_main};
pub use source::{Findings, Policy};

/// Violations found, by package name: `"src/lib.rs:3: uses std::process ..."`.
pub type Violations = BTreeMap<String, Vec<String>>;

/// The source gate over one stage's files: violations go into `violations` (the stage is
/// refused); returns the evidence of memory forgery (the stage's points are withheld).
pub fn scan(
    package: &str,
    sources: &Sources,
    policy: &Policy,
    violations: &mut Violations,
) -> Vec<String> {
    let found = check_sources(sources, policy);
    if !found.refused.is_empty() {
        violations
            .entry(package.to_owned())
            .or_default()
            .extend(found.refused);
    }
    found.review
}

/// Both source gates over one stage's files, bounded (see the module's documentation): never
/// panics, never parses on the caller's threads, returns within `isolated::TIME_LIMIT`.
pub fn check_sources(sources: &Sources, policy: &Policy) -> Findings {
    if let Some(why) = too_big(sources) {
        return Findings::refused(why);
    }
    let found = isolated::check(sources, policy);
    Findings {
        refused: limits::cap(found.refused),
        review: limits::cap(found.review),
    }
}

/// Why the stage's files are too big or too deep to parse at all, if they are.
fn too_big(sources: &Sources) -> Option<String> {
    let bytes: usize = sources.values().map(Vec::len).sum();
    if bytes > limits::MAX_BYTES {
        return Some(format!(
            "the stage's files hold {bytes} bytes; the grader reads at most {}",
            limits::MAX_BYTES
        ));
    }
    let mut tokens = 0;
    for (path, bytes) in sources {
        // Not UTF-8: `source::check` says so.
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        match limits::prescan(text) {
            Ok(count) => tokens += count,
            Err(why) => return Some(format!("{}:{why}", path.display())),
        }
    }
    (tokens > limits::MAX_TOKENS).then(|| {
        format!(
            "the stage's files hold about {tokens} tokens; the grader reads at most {}",
            limits::MAX_TOKENS
        )
    })
}

/// The symbol gate over one stage's compiled library.
pub fn check_library(package: &str, rlib: &Path, violations: &mut Violations) {
    let found = symbols::check_rlib(rlib);
    if !found.is_empty() {
        violations
            .entry(package.to_owned())
            .or_default()
            .extend(limits::cap(found));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> Sources {
        let mut sources = Sources::new();
        sources.insert("src/deep.rs".into(), text.as_bytes().to_vec());
        sources
    }

    #[test]
    fn a_file_nested_too_deep_refuses_the_stage_without_parsing() {
        let deep = format!(
            "pub const X: u8 = {}0{};",
            "(".repeat(400_000),
            ")".repeat(400_000)
        );
        let found = check_sources(&sources(&deep), &Policy::default());
        assert_eq!(found.refused.len(), 1, "{found:?}");
        assert!(found.refused[0].starts_with("src/deep.rs:1: brackets nested more than 256"));
    }

    #[test]
    fn the_deepest_allowed_file_parses_on_the_gate_thread() {
        let deep = format!("pub const X: u8 = {}0{};", "(".repeat(250), ")".repeat(250));
        let found = check_sources(&sources(&deep), &Policy::default());
        assert!(found.refused.is_empty(), "{found:?}");
    }

    #[test]
    fn a_huge_number_of_findings_is_capped() {
        let text = "pub fn f() { std::process::exit(0) }\n".repeat(5_000);
        let found = check_sources(&sources(&text), &Policy::default());
        assert_eq!(found.refused.len(), limits::MAX_FINDINGS + 1);
        assert!(found.refused.last().unwrap().ends_with("more"));
    }
}
