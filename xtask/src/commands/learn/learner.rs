//! The learner's commands: where do I stand, what next, run my tests, a hint, start over,
//! show me the answer (once I have earned it). Where a stage stands: `course/standing.rs`.

use std::fs;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use super::args::{HintArgs, ResetArgs, RunArgs, SolutionArgs, StageArg};
use crate::course::TestId;
use crate::course::points;
use crate::course::pristine;
use crate::course::progress::{self, Progress, Results};
use crate::course::standing::{State, next_stage, pick, state};
use crate::course::testscan;
use crate::course::{Course, Stage};
use crate::exec::cargo;
use crate::exec::interrupt;
use crate::exec::runner::{self, Status, TestEnv, TestResult};
use crate::files;
use crate::outcome::Outcome;
use crate::ui;

/// One stage's standing, derived from its sources and last results.
struct Standing {
    state: State,
    passed: usize,
    total: usize,
    points: f64,
    /// (part, passed, total, points) in file order.
    parts: Vec<(String, usize, usize, f64)>,
}

fn standing(root: &Path, stage: &Stage, progress: &Progress) -> Standing {
    let expected = testscan::scan(&stage.exercise_dir(root));
    let results = Results::load(root, &stage.name).unwrap_or_default();
    let passed_fn = |id: &TestId| results.passed(&id.to_string());
    let mut parts: Vec<(String, usize, usize, f64)> = Vec::new();
    for id in &expected {
        if parts.last().is_none_or(|p| p.0 != id.target) {
            let in_part = |t: &TestId| t.target == id.target;
            let earned = points::earned_cents(stage, &expected, in_part, passed_fn);
            let passed = expected
                .iter()
                .filter(|t| in_part(t) && passed_fn(t))
                .count();
            let total = expected.iter().filter(|t| in_part(t)).count();
            parts.push((id.target.clone(), passed, total, points::from_cents(earned)));
        }
    }
    Standing {
        state: state(root, stage, progress),
        passed: expected.iter().filter(|t| passed_fn(t)).count(),
        total: expected.len(),
        points: points::earned(stage, &expected, passed_fn),
        parts,
    }
}

/// `cargo xtask` / `cargo xtask status`.
pub fn status(root: &Path) -> Result<Outcome> {
    table(root, false)
}

/// `cargo xtask list`: every stage and each of its parts.
pub fn list(root: &Path) -> Result<Outcome> {
    table(root, true)
}

fn table(root: &Path, with_parts: bool) -> Result<Outcome> {
    let course = Course::load(root)?;
    let progress = Progress::load(root);
    ui::heading("async-from-scratch: where you stand\n");
    println!(
        "  {:>2}  {:<24} {:<19} {:>7}  {:>9}",
        "#", "stage / part", "status", "tests", "points"
    );
    let mut any_results = false;
    for stage in &course.stages {
        let standing = standing(root, stage, &progress);
        any_results |= Results::load(root, &stage.name).is_some();
        let tests = if standing.state == State::NotStarted {
            String::new()
        } else {
            format!("{}/{}", standing.passed, standing.total)
        };
        let line = format!(
            "  {:>2}  {:<24} {:<19} {:>7}  {:>9}",
            stage.order,
            stage.name,
            standing.state.label(),
            tests,
            format!(
                "{}/{}",
                points::show(standing.points),
                points::show(stage.points)
            )
        );
        println!(
            "{}",
            if standing.state == State::Done {
                ui::green(&line)
            } else {
                line
            }
        );
        if with_parts {
            for (number, (part, passed, total, earned)) in standing.parts.iter().enumerate() {
                let label = if passed == total {
                    "passes"
                } else if *passed > 0 {
                    "partly"
                } else {
                    ""
                };
                println!(
                    "      {:<24} {:<19} {:>7}  {:>9}",
                    format!("{}. {part}", number + 1),
                    label,
                    format!("{passed}/{total}"),
                    points::show(*earned)
                );
            }
        }
    }
    if !progress.existed && any_results {
        println!(
            "\n(No {} here: the hints you had revealed are forgotten and start again at hint 1. \
             Status and points come from your last results in {}/, which are kept.)",
            progress::FILE,
            progress::RESULTS_DIR
        );
    }
    match next_stage(root, &course, &progress) {
        Some(stage) => {
            println!(
                "\nNext: stage {} — {}\n  read   cargo xtask readme {}\n  then   cargo xtask run {}     \
                 (or `cargo xtask watch` to re-run on every save)\n  stuck? cargo xtask hint {}",
                stage.order, stage.title, stage.name, stage.name, stage.name
            );
        }
        None => println!("\n{}", ui::green("Every stage is done. Well built!")),
    }
    Ok(Outcome::Passed)
}

