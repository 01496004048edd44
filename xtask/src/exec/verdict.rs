//! What a variant's run means: a bug must be caught by the tests it names, an alternative must
//! pass every test, and every file a patch changed must be rustfmt-clean. `verify` records
//! these verdicts in its table; `bug save` and `alt save` print the one for the variant they
//! wrote.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::course::Stage;
use crate::course::variant::{Kind, Variant};
use crate::exec::runner::TestResult;
use crate::exec::scratch::Scratch;
use crate::exec::versions::{self, Run, RunOptions};
use crate::files::Sources;
use crate::outcome::Problem;

/// One check's outcome, as verify prints and tabulates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The column of verify's table: `bugs` or `alts`.
    pub column: &'static str,
    pub ok: bool,
    /// The line: `subtracts: caught by adding::two_and_two_make_four (fail)`.
    pub what: String,
    /// Supporting text under the line (empty when there is none).
    pub detail: String,
}

impl Verdict {
    fn new(column: &'static str, ok: bool, what: String, detail: String) -> Verdict {
        Verdict {
            column,
            ok,
            what,
            detail,
        }
    }
}

/// Applies one variant to the reference, builds it in the exercise package, runs its tests
/// (a bug's named ones, an alternative's every one) and judges the outcome. Also returns
/// rustfmt's complaints about the patched files (empty when clean).
pub fn check_variant(
    scratch: &Scratch,
    stage: &Stage,
    solution: &Sources,
    variant: &Variant,
    options: &RunOptions,
) -> Result<(Verdict, String)> {
    let sources = match variant.apply(solution) {
        Ok(sources) => sources,
        Err(err) => return Ok((does_not_apply(variant, &err), String::new())),
    };
    let patched_fmt = rustfmt_patched(&stage.dir, variant, solution, &sources);
    let only = match variant.kind {
        Kind::Bug => Some(variant.caught_by.as_slice()),
        Kind::Alternative => None,
    };
    let run = versions::build_and_run(scratch, stage, &sources, only, options.repeat, options)?;
    Ok((judge(variant, run), patched_fmt))
}

/// The column a variant's checks belong to.
pub fn column(variant: &Variant) -> &'static str {
    match variant.kind {
        Kind::Bug => "bugs",
        Kind::Alternative => "alts",
    }
}

/// A patch that does not apply to the reference.
pub fn does_not_apply(variant: &Variant, err: &anyhow::Error) -> Verdict {
    Verdict::new(
        column(variant),
        false,
        format!("{}: does not apply", variant.name),
        format!("{err:#}"),
    )
}

/// A bug must be caught by its named tests; an alternative must pass every test; both must
/// compile.
pub fn judge(variant: &Variant, run: Result<Run, Problem>) -> Verdict {
    match (run, variant.kind) {
        (Ok(run), Kind::Bug) => judge_bug(variant, &run),
        (Ok(run), Kind::Alternative) => judge_alternative(variant, run.results),
        (Err(errors), _) => compile_error(variant, &errors),
    }
}

fn compile_error(variant: &Variant, errors: &str) -> Verdict {
    let why = match variant.kind {
        Kind::Bug => "a bug variant must compile, so that a test (not the compiler) catches it",
        Kind::Alternative => "an alternative must compile",
    };
    Verdict::new(
        column(variant),
        false,
        format!("{}: does not compile", variant.name),
        format!("{why}\n{errors}"),
    )
}

/// An alternative is accepted when every test ran and passed.
fn judge_alternative(variant: &Variant, results: Vec<TestResult>) -> Verdict {
    let total = results.len();
    let failing = results.iter().filter(|r| !r.status.passed()).count();
    if failing == 0 && total > 0 {
        let what = format!("{}: passes every test ({total})", variant.name);
        return Verdict::new("alts", true, what, String::new());
    }
    let run = Run {
        warnings: Vec::new(),
        failures: results
            .iter()
            .map(|r| usize::from(!r.status.passed()))
            .collect(),
        results,
        repeats: 1,
    };
    Verdict::new(
        "alts",
        false,
        format!(
            "{}: REJECTED, {failing} of {total} tests fail ({})",
            variant.name, variant.description
        ),
        versions::failures(&run, 1),
    )
}

