//! The `stub`, `solution`, `bugs` and `alts` columns: each version of a stage built and its
//! tests run, the bugs and alternatives in one cargo run where they can be.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;

use super::Options;
use super::lint;
use super::shipped::rust_files;
use super::table::{Progress, StageReport, timed};
use crate::course::variant::{Kind, Variant};
use crate::course::{Stage, TestId};
use crate::exec::batch::{self, Version};
use crate::exec::runner::{self, TestEnv, TestResult};
use crate::exec::scratch::Scratch;
use crate::exec::{cargo, features, trybuild_cache};
use crate::files::Sources;

pub(super) fn check_stub(
    scratch: &Scratch,
    stage: &Stage,
    stub: &Sources,
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let run = build_and_run(scratch, stage, stub, None, 1, options)?;
    judge_stub(run, report, progress);
    Ok(())
}

/// The stub compiles without warnings and fails every test.
pub(super) fn judge_stub(run: Result<Run, String>, report: &mut StageReport, progress: &Progress) {
    let run = match run {
        Ok(run) => run,
        Err(errors) => {
            report.record("stub", false, "does not compile", &errors, progress);
            return;
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
    let run = build_and_run(scratch, stage, solution, None, options.repeat, options)?;
    Ok(judge_solution(run, options, report, progress))
}

/// Every test passes on the reference (each of `--repeat` runs). Returns its test ids, if it
/// built.
pub(super) fn judge_solution(
    run: Result<Run, String>,
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Option<Vec<TestId>> {
    let run = match run {
        Ok(run) => run,
        Err(errors) => {
            report.record("solution", false, "does not compile", &errors, progress);
            return None;
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
    Some(run.results.into_iter().map(|r| r.id).collect())
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

/// The most a failure message may say (bytes), with any bug in place.
const MESSAGE_BUDGET: usize = 16 * 1024;

/// A bug is caught when every test it names ran and did not pass, and said so briefly.
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
        report.record(
            "bugs",
            false,
            &format!(
                "{}: a failure message is longer than {} KiB",
                variant.name,
                MESSAGE_BUDGET / 1024
            ),
            &format!(
                "with this bug in place, these tests print more than a learner can read; cap \
                 every list, trace and snapshot in their messages (harness::bounded):\n{}",
                flooding.join("\n")
            ),
            progress,
        );
        return;
    }
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
    variants: &[&Variant],
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let (batched, in_place) = apply_variants(stage, solution, variants, report, progress);
    let items: Vec<Item<'_>> = batched
        .iter()
        .map(|(variant, sources)| Item::of_variant(scratch, stage, variant, sources, options))
        .collect();
    let runs = build_and_run_items(scratch, stage, &items, options.jobs)?;
    for ((variant, _), run) in batched.iter().zip(runs) {
        judge_variant(variant, run, report, progress);
    }
    for variant in in_place {
        check_variant(scratch, stage, solution, variant, options, report, progress)?;
    }
    Ok(())
}

/// A stage without compile-fail targets: the stub, the reference (`--repeat` times), every
/// bug (its named tests) and every alternative (every test), each a package of its own, built
/// with ONE cargo run and tested in one pool of `--jobs` workers. Records each version's
/// checks in the usual order; returns the reference's test ids, if it built, for the checks of
/// names that follow.
pub(super) fn check_together<'a>(
    scratch: &Scratch,
    versions: Versions<'a>,
    options: &Options,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<(Option<Vec<TestId>>, Judged<'a>)> {
    let Versions {
        stage,
        stub,
        solution,
        variants,
    } = versions;
    let (batched, in_place) = apply_variants(stage, solution, variants, report, progress);
    debug_assert!(
        in_place.is_empty(),
        "only stages without overlay_only targets"
    );
    let mut items = vec![
        Item::whole(scratch, stage, "_stub", stub, 1),
        Item::whole(scratch, stage, "_solution", solution, options.repeat),
    ];
    items.extend(
        batched
            .iter()
            .map(|(variant, sources)| Item::of_variant(scratch, stage, variant, sources, options)),
    );
    let mut runs = build_and_run_items(scratch, stage, &items, options.jobs)?.into_iter();
    let mut next = || runs.next().unwrap_or_else(|| Err("not built".to_owned()));
    let (stub_run, solution_run) = (next(), next());
    judge_stub(
        named_as(stage, stub_run, "_stub", "exercises"),
        report,
        progress,
    );
    let solution_run = named_as(stage, solution_run, "_solution", "solutions");
    let tests = judge_solution(solution_run, options, report, progress);
    let judged = batched
        .iter()
        .map(|(variant, _)| *variant)
        .zip(runs)
        .collect();
    Ok((tests, judged))
}

/// The compiler names the files of the version package (`target/versions/NN-name/_stub/`):
/// name the author's (`exercises/NN-name/`) instead.
fn named_as(
    stage: &Stage,
    run: Result<Run, String>,
    version: &str,
    dir: &str,
) -> Result<Run, String> {
    let from = format!("target/versions/{}/{version}/", stage.dir);
    let to = format!("{dir}/{}/", stage.dir);
    match run {
        Ok(mut run) => {
            for warning in &mut run.warnings {
                *warning = warning.replace(&from, &to);
            }
            Ok(run)
        }
        Err(errors) => Err(errors.replace(&from, &to)),
    }
}

/// Variants built and run, still to be judged.
pub(super) type Judged<'a> = Vec<(&'a Variant, Result<Run, String>)>;

/// The versions of one stage.
pub(super) struct Versions<'a> {
    pub stage: &'a Stage,
    pub stub: &'a Sources,
    pub solution: &'a Sources,
    pub variants: &'a [&'a Variant],
}

/// Applies every variant that can be built as a package of its own (a patch that does not
/// apply is recorded as that variant's failure); the rest must be swapped into the exercise
/// package (see `check_batched`).
fn apply_variants<'v>(
    stage: &Stage,
    solution: &Sources,
    variants: &[&'v Variant],
    report: &mut StageReport,
    progress: &Progress,
) -> (Vec<(&'v Variant, Sources)>, Vec<&'v Variant>) {
    let mut batched = Vec::new();
    let mut in_place = Vec::new();
    for variant in variants {
        let needs_exercise_path = match variant.kind {
            Kind::Bug => variant
                .caught_by
                .iter()
                .any(|id| stage.overlay_only.contains(&id.target)),
            Kind::Alternative => !stage.overlay_only.is_empty(),
        };
        if needs_exercise_path {
            in_place.push(*variant);
            continue;
        }
        match variant.apply(solution) {
            Ok(sources) => {
                report.patched_fmt.push_str(&lint::rustfmt_patched(
                    &stage.dir, variant, solution, &sources,
                ));
                batched.push((*variant, sources));
            }
            Err(err) => {
                let what = format!("{}: does not apply", variant.name);
                report.record(column(variant), false, &what, &format!("{err:#}"), progress);
            }
        }
    }
    (batched, in_place)
}

/// A bug must be caught by its named tests; an alternative must pass every test.
pub(super) fn judge_variant(
    variant: &Variant,
    run: Result<Run, String>,
    report: &mut StageReport,
    progress: &Progress,
) {
    match (run, variant.kind) {
        (Ok(run), Kind::Bug) => judge_bug(variant, &run.results, report, progress),
        (Ok(run), Kind::Alternative) => judge_alternative(variant, run.results, report, progress),
        (Err(errors), _) => record_compile_error(variant, &errors, report, progress),
    }
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
    let items: Vec<Item<'_>> = batched
        .iter()
        .map(|(variant, sources)| Item::of_variant(scratch, stage, variant, sources, options))
        .collect();
    let runs = build_and_run_items(scratch, stage, &items, options.jobs)?;
    Ok(runs
        .into_iter()
        .map(|run| run.map(|run| run.results))
        .collect())
}

/// One version in a batched build: its sources, the test targets it needs, and which of their
/// tests run how often.
pub(super) struct Item<'a> {
    /// Unique in the stage; the version package's directory.
    pub name: String,
    pub sources: &'a Sources,
    pub targets: BTreeSet<String>,
    /// Only these tests (a bug's caught-by); every test when `None`.
    pub only: Option<&'a [TestId]>,
    pub repeat: usize,
    /// In-test watchdogs shortened to 1 s: a bug only has to fail, so a hang fails fast (see
    /// harness::Watchdog).
    pub short_watchdog: bool,
}

impl<'a> Item<'a> {
    /// A version that runs every test of the stage (`repeat` times): the stub, the reference.
    pub fn whole(
        scratch: &Scratch,
        stage: &Stage,
        name: &str,
        sources: &'a Sources,
        repeat: usize,
    ) -> Item<'a> {
        Item {
            name: name.to_owned(),
            sources,
            targets: every_target(scratch, stage),
            only: None,
            repeat,
            short_watchdog: false,
        }
    }

    /// A bug (its caught-by tests) or an alternative (every test).
    pub fn of_variant(
        scratch: &Scratch,
        stage: &Stage,
        variant: &'a Variant,
        sources: &'a Sources,
        options: &Options,
    ) -> Item<'a> {
        match variant.kind {
            Kind::Bug => Item {
                name: variant.name.clone(),
                sources,
                targets: variant
                    .caught_by
                    .iter()
                    .map(|id| id.target.clone())
                    .collect(),
                only: Some(variant.caught_by.as_slice()),
                repeat: 1,
                short_watchdog: options.short_watchdog,
            },
            Kind::Alternative => Item::whole(scratch, stage, &variant.name, sources, 1),
        }
    }
}