/// `cargo xtask next`: make the first unfinished stage current and say how to start.
pub fn next(root: &Path) -> Result<Outcome> {
    let course = Course::load(root)?;
    let mut progress = Progress::load(root);
    let Some(stage) = next_stage(root, &course, &progress) else {
        println!("{}", ui::green("Every stage is done. Well built!"));
        return Ok(Outcome::Passed);
    };
    progress.current = Some(stage.name.clone());
    progress.save()?;
    println!(
        "Stage {}: {}\n  read   cargo xtask readme   (exercises/{}/README.md)\n  edit   exercises/{}/src/\n  \
         run    cargo xtask run   (or cargo xtask watch)",
        stage.order, stage.title, stage.dir, stage.dir
    );
    Ok(Outcome::Passed)
}

/// The outcome of running one stage's tests (or some of them).
#[derive(Debug)]
pub struct StageRun {
    pub passed: usize,
    pub total: usize,
    pub compiled: bool,
    /// Whether every test of the stage ran (no part or test was picked).
    pub whole: bool,
    pub points: f64,
    /// Results in the order the tests are written.
    pub results: Vec<TestResult>,
    /// Every part (test target) of the stage, in order, also those not run.
    pub parts: Vec<String>,
    /// Rendered compiler errors (when it did not compile) or warnings of the learner's package.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl StageRun {
    pub fn all_passed(&self) -> bool {
        self.compiled && self.total > 0 && self.passed == self.total
    }
}

/// How `run_stage` reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// A line per finished test, then the summary (the `run` command).
    Lines,
    /// Only a line saying what is running; the caller draws the result (the watch screen).
    Quiet,
}

/// `cargo xtask run [STAGE] [PART|TEST...] [--clippy]`.
pub fn run(root: &Path, args: &RunArgs) -> Result<Outcome> {
    let course = Course::load(root)?;
    let stage = pick(&course, root, args.stage.as_deref())?;
    let run = run_stage(root, stage, &args.tests, Live::Lines)?;
    print_summary(stage, &run);
    if args.clippy {
        run_clippy(root, stage)?;
    }
    Ok(Outcome::of(if run.whole {
        run.all_passed()
    } else {
        run.compiled && run.passed == run.total
    }))
}

/// `--clippy`: the learner's package under clippy, cargo's own rendering.
pub fn run_clippy(root: &Path, stage: &Stage) -> Result<()> {
    println!(
        "\n{}",
        ui::bold("clippy (advice, not part of your points):")
    );
    let (ok, output) = cargo::run_checked(
        root,
        &[
            "clippy",
            "--quiet",
            "--offline",
            "-p",
            &stage.name,
            "--color",
            if ui::colour() { "always" } else { "never" },
        ],
    )?;
    interrupt::check()?;
    let output = output.trim();
    if output.is_empty() && ok {
        println!("  {}", ui::green("no advice: clippy is happy"));
    } else {
        println!("{output}");
    }
    Ok(())
}

/// Which of the listed tests `filters` pick: a part (`part1_countdown`), a test id
/// (`part1_countdown::counts_down`) or a test name (`counts_down`), as cargo test names them.
fn select_tests(
    stage: &Stage,
    jobs: Vec<runner::Listed>,
    filters: &[String],
) -> Result<Vec<runner::Listed>> {
    if filters.is_empty() {
        return Ok(jobs);
    }
    for filter in filters {
        if !jobs.iter().any(|job| matches(job, filter)) {
            let mut candidates: Vec<String> = jobs.iter().map(|j| j.id.to_string()).collect();
            candidates.extend(jobs.iter().map(|j| j.id.target.clone()));
            candidates.dedup();
            let close = candidates
                .iter()
                .map(|c| (strsim::jaro_winkler(filter, c), c))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, c)| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            let mut parts: Vec<&str> = jobs.iter().map(|j| j.id.target.as_str()).collect();
            parts.dedup();
            bail!(
                "{} has no part or test named `{filter}`{close}\nIts parts: {}\n(one stage per run: \
                 `cargo xtask run STAGE [PART|TEST]...`)",
                stage.name,
                parts.join(", ")
            );
        }
    }
    Ok(jobs
        .into_iter()
        .filter(|job| filters.iter().any(|f| matches(job, f)))
        .collect())
}

