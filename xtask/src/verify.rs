//! `cargo xtask verify`: the course checks itself.
//!
//! For each stage:
//!
//! 1. **files**: the declaration, README, hints, tests and solution are all there, the
//!    solution package runs exactly the exercise's test files, and every variant's header
//!    reads and names real tests.
//! 2. **stub**: the exercise as shipped compiles without warnings, and every test fails on it
//!    (a test that passes on the stub checks nothing).
//! 3. **solution**: with the reference `src/` swapped in, every test passes.
//! 4. **bugs**: with each known-bug patch applied to the reference, the tests it names fail.
//! 5. **alts**: with each alternative patch applied, every test passes (compile-fail ones too).
//! 6. **lint**: clippy `-D warnings` and rustfmt are clean on the solution, the stub and the
//!    tests, and every patched file is rustfmt-clean.
//!
//! How it scales (see ARCHITECTURE.md, "How `cargo xtask verify` flows"):
//! * a stage whose inputs (its exercise and solution files, the harness, the toolchain, xtask
//!   and the lockfile) hash to what they were at its last passing verify is skipped
//!   (`--force` runs it anyway; see `freshness.rs`);
//! * every bug of a stage is built with one cargo run, each as a package of its own (see
//!   `batch.rs`), and a bug whose sources did not change is not rebuilt;
//! * stages run two at a time, each in its own scratch copy of the course, sharing one target
//!   directory (the dependencies are built once); while one stage builds, the other runs tests;
//! * one clippy and one rustfmt run cover every stage, beside the stage checks (clippy builds
//!   into the course's own target directory, so it never waits for the scratch builds; see
//!   `lint.rs`);
//! * every check prints a `[done/total]` line as it finishes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::batch::{self, Version};
use crate::cargo;
use crate::course::{Course, Stage, TestId};
use crate::runner::{self, TestEnv, TestResult};
use crate::scratch::{self, Scratch, Sources};
use crate::testscan;
use crate::ui;
use crate::variant::{self, Kind, Variant};
use crate::{freshness, lint};

#[derive(Debug, Clone)]
pub struct Options {
    /// Stage names to verify; all when empty.
    pub stages: Vec<String>,
    /// Tests run at once.
    pub jobs: usize,
    /// How many times the solution's tests are run (more than 1 hunts for flaky tests).
    pub repeat: usize,
    /// Check stages even if nothing they depend on changed since they last passed.
    pub force: bool,
    /// Run known-bug variants with in-test watchdogs shortened to 1 s (they only have to
    /// fail); `mistakes` runs them with the normal limit, to show the message a learner sees.
    pub short_watchdog: bool,
}

impl Options {
    /// For running versions of one stage outside a full verify (`bug save`, `mistakes`).
    pub fn one_stage(stage: &Stage, short_watchdog: bool) -> Options {
        Options {
            stages: vec![stage.name.clone()],
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            repeat: 1,
            force: true,
            short_watchdog,
        }
    }
}

