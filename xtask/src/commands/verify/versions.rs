//! The `stub`, `solution`, `bugs` and `alts` columns: each version of a stage built and its
//! tests run, the bugs and alternatives in one cargo run where they can be.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Result;

use super::Options;
use super::lint;
use super::shipped::rust_files;
use super::table::{Progress, StageReport};
use crate::course::variant::{Kind, Variant};
use crate::course::{Stage, TestId};
use crate::exec::batch::{self, Version};
use crate::exec::cargo;
use crate::exec::runner::{self, TestEnv, TestResult};
use crate::exec::scratch::Scratch;
use crate::files::Sources;

pub(super) fn check_stub(
    scratch: &Scratch,
    stage: &Stage,
    stub: &Sources,
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let run = match build_and_run(scratch, stage, stub, None, 1, options)? {
        Ok(run) => run,
        Err(errors) => {
            report.record("stub", false, "does not compile", &errors, progress);
            return Ok(());
        }
    };
    let passing: Vec<&TestResult> = run.results.iter().filter(|r| r.status.passed()).collect();
    let total = run.results.len();
    let mut problems = Vec::new();
    if !run.warnings.is_empty() {
        problems.push(format!(
            "compiles with warnings (learners would see them from the first minute):\n{}",
            run.warnings.join("\n")
        ));
    }
    if total == 0 {
        problems.push("has no tests".to_owned());
    } else if !passing.is_empty() {
        let names: Vec<String> = passing.iter().map(|r| r.id.to_string()).collect();
        problems.push(format!(
            "{} of {total} tests pass on the stub: a test that passes without the learner's \
             work checks nothing\n{}",
            passing.len(),
            names.join("\n")
        ));
    }
    if problems.is_empty() {
        report.record(
            "stub",
            true,
            &format!("every test fails on the stub ({total} of {total})"),
            "",
            progress,
        );
    } else {
        report.record(
            "stub",
            false,
            "the stub is not a fair starting point",
            &problems.join("\n"),
            progress,
        );
    }
    Ok(())
}

/// Returns the solution's test ids, if it built.
pub(super) fn check_solution(
    scratch: &Scratch,
    stage: &Stage,
    solution: &Sources,
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<Option<Vec<TestId>>> {
    let run = match build_and_run(scratch, stage, solution, None, options.repeat, options)? {
        Ok(run) => run,
        Err(errors) => {
            report.record("solution", false, "does not compile", &errors, progress);
            return Ok(None);
        }
    };
    let failing: Vec<&TestResult> = run.results.iter().filter(|r| !r.status.passed()).collect();
    let total = run.results.len();
    let slowest = run
        .results
        .iter()
        .map(|r| r.elapsed)
        .max()
        .unwrap_or_default();
    let runs = if options.repeat > 1 {
        format!(", {} runs each", options.repeat)
    } else {
        String::new()
    };
    if failing.is_empty() && total > 0 {
        report.record(
            "solution",
            true,
            &format!("every test passes ({total} of {total}{runs}, slowest {slowest:.2?})"),
            "",
            progress,
        );
    } else {
        report.record(
            "solution",
            false,
            &format!("{} of {total} tests do not pass", failing.len()),
            &failures(&run, options.repeat),
            progress,
        );
    }
    Ok(Some(run.results.into_iter().map(|r| r.id).collect()))
}

/// Each failed test with its status and message.
pub(super) fn failures(run: &Run, repeat: usize) -> String {
    let mut detail = String::new();
    for (result, failed) in run.results.iter().zip(&run.failures) {
        if result.status.passed() {
            continue;
        }
        let flaky = if *failed < repeat {
            format!(", FLAKY: failed {failed} of {repeat} runs")
        } else {
            String::new()
        };
        let _ = writeln!(detail, "{} ({}{flaky})", result.id, result.status.label());
        for line in result.message.lines() {
            let _ = writeln!(detail, "    {line}");
        }
    }
    detail.trim_end().to_owned()
}

/// A bug: applies, compiles, and every test it names fails. An alternative: applies,
/// compiles, and every test passes.
pub(super) fn check_variant(
    scratch: &Scratch,
    stage: &Stage,
    solution: &Sources,
    variant: &Variant,
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let sources = match variant.apply(solution) {
        Ok(sources) => sources,
        Err(err) => {
            let what = format!("{}: does not apply", variant.name);
            report.record(column(variant), false, &what, &format!("{err:#}"), progress);
            return Ok(());
        }
    };
    report.patched_fmt.push_str(&lint::rustfmt_patched(
        &stage.dir, variant, solution, &sources,
    ));
    let only = match variant.kind {
        Kind::Bug => Some(variant.caught_by.as_slice()),
        Kind::Alternative => None,
    };
    match (
        build_and_run(scratch, stage, &sources, only, 1, options)?,
        variant.kind,
    ) {
        (Ok(run), Kind::Bug) => judge_bug(variant, &run.results, report, progress),
        (Ok(run), Kind::Alternative) => judge_alternative(variant, run.results, report, progress),
        (Err(errors), _) => record_compile_error(variant, &errors, report, progress),
    }
    Ok(())
}

pub(super) fn column(variant: &Variant) -> &'static str {
    match variant.kind {
        Kind::Bug => "bugs",
        Kind::Alternative => "alts",
    }
}