fn matches(job: &runner::Listed, filter: &str) -> bool {
    let id = job.id.to_string();
    job.id.target == filter
        || id == filter
        || job.id.name == filter
        || id.starts_with(&format!("{filter}::"))
}

/// Builds one stage in the learner's workspace and runs its tests (those `filters` pick),
/// each in its own process with the stage's timeout, so a hang is reported, never a frozen
/// terminal. Records each outcome in the stage's results as it comes; on Ctrl-C, saves what
/// finished and returns `Interrupted`.
pub fn run_stage(root: &Path, stage: &Stage, filters: &[String], live: Live) -> Result<StageRun> {
    let mut progress = Progress::load(root);
    progress.current = Some(stage.name.clone());
    progress.save()?;
    println!(
        "\n{} {}  {}",
        ui::bold(&format!("{:02} {}", stage.order, stage.name)),
        stage.title,
        ui::dim("building…")
    );
    let build = cargo::build_tests(root, &root.join("target"), &[stage.name.as_str()], &[], &[]);
    interrupt::check()?;
    let build = build?;
    let package_dir = stage.exercise_dir(root);
    let manifest = package_dir.join("Cargo.toml");
    let src = files::read_sources(&package_dir)?;
    let fingerprint = progress::fingerprint(&src);
    let mut run = StageRun {
        passed: 0,
        total: 0,
        compiled: build.success,
        whole: filters.is_empty(),
        points: 0.0,
        results: Vec::new(),
        parts: Vec::new(),
        errors: Vec::new(),
        warnings: dedup(build.warnings_of(&manifest)),
    };
    if !build.success {
        return record_compile_errors(root, stage, &build, &manifest, fingerprint, run);
    }
    let env = TestEnv::new(root, &package_dir, &stage.name);
    let order = testscan::scan(&package_dir);
    let jobs = list_in_order(&build.binaries_of(&manifest), &package_dir, &env, &order)?;
    for job in &jobs {
        if !run.parts.contains(&job.id.target) {
            run.parts.push(job.id.target.clone());
        }
    }
    let jobs = select_tests(stage, jobs, filters)?;
    let mut results = Results::load(root, &stage.name).unwrap_or_default();
    if results.fingerprint != fingerprint {
        results.done = None;
    }
    results.fingerprint = fingerprint.clone();
    let tests = StageTests {
        stage,
        package_dir: &package_dir,
        env: &env,
        all_ids: &order,
        live,
    };
    let (outcome, mut results) = tests.run(jobs, results);
    if interrupt::requested() {
        results.save(root, &stage.name)?;
        return Err(interrupt::Interrupted.into());
    }
    run.results = outcome?.into_iter().flatten().collect();
    run.passed = run.results.iter().filter(|r| r.status.passed()).count();
    run.total = run.results.len();
    run.points = points::earned(stage, &order, |id| results.passed(&id.to_string()));
    if run.whole {
        results.done = run.all_passed().then(|| fingerprint.clone());
        // Tests that no longer exist are forgotten.
        let listed: Vec<String> = run.results.iter().map(|r| r.id.to_string()).collect();
        results.tests.retain(|(id, _)| listed.contains(id));
    } else if run.passed < run.total {
        results.done = None;
    }
    results.save(root, &stage.name)?;
    Ok(run)
}

/// The stage did not compile: its errors go into `run`, and its results forget "done".
fn record_compile_errors(
    root: &Path,
    stage: &Stage,
    build: &cargo::Build,
    manifest: &Path,
    fingerprint: String,
    mut run: StageRun,
) -> Result<StageRun> {
    let errors = build.errors_of(manifest);
    run.errors = if errors.is_empty() {
        vec![build.stderr.clone()]
    } else {
        dedup(errors)
    };
    let mut results = Results::load(root, &stage.name).unwrap_or_default();
    results.fingerprint = fingerprint;
    results.done = None;
    results.save(root, &stage.name)?;
    Ok(run)
}

