//! The `stub`, `solution`, `bugs` and `alts` columns: each version of a stage built and its
//! tests run (`exec/versions.rs`), the bugs and alternatives in one cargo run where they can
//! be, and what verify makes of each (a variant's verdict: `exec/verdict.rs`).

use anyhow::Result;

use super::args::Args;
use super::table::{Progress, StageReport};
use crate::course::variant::{Kind, Variant};
use crate::course::{Stage, TestId};
use crate::exec::runner::TestResult;
use crate::exec::scratch::Scratch;
use crate::exec::verdict::{self, Verdict};
use crate::exec::versions::{Item, Run, RunOptions, build_and_run, build_and_run_items, failures};
use crate::files::Sources;
use crate::outcome::Problem;

pub(super) fn check_stub(
    scratch: &Scratch,
    stage: &Stage,
    stub: &Sources,
    options: &Args,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let stub_options = RunOptions {
        require_tools: true,
        ..options.run_options()
    };
    let run = build_and_run(scratch, stage, stub, None, 1, &stub_options)?;
    judge_stub(run, report, progress);
    Ok(())
}

/// The stub compiles without warnings and fails every test.
pub(super) fn judge_stub(run: Result<Run, Problem>, report: &mut StageReport, progress: &Progress) {
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
    options: &Args,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<Option<Vec<TestId>>> {
    let run = build_and_run(
        scratch,
        stage,
        solution,
        None,
        options.repeat(),
        &options.run_options(),
    )?;
    Ok(judge_solution(run, options, report, progress))
}

/// Every test passes on the reference (each of `--repeat` runs). Returns its test ids, if it
/// built.
pub(super) fn judge_solution(
    run: Result<Run, Problem>,
    options: &Args,
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
    let runs = if options.repeat() > 1 {
        format!(", {} runs each", options.repeat())
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
            &failures(&run, options.repeat()),
            progress,
        );
    }
    Some(run.results.into_iter().map(|r| r.id).collect())
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
    options: &Args,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let (batched, in_place) = apply_variants(stage, solution, variants, report, progress);
    let run_options = options.run_options();
    let items: Vec<Item<'_>> = batched
        .iter()
        .map(|(variant, sources)| Item::of_variant(scratch, stage, variant, sources, &run_options))
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
    options: &Args,
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
        Item {
            require_tools: true,
            ..Item::whole(scratch, stage, "_stub", stub, 1)
        },
        Item::whole(scratch, stage, "_solution", solution, options.repeat()),
    ];
    let run_options = options.run_options();
    items.extend(batched.iter().map(|(variant, sources)| {
        Item::of_variant(scratch, stage, variant, sources, &run_options)
    }));
    let mut runs = build_and_run_items(scratch, stage, &items, options.jobs)?.into_iter();
    let mut next = || {
        runs.next()
            .unwrap_or_else(|| Err("not built".to_owned().into()))
    };
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
    run: Result<Run, Problem>,
    version: &str,
    dir: &str,
) -> Result<Run, Problem> {
    let from = format!("target/versions/{}/{version}/", stage.dir);
    let to = format!("{dir}/{}/", stage.dir);
    match run {
        Ok(mut run) => {
            for warning in &mut run.warnings {
                *warning = warning.replace(&from, &to);
            }
            Ok(run)
        }
        Err(errors) => Err(errors.replace(&from, &to).into()),
    }
}

/// Variants built and run, still to be judged.
pub(super) type Judged<'a> = Vec<(&'a Variant, Result<Run, Problem>)>;

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
                report.patched_fmt.push_str(&verdict::rustfmt_patched(
                    &stage.dir, variant, solution, &sources,
                ));
                batched.push((*variant, sources));
            }
            Err(err) => record(report, verdict::does_not_apply(variant, &err), progress),
        }
    }
    (batched, in_place)
}

/// A bug must be caught by its named tests; an alternative must pass every test.
pub(super) fn judge_variant(
    variant: &Variant,
    run: Result<Run, Problem>,
    report: &mut StageReport,
    progress: &Progress,
) {
    record(report, verdict::judge(variant, run), progress);
}

/// One variant swapped into the exercise package, built, run and judged.
pub(super) fn check_variant(
    scratch: &Scratch,
    stage: &Stage,
    solution: &Sources,
    variant: &Variant,
    options: &Args,
    report: &mut StageReport,
    progress: &Progress,
) -> Result<()> {
    let (verdict, patched_fmt) =
        verdict::check_variant(scratch, stage, solution, variant, &options.run_options())?;
    report.patched_fmt.push_str(&patched_fmt);
    record(report, verdict, progress);
    Ok(())
}

fn record(report: &mut StageReport, verdict: Verdict, progress: &Progress) {
    report.record(
        verdict.column,
        verdict.ok,
        &verdict.what,
        &verdict.detail,
        progress,
    );
}
