//! The flow of `cargo xtask verify` (see `mod.rs` for what it checks and how it scales).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use super::args::Args;
use super::checks::{
    Versions, check_batched, check_solution, check_stub, check_together, judge_variant,
};
use super::lint;
use super::shipped::{check_files, check_names};
use super::table::{self, Progress, StageReport};
use crate::course::variant::{self, Kind, Variant};
use crate::course::{Course, Stage, freshness};
use crate::exec::versions::{TARGET, stage_scratch, timed};
use crate::exec::{dep_seed, runner, tools};
use crate::files;
use crate::outcome::Outcome;
use crate::ui;

/// Runs every check; returns whether all passed. Errors are reserved for bad input (an
/// unknown stage) and for failures of the machinery itself.
pub fn run(root: &Path, options: &Args) -> Result<Outcome> {
    let started = Instant::now();
    let options = &Args {
        incremental: root.join(TARGET).exists(),
        ..options.clone()
    };
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    ui::heading(&format!(
        "verify: {} stage{} ({})",
        stages.len(),
        if stages.len() == 1 { "" } else { "s" },
        names.join(", ")
    ));

    let mut reports = Vec::new();
    if options.stages.is_empty() {
        for (dir, problem) in &course.problems {
            ui::line(&format!("exercises/{dir}"), false, "does not load", problem);
            reports.push(StageReport::broken(dir, problem));
        }
    }

    // Skip what has not changed since it last passed (with the red team's corpus, when asked).
    let mut passed = freshness::read_passed(root);
    let toolchain = freshness::toolchain(root);
    let mut todo: Vec<(&Stage, String)> = Vec::new();
    let not_replayed: usize = if options.redteam {
        0
    } else {
        stages.iter().map(|stage| count_redteam(root, stage)).sum()
    };
    let path = std::env::var_os("PATH");
    for stage in stages {
        let mut hash = freshness::inputs_hash(root, stage, &toolchain);
        hash.push_str(&note_missing_tools(stage, path.as_deref()));
        let key = freshness::key(&stage.dir, options.redteam);
        if !options.force && options.repeat == 1 && passed.get(&key) == Some(&hash) {
            let mut report = StageReport::new(stage);
            report.skipped = true;
            reports.push(report);
        } else {
            todo.push((stage, hash));
        }
    }
    let skipped: Vec<String> = reports
        .iter()
        .filter(|r| r.skipped)
        .map(|r| r.label.clone())
        .collect();
    if !skipped.is_empty() {
        ui::heading(&format!(
            "unchanged since their last passing verify (--force checks them anyway): {}",
            skipped.join(", ")
        ));
    }

    if !todo.is_empty() {
        seed_target(root);
        longest_first(root, &mut todo, options.redteam);
        reports.extend(check_all(&course, &todo, options, &mut passed)?);
        freshness::write_passed(root, &passed)?;
    }

    reports.sort_by(|a, b| a.label.cmp(&b.label));
    table::table(&reports);
    Ok(conclude(&reports, not_replayed, options, started))
}

/// Says which of `stage`'s declared tools are not installed (`search`: the `PATH`): the tests
/// that use them skip (and pass) on the reference. Answers what to add to the stage's inputs
/// hash, so that a run after they are installed checks the stage again.
fn note_missing_tools(stage: &Stage, search: Option<&std::ffi::OsStr>) -> String {
    let missing = tools::missing(stage, search);
    if missing.is_empty() {
        return String::new();
    }
    ui::heading(&format!(
        "{:02} {}: {} not installed: the tests that use {} skip on the reference and the \
         alternatives (on the stub they are required, so they fail); install {} to check them",
        stage.order,
        stage.name,
        missing.join(", "),
        if missing.len() == 1 { "it" } else { "them" },
        stage.tools_install.as_deref().unwrap_or("them"),
    ));
    format!(" without {}", missing.join(","))
}

/// The closing lines: the red-team variants left out, and the verdict.
fn conclude(
    reports: &[StageReport],
    not_replayed: usize,
    options: &Args,
    started: Instant,
) -> Outcome {
    if not_replayed > 0 {
        ui::heading(&format!(
            "verify: {not_replayed} red-team variant{} not replayed (`cargo xtask verify \
             --redteam{}` replays them)",
            if not_replayed == 1 { "" } else { "s" },
            options
                .stages
                .iter()
                .map(|stage| format!(" --stage {stage}"))
                .collect::<String>()
        ));
    }
    let ok = reports.iter().all(StageReport::ok);
    let elapsed = started.elapsed().as_secs_f64();
    if ok {
        ui::heading(&format!("verify: every check passed ({elapsed:.1}s)"));
    } else {
        ui::heading(&format!(
            "verify: FAILED ({elapsed:.1}s); the failing checks are explained above"
        ));
    }
    Outcome::of(ok)
}