/// The tests of `binaries`, in the order the test files write them (the order they teach
/// in), not libtest's.
fn list_in_order(
    binaries: &[&runner::TestBinary],
    package_dir: &Path,
    env: &TestEnv,
    order: &[TestId],
) -> Result<Vec<runner::Listed>> {
    let jobs = runner::list_all(binaries, package_dir, env);
    interrupt::check()?;
    let mut jobs = jobs?;
    jobs.sort_by_key(|job| {
        let position = order
            .iter()
            .position(|o| *o == job.id)
            .unwrap_or(usize::MAX);
        (job.id.target.clone(), position)
    });
    Ok(jobs)
}

/// How one `run_stage` runs its tests and shows them as they finish.
struct StageTests<'a> {
    stage: &'a Stage,
    package_dir: &'a Path,
    env: &'a TestEnv,
    /// Every test the files declare (for the points earned so far).
    all_ids: &'a [TestId],
    live: Live,
}

impl StageTests<'_> {
    /// Runs `jobs` in parallel, recording each outcome in `results` as it comes; a test that
    /// finished after Ctrl-C is `None`.
    fn run(
        &self,
        jobs: Vec<runner::Listed>,
        results: Results,
    ) -> (Result<Vec<Option<TestResult>>>, Results) {
        let results = Mutex::new(results);
        let total = jobs.len();
        let finished = Mutex::new(0usize);
        let jobs_count = runner::cpus();
        let outcome = runner::run_parallel(jobs, jobs_count, |job| {
            if interrupt::requested() {
                return Ok(None);
            }
            let result = runner::run_test(
                job,
                self.package_dir,
                self.env,
                self.stage.timeout_for(&job.id),
            );
            if interrupt::requested() {
                return Ok(None);
            }
            let result = result?;
            let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
            results.record(&result.id.to_string(), result.status.passed());
            let mut finished = finished.lock().unwrap_or_else(|e| e.into_inner());
            *finished += 1;
            self.show(&result, &results, *finished, total);
            Ok(Some(result))
        });
        (
            outcome,
            results.into_inner().unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// One finished test, as `live` asks: a counter, or a line with the points so far.
    fn show(&self, result: &TestResult, results: &Results, finished: usize, total: usize) {
        if self.live == Live::Quiet {
            print!("\r  {} {finished}/{total}", ui::dim("tests run:"));
            let _ = std::io::stdout().flush();
        }
        if self.live == Live::Lines {
            let earned = points::earned(self.stage, self.all_ids, |id| {
                results.passed(&id.to_string())
            });
            println!(
                "  {} {:<56} {}",
                mark(&result.status),
                result.id.to_string(),
                ui::dim(&format!(
                    "[{finished}/{total}] {}/{} points",
                    points::show(earned),
                    points::show(self.stage.points)
                ))
            );
        }
    }
}

fn dedup(mut messages: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    messages.retain(|m| seen.insert(m.clone()));
    messages
}

fn mark(status: &Status) -> String {
    match status {
        Status::Pass => ui::green("ok  "),
        Status::Timeout => ui::red("HANG"),
        Status::Crash(_) => ui::red("CRSH"),
        _ => ui::red("FAIL"),
    }
}

/// After `run`: warnings, progress by part, the first failures' messages, the totals.
pub fn print_summary(stage: &Stage, run: &StageRun) {
    if !run.warnings.is_empty() {
        println!(
            "\n{}",
            ui::bold(&format!("warnings in your code ({}):", run.warnings.len()))
        );
        for warning in &run.warnings {
            println!("{}", warning.trim_end());
        }
    }
    if !run.compiled {
        println!("{}", ui::red("  does not compile yet:"));
        for error in &run.errors {
            println!("{}", error.trim_end());
        }
        return;
    }
    let parts = by_part(&run.results);
    println!();
    for (part, results) in &parts {
        let passed = results.iter().filter(|r| r.status.passed()).count();
        let line = format!(
            "  {}: {part}  {passed}/{} tests",
            part_label(run, part),
            results.len()
        );
        println!(
            "{}",
            if passed == results.len() {
                ui::green(&line)
            } else {
                line
            }
        );
    }
    const FULL: usize = 3;
    let failures: Vec<&TestResult> = run.results.iter().filter(|r| !r.status.passed()).collect();
    for result in failures.iter().take(FULL) {
        println!(
            "\n  {} {}",
            mark(&result.status),
            ui::bold(&result.id.to_string())
        );
        ui::detail(&result.message);
    }
    if failures.len() > FULL {
        println!("\n  (messages of the first {FULL} failures shown; fix those first)");
    }
    let score = format!(
        "{}/{} points",
        points::show(run.points),
        points::show(stage.points)
    );
    if run.whole && run.all_passed() {
        println!(
            "\n{}",
            ui::green(&format!(
                "  all {} tests pass: stage {} is done! ({score})",
                run.total, stage.order
            ))
        );
    } else {
        println!("\n  {} of {} tests pass · {score}", run.passed, run.total);
    }
}

/// `part 2 of 4`, counting every part of the stage.
pub fn part_label(run: &StageRun, part: &str) -> String {
    let number = run
        .parts
        .iter()
        .position(|p| p == part)
        .map_or(0, |i| i + 1);
    format!("part {number} of {}", run.parts.len())
}

/// Results grouped by test target (part), in order.
pub fn by_part(results: &[TestResult]) -> Vec<(String, Vec<&TestResult>)> {
    let mut parts: Vec<(String, Vec<&TestResult>)> = Vec::new();
    for result in results {
        match parts.last_mut() {
            Some((part, list)) if *part == result.id.target => list.push(result),
            _ => parts.push((result.id.target.clone(), vec![result])),
        }
    }
    parts
}

/// `cargo xtask readme [STAGE]`.
pub fn readme(root: &Path, args: &StageArg) -> Result<Outcome> {
    let course = Course::load(root)?;
    let stage = pick(&course, root, args.stage.as_deref())?;
    let path = stage.exercise_dir(root).join("README.md");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    print!("{}", ui::markdown(&text));
    Ok(Outcome::Passed)
}

/// `cargo xtask hint [stage] [--again]`: reveal the next hint, remembering how far we got.
pub fn hint(root: &Path, args: &HintArgs) -> Result<Outcome> {
    let again = args.again;
    let course = Course::load(root)?;
    let stage = pick(&course, root, args.stage.as_deref())?;
    let (text, last) = reveal_hint(root, stage, again)?;
    print!("{text}");
    if last {
        println!(
            "That was the last hint. `cargo xtask hint {} --again` shows them all.",
            stage.name
        );
    } else {
        println!(
            "Run `cargo xtask hint {}` again for the next one.",
            stage.name
        );
    }
    Ok(Outcome::Passed)
}

/// Reveals the next hint (or, with `again`, every hint revealed so far) and records it before
/// anything is printed. Returns the text and whether it was the last hint.
pub fn reveal_hint(root: &Path, stage: &Stage, again: bool) -> Result<(String, bool)> {
    let text = fs::read_to_string(stage.exercise_dir(root).join(&stage.hints))
        .with_context(|| format!("{} has no hints file", stage.name))?;
    let hints = split_hints(&text);
    if hints.is_empty() {
        bail!(
            "{}'s hints file has no `## Hint 1: ...` sections",
            stage.name
        );
    }
    let mut progress = Progress::load(root);
    let seen = progress.hints.get(&stage.name).copied().unwrap_or(0);
    let (from, to) = if again {
        (1, seen.clamp(1, hints.len()))
    } else {
        let next = (seen + 1).min(hints.len());
        (next, next)
    };
    progress.hints.insert(stage.name.clone(), seen.max(to));
    progress.save()?;
    let mut out = String::new();
    for (number, hint) in hints.iter().enumerate().skip(from - 1).take(to - from + 1) {
        out.push_str(&ui::bold(&format!(
            "Hint {} of {} — {}",
            number + 1,
            hints.len(),
            hint.0
        )));
        out.push('\n');
        out.push_str(hint.1.trim());
        out.push_str("\n\n");
    }
    Ok((out, to >= hints.len()))
}

/// `## Hint N: title` sections: (title, body).
fn split_hints(text: &str) -> Vec<(String, String)> {
    let mut hints: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## Hint ") {
            let title = rest
                .split_once(':')
                .map_or(rest, |(_, t)| t)
                .trim()
                .to_owned();
            hints.push((title, String::new()));
        } else if let Some((_, body)) = hints.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    hints
}

