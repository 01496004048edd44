//! `cargo xtask verify`: the course checks itself.
//!
//! For each stage, in order:
//!
//! 1. **files**: the declaration, README, hints, tests and solution are all there, and the
//!    solution package runs exactly the exercise's test files.
//! 2. **stub**: the exercise as shipped compiles without warnings, and every test fails on it
//!    (a test that passes on the stub checks nothing).
//! 3. **solution**: with the reference `src/` swapped in, every test passes.
//! 4. **bugs**: with each known-bug variant swapped in, the tests it names fail.
//! 5. **lint**: clippy `-D warnings` and rustfmt are clean on the solution, the stub, the tests
//!    and the bug variants.
//!
//! Versions are swapped in a scratch copy of the course (see `scratch.rs`); every test runs in
//! its own process under the stage's timeout (see `runner.rs`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cargo;
use crate::course::{BugVariant, Course, Stage, TestId};
use crate::runner::{self, TestEnv, TestResult};
use crate::scratch::{self, Scratch, Sources};
use crate::testscan;
use crate::ui;

#[derive(Debug, Clone)]
pub struct Options {
    /// Stage names to verify; all when empty.
    pub stages: Vec<String>,
    /// Tests run at once.
    pub jobs: usize,
    /// How many times the solution's tests are run (more than 1 hunts for flaky tests).
    pub repeat: usize,
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

    let scratch = Scratch::prepare(root, "verify")?;
    for stage in stages {
        ui::stage(
            stage.order,
            &stage.name,
            &format!("{} ({} points)", stage.title, stage.points),
        );
        reports.push(verify_stage(&course, &scratch, stage, options)?);
    }

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

/// The outcome of every check of one stage.
#[derive(Debug)]
pub struct StageReport {
    pub label: String,
    pub checks: Vec<Check>,
}

#[derive(Debug)]
pub struct Check {
    /// The column this check belongs to: files, stub, solution, bugs or lint.
    pub column: &'static str,
    pub ok: bool,
}

impl StageReport {
    fn broken(dir: &str, _problem: &str) -> StageReport {
        StageReport {
            label: dir.to_owned(),
            checks: vec![Check {
                column: "files",
                ok: false,
            }],
        }
    }

    pub fn ok(&self) -> bool {
        self.checks.iter().all(|check| check.ok)
    }

    /// "ok", "FAIL", "3/4" (for columns with several checks) or "-" (not run).
    pub fn cell(&self, column: &str) -> String {
        let checks: Vec<&Check> = self.checks.iter().filter(|c| c.column == column).collect();
        let passed = checks.iter().filter(|c| c.ok).count();
        match (column, checks.len()) {
            (_, 0) => "-".to_owned(),
            ("bugs", n) => format!("{passed}/{n}"),
            (_, n) if passed == n => "ok".to_owned(),
            _ => "FAIL".to_owned(),
        }
    }