pub(super) fn record_compile_error(
    variant: &Variant,
    errors: &str,
    report: &mut StageReport,
    progress: &Progress,
) {
    let why = match variant.kind {
        Kind::Bug => "a bug variant must compile, so that a test (not the compiler) catches it",
        Kind::Alternative => "an alternative must compile",
    };
    report.record(
        column(variant),
        false,
        &format!("{}: does not compile", variant.name),
        &format!("{why}\n{errors}"),
        progress,
    );
}

/// An alternative is accepted when every test ran and passed.
pub(super) fn judge_alternative(
    variant: &Variant,
    results: Vec<TestResult>,
    report: &mut StageReport,
    progress: &Progress,
) {
    let total = results.len();
    let failing = results.iter().filter(|r| !r.status.passed()).count();
    if failing == 0 && total > 0 {
        let what = format!("{}: passes every test ({total})", variant.name);
        report.record("alts", true, &what, "", progress);
        return;
    }
    let run = Run {
        warnings: Vec::new(),
        failures: results
            .iter()
            .map(|r| usize::from(!r.status.passed()))
            .collect(),
        results,
    };
    report.record(
        "alts",
        false,
        &format!(
            "{}: REJECTED, {failing} of {total} tests fail ({})",
            variant.name, variant.description
        ),
        &failures(&run, 1),
        progress,
    );
}

/// A bug is caught when every test it names ran and did not pass.
pub(super) fn judge_bug(
    variant: &Variant,
    results: &[TestResult],
    report: &mut StageReport,
    progress: &Progress,
) {
    let missed: Vec<String> = variant
        .caught_by
        .iter()
        .filter(|id| {
            results
                .iter()
                .find(|r| &r.id == *id)
                .is_none_or(|r| r.status.passed())
        })
        .map(ToString::to_string)
        .collect();
    if missed.is_empty() {
        let how: Vec<String> = results
            .iter()
            .map(|r| format!("{} ({})", r.id, r.status.label()))
            .collect();
        let what = format!("{}: caught by {}", variant.name, how.join(", "));
        report.record("bugs", true, &what, "", progress);
    } else {
        report.record(
            "bugs",
            false,
            &format!("{}: NOT caught ({})", variant.name, variant.description),
            &format!(
                "these tests pass with the bug in place:\n{}",
                missed.join("\n")
            ),
            progress,
        );
    }
}