/// Runs every check; returns whether all passed. Errors are reserved for bad input (an
/// unknown stage) and for failures of the machinery itself.
pub fn run(root: &Path, options: &Options) -> Result<bool> {
    let started = Instant::now();
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

    // Skip what has not changed since it last passed.
    let mut passed = freshness::read_passed(root);
    let toolchain = freshness::toolchain(root);
    let mut todo: Vec<(&Stage, String)> = Vec::new();
    for stage in stages {
        let hash = freshness::inputs_hash(root, stage, &toolchain);
        if !options.force && options.repeat == 1 && passed.get(&stage.dir) == Some(&hash) {
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
        reports.extend(check_all(&course, &todo, options, &mut passed)?);
        freshness::write_passed(root, &passed)?;
    }

    reports.sort_by(|a, b| a.label.cmp(&b.label));
    ui::table(&reports);
    let ok = reports.iter().all(StageReport::ok);
    let elapsed = started.elapsed().as_secs_f64();
    if ok {
        ui::heading(&format!("verify: every check passed ({elapsed:.1}s)"));
    } else {
        ui::heading(&format!(
            "verify: FAILED ({elapsed:.1}s); the failing checks are explained above"
        ));
    }
    Ok(ok)
}

/// Checks the stages of `todo` (each with its inputs' hash): two stages at a time, and one
/// lint run for all beside them. A stage that passes has its hash recorded in `passed`.
fn check_all(
    course: &Course,
    todo: &[(&Stage, String)],
    options: &Options,
    passed: &mut BTreeMap<String, String>,
) -> Result<Vec<StageReport>> {
    let root = &course.root;
    let progress = Progress {
        done: AtomicUsize::new(0),
        total: todo
            .iter()
            .map(|(stage, _)| count_checks(root, stage))
            .sum(),
        print: Mutex::new(()),
    };
    let stages: Vec<&Stage> = todo.iter().map(|(stage, _)| *stage).collect();
    let (lint, checked) = std::thread::scope(|scope| {
        let lint = scope.spawn(|| lint::lint_all(root, &stages));
        let lanes = options.jobs.clamp(1, 2);
        let checked = runner::run_parallel(stages.clone(), lanes, |stage| {
            verify_stage(course, stage, options, &progress)
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
        if report.ok() {
            passed.insert(stage.dir.clone(), hash.clone());
        } else {
            passed.remove(&stage.dir);
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

/// Counts finished checks across the stages running at once, and prints each as it ends.
struct Progress {
    done: AtomicUsize,
    total: usize,
    print: Mutex<()>,
}

/// The outcome of every check of one stage.
#[derive(Debug)]
pub struct StageReport {
    pub label: String,
    pub checks: Vec<Check>,
    /// Not checked: its inputs are what they were when it last passed.
    pub skipped: bool,
    /// rustfmt's complaints about patched files, folded into the lint check.
    patched_fmt: String,
}

#[derive(Debug)]
pub struct Check {
    /// The column this check belongs to: files, stub, solution, bugs, alts or lint.
    pub column: &'static str,
    pub ok: bool,
}

impl StageReport {
    fn new(stage: &Stage) -> StageReport {
        StageReport {
            label: format!("{:02} {}", stage.order, stage.name),
            checks: Vec::new(),
            skipped: false,
            patched_fmt: String::new(),
        }
    }

    fn broken(dir: &str, _problem: &str) -> StageReport {
        StageReport {
            label: dir.to_owned(),
            checks: vec![Check {
                column: "files",
                ok: false,
            }],
            skipped: false,
            patched_fmt: String::new(),
        }
    }

    pub fn ok(&self) -> bool {
        self.checks.iter().all(|check| check.ok)
    }

    /// "ok", "FAIL", "3/4" (for columns with several checks), "-" (not run) or "same"
    /// (skipped: unchanged since it last passed).
    pub fn cell(&self, column: &str) -> String {
        if self.skipped {
            return "same".to_owned();
        }
        let checks: Vec<&Check> = self.checks.iter().filter(|c| c.column == column).collect();
        let passed = checks.iter().filter(|c| c.ok).count();
        match (column, checks.len()) {
            (_, 0) => "-".to_owned(),
            ("bugs" | "alts", n) => format!("{passed}/{n}"),
            (_, n) if passed == n => "ok".to_owned(),
            _ => "FAIL".to_owned(),
        }
    }

    fn record(
        &mut self,
        column: &'static str,
        ok: bool,
        what: &str,
        detail: &str,
        progress: &Progress,
    ) {
        let done = progress.done.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let _guard = progress.print.lock().unwrap_or_else(|e| e.into_inner());
            let total = progress.total.max(done);
            ui::line(
                &format!("[{done:>3}/{total}] {} {column}", self.label),
                ok,
                what,
                detail,
            );
        }
        self.checks.push(Check { column, ok });
    }
}

/// How many checks `verify_stage` will record for `stage` (for the progress count).
fn count_checks(root: &Path, stage: &Stage) -> usize {
    let variants: usize = [Kind::Bug, Kind::Alternative]
        .into_iter()
        .map(|kind| {
            variant::load_all(root, stage, kind)
                .iter()
                .filter(|v| v.is_ok())
                .count()
        })
        .sum();
    // files, stub, solution, names, gate, lint
    6 + variants
}

fn verify_stage(
    course: &Course,
    stage: &Stage,
    options: &Options,
    progress: &Progress,
) -> Result<StageReport> {
    let root = &course.root;
    let mut report = StageReport::new(stage);

    // 1. files
    let (variants, problems) = check_files(root, stage);
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
    let stub = scratch::read_sources(&stage.exercise_dir(root));
    let solution = scratch::read_sources(&stage.solution_dir(root));
    let (Ok(stub), Ok(solution)) = (stub, solution) else {
        return Ok(report);
    };
    let scratch = stage_scratch(root, stage)?;

    // 2. stub
    check_stub(&scratch, stage, &stub, options, &mut report, progress)?;

    // 3. solution
    let tests = check_solution(&scratch, stage, &solution, options, &mut report, progress)?;
    check_names(
        root,
        stage,
        tests.as_deref(),
        &variants,
        &mut report,
        progress,
    );
    check_gradable(stage, &solution, &variants, &mut report, progress);

    // 4. bugs and 5. alternatives: all built at once where they can be
    let ordered: Vec<&Variant> = variants
        .iter()
        .filter(|v| v.kind == Kind::Bug)
        .chain(variants.iter().filter(|v| v.kind == Kind::Alternative))
        .collect();
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

/// The scratch copy one stage's versions are built in: its own copy of the course (so stages
/// can run at once), and the target directory every stage shares (the dependencies are
/// built once).
pub fn stage_scratch(root: &Path, stage: &Stage) -> Result<Scratch> {
    let mut scratch = Scratch::prepare(root, &format!("verify/{}", stage.dir))?;
    scratch.target_dir = root.join("target/xtask/verify/target");
    Ok(scratch)
}

/// The grader's source gate must accept the reference and every alternative: a correct design
/// that the grader would refuse is not an alternative a learner can submit.
fn check_gradable(
    stage: &Stage,
    solution: &scratch::Sources,
    variants: &[Variant],
    report: &mut StageReport,
    progress: &Progress,
) {
    let policy = crate::gate::Policy {
        allow_unsafe: stage.allow_unsafe,
    };
    let mut refused = Vec::new();
    for (name, sources) in std::iter::once(("the reference".to_owned(), Ok(solution.clone())))
        .chain(
            variants
                .iter()
                .filter(|v| v.kind == Kind::Alternative)
                .map(|v| (v.label(), v.apply(solution))),
        )
    {
        let Ok(sources) = sources else { continue };
        for found in crate::gate::source::check(&sources, policy) {
            refused.push(format!("{name}: {found}"));
        }
    }
    report.record(
        "files",
        refused.is_empty(),
        if refused.is_empty() {
            "the grader's gate accepts the reference and every alternative"
        } else {
            "the grader's gate would refuse a correct version"
        },
        &refused.join("\n"),
        progress,
    );
}

/// Names the declaration and the variants use must be tests; the grader's scan of the test
/// files must agree with what the binaries list.
fn check_names(
    root: &Path,
    stage: &Stage,
    tests: Option<&[TestId]>,
    variants: &[Variant],
    report: &mut StageReport,
    progress: &Progress,
) {
    let Some(tests) = tests else {
        report.record(
            "files",
            false,
            "test names not checked: the solution did not build",
            "",
            progress,
        );
        return;
    };
    let mut unknown = Vec::new();
    for id in stage.weights.keys() {
        if !tests.iter().any(|t| t.to_string() == *id) {
            unknown.push(format!("[weights] names `{id}`, which is not a test"));
        }
    }
    for variant in variants {
        for id in &variant.caught_by {
            if !tests.contains(id) {
                unknown.push(format!(
                    "{} names `{id}`, which is not a test",
                    variant.label()
                ));
            }
        }
    }
    // The grader reads the expected tests from the test files (it needs them even when a
    // submission does not compile); that reading must agree with what the binaries list.
    let scanned: BTreeSet<TestId> = testscan::scan(&stage.exercise_dir(root))
        .into_iter()
        .collect();
    let listed: BTreeSet<TestId> = tests.iter().cloned().collect();
    for id in scanned.symmetric_difference(&listed) {
        unknown.push(format!(
            "`{id}`: the grader's scan of tests/*.rs and the test binaries disagree (keep \
             #[test] functions at the top level of the test files)"
        ));
    }
    if unknown.is_empty() {
        report.record(
            "files",
            true,
            "every test named in [weights] and caught-by exists",
            "",
            progress,
        );
    } else {
        report.record(
            "files",
            false,
            "names that match no test",
            &unknown.join("\n"),
            progress,
        );
    }
}

/// Everything a stage must ship. Returns the variants that loaded, and the problems.
fn check_files(root: &Path, stage: &Stage) -> (Vec<Variant>, Vec<String>) {
    let mut problems = Vec::new();
    let exercise = stage.exercise_dir(root);
    let solution = stage.solution_dir(root);

    if !exercise.join("README.md").is_file() {
        problems.push(format!("exercises/{}/README.md is missing", stage.dir));
    }
    match fs::read_to_string(exercise.join(&stage.hints)) {
        Ok(text) => {
            if let Err(problem) = check_hints(&text) {
                problems.push(format!(
                    "exercises/{}/{}: {problem}",
                    stage.dir, stage.hints
                ));
            }
        }
        Err(_) => problems.push(format!(
            "exercises/{}/{} is missing",
            stage.dir, stage.hints
        )),
    }
    let test_files = rust_files(&exercise.join("tests"));
    if test_files.is_empty() {
        problems.push(format!("exercises/{}/tests/ has no test files", stage.dir));
    }
    if !scratch::read_sources(&exercise)
        .map(|src| {
            src.values()
                .any(|f| String::from_utf8_lossy(f).contains("todo!("))
        })
        .unwrap_or(false)
    {
        problems.push(format!(
            "exercises/{}/src has no todo!(): the stub should leave the work to the learner",
            stage.dir
        ));
    }
    if let Err(err) = check_manifests(root, stage, &test_files) {
        problems.push(format!("{err:#}"));
    }

    let mut variants = Vec::new();
    for kind in [Kind::Bug, Kind::Alternative] {
        for loaded in variant::load_all(root, stage, kind) {
            match loaded {
                Ok(variant) => variants.push(variant),
                Err(err) => problems.push(format!("{err:#}")),
            }
        }
    }
    if !solution.join("src").is_dir() {
        problems.push(format!("solutions/{}/src is missing", stage.dir));
    }
    (variants, problems)
}

/// Hints are `## Hint 1: ...`, `## Hint 2: ...`, numbered from 1 without gaps.
pub fn check_hints(text: &str) -> Result<usize, String> {
    let mut count = 0;
    for line in text.lines().filter(|l| l.starts_with("## ")) {
        let expected = format!("## Hint {}:", count + 1);
        if !line.starts_with(&expected) {
            return Err(format!(
                "expected a heading `{expected} <title>`, found `{line}`"
            ));
        }
        count += 1;
    }
    if count == 0 {
        return Err("no hints (headings `## Hint 1: <title>`, `## Hint 2: ...`)".to_owned());
    }
    Ok(count)
}

/// The exercise package is named as declared; the solution package is named as declared, has
/// the exercise's library name, and runs exactly the exercise's test files.
fn check_manifests(root: &Path, stage: &Stage, test_files: &[String]) -> Result<()> {
    let read = |path: PathBuf| -> Result<toml::Table> {
        let text =
            fs::read_to_string(&path).with_context(|| format!("{} is missing", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
    };
    let exercise = read(stage.exercise_dir(root).join("Cargo.toml"))?;
    let solution = read(stage.solution_dir(root).join("Cargo.toml"))?;
    let package_name = |manifest: &toml::Table| -> Option<String> {
        manifest
            .get("package")?
            .get("name")?
            .as_str()
            .map(str::to_owned)
    };
    let lib_name = |manifest: &toml::Table| -> Option<String> {
        let explicit = manifest.get("lib").and_then(|lib| lib.get("name"));
        match explicit {
            Some(name) => name.as_str().map(str::to_owned),
            None => package_name(manifest).map(|name| name.replace('-', "_")),
        }
    };
    let mut problems = Vec::new();
    if package_name(&exercise).as_deref() != Some(stage.name.as_str()) {
        problems.push(format!(
            "exercises/{}/Cargo.toml: the package must be named `{}` (exercise.toml `name`)",
            stage.dir, stage.name
        ));
    }
    if package_name(&solution).as_deref() != Some(stage.solution.as_str()) {
        problems.push(format!(
            "solutions/{}/Cargo.toml: the package must be named `{}` (exercise.toml `solution`)",
            stage.dir, stage.solution
        ));
    }
    if lib_name(&exercise) != lib_name(&solution) {
        problems.push(format!(
            "solutions/{}/Cargo.toml: [lib] name must be `{}`, the exercise's library name, so \
             the shared tests can `use` it",
            stage.dir,
            lib_name(&exercise).unwrap_or_default()
        ));
    }
    let declared: BTreeSet<(String, String)> = solution
        .get("test")
        .and_then(|t| t.as_array())
        .map(|tests| {
            tests
                .iter()
                .filter_map(|t| Some((t.get("name")?.as_str()?, t.get("path")?.as_str()?)))
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let expected: BTreeSet<(String, String)> = test_files
        .iter()
        .filter(|file| {
            !stage
                .overlay_only
                .contains(&file.trim_end_matches(".rs").to_owned())
        })
        .map(|file| {
            let name = file.trim_end_matches(".rs").to_owned();
            (name, format!("../../exercises/{}/tests/{file}", stage.dir))
        })
        .collect();
    if declared != expected {
        let mut text = format!(
            "solutions/{}/Cargo.toml must run exactly the exercise's test files (except \
             `overlay_only` ones); add or fix:",
            stage.dir
        );
        for (name, path) in expected.difference(&declared) {
            let _ = write!(
                text,
                "\n    [[test]]\n    name = \"{name}\"\n    path = \"{path}\""
            );
        }
        for (name, _) in declared.difference(&expected) {
            let _ = write!(text, "\n    (remove [[test]] `{name}`: no such test file)");
        }
        problems.push(text);
    }
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn check_stub(
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
fn check_solution(
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
fn failures(run: &Run, repeat: usize) -> String {
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
fn check_variant(
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

fn column(variant: &Variant) -> &'static str {
    match variant.kind {
        Kind::Bug => "bugs",
        Kind::Alternative => "alts",
    }
}

fn record_compile_error(
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
fn judge_alternative(
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
fn judge_bug(
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
fn check_batched(
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

/// `cargo xtask bug save` checks the one variant it wrote: applies, builds, caught (or, for an
/// alternative, passes everything).
pub fn verify_variant(root: &Path, stage: &Stage, variant: &Variant) -> Result<bool> {
    let options = Options::one_stage(stage, true);
    let progress = Progress {
        done: AtomicUsize::new(0),
        total: 1,
        print: Mutex::new(()),
    };
    let solution = scratch::read_sources(&stage.solution_dir(root))?;
    let scratch = stage_scratch(root, stage)?;
    let mut report = StageReport::new(stage);
    check_variant(
        &scratch,
        stage,
        &solution,
        variant,
        &options,
        &mut report,
        &progress,
    )?;
    if !report.patched_fmt.is_empty() {
        ui::detail(&format!(
            "rustfmt --check on the patched files (format your edit):\n{}",
            report.patched_fmt
        ));
    }
    Ok(report.ok() && report.patched_fmt.is_empty())
}

fn rust_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
