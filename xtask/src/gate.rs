//! What a submission's own code may not do, checked before any of its tests run.
//!
//! A test process reports its result on stdout and through its exit status, and the
//! learner's code runs inside that process, so it could forge a pass: print libtest's "ok"
//! lines itself and end the process with status 0 before the real result is printed. The
//! runner's strict pass rule (exit 0 *and* the ok line *and* the exact summary) stops a
//! careless forgery, not an informed one. So code that can end the process or write past
//! libtest's output capture is refused outright:
//!
//! * clippy's `disallowed_methods`, with a configuration written by the grader (never the
//!   submission's), flags `std::process::exit` and direct `std::io::stdout`/`stderr` handles;
//! * a scan of the submitted sources flags the escape hatches clippy cannot see through:
//!   foreign functions (`extern "C"`, which could declare `_exit`) and inline assembly.
//!
//! `println!` stays allowed: libtest captures it. Nothing in the course's stages needs what is
//! refused here.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde::Deserialize;

use crate::cargo;
use crate::runner;
use crate::scratch::Sources;

const CLIPPY_TOML: &str = r#"# Written by `cargo xtask grade`; see xtask/src/gate.rs.
disallowed-methods = [
    { path = "std::process::exit", reason = "a submission may not end the test process" },
    { path = "std::io::stdout", reason = "write with println!, which the test harness captures" },
    { path = "std::io::stderr", reason = "write with eprintln!, which the test harness captures" },
]
"#;

/// Source fragments that open a way around the checks above.
const FORBIDDEN_TOKENS: &[(&str, &str)] = &[
    ("extern \"", "foreign functions (`extern \"...\"`)"),
    ("asm!", "inline assembly"),
    ("no_mangle", "exported symbols (`no_mangle`)"),
    ("export_name", "exported symbols (`export_name`)"),
    ("#[link", "linker attributes"),
];

/// Violations found, by package name: `"src/lib.rs:3: calls std::process::exit ..."`.
pub type Violations = BTreeMap<String, Vec<String>>;

/// Scans the sources of one stage for forbidden tokens.
pub fn scan(package: &str, sources: &Sources, violations: &mut Violations) {
    for (path, bytes) in sources {
        let text = String::from_utf8_lossy(bytes);
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (token, what) in FORBIDDEN_TOKENS {
                if code.contains(token) {
                    violations
                        .entry(package.to_owned())
                        .or_default()
                        .push(format!("{}:{}: uses {what}", path.display(), number + 1));
                }
            }
        }
    }
}

/// Runs clippy's `disallowed_methods` over the libraries of `packages` in the grading
/// workspace. Compile errors are ignored here: the build reports them.
pub fn clippy(
    workspace: &Path,
    target_dir: &Path,
    config_dir: &Path,
    packages: &[&str],
    extra: &[&str],
    violations: &mut Violations,
) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(config_dir)?;
    fs::write(config_dir.join("clippy.toml"), CLIPPY_TOML)?;
    let mut cmd = cargo::cargo();
    cmd.current_dir(workspace)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CLIPPY_CONF_DIR", config_dir)
        .args([
            "clippy",
            "--locked",
            "--keep-going",
            "--message-format=json",
            "--lib",
        ])
        .args(extra);
    for package in packages {
        cmd.args(["-p", package]);
    }
    cmd.args([
        "--",
        "-A",
        "clippy::all",
        "-D",
        "clippy::disallowed_methods",
    ]);
    let out = runner::run(cmd, Duration::from_secs(30 * 60))?;
    for line in out.stdout.lines() {
        let Ok(message) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        let (Some(diagnostic), Some(package)) = (message.message, message.package_id) else {
            continue;
        };
        if diagnostic
            .code
            .as_ref()
            .is_none_or(|c| c.code != "clippy::disallowed_methods")
        {
            continue;
        }
        let Some(package) = packages.iter().find(|p| package_id_names(&package, p)) else {
            continue;
        };
        let place = diagnostic
            .spans
            .iter()
            .find(|s| s.is_primary)
            .map(|s| format!("{}:{}", short(&s.file_name), s.line_start))
            .unwrap_or_default();
        violations
            .entry((*package).to_owned())
            .or_default()
            .push(format!("{place}: {}", diagnostic.message));
    }
    Ok(())
}

/// Whether a cargo package id (`path+file:///…/name#0.1.0` or `…#name@0.1.0`) is `name`'s.
fn package_id_names(id: &str, name: &str) -> bool {
    match id.rsplit_once('#') {
        Some((path, version)) => match version.split_once('@') {
            Some((package, _)) => package == name,
            None => path.rsplit('/').next() == Some(name),
        },
        None => false,
    }
}

/// `exercises/01-x/src/lib.rs` -> `src/lib.rs`.
fn short(file: &str) -> String {
    match file.find("/src/") {
        Some(at) => file[at + 1..].to_owned(),
        None => file.to_owned(),
    }
}

#[derive(Debug, Deserialize)]
struct Message {
    package_id: Option<String>,
    message: Option<CompilerMessage>,
}

#[derive(Debug, Deserialize)]
struct CompilerMessage {
    message: String,
    code: Option<Code>,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Debug, Deserialize)]
struct Code {
    code: String,
}

#[derive(Debug, Deserialize)]
struct Span {
    file_name: String,
    line_start: usize,
    is_primary: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_of_both_forms_are_understood() {
        assert!(package_id_names(
            "path+file:///w/exercises/01-adder#adder@0.1.0",
            "adder"
        ));
        assert!(package_id_names(
            "path+file:///w/exercises/adder#0.1.0",
            "adder"
        ));
        assert!(!package_id_names(
            "path+file:///w/x#adder-solution@0.1.0",
            "adder"
        ));
    }

    #[test]
    fn forbidden_tokens_are_found_outside_comments() {
        let mut sources = Sources::new();
        sources.insert(
            "src/lib.rs".into(),
            b"// extern \"C\" in a comment is fine\nunsafe extern \"C\" { fn _exit(c: i32); }\n"
                .to_vec(),
        );
        let mut violations = Violations::new();
        scan("adder", &sources, &mut violations);
        assert_eq!(
            violations["adder"],
            ["src/lib.rs:2: uses foreign functions (`extern \"...\"`)"]
        );
    }
}
