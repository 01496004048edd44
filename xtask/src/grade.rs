//! `cargo xtask grade`: score a learner's work, test by test.
//!
//! ```text
//! submission ──(only exercises/*/src/**/*.rs)──► scratch copy of the pristine course
//!     │                                              │ cargo build --tests --keep-going (JSON)
//!     └─► integrity: protected files compared        ▼
//!                                           per stage: compile error, or test binaries
//!                                                    │ each test in its own process,
//!                                                    ▼ with the stage's timeout, under a budget
//!                                           Grade (one model) ──► human, json, junit,
//!                                                                 gradescope, classroom, exercism
//! ```
//!
//! Invariants: nothing from the submission but `src/**/*.rs` is ever built or run; the grading
//! workspace has its own target directory (see `scratch.rs`); reports are rewritten after every
//! test, so a report exists whenever the process stops; grading never fails because of what
//! the submission contains (a stage that does not compile is graded as such, the others still
//! are).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;

use crate::cargo;
use crate::course::{Course, Stage, TestId};
use crate::gate;
use crate::integrity::{self, Finding};
use crate::report::{self, Format};
use crate::runner::{self, Status as RunStatus, TestEnv};
use crate::scratch::{Scratch, Sources};
use crate::testscan;

#[derive(Debug, Clone)]
pub struct Options {
    /// The tree to grade; the course's own checkout when `None`.
    pub submission: Option<PathBuf>,
    pub stages: Vec<String>,
    pub formats: Vec<Format>,
    pub out: PathBuf,
    pub jobs: usize,
    /// Tests not started before this much time has passed are graded "not run".
    pub budget: Option<Duration>,
    /// Exit 1 unless every test passes.
    pub require_all: bool,
    /// Build with `--offline` (Gradescope: dependencies were fetched at image build time).
    pub offline: bool,
}

/// The whole result: one model every report format is written from.
#[derive(Debug, Clone, Serialize)]
pub struct Grade {
    pub submission: String,
    pub score: f64,
    pub max_score: f64,
    /// False while tests are still running (reports are written as results come in).
    pub complete: bool,
    /// True if the time budget ran out before every test had run.
    pub budget_exhausted: bool,
    pub elapsed_secs: f64,
    pub stages: Vec<StageGrade>,
    /// Differences between the submission's protected files and the course's. The course's
    /// files were used; these are reported, never silently used.
    pub integrity: Vec<Finding>,
    /// A note on how integrity was checked (or why it was not).
    pub integrity_note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageGrade {
    pub order: u32,
    pub name: String,
    pub title: String,
    pub points: f64,
    pub score: f64,
    /// The compiler's errors, if the stage did not build.
    pub compile_error: Option<String>,
    /// Files of the submission that were not used: anything but `src/**/*.rs`.
    pub refused: Vec<String>,
    /// Code the grader refuses to run (see `gate.rs`); the stage's tests were not run.
    pub violations: Vec<String>,
    pub tests: Vec<TestGrade>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestGrade {
    /// `target::name`.
    pub id: String,
    pub target: String,
    pub name: String,
    pub status: Status,
    pub score: f64,
    pub max_score: f64,
    /// Why it did not pass: the panic message, the time-out, the signal.
    pub message: String,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Timeout,
    Crash,
    CompileError,
    NotRun,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Timeout => "timeout",
            Status::Crash => "crash",
            Status::CompileError => "compile error",
            Status::NotRun => "not run",
        }
    }
}

impl Grade {
    pub fn all_passed(&self) -> bool {
        self.stages
            .iter()
            .all(|s| s.tests.iter().all(|t| t.status == Status::Pass))
    }

    fn rescore(&mut self) {
        for stage in &mut self.stages {
            stage.score = stage.tests.iter().map(|t| t.score).sum();
        }
        self.score = self.stages.iter().map(|s| s.score).sum();
        self.max_score = self.stages.iter().map(|s| s.points).sum();
    }
}