/// The most a failure message may say (bytes), with any bug in place.
const MESSAGE_BUDGET: usize = 16 * 1024;

/// A bug is caught when every test it names ran and did not pass, in every run (`--repeat`),
/// and said so briefly. A test that catches it in some runs only is named with its count: its
/// catch depends on scheduling, and a machine with other cores or load will miss it.
fn judge_bug(variant: &Variant, run: &Run) -> Verdict {
    let results = &run.results;
    let missed: Vec<String> = variant
        .caught_by
        .iter()
        .filter_map(|id| {
            let Some(index) = results.iter().position(|r| &r.id == id) else {
                return Some(format!("{id} (did not run)"));
            };
            let failed = run.failures.get(index).copied().unwrap_or(0);
            if failed == 0 {
                Some(id.to_string())
            } else if failed < run.repeats {
                Some(format!(
                    "{id} (caught in {failed} of {} runs only: the catch depends on scheduling)",
                    run.repeats
                ))
            } else {
                None
            }
        })
        .collect();
    // A wrong implementation must never flood the learner's terminal: whatever a test's
    // failure says (a trace, a snapshot diff, a list of steps), it stays a screen or two long.
    // The runner keeps at most `runner::OUTPUT_CAP` of a test's output, so a message at that
    // size was cut, which plain `cargo test` would not do.
    let flooding: Vec<String> = results
        .iter()
        .filter(|r| !r.status.passed() && r.message.len() > MESSAGE_BUDGET)
        .map(|r| format!("{} ({} KiB)", r.id, r.message.len() / 1024))
        .collect();
    if !flooding.is_empty() {
        return Verdict::new(
            "bugs",
            false,
            format!(
                "{}: a failure message is longer than {} KiB",
                variant.name,
                MESSAGE_BUDGET / 1024
            ),
            format!(
                "with this bug in place, these tests print more than a learner can read; cap \
                 every list, trace and snapshot in their messages (harness::bounded):\n{}",
                flooding.join("\n")
            ),
        );
    }
    if missed.is_empty() {
        let how: Vec<String> = results
            .iter()
            .map(|r| format!("{} ({})", r.id, r.status.label()))
            .collect();
        let what = format!("{}: caught by {}", variant.name, how.join(", "));
        return Verdict::new("bugs", true, what, String::new());
    }
    Verdict::new(
        "bugs",
        false,
        format!("{}: NOT caught ({})", variant.name, variant.description),
        format!(
            "these tests pass with the bug in place:\n{}",
            missed.join("\n")
        ),
    )
}

/// rustfmt's complaints about the files a patch changed or created, formatted as the whole
/// patched file (the reference around the edit is formatted, so only the edit can differ).
pub fn rustfmt_patched(
    dir: &str,
    variant: &Variant,
    reference: &Sources,
    patched: &Sources,
) -> String {
    let mut out = String::new();
    for (path, content) in patched {
        if reference.get(path) == Some(content) {
            continue;
        }
        match rustfmt_check(content) {
            Ok(None) => {}
            Ok(Some(diff)) => {
                let _ = writeln!(
                    out,
                    "solutions/{dir}/{} (changes {}):\n{}",
                    variant.label(),
                    path.display(),
                    diff.trim_end()
                );
            }
            Err(err) => {
                let _ = writeln!(out, "{}: cannot run rustfmt: {err:#}", variant.label());
            }
        }
    }
    out
}

/// `rustfmt --check` on `content` given on stdin: `None` if it is formatted, else the diff.
fn rustfmt_check(content: &[u8]) -> Result<Option<String>> {
    let mut child = Command::new("rustfmt")
        .args(["--check", "--edition", "2024", "--color", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start rustfmt")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let content = content.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&content));
    let output = child.wait_with_output()?;
    let _ = writer.join();
    if output.status.success() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )))
}