/// Every variant of the stage: applied, then all built with one cargo run (each as a package
/// of its own, see `batch.rs`), then their tests run in parallel (a bug's named tests, an
/// alternative's every test). A variant that needs an `overlay_only` (compile-fail) target is
/// swapped into the exercise package instead, whose path that output names: a bug named by one,
/// and every alternative of a stage that has them.
pub(super) fn check_batched(
    scratch: &Scratch,
    stage: &Stage,
    solution: &Sources,
    bugs: &[&Variant],
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let mut batched: Vec<(&Variant, Sources)> = Vec::new();
    let mut in_place = Vec::new();
    for bug in bugs {
        let needs_exercise_path = match bug.kind {
            Kind::Bug => bug
                .caught_by
                .iter()
                .any(|id| stage.overlay_only.contains(&id.target)),
            Kind::Alternative => !stage.overlay_only.is_empty(),
        };
        if needs_exercise_path {
            in_place.push(*bug);
            continue;
        }
        match bug.apply(solution) {
            Ok(sources) => {
                report
                    .patched_fmt
                    .push_str(&lint::rustfmt_patched(&stage.dir, bug, solution, &sources));
                batched.push((bug, sources));
            }
            Err(err) => {
                let what = format!("{}: does not apply", bug.name);
                report.record(column(bug), false, &what, &format!("{err:#}"), progress);
            }
        }
    }
    let outcomes = build_and_run_batched(scratch, stage, &batched, options)?;
    for ((variant, _), outcome) in batched.iter().zip(outcomes) {
        match (outcome, variant.kind) {
            (Ok(results), Kind::Bug) => judge_bug(variant, &results, report, progress),
            (Ok(results), Kind::Alternative) => {
                judge_alternative(variant, results, report, progress);
            }
            (Err(errors), _) => record_compile_error(variant, &errors, report, progress),
        }
    }
    for bug in in_place {
        check_variant(scratch, stage, solution, bug, options, report, progress)?;
    }
    Ok(())
}

/// What became of one variant: the results of its tests, or its compile errors.
pub type Outcome = Result<Vec<TestResult>, String>;

/// Builds every variant in `batched` with one cargo run and runs their tests (a bug's named
/// ones, an alternative's every one) in parallel across variants. Per variant: its tests'
/// results, or its compile errors.
pub fn build_and_run_batched(
    scratch: &Scratch,
    stage: &Stage,
    batched: &[(&Variant, Sources)],
    options: &Options,
) -> Result<Vec<Outcome>> {
    let versions: Vec<Version<'_>> = batched
        .iter()
        .map(|(variant, sources)| Version {
            name: &variant.name,
            sources,
            targets: match variant.kind {
                Kind::Bug => variant
                    .caught_by
                    .iter()
                    .map(|id| id.target.clone())
                    .collect(),
                Kind::Alternative => rust_files(&stage.exercise_dir(&scratch.root).join("tests"))
                    .iter()
                    .map(|file| file.trim_end_matches(".rs").to_owned())
                    .collect(),
            },
        })
        .collect();
    let built = batch::build(scratch, stage, &versions)?;
    let target_dir = scratch.target_dir.display().to_string();
    let mut jobs = Vec::new();
    let mut compile_errors: BTreeMap<usize, String> = BTreeMap::new();
    for (index, (bug, _)) in batched.iter().enumerate() {
        let manifest = built.manifest(&bug.name);
        let (package, dir) = &built.packages[&bug.name];
        let binaries = built.build.binaries_of(&manifest);
        let errors = built.build.errors_of(&manifest);
        if !errors.is_empty() || binaries.is_empty() {
            let text = if errors.is_empty() {
                built.build.stderr.clone()
            } else {
                errors.join("\n")
            };
            compile_errors.insert(index, text);
            continue;
        }
        let mut env =
            TestEnv::new(&scratch.root, dir, package).with("CARGO_TARGET_DIR", &target_dir);
        if bug.kind == Kind::Bug && options.short_watchdog {
            // A bug only has to fail: let a hang fail fast (see harness::Watchdog).
            env = env.with("HARNESS_WATCHDOG_MS", "1000");
        }
        for job in runner::list_all(&binaries, dir, &env)? {
            if bug.kind == Kind::Alternative || bug.caught_by.contains(&job.id) {
                jobs.push((index, job, dir.clone(), env.clone()));
            }
        }
    }
    let results = runner::run_parallel(jobs, options.jobs, |(index, job, dir, env)| {
        let result = runner::run_test(
            &job.exe,
            &job.id,
            job.listed,
            dir,
            env,
            stage.timeout_for(&job.id),
        )?;
        Ok((*index, result))
    })?;
    let outcomes = batched
        .iter()
        .enumerate()
        .map(|(index, _)| match compile_errors.remove(&index) {
            Some(errors) => Err(errors),
            None => Ok(results
                .iter()
                .filter(|(i, _)| *i == index)
                .map(|(_, result)| result.clone())
                .collect()),
        })
        .collect();
    Ok(outcomes)
}