/// Grades and writes the reports. Returns whether the exit code should be 0.
pub fn run(root: &Path, options: &Options) -> Result<bool> {
    let started = Instant::now();
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    ensure!(!stages.is_empty(), "this course has no stages to grade");
    let submission = match &options.submission {
        Some(dir) => dir
            .canonicalize()
            .with_context(|| format!("the submission {} does not exist", dir.display()))?,
        None => root.to_owned(),
    };
    ensure!(
        submission.join("exercises").is_dir(),
        "{} does not look like a copy of this course: it has no exercises/ directory",
        submission.display()
    );
    report::check_formats(&options.formats)?;
    fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;

    // 1. What the submission offers, and what it must not.
    let (integrity, integrity_note) =
        integrity::check(root, &submission, options.submission.is_some());
    let mut grade = Grade {
        submission: submission.display().to_string(),
        score: 0.0,
        max_score: 0.0,
        complete: false,
        budget_exhausted: false,
        elapsed_secs: 0.0,
        stages: Vec::new(),
        integrity,
        integrity_note,
    };
    let scratch = Scratch::prepare(root, "grade")?;
    let mut graded = Vec::new(); // stages whose sources were installed
    let mut violations = gate::Violations::new();
    for stage in &stages {
        let expected = testscan::scan(&stage.exercise_dir(root));
        let mut stage_grade = StageGrade {
            order: stage.order,
            name: stage.name.clone(),
            title: stage.title.clone(),
            points: stage.points,
            score: 0.0,
            compile_error: None,
            refused: Vec::new(),
            violations: Vec::new(),
            tests: expected.iter().map(|id| pending(stage, id)).collect(),
        };
        match submitted_sources(&submission, stage) {
            Ok((sources, refused)) => {
                stage_grade.refused = refused;
                gate::scan(&stage.name, &sources, &mut violations);
                scratch.install(stage, &sources)?;
                graded.push(*stage);
            }
            Err(why) => {
                stage_grade.compile_error = Some(why.clone());
                mark_all(&mut stage_grade, Status::CompileError, &why);
            }
        }
        grade.stages.push(stage_grade);
    }
    grade.rescore();
    report::write_all(&grade, &options.formats, &options.out)?;

    // 2. Build every stage at once; a stage that does not compile does not stop the others.
    let packages: Vec<&str> = graded.iter().map(|s| s.name.as_str()).collect();
    let extra: &[&str] = if options.offline { &["--offline"] } else { &[] };
    let build = if packages.is_empty() {
        cargo::Build::default()
    } else {
        crate::ui::heading(&format!("grade: building {} stage(s)", packages.len()));
        cargo::build_tests(&scratch.root, &scratch.target_dir, &packages, &[], extra)?
    };

    // 3. Refuse code that could forge a result (see gate.rs).
    if !packages.is_empty() {
        let config = scratch.root.with_file_name("gate");
        gate::clippy(
            &scratch.root,
            &scratch.target_dir,
            &config,
            &packages,
            extra,
            &mut violations,
        )?;
    }

    // 4. Collect every test to run.
    let mut jobs = Vec::new();
    for stage in &graded {
        let index = grade
            .stages
            .iter()
            .position(|s| s.name == stage.name)
            .expect("graded");
        if let Some(found) = violations.get(&stage.name) {
            let stage_grade = &mut grade.stages[index];
            stage_grade.violations = found.clone();
            mark_all(
                stage_grade,
                Status::Fail,
                "not run: the submission uses code the grader refuses to run (see violations)",
            );
            continue;
        }
        let package_dir = scratch.exercise_dir(stage);
        let manifest = package_dir.join("Cargo.toml");
        let errors = build.errors_of(&manifest);
        let binaries = build.binaries_of(&manifest);
        if !errors.is_empty() || binaries.is_empty() {
            let mut text = if errors.is_empty() {
                build.stderr.clone()
            } else {
                errors.join("\n")
            };
            text = relativize(&text, &scratch.root);
            let stage_grade = &mut grade.stages[index];
            stage_grade.compile_error = Some(first_lines(&text, 60));
            mark_all(
                stage_grade,
                Status::CompileError,
                "the stage did not compile",
            );
            continue;
        }
        let env = TestEnv::new(&scratch.root, &package_dir, &stage.name).with(
            "CARGO_TARGET_DIR",
            &scratch.target_dir.display().to_string(),
        );
        let listed = runner::list_all(&binaries, &package_dir, &env)?;
        for test in listed {
            let stage_grade = &mut grade.stages[index];
            if !stage_grade
                .tests
                .iter()
                .any(|t| t.id == test.id.to_string())
            {
                // Not found by the scan (a test in a module, say): grade it too.
                stage_grade.tests.push(pending(stage, &test.id));
            }
            jobs.push(Job {
                stage: index,
                timeout: stage.timeout_for(&test.id),
                test,
                cwd: package_dir.clone(),
                env: env.clone(),
            });
        }
        // Expected tests the binaries do not have: the submission cannot rename the course's
        // tests (they are pristine), so this means the build is not what we expected.
        let stage_grade = &mut grade.stages[index];
        for test in &mut stage_grade.tests {
            if !jobs
                .iter()
                .any(|j| j.stage == index && j.test.id.to_string() == test.id)
            {
                test.status = Status::Fail;
                test.message = "this test was not found in the built test binaries".to_owned();
            }
        }
    }
    rebalance(&mut grade, &stages);
    grade.rescore();
    report::write_all(&grade, &options.formats, &options.out)?;

    // 5. Run every test in its own process, within the budget, writing reports as we go.
    let deadline = options.budget.map(|budget| started + budget);
    let state = Mutex::new(grade);
    let out = &options.out;
    let formats = &options.formats;
    runner::run_parallel(jobs, options.jobs, |job| {
        let result = if deadline.is_some_and(|d| Instant::now() >= d) {
            None
        } else {
            Some(runner::run_test(
                &job.test.exe,
                &job.test.id,
                job.test.listed,
                &job.cwd,
                &job.env,
                job.timeout,
            )?)
        };
        let mut grade = state.lock().unwrap_or_else(|e| e.into_inner());
        let id = job.test.id.to_string();
        if let Some(test) = grade.stages[job.stage]
            .tests
            .iter_mut()
            .find(|t| t.id == id)
        {
            apply(test, result.as_ref());
        }
        if result.is_none() {
            grade.budget_exhausted = true;
        }
        grade.rescore();
        grade.elapsed_secs = started.elapsed().as_secs_f64();
        report::write_all(&grade, formats, out)?;
        Ok(())
    })?;
    let mut grade = state.into_inner().unwrap_or_else(|e| e.into_inner());
    grade.complete = true;
    grade.elapsed_secs = started.elapsed().as_secs_f64();
    grade.rescore();
    report::write_all(&grade, &options.formats, &options.out)?;
    report::print_human(&grade, &options.out, &options.formats);
    Ok(!options.require_all || grade.all_passed())
}