/// `cargo xtask reset <stage> [--yes]`: put the stub back, keeping the learner's version.
pub fn reset(root: &Path, args: &ResetArgs) -> Result<Outcome> {
    let yes = args.yes;
    let course = Course::load(root)?;
    let stage = pick(&course, root, args.stage.as_deref())?;
    let crate_root = stage.exercise_dir(root);
    let stub = pristine::sources(root, stage)?;
    let mine = files::read_sources(&crate_root).unwrap_or_default();
    if mine == stub {
        println!(
            "exercises/{}/src is already the stub; nothing to do.",
            stage.dir
        );
        return Ok(Outcome::Passed);
    }
    if !yes {
        print!(
            "Put exercises/{}/src back to the stub it started as? [y/N] ",
            stage.dir
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return Ok(Outcome::Passed);
        }
    }
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let backup = root
        .join(".course")
        .join("backups")
        .join(format!("{}-{stamp}", stage.dir));
    files::write_tree(&backup, &mine)?;
    fs::remove_dir_all(crate_root.join("src")).context("cannot remove the old src/")?;
    files::write_tree(&crate_root, &stub)?;
    let forgot = Results::remove(root, &stage.name);
    let relative = backup.strip_prefix(root).unwrap_or(&backup);
    println!(
        "Copied your exercises/{dir}/src to {}/.\nRestored exercises/{dir}/src to the stub ({} \
         file(s)).{}",
        relative.display(),
        stub.len(),
        if forgot {
            format!(
                "\nForgot {}'s last results ({}/{}); revealed hints are kept.",
                stage.name,
                progress::RESULTS_DIR,
                stage.name
            )
        } else {
            String::new()
        },
        dir = stage.dir
    );
    Ok(Outcome::Passed)
}