/// What one version of a stage did: its warnings and every test's result.
pub struct Run {
    pub warnings: Vec<String>,
    pub results: Vec<TestResult>,
    /// Per result: in how many of the runs the test did not pass.
    pub failures: Vec<usize>,
}

/// Installs `sources` as the stage's `src/`, builds its tests (only the targets of `only`, if
/// given) and runs them `repeat` times, each in its own process. `Err(compile errors)` if it
/// did not compile. With repeats, each test's result is its first failure (if any), and
/// `failures` counts the runs that did not pass. With `only` (a known-bug variant, expected to
/// fail), in-test watchdogs are shortened so that a hang fails fast.
pub fn build_and_run(
    scratch: &Scratch,
    stage: &Stage,
    sources: &Sources,
    only: Option<&[TestId]>,
    repeat: usize,
    options: &Options,
) -> Result<Result<Run, String>> {
    scratch.install(stage, sources)?;
    let targets: Vec<String> = only
        .map(|ids| {
            let set: BTreeSet<&str> = ids.iter().map(|id| id.target.as_str()).collect();
            set.into_iter().map(str::to_owned).collect()
        })
        .unwrap_or_default();
    let build = cargo::build_tests(
        &scratch.root,
        &scratch.target_dir,
        &[stage.name.as_str()],
        &targets,
        &[],
    )?;
    let package_dir = scratch.exercise_dir(stage);
    let manifest = package_dir.join("Cargo.toml");
    if !build.success {
        let mut text = build.errors_of(&manifest).join("\n");
        if text.trim().is_empty() {
            text = build.stderr.clone();
        }
        return Ok(Err(text));
    }

    let target_dir = scratch.target_dir.display().to_string();
    let mut env = TestEnv::new(&scratch.root, &package_dir, &stage.name)
        .with("CARGO_TARGET_DIR", &target_dir);
    if only.is_some() && options.short_watchdog {
        // A known-bug variant is expected to fail: let a hang fail fast (see harness::Watchdog).
        env = env.with("HARNESS_WATCHDOG_MS", "1000");
    }
    let binaries = build.binaries_of(&manifest);
    let jobs: Vec<runner::Listed> = runner::list_all(&binaries, &package_dir, &env)?
        .into_iter()
        .filter(|job| only.is_none_or(|only| only.contains(&job.id)))
        .collect();
    let count = jobs.len();
    let repeated: Vec<_> = jobs.iter().cycle().take(count * repeat.max(1)).collect();
    let all = runner::run_parallel(repeated, options.jobs, |job| {
        runner::run_test(
            &job.exe,
            &job.id,
            job.listed,
            &package_dir,
            &env,
            stage.timeout_for(&job.id),
        )
    })?;
    // Fold the repeats: run r of test i is at index r * count + i.
    let mut results: Vec<TestResult> = all[..count].to_vec();
    let mut failures = vec![0usize; count];
    for (index, result) in all.into_iter().enumerate() {
        let i = index % count;
        if !result.status.passed() {
            if failures[i] == 0 {
                results[i] = result;
            }
            failures[i] += 1;
        }
    }
    Ok(Ok(Run {
        warnings: build.warnings_of(&manifest),
        results,
        failures,
    }))
}