struct Job {
    stage: usize,
    test: runner::Listed,
    cwd: PathBuf,
    env: TestEnv,
    timeout: Duration,
}

/// A test not yet run, with its share of the stage's points.
fn pending(stage: &Stage, id: &TestId) -> TestGrade {
    TestGrade {
        id: id.to_string(),
        target: id.target.clone(),
        name: id.name.clone(),
        status: Status::NotRun,
        score: 0.0,
        max_score: stage.weights.get(&id.to_string()).copied().unwrap_or(1.0),
        message: "not run".to_owned(),
        duration_ms: 0,
    }
}

/// Turns weights (stored in `max_score` by `pending`) into shares of the stage's points.
fn rebalance(grade: &mut Grade, stages: &[&Stage]) {
    for (stage_grade, stage) in grade.stages.iter_mut().zip(stages) {
        let total: f64 = stage_grade.tests.iter().map(|t| t.max_score).sum();
        for test in &mut stage_grade.tests {
            test.max_score = if total > 0.0 {
                stage.points * test.max_score / total
            } else {
                0.0
            };
        }
    }
}

fn mark_all(stage: &mut StageGrade, status: Status, message: &str) {
    for test in &mut stage.tests {
        test.status = status;
        test.score = 0.0;
        test.message = message.to_owned();
    }
}