    fn record(&mut self, column: &'static str, ok: bool, what: &str, detail: &str) {
        ui::line(column, ok, what, detail);
        self.checks.push(Check { column, ok });
    }
}

fn verify_stage(
    course: &Course,
    scratch: &Scratch,
    stage: &Stage,
    options: &Options,
) -> Result<StageReport> {
    let root = &course.root;
    let mut report = StageReport {
        label: format!("{:02} {}", stage.order, stage.name),
        checks: Vec::new(),
    };

    // 1. files
    let (bugs, problems) = check_files(root, stage);
    let files_ok = problems.is_empty();
    report.record(
        "files",
        files_ok,
        if files_ok {
            "declaration, README, hints, tests, solution and bug headers are in place"
        } else {
            "the stage is incomplete"
        },
        &problems.join("\n"),
    );
    let stub = scratch::read_sources(&stage.exercise_dir(root));
    let solution = scratch::read_sources(&stage.solution_dir(root));
    let (Ok(stub), Ok(solution)) = (stub, solution) else {
        return Ok(report);
    };

    // 2. stub
    check_stub(scratch, stage, &stub, options, &mut report)?;

    // 3. solution
    let tests = check_solution(scratch, stage, &solution, options, &mut report)?;

    // Names the declaration and the bug headers use must exist.
    if let Some(tests) = &tests {
        let mut unknown = Vec::new();
        for id in stage.weights.keys() {
            if !tests.iter().any(|t| t.to_string() == *id) {
                unknown.push(format!("[weights] names `{id}`, which is not a test"));
            }
        }
        for bug in &bugs {
            for id in &bug.caught_by {
                if !tests.contains(id) {
                    unknown.push(format!(
                        "bugs/{}.rs names `{id}`, which is not a test",
                        bug.name
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
        if !unknown.is_empty() {
            report.record(
                "files",
                false,
                "names that match no test",
                &unknown.join("\n"),
            );
        }
    }

    // 4. bugs
    for bug in &bugs {
        check_bug(scratch, stage, &solution, bug, options, &mut report)?;
    }

    // 5. lint
    check_lint(root, stage, &bugs, &mut report)?;
    Ok(report)
}

/// Everything a stage must ship. Returns the bug variants that loaded, and the problems.
fn check_files(root: &Path, stage: &Stage) -> (Vec<BugVariant>, Vec<String>) {
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

    let mut bugs = Vec::new();
    for bug in stage.bugs(root) {
        match bug {
            Ok(bug) => bugs.push(bug),
            Err(err) => problems.push(format!("{err:#}")),
        }
    }
    if !solution.join("src").is_dir() {
        problems.push(format!("solutions/{}/src is missing", stage.dir));
    }
    (bugs, problems)
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
) -> Result<()> {
    let Some(run) = build_and_run(scratch, stage, stub, None, 1, options)? else {
        report.record("stub", false, "does not compile", "");
        return Ok(());
    };
    if !run.warnings.is_empty() {
        report.record(
            "stub",
            false,
            "compiles with warnings (learners would see them from the first minute)",
            &run.warnings.join("\n"),
        );
    }
    let passing: Vec<&TestResult> = run.results.iter().filter(|r| r.status.passed()).collect();
    let total = run.results.len();
    if total == 0 {
        report.record("stub", false, "has no tests", "");
    } else if passing.is_empty() {
        report.record(
            "stub",
            true,
            &format!("every test fails on the stub ({total} of {total})"),
            "",
        );
    } else {
        let names: Vec<String> = passing.iter().map(|r| r.id.to_string()).collect();
        report.record(
            "stub",
            false,
            &format!(
                "{} of {total} tests pass on the stub: a test that passes without the learner's \
                 work checks nothing",
                passing.len()
            ),
            &names.join("\n"),
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
) -> Result<Option<Vec<TestId>>> {
    let Some(run) = build_and_run(scratch, stage, solution, None, options.repeat, options)? else {
        report.record("solution", false, "does not compile", "");
        return Ok(None);
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
        );
    } else {
        let mut detail = String::new();
        for (result, failed) in run.results.iter().zip(&run.failures) {
            if result.status.passed() {
                continue;
            }
            let flaky = if *failed < options.repeat {
                format!(", FLAKY: failed {failed} of {} runs", options.repeat)
            } else {
                String::new()
            };
            let _ = writeln!(detail, "{} ({}{flaky})", result.id, result.status.label());
            for line in result.message.lines() {
                let _ = writeln!(detail, "    {line}");
            }
        }
        report.record(
            "solution",
            false,
            &format!("{} of {total} tests do not pass", failing.len()),
            detail.trim_end(),
        );
    }
    Ok(Some(run.results.into_iter().map(|r| r.id).collect()))
}

fn check_bug(
    scratch: &Scratch,
    stage: &Stage,
    solution: &Sources,
    bug: &BugVariant,
    options: &Options,
    report: &mut StageReport,
) -> Result<()> {
    let sources = match scratch::bug_sources(solution, bug) {
        Ok(sources) => sources,
        Err(err) => {
            report.record("bugs", false, &bug.name, &format!("{err:#}"));
            return Ok(());
        }
    };
    let Some(run) = build_and_run(scratch, stage, &sources, Some(&bug.caught_by), 1, options)?
    else {
        report.record(
            "bugs",
            false,
            &format!("{}: does not compile", bug.name),
            "a bug variant must compile, so that a test (not the compiler) catches it",
        );
        return Ok(());
    };
    let missed: Vec<String> = bug
        .caught_by
        .iter()
        .filter(|id| {
            run.results
                .iter()
                .find(|r| &r.id == *id)
                .is_none_or(|r| r.status.passed())
        })
        .map(ToString::to_string)
        .collect();
    if missed.is_empty() {
        let how: Vec<String> = run
            .results
            .iter()
            .map(|r| format!("{} ({})", r.id, r.status.label()))
            .collect();
        report.record(
            "bugs",
            true,
            &format!("{}: caught by {}", bug.name, how.join(", ")),
            "",
        );
    } else {
        report.record(
            "bugs",
            false,
            &format!("{}: NOT caught ({})", bug.name, bug.description),
            &format!(
                "these tests pass with the bug in place:\n{}",
                missed.join("\n")
            ),
        );
    }
    Ok(())
}

fn check_lint(
    root: &Path,
    stage: &Stage,
    bugs: &[BugVariant],
    report: &mut StageReport,
) -> Result<()> {
    let (clippy_ok, clippy_out) = cargo::run_checked(
        root,
        &[
            "clippy",
            "--locked",
            "--quiet",
            "-p",
            &stage.solution,
            "-p",
            &stage.name,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    let (fmt_ok, fmt_out) = cargo::run_checked(
        root,
        &[
            "fmt",
            "-p",
            &stage.solution,
            "-p",
            &stage.name,
            "--check",
            "--",
            "--color",
            "never",
        ],
    )?;
    let mut rustfmt = cargo::rustfmt();
    rustfmt.args(["--check", "--edition", "2024", "--color", "never"]);
    rustfmt.args(bugs.iter().map(|bug| &bug.path));
    let (bugs_fmt_ok, bugs_fmt_out) = if bugs.is_empty() {
        (true, String::new())
    } else {
        let out = runner::run(rustfmt, std::time::Duration::from_secs(120))?;
        (out.exit == runner::Exit::Code(0), out.stdout + &out.stderr)
    };
    let ok = clippy_ok && fmt_ok && bugs_fmt_ok;
    let mut detail = String::new();
    if !clippy_ok {
        let _ = writeln!(detail, "cargo clippy -D warnings:\n{clippy_out}");
    }
    if !fmt_ok {
        let _ = writeln!(detail, "cargo fmt --check (run `cargo fmt`):\n{fmt_out}");
    }
    if !bugs_fmt_ok {
        let _ = writeln!(detail, "rustfmt --check on bugs/:\n{bugs_fmt_out}");
    }
    report.record(
        "lint",
        ok,
        if ok {
            "clippy -D warnings and rustfmt are clean"
        } else {
            "lint failed"
        },
        detail.trim_end(),
    );
    Ok(())
}

/// What one version of a stage did: its warnings and every test's result.
struct Run {
    warnings: Vec<String>,
    results: Vec<TestResult>,
    /// Per result: in how many of the runs the test did not pass.
    failures: Vec<usize>,
}

/// Installs `sources` as the stage's `src/`, builds its tests (only the targets of `only`, if
/// given) and runs them `repeat` times, each in its own process. `None` if it did not compile;
/// the compile errors are printed. With repeats, each test's result is its first failure (if
/// any), and `failures` counts the runs that did not pass.
fn build_and_run(
    scratch: &Scratch,
    stage: &Stage,
    sources: &Sources,
    only: Option<&[TestId]>,
    repeat: usize,
    options: &Options,
) -> Result<Option<Run>> {
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
        ui::detail(&text);
        return Ok(None);
    }

    let target_dir = scratch.target_dir.display().to_string();
    let mut env = TestEnv::new(&scratch.root, &package_dir, &stage.name)
        .with("CARGO_TARGET_DIR", &target_dir);
    if only.is_some() {
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
    Ok(Some(Run {
        warnings: build.warnings_of(&manifest),
        results,
        failures,
    }))
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