/// Every test target of the stage (its `tests/*.rs`).
fn every_target(scratch: &Scratch, stage: &Stage) -> BTreeSet<String> {
    rust_files(&stage.exercise_dir(&scratch.root).join("tests"))
        .iter()
        .map(|file| file.trim_end_matches(".rs").to_owned())
        .collect()
}

/// Builds every item as a package of its own with one cargo run (see `batch.rs`), then runs
/// all their tests in one pool of `jobs` workers. Per item: its run, or its compile errors.
pub(super) fn build_and_run_items(
    scratch: &Scratch,
    stage: &Stage,
    items: &[Item<'_>],
    jobs: usize,
) -> Result<Vec<Result<Run, String>>> {
    let versions: Vec<Version<'_>> = items
        .iter()
        .map(|item| Version {
            name: &item.name,
            sources: item.sources,
            targets: item.targets.clone(),
        })
        .collect();
    let label = format!("{:02} {}", stage.order, stage.name);
    let built = timed(
        || format!("{label} build {} packages", versions.len()),
        || batch::build(scratch, stage, &versions),
    )?;
    let (queue, outcomes) = queue_tests(scratch, items, &built)?;
    let runs = queue.len();
    let results = timed(
        || format!("{label} {runs} test runs"),
        || {
            runner::run_parallel(queue, jobs, |(index, job, dir, env)| {
                let result = runner::run_test(job, dir, env, stage.timeout_for(&job.id))?;
                Ok((*index, result))
            })
        },
    )?;
    // A merged test binary names its files by the absolute paths of its `#[path]` modules:
    // show them as cargo would, relative to the workspace (`exercises/NN-name/tests/...`).
    let scratch_prefix = format!("{}/", scratch.root.display());
    Ok(items
        .iter()
        .enumerate()
        .zip(outcomes)
        .map(|((index, item), outcome)| {
            let count = outcome?;
            let all: Vec<TestResult> = results
                .iter()
                .filter(|(i, _)| *i == index)
                .map(|(_, result)| TestResult {
                    message: result.message.replace(&scratch_prefix, ""),
                    ..result.clone()
                })
                .collect();
            let warnings = built.build.warnings_of(&built.manifest(&item.name));
            Ok(fold(all, count, warnings))
        })
        .collect())
}

/// Every test run the items need (`repeat` times each), and per item the number of its tests,
/// or its compile errors.
type Queue = Vec<(usize, runner::Listed, PathBuf, TestEnv)>;

fn queue_tests(
    scratch: &Scratch,
    items: &[Item<'_>],
    built: &batch::Built,
) -> Result<(Queue, Vec<Result<usize, String>>)> {
    let target_dir = scratch.target_dir.display().to_string();
    let mut queue = Vec::new();
    let mut outcomes: Vec<Result<usize, String>> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let manifest = built.manifest(&item.name);
        let (package, dir) = &built.packages[&item.name];
        let binaries = built.build.binaries_of(&manifest);
        let errors = built.build.errors_of(&manifest);
        if !errors.is_empty() || binaries.is_empty() {
            outcomes.push(Err(if errors.is_empty() {
                built.build.stderr.clone()
            } else {
                errors.join("\n")
            }));
            continue;
        }
        let mut env =
            TestEnv::new(&scratch.root, dir, package).with("CARGO_TARGET_DIR", &target_dir);
        if item.short_watchdog {
            env = env.with("HARNESS_WATCHDOG_MS", "1000");
        }
        let listed: Vec<runner::Listed> = runner::list_all(&binaries, dir, &env)?
            .into_iter()
            .filter(|job| item.only.is_none_or(|only| only.contains(&job.id)))
            .collect();
        outcomes.push(Ok(listed.len()));
        for _ in 0..item.repeat.max(1) {
            for job in &listed {
                queue.push((index, job.clone(), dir.clone(), env.clone()));
            }
        }
    }
    Ok((queue, outcomes))
}

/// Folds the repeats of `count` tests (run r of test i is at index r * count + i): each test's
/// result is its first failure, if any, and `failures` counts the runs that did not pass.
fn fold(all: Vec<TestResult>, count: usize, warnings: Vec<String>) -> Run {
    let mut results: Vec<TestResult> = all[..count.min(all.len())].to_vec();
    let mut failures = vec![0usize; results.len()];
    for (index, result) in all.into_iter().enumerate() {
        let i = index % count.max(1);
        if !result.status.passed() {
            if failures[i] == 0 {
                results[i] = result;
            }
            failures[i] += 1;
        }
    }
    Run {
        warnings,
        results,
        failures,
    }
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
    let label = format!(
        "{:02} {} (in the exercise package)",
        stage.order, stage.name
    );
    let build = timed(
        || format!("{label} build"),
        || {
            cargo::build_tests_with(
                &scratch.root,
                &scratch.target_dir,
                &[stage.name.as_str(), features::PACKAGE],
                &targets,
                &[],
                true,
                cargo::BuildProfile::Scratch {
                    incremental: scratch.incremental,
                },
            )
        },
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
    // The compile-fail target runs trybuild: see `trybuild_cache::with_case_flags`.
    let mut env = trybuild_cache::with_case_flags(
        TestEnv::new(&scratch.root, &package_dir, &stage.name)
            .with("CARGO_TARGET_DIR", &target_dir),
    );
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
    let runs = repeated.len();
    let all = timed(
        || format!("{label} {runs} test runs"),
        || {
            runner::run_parallel(repeated, options.jobs, |job| {
                runner::run_test(job, &package_dir, &env, stage.timeout_for(&job.id))
            })
        },
    )?;
    Ok(Ok(fold(all, count, build.warnings_of(&manifest))))
}