fn apply(test: &mut TestGrade, result: Option<&runner::TestResult>) {
    let Some(result) = result else {
        test.status = Status::NotRun;
        test.message = "not run: the time budget ran out first".to_owned();
        return;
    };
    test.duration_ms = u64::try_from(result.elapsed.as_millis()).unwrap_or(u64::MAX);
    test.message = result.message.clone();
    test.status = match &result.status {
        RunStatus::Pass => Status::Pass,
        RunStatus::Fail => Status::Fail,
        RunStatus::Timeout => Status::Timeout,
        RunStatus::Crash(_) => Status::Crash,
        RunStatus::Error(why) => {
            test.message = format!("{why}\n{}", result.message);
            Status::Fail
        }
    };
    test.score = if test.status == Status::Pass {
        test.max_score
    } else {
        0.0
    };
}

/// The learner's `src/**/*.rs` for one stage, and what was refused.
fn submitted_sources(submission: &Path, stage: &Stage) -> Result<(Sources, Vec<String>), String> {
    const MAX_FILE: u64 = 1024 * 1024;
    let crate_root = submission.join("exercises").join(&stage.dir);
    let src = crate_root.join("src");
    if !src.is_dir() {
        return Err(format!(
            "the submission has no exercises/{}/src directory; nothing to grade",
            stage.dir
        ));
    }
    let mut sources = Sources::new();
    let mut refused = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            let relative = path.strip_prefix(&crate_root).unwrap_or(&path).to_owned();
            let shown = format!("exercises/{}/{}", stage.dir, relative.display());
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_symlink() {
                refused.push(format!("{shown} (a symbolic link)"));
            } else if kind.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "rs") {
                refused.push(format!("{shown} (only .rs files under src/ are graded)"));
            } else if entry.metadata().map_or(true, |m| m.len() > MAX_FILE) {
                refused.push(format!("{shown} (larger than 1 MiB)"));
            } else if let Ok(bytes) = fs::read(&path) {
                sources.insert(relative, bytes);
            }
        }
    }
    // Anything else at the crate's root that cargo would act on.
    for name in ["build.rs", ".cargo", "Cargo.toml"] {
        let path = crate_root.join(name);
        if path.exists() && name != "Cargo.toml" {
            refused.push(format!(
                "exercises/{}/{name} (only src/**/*.rs is taken from a submission)",
                stage.dir
            ));
        }
    }
    if sources.is_empty() {
        return Err(format!("exercises/{}/src has no .rs files", stage.dir));
    }
    refused.sort();
    Ok((sources, refused))
}

fn relativize(text: &str, root: &Path) -> String {
    text.replace(&format!("{}/", root.display()), "")
}

fn first_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    if all.len() <= lines {
        return text.trim_end().to_owned();
    }
    format!(
        "{}\n[... {} more lines]",
        all[..lines].join("\n"),
        all.len() - lines
    )
}

/// Parses `--format human,json,...`.
pub fn parse_formats(text: &str) -> Result<Vec<Format>> {
    let mut formats = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(format) = Format::parse(name) else {
            bail!(
                "unknown format `{name}`; the formats are: {}",
                Format::ALL.map(|f| f.name()).join(", ")
            );
        };
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    Ok(formats)
}

/// Used by the human report: stage name -> (passed, total).
pub fn tally(stage: &StageGrade) -> BTreeMap<Status, usize> {
    let mut counts = BTreeMap::new();
    for test in &stage.tests {
        *counts.entry(test.status).or_insert(0) += 1;
    }
    counts
}