/// A cold run starts from the registry dependencies the course's own `cargo test` built
/// (see `exec/dep_seed.rs`). Seeding is only a head start: if it fails, cargo builds them.
fn seed_target(root: &Path) {
    match timed(
        || "seed the target directory".to_owned(),
        || dep_seed::seed(root, &root.join(TARGET)),
    ) {
        Ok(Some(seeded)) => ui::heading(&format!(
            "verify: starting from {} dependency builds of `cargo test` ({} MB copied from {})",
            seeded.units,
            seeded.bytes / 1_000_000,
            seeded
                .from
                .strip_prefix(root)
                .unwrap_or(&seeded.from)
                .display()
        )),
        Ok(None) => {}
        Err(err) => ui::heading(&format!(
            "verify: could not reuse `cargo test`'s dependency builds ({err:#}); building them"
        )),
    }
}

/// Orders the stages to check so that the slowest start first and the two lanes finish close
/// together: stages with compile-fail targets (their versions are built one by one, and
/// trybuild builds its own dependencies once), then by number of checks. The report is
/// sorted by stage afterwards.
fn longest_first(root: &Path, todo: &mut [(&Stage, String)], redteam: bool) {
    todo.sort_by_cached_key(|(stage, _)| {
        (
            stage.overlay_only.is_empty(),
            std::cmp::Reverse(count_checks(root, stage, redteam)),
            stage.order,
        )
    });
}

