//! The gates run in order over one stage: the source gates (bounded: pre-scan, then a child
//! process) and the symbol gate (see `mod.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use super::source::{Findings, Policy};
use super::{isolated, limits, symbols};
use crate::files::Sources;

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