/// `cargo xtask solution <stage> [--force]`: the reference, once the stage passes.
pub fn solution(root: &Path, args: &SolutionArgs) -> Result<Outcome> {
    let force = args.force;
    let course = Course::load(root)?;
    let stage = pick(&course, root, args.stage.as_deref())?;
    let solution_dir = stage.solution_dir(root);
    if !solution_dir.join("src").is_dir() {
        bail!(
            "this repository has no reference solutions (starter repositories never do); ask your \
             instructor"
        );
    }
    let progress = Progress::load(root);
    let instructor = force || std::env::var_os("COURSE_INSTRUCTOR").is_some();
    if !instructor && state(root, stage, &progress) != State::Done {
        println!(
            "The reference solution for {} opens once your own passes: `cargo xtask run {}`.\n\
             (Instructors: add --force, or set COURSE_INSTRUCTOR=1.)",
            stage.name, stage.name
        );
        return Ok(Outcome::Failed);
    }
    for (path, content) in files::read_sources(&solution_dir)? {
        println!(
            "{}",
            ui::bold(&format!("── solutions/{}/{} ──", stage.dir, path.display()))
        );
        println!("{}", String::from_utf8_lossy(&content));
    }
    Ok(Outcome::Passed)
}

/// Printed at the end of a bare `cargo test` at the root (by `xtask/tests/what_cargo_test_ran.rs`,
/// a test target without libtest's harness, so its output is not captured): that run checked
/// the course, not the learner's code, and how to test the learner's code instead.
pub fn cargo_test_note(root: &Path) {
    let first = Course::load(root)
        .ok()
        .and_then(|course| course.stages.first().map(|s| s.name.clone()))
        .unwrap_or_else(|| "manual-poll".to_owned());
    let what = if root.join("solutions").is_dir() {
        "the COURSE's own checks: the harness, xtask\n  and the reference solutions (solutions/*, \
         which run each exercise's test\n  files against the reference code)"
    } else {
        "the course tools' own checks (the harness\n  and xtask); it does not even build exercises/"
    };
    let rule = "─".repeat(76);
    println!(
        "\n{rule}\n  A bare `cargo test` here ran {what}.\n  \
         None of it tested YOUR code. To test your code in exercises/*/src:\n      \
         cargo xtask run              the current stage (`cargo xtask`: where you stand)\n      \
         cargo test -p {first}\n{rule}"
    );
}