/// Checks the stages of `todo` (each with its inputs' hash): two stages at a time, and one
/// lint run for all beside them. A stage that passes has its hash recorded in `passed`.
fn check_all(
    course: &Course,
    todo: &[(&Stage, String)],
    options: &Args,
    passed: &mut BTreeMap<String, String>,
) -> Result<Vec<StageReport>> {
    let root = &course.root;
    let progress = Progress::new(
        todo.iter()
            .map(|(stage, _)| count_checks(root, stage, options.redteam))
            .sum(),
    );
    let stages: Vec<&Stage> = todo.iter().map(|(stage, _)| *stage).collect();
    let (lint, checked) = std::thread::scope(|scope| {
        let lint = scope.spawn(|| lint::lint_all(root, &stages));
        let lanes = options.jobs.clamp(1, 2);
        let checked = runner::run_parallel(stages.clone(), lanes, |stage| {
            timed(
                || format!("{:02} {} whole stage", stage.order, stage.name),
                || verify_stage(course, stage, options, &progress),
            )
        });
        (
            lint.join().expect("the lint thread does not panic"),
            checked,
        )
    });
    let mut lint = lint?;
    let mut reports = Vec::new();
    for ((stage, hash), mut report) in todo.iter().zip(checked?) {
        let (ok, detail) = lint.remove(&stage.dir).unwrap_or((true, String::new()));
        record_lint(&mut report, ok, detail, &progress);
        // A run with the red team's corpus covers the run without it too; a failure forgets
        // both, since it may lie in either part.
        let keys = [
            freshness::key(&stage.dir, false),
            freshness::key(&stage.dir, true),
        ];
        if report.ok() {
            for key in &keys[..if options.redteam { 2 } else { 1 }] {
                passed.insert(key.clone(), hash.clone());
            }
        } else {
            for key in &keys {
                passed.remove(key);
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

/// The stage's share of the clippy and fmt run, plus rustfmt on its patched files.
fn record_lint(report: &mut StageReport, ok: bool, detail: String, progress: &Progress) {
    let (mut ok, mut detail) = (ok, detail);
    if !report.patched_fmt.is_empty() {
        ok = false;
        let _ = write!(
            detail,
            "\nrustfmt --check on the patched files (format the edit, then `cargo xtask bug \
             save` again):\n{}",
            report.patched_fmt
        );
    }
    let what = if ok {
        "clippy -D warnings and rustfmt are clean"
    } else {
        "lint failed"
    };
    report.record("lint", ok, what, detail.trim(), progress);
}

/// How many checks `verify_stage` will record for `stage` (for the progress count).
fn count_checks(root: &Path, stage: &Stage, redteam: bool) -> usize {
    let variants = count_variants(root, stage, |v| redteam || !v.redteam);
    // files, stub, solution, names, gate, lint
    6 + variants
}

/// How many of the stage's variants come from the red team's corpus.
fn count_redteam(root: &Path, stage: &Stage) -> usize {
    count_variants(root, stage, |v| v.redteam)
}

/// How many of the stage's variants load and satisfy `keep`.
fn count_variants(root: &Path, stage: &Stage, keep: impl Fn(&Variant) -> bool) -> usize {
    [Kind::Bug, Kind::Alternative]
        .into_iter()
        .flat_map(|kind| variant::load_all(root, stage, kind))
        .filter(|v| v.as_ref().is_ok_and(&keep))
        .count()
}

fn verify_stage(
    course: &Course,
    stage: &Stage,
    options: &Args,
    progress: &Progress,
) -> Result<StageReport> {
    let root = &course.root;
    let mut report = StageReport::new(stage);

    // 1. files (every variant's header is read, the red team's too)
    let (mut variants, problems) = check_files(root, stage);
    let files_ok = problems.is_empty();
    report.record(
        "files",
        files_ok,
        if files_ok {
            "declaration, README, hints, tests, solution and variant headers are in place"
        } else {
            "the stage is incomplete"
        },
        &problems.join("\n"),
        progress,
    );
    let stub = files::read_sources(&stage.exercise_dir(root));
    let solution = files::read_sources(&stage.solution_dir(root));
    let (Ok(stub), Ok(solution)) = (stub, solution) else {
        return Ok(report);
    };
    let mut scratch = stage_scratch(root, stage)?;
    scratch.incremental = options.incremental;
    // The red team's corpus is replayed (built, run, gated) only with `--redteam`.
    variants.retain(|v| options.redteam || !v.redteam);
    // 4. bugs and 5. alternatives: in the order they are reported
    let ordered = bugs_then_alternatives(&variants);
    if stage.overlay_only.is_empty() {
        // Every version in one cargo build and one test pool.
        let versions = Versions {
            stage,
            stub: &stub,
            solution: &solution,
            variants: &ordered,
        };
        let (tests, judged) = check_together(&scratch, versions, options, &mut report, progress)?;
        check_names(
            root,
            stage,
            tests.as_deref(),
            &variants,
            &mut report,
            progress,
        );
        check_gradable(stage, &stub, &solution, &variants, &mut report, progress);
        for (variant, run) in judged {
            judge_variant(variant, run, &mut report, progress);
        }
        return Ok(report);
    }
    // Compile-fail targets print the path of the package that runs them: the stub and the
    // reference are swapped into the exercise package, one build each.
    check_stub(&scratch, stage, &stub, options, &mut report, progress)?;
    let tests = check_solution(&scratch, stage, &solution, options, &mut report, progress)?;
    check_names(
        root,
        stage,
        tests.as_deref(),
        &variants,
        &mut report,
        progress,
    );
    check_gradable(stage, &stub, &solution, &variants, &mut report, progress);
    check_batched(
        &scratch,
        stage,
        &solution,
        &ordered,
        options,
        &mut report,
        progress,
    )?;
    Ok(report)
}

fn bugs_then_alternatives(variants: &[Variant]) -> Vec<&Variant> {
    variants
        .iter()
        .filter(|v| v.kind == Kind::Bug)
        .chain(variants.iter().filter(|v| v.kind == Kind::Alternative))
        .collect()
}

/// The grader's source gate (with the stage's own rules, `[[gate.only_in]]`) must accept the
/// stub, the reference and every alternative: a correct design that the grader would refuse is
/// not one a learner can submit, and a refused stub cannot be graded at all.
fn check_gradable(
    stage: &Stage,
    stub: &files::Sources,
    solution: &files::Sources,
    variants: &[Variant],
    report: &mut StageReport,
    progress: &Progress,
) {
    let policy = crate::exec::gate::Policy::of(stage);
    let mut refused = Vec::new();
    let given = [
        ("the stub".to_owned(), Ok(stub.clone())),
        ("the reference".to_owned(), Ok(solution.clone())),
    ];
    for (name, sources) in given.into_iter().chain(
        variants
            .iter()
            .filter(|v| v.kind == Kind::Alternative)
            .map(|v| (v.label(), v.apply(solution))),
    ) {
        let Ok(sources) = sources else { continue };
        let found = crate::exec::gate::check_sources(&sources, &policy);
        for found in found.refused {
            refused.push(format!("{name}: {found}"));
        }
        for evidence in found.review {
            refused.push(format!("{name}: would be withheld for review: {evidence}"));
        }
    }
    report.record(
        "files",
        refused.is_empty(),
        if refused.is_empty() {
            "the grader's gate accepts the stub, the reference and every alternative, and \
             flags none of them for review"
        } else {
            "the grader's gate would refuse a correct version"
        },
        &refused.join("\n"),
        progress,
    );
}
