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
use crate::points;
use crate::report::{self, Format};
use crate::runner::{self, Status as RunStatus, TestEnv};
use crate::sandbox::{self, Isolation};
use crate::scratch::{GradeScratch, Sources};
use crate::testscan;
use crate::trybuild_cache;

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
    /// `--isolation`: which sandbox layers are required (see `sandbox.rs`).
    pub isolation: sandbox::Mode,
    /// Keep the scratch workspace after grading (for debugging the grader).
    pub keep_scratch: bool,
    /// `--submissions DIR`: grade every repository under DIR (see `class.rs`).
    pub submissions: Option<PathBuf>,
    /// Do not print the human report (a whole class is being graded).
    pub quiet: bool,
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
    /// Which sandbox layers were in effect while tests ran.
    pub isolation: Option<Isolation>,
    /// Anything else the reader should know about this run.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageGrade {
    pub order: u32,
    pub name: String,
    /// The stage's directory under `exercises/` (`01-manual-poll`).
    pub dir: String,
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
    /// The weight from `exercise.toml` (default 1); `max_score` is this test's share.
    #[serde(skip)]
    pub weight: f64,
    /// `max_score` in hundredths of a point: shares are whole hundredths, so every sum is
    /// exact (see `points::distribute`).
    #[serde(skip)]
    pub max_cents: i64,
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

    /// Totals, summed in whole hundredths (never as floats): a finished stage scores exactly
    /// its points and the stages add up exactly to the course's maximum.
    fn rescore(&mut self) {
        let (mut score, mut max) = (0, 0);
        for stage in &mut self.stages {
            let cents = points::earned_cents(stage);
            stage.score = points::from_cents(cents);
            score += cents;
            max += points::to_cents(stage.points);
        }
        self.score = points::from_cents(score);
        self.max_score = points::from_cents(max);
    }
}

/// Grades and writes the reports. Returns whether the exit code should be 0.
pub fn run(root: &Path, options: &Options) -> Result<bool> {
    if let Some(dir) = &options.submissions {
        return crate::class::run(root, options, dir);
    }
    // A starter repository grading itself: the course is its `.course/pristine` copy (tests,
    // manifests, harness as shipped) and the checkout is the submission, as on Gradescope.
    if options.submission.is_none()
        && let Some(course) = crate::pristine::course_copy(root)
    {
        return run_in(&course, root, Some(root), options);
    }
    run_in(root, root, None, options)
}

/// Grades with `root` as the course; `checkout` is the repository whose `target/` holds the
/// build cache; `restored` is the checkout graded against the course's copy, if any.
fn run_in(
    root: &Path,
    checkout: &Path,
    restored: Option<&Path>,
    options: &Options,
) -> Result<bool> {
    let started = Instant::now();
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    ensure!(!stages.is_empty(), "this course has no stages to grade");
    report::check_formats(&options.formats)?;
    fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    // Files we create must be readable by the test user (and never writable by it).
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe { libc::umask(0o022) };

    // 0. The first report, before anything else can fail: every test "not run".
    let shown = options.submission.as_ref().map_or_else(
        || checkout.display().to_string(),
        |s| s.display().to_string(),
    );
    let mut grade = skeleton(root, &stages, shown);
    report::write_all(&grade, &options.formats, &options.out)?;

    let resolved = match restored {
        Some(checkout) => Ok(checkout.to_owned()),
        None => resolve_submission(root, options),
    };
    let submission = match resolved {
        Ok(submission) => submission,
        Err(why) => {
            for stage in &mut grade.stages {
                stage.compile_error = Some(why.clone());
                mark_all(stage, Status::CompileError, &why);
            }
            return finish(grade, options, started);
        }
    };
    let (integrity, integrity_note) = match restored {
        Some(checkout) => restore_note(root, checkout),
        None => integrity::check(root, &submission, options.submission.is_some()),
    };
    grade.integrity = integrity;
    grade.integrity_note = integrity_note;

    let shared = [checkout.join("target"), std::env::temp_dir()];
    let isolation = match sandbox::probe(
        options.isolation,
        &shared.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    ) {
        Ok(isolation) => isolation,
        Err(why) => {
            grade.notes.push(format!("not graded: {why:#}"));
            for stage in &mut grade.stages {
                mark_all(
                    stage,
                    Status::NotRun,
                    "not run: the grader refused to run tests here",
                );
            }
            finish(grade, options, started)?;
            return Err(why);
        }
    };
    grade.isolation = Some(isolation.clone());
    if skip_gate() {
        grade.notes.push(
            "XTASK_TEST_SKIP_GATE=1: code the gate refuses was run anyway (a test of the \
             sandbox, not a grade)"
                .to_owned(),
        );
    }
    sandbox::become_subreaper();
    report::write_all(&grade, &options.formats, &options.out)?;

    let mut scratch = GradeScratch::create_with_target(
        root,
        &checkout.join("target"),
        isolation.protects_shared_state(),
    )?;
    if !isolation.protects_shared_state() {
        grade.notes.push(
            "the build cache is not shared between runs: the tests could write it".to_owned(),
        );
    }
    let result = grade_in(
        root,
        &mut grade,
        &stages,
        &submission,
        &mut scratch,
        options,
        &isolation,
        started,
    );
    let kept = scratch.finish(options.keep_scratch)?;
    if let Some(kept) = kept {
        grade
            .notes
            .push(format!("scratch kept at {}", kept.display()));
    }
    result?;
    finish(grade, options, started)
}

/// A starter repository graded against its `.course/pristine` copy: which of its protected
/// files differ from that copy (they were not used: the copy's were), and whether the copy
/// itself still matches `course.sha256`.
fn restore_note(course: &Path, checkout: &Path) -> (Vec<Finding>, String) {
    let (mut findings, _) = integrity::check(course, checkout, true);
    // The copy holds the manifests, the toolchain file, the harness and the stages; the rest
    // (the tooling, the workflow, the copy itself) is not part of what is compared here.
    findings.retain(|f| {
        ![".cargo/", ".github/", "xtask/", ".course/"]
            .iter()
            .any(|p| f.path.starts_with(p))
            && f.path != integrity::MANIFEST
    });
    let (manifest, _) = integrity::check(checkout, checkout, false);
    let tampered: Vec<&Finding> = manifest
        .iter()
        .filter(|f| f.path.starts_with(".course/pristine/"))
        .collect();
    let mut note = format!(
        "graded against the course's copy in {} (tests, manifests, harness): {}",
        crate::pristine::DIR,
        if findings.is_empty() {
            "nothing needed restoring".to_owned()
        } else {
            format!(
                "{} file(s) of this repository were replaced by it",
                findings.len()
            )
        }
    );
    if !tampered.is_empty() {
        note.push_str(&format!(
            "; WARNING: the copy itself differs from {} ({} file(s)), so this grade is not \
             trustworthy",
            integrity::MANIFEST,
            tampered.len()
        ));
        findings.extend(tampered.into_iter().cloned());
    }
    (findings, note)
}

/// Every test of the selected stages, "not run", with its share of the points.
fn skeleton(root: &Path, stages: &[&Stage], submission: String) -> Grade {
    let mut grade = Grade {
        submission,
        score: 0.0,
        max_score: 0.0,
        complete: false,
        budget_exhausted: false,
        elapsed_secs: 0.0,
        stages: Vec::new(),
        integrity: Vec::new(),
        integrity_note: "not checked yet".to_owned(),
        isolation: None,
        notes: Vec::new(),
    };
    for stage in stages {
        let expected = testscan::scan(&stage.exercise_dir(root));
        grade.stages.push(StageGrade {
            order: stage.order,
            name: stage.name.clone(),
            dir: stage.dir.clone(),
            title: stage.title.clone(),
            points: stage.points,
            score: 0.0,
            compile_error: None,
            refused: Vec::new(),
            violations: Vec::new(),
            tests: expected.iter().map(|id| pending(stage, id)).collect(),
        });
    }
    rebalance(&mut grade, stages);
    grade.rescore();
    grade
}

/// The submission's root, or why it cannot be graded (said in the report).
fn resolve_submission(root: &Path, options: &Options) -> Result<PathBuf, String> {
    let submission = match &options.submission {
        Some(dir) => dir
            .canonicalize()
            .map_err(|e| format!("the submission {} cannot be read: {e}", dir.display()))?,
        None => root.to_owned(),
    };
    let exercises = submission.join("exercises");
    match fs::symlink_metadata(&exercises) {
        Ok(meta) if meta.file_type().is_symlink() => Err(
            "exercises/ in the submission is a symbolic link; submissions are copied, never \
             followed: upload the directory itself"
                .to_owned(),
        ),
        Ok(meta) if meta.is_dir() => Ok(submission),
        _ => Err(format!(
            "this upload is not a copy of the course: it has no exercises/ directory. Upload \
             your whole repository (a zip of it, or its folder), or just its exercises/ \
             folder: the grader needs exercises/NN-name/src/*.rs; found at the top: {}",
            top_entries(&submission)
        )),
    }
}

fn top_entries(dir: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .take(12)
        .collect();
    names.sort();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

/// Installs, gates, builds and runs every stage; results go into `grade` as they come.
/// Whatever goes wrong with one stage is that stage's result, never the run's.
#[allow(clippy::too_many_arguments)]
fn grade_in(
    root: &Path,
    grade: &mut Grade,
    stages: &[&Stage],
    submission: &Path,
    scratch: &mut GradeScratch,
    options: &Options,
    isolation: &Isolation,
    started: Instant,
) -> Result<()> {
    // 1. Take each stage's sources (copied, never followed) and read them through the gate.
    let mut violations = gate::Violations::new();
    let mut installed = Vec::new();
    let mut submitted = BTreeMap::new();
    for (index, stage) in stages.iter().enumerate() {
        let stage_grade = &mut grade.stages[index];
        let outcome = submitted_sources(submission, stage).and_then(|(sources, refused)| {
            stage_grade.refused = refused;
            submitted.insert(index, sources.clone());
            let policy = gate::Policy {
                allow_unsafe: stage.allow_unsafe,
            };
            gate::scan(&stage.name, &sources, policy, &mut violations);
            scratch
                .install(stage, &sources)
                .map_err(|e| format!("the grader could not install this stage's files: {e:#}"))
        });
        match outcome {
            Ok(()) => installed.push(index),
            Err(why) => {
                stage_grade.compile_error = Some(why.clone());
                mark_all(stage_grade, Status::CompileError, &why);
            }
        }
    }
    report::write_all(grade, &options.formats, &options.out)?;

    // 2. Compile-fail tests start from a seed made with the course's own stub (once).
    let extra: &[&str] = if options.offline { &["--offline"] } else { &[] };
    let mut seeds = BTreeMap::new();
    for &index in &installed {
        let stage = stages[index];
        if stage.overlay_only.is_empty() {
            continue;
        }
        match trybuild_cache::seed(root, stage, scratch, extra) {
            Ok(dir) => {
                seeds.insert(index, dir);
            }
            Err(why) => grade.notes.push(format!(
                "{}: its compile-fail tests start from an empty build directory ({why})",
                stage.name
            )),
        }
        if let Some(sources) = submitted.get(&index) {
            scratch.install(stage, sources)?;
        }
    }

    // 3. Build every stage at once; a stage that does not compile does not stop the others.
    let packages: Vec<&str> = installed.iter().map(|&i| stages[i].name.as_str()).collect();
    let build = if packages.is_empty() {
        cargo::Build::default()
    } else {
        crate::ui::heading(&format!("grade: building {} stage(s)", packages.len()));
        cargo::build_tests_with(
            &scratch.root,
            &scratch.target_dir,
            &packages,
            &[],
            extra,
            false,
        )?
    };

    // Each worker slot gets a uid of its own, and tests that compile code one more.
    let uids = if isolation.user_separation {
        sandbox::claim_uids(options.jobs.max(1) + 1)?
    } else {
        sandbox::Uids::none()
    };

    // 4. Per stage: compile errors first, then the gates, then the list of tests to run.
    let mut jobs = Vec::new();
    for &index in &installed {
        let stage = stages[index];
        let listing = |exe: &Path| list_spec(exe, scratch, isolation, &uids).ok();
        let prepared = prepare_stage(stage, &build, scratch, &mut violations, &listing);
        if let Some(&uid) = uids.uids.first() {
            sandbox::kill_uid(uid);
        }
        sandbox::sweep_orphans();
        match prepared {
            Ok(StageJobs::Ready(listed, env, cwd)) => {
                add_jobs(grade, index, stage, listed, &env, &cwd, &mut jobs);
            }
            Ok(StageJobs::CompileError(text)) => {
                let stage_grade = &mut grade.stages[index];
                stage_grade.compile_error = Some(first_lines(&text, 60));
                mark_all(
                    stage_grade,
                    Status::CompileError,
                    "the stage did not compile",
                );
            }
            Ok(StageJobs::Refused(found)) => {
                let stage_grade = &mut grade.stages[index];
                stage_grade.violations = found;
                mark_all(
                    stage_grade,
                    Status::Fail,
                    "not run: the submission uses code the grader refuses to run (see violations)",
                );
            }
            Err(why) => {
                let text = format!("the grader could not prepare this stage: {why:#}");
                let stage_grade = &mut grade.stages[index];
                stage_grade.compile_error = Some(text.clone());
                mark_all(stage_grade, Status::CompileError, &text);
            }
        }
    }
    rebalance(grade, stages);
    grade.rescore();
    report::write_all(grade, &options.formats, &options.out)?;

    // 5. Run every test in its own sandboxed process, writing reports as results come in.
    let toolchain_uid_ok = toolchain_reachable();
    let workers = options.jobs.max(1).min(jobs.len().max(1));
    let context = RunContext {
        seeds,
        uids,
        scratch,
        isolation,
        toolchain_uid_ok,
        stages,
        fingerprints: Fingerprints::take(&jobs, stages, scratch),
    };
    let deadline = options.budget.map(|budget| started + budget);
    let state = Mutex::new(std::mem::replace(grade, skeleton_empty()));
    let counter = std::sync::atomic::AtomicUsize::new(0);
    run_slots(&jobs, workers, |slot, job| {
        let result = if deadline.is_some_and(|d| Instant::now() >= d) {
            None
        } else {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Some(context.run_one(slot, n, job)?)
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
        grade.elapsed_secs = started.elapsed().as_millis() as f64 / 1000.0;
        report::write_all(&grade, &options.formats, &options.out)?;
        Ok(())
    })?;
    *grade = state.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(())
}

fn skeleton_empty() -> Grade {
    skeleton(Path::new("."), &[], String::new())
}

enum StageJobs {
    Ready(Vec<runner::Listed>, TestEnv, PathBuf),
    CompileError(String),
    Refused(Vec<String>),
}

/// `XTASK_TEST_SKIP_GATE=1` runs refused code anyway. Only xtask's own tests set it, to check
/// that the sandbox holds by itself behind the gate; every report of such a run says so.
fn skip_gate() -> bool {
    std::env::var_os("XTASK_TEST_SKIP_GATE").is_some_and(|v| v == "1")
}

/// What one built stage needs before its tests can run.
fn prepare_stage(
    stage: &Stage,
    build: &cargo::Build,
    scratch: &GradeScratch,
    violations: &mut gate::Violations,
    listing: &dyn Fn(&Path) -> Option<sandbox::Spec>,
) -> Result<StageJobs> {
    let package_dir = scratch.exercise_dir(stage);
    let manifest = package_dir.join("Cargo.toml");
    let errors = build.errors_of(&manifest);
    let binaries = build.binaries_of(&manifest);
    if !errors.is_empty() || binaries.is_empty() {
        let text = if errors.is_empty() {
            build.stderr.clone()
        } else {
            errors.join("\n")
        };
        return Ok(StageJobs::CompileError(relativize(&text, &scratch.root)));
    }
    match build.library_of(&manifest) {
        Some(rlib) => gate::check_library(&stage.name, rlib, violations),
        None => violations
            .entry(stage.name.clone())
            .or_default()
            .push("the grader could not find the compiled library to check it".to_owned()),
    }
    if let Some(found) = violations.get(&stage.name)
        && !skip_gate()
    {
        return Ok(StageJobs::Refused(found.clone()));
    }
    let env = TestEnv::new(&scratch.root, &package_dir, &stage.name);
    let listed = runner::list_all_in(&binaries, &package_dir, &env, listing)
        .context("listing the stage's tests failed")?;
    Ok(StageJobs::Ready(listed, env, package_dir))
}

fn add_jobs(
    grade: &mut Grade,
    index: usize,
    stage: &Stage,
    listed: Vec<runner::Listed>,
    env: &TestEnv,
    cwd: &Path,
    jobs: &mut Vec<Job>,
) {
    let stage_grade = &mut grade.stages[index];
    for test in listed {
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
            toolchain: stage.overlay_only.contains(&test.id.target),
            test,
            cwd: cwd.to_owned(),
            env: env.clone(),
        });
    }
    // Expected tests the binaries do not have: the submission cannot rename the course's
    // tests (they are pristine), so this means the build is not what we expected.
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

/// The sandbox for listing a test binary's tests (listing runs the binary too).
fn list_spec(
    exe: &Path,
    scratch: &GradeScratch,
    isolation: &Isolation,
    uids: &sandbox::Uids,
) -> Result<sandbox::Spec> {
    let uid = uids.uids.first().copied();
    let private = scratch.base.join("tmp").join("list");
    sandbox::private_dir(&private, uid)?;
    Ok(sandbox::Spec {
        uid,
        landlock: isolation.landlock_abi > 0,
        exe: exe.to_owned(),
        read: vec![scratch.root.clone(), scratch.target_dir.clone()],
        exec: Vec::new(),
        write: vec![private],
        toolchain: false,
        limits: sandbox::Limits {
            cpu_secs: 30,
            file_size: 1 << 20,
            address_space: 16 << 30,
            open_files: 1_024,
            processes: uid.map(|_| 256),
        },
    })
}

/// Where the toolchain lives: `CARGO_HOME` and `RUSTUP_HOME` (or their defaults under
/// `HOME`), and the directory of the cargo that runs us.
fn toolchain_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut dirs = Vec::new();
    for (key, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
        match std::env::var_os(key) {
            Some(dir) => dirs.push(PathBuf::from(dir)),
            None => dirs.extend(home.as_ref().map(|h| h.join(default))),
        }
    }
    if let Some(cargo) = std::env::var_os("CARGO").map(PathBuf::from)
        && let Some(dir) = cargo.parent()
    {
        dirs.push(dir.to_owned());
    }
    dirs.into_iter().filter(|d| d.exists()).collect()
}

/// Whether the dedicated test users can reach the toolchain (tests that compile code need it).
fn toolchain_reachable() -> bool {
    toolchain_dirs().iter().all(|dir| {
        dir.ancestors().all(|d| {
            fs::metadata(d).map_or(true, |meta| {
                std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o001 != 0
            })
        })
    })
}

/// What is checked before every test: the test binaries and the stage's fixture files are
/// exactly what was built and installed. Recorded as (inode, size, ctime) plus a SHA-256 for
/// binaries: an unprivileged process cannot write a file without changing its ctime, so a
/// changed ctime triggers a full re-hash.
struct Fingerprints {
    files: BTreeMap<PathBuf, (Meta, Option<String>)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Meta {
    ino: u64,
    size: u64,
    ctime: i64,
    ctime_nsec: i64,
}

fn meta_of(path: &Path) -> Option<Meta> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).ok()?;
    Some(Meta {
        ino: meta.ino(),
        size: meta.size(),
        ctime: meta.ctime(),
        ctime_nsec: meta.ctime_nsec(),
    })
}

fn sha256_of(path: &Path) -> Option<String> {
    use sha2::Digest;
    let bytes = fs::read(path).ok()?;
    Some(
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

impl Fingerprints {
    fn take(jobs: &[Job], stages: &[&Stage], scratch: &GradeScratch) -> Fingerprints {
        let mut files = BTreeMap::new();
        for job in jobs {
            let exe = &job.test.exe;
            if !files.contains_key(exe)
                && let Some(meta) = meta_of(exe)
            {
                files.insert(exe.clone(), (meta, sha256_of(exe)));
            }
        }
        for stage in stages {
            let tests = scratch.exercise_dir(stage).join("tests");
            for path in crate::scratch::walk_all(&tests).unwrap_or_default() {
                if let Some(meta) = meta_of(&path) {
                    files.insert(path, (meta, None));
                }
            }
        }
        Fingerprints { files }
    }

    /// The first file that changed since it was recorded, among the binary and the fixtures
    /// of the stage at `tests_dir`.
    fn changed(&self, exe: &Path, tests_dir: &Path) -> Option<PathBuf> {
        self.files
            .iter()
            .filter(|(path, _)| *path == exe || path.starts_with(tests_dir))
            .find(|(path, (meta, sha))| {
                meta_of(path) != Some(*meta)
                    && (sha.is_none() || sha256_of(path).as_ref() != sha.as_ref())
            })
            .map(|(path, _)| path.clone())
    }
}

/// Held while a test that compiles code runs (see `RunContext::run_one`).
static TOOLCHAIN_TESTS: Mutex<()> = Mutex::new(());

/// Everything a test run needs to know, shared by the worker threads.
struct RunContext<'a> {
    /// Per stage index: the seed of its compile-fail tests' build directory.
    seeds: BTreeMap<usize, PathBuf>,
    scratch: &'a GradeScratch,
    uids: sandbox::Uids,
    isolation: &'a Isolation,
    toolchain_uid_ok: bool,
    stages: &'a [&'a Stage],
    fingerprints: Fingerprints,
}

impl RunContext<'_> {
    /// Runs test `job` as number `n`, in worker `slot`; afterwards nothing it started is alive.
    fn run_one(&self, slot: usize, n: usize, job: &Job) -> Result<runner::TestResult> {
        let stage = self.stages[job.stage];
        let tests_dir = self.scratch.exercise_dir(stage).join("tests");
        if let Some(changed) = self.fingerprints.changed(&job.test.exe, &tests_dir) {
            return Ok(runner::TestResult {
                id: job.test.id.clone(),
                status: runner::Status::Error(format!(
                    "not run: {} changed after it was built or installed (grading state must \
                     not change while tests run)",
                    relativize(&changed.display().to_string(), &self.scratch.root)
                )),
                message: String::new(),
                elapsed: Duration::ZERO,
            });
        }
        let private = self.scratch.private_dir(n);
        let separated = self.isolation.user_separation && (!job.toolchain || self.toolchain_uid_ok);
        // Tests that compile code share one build directory, so they run one at a time, as
        // one uid of their own (a kill-all after one must not hit another).
        let _one_at_a_time = job
            .toolchain
            .then(|| TOOLCHAIN_TESTS.lock().unwrap_or_else(|e| e.into_inner()));
        // The last claimed uid is the one of tests that compile code.
        let uids = &self.uids.uids;
        let slot_uid = if job.toolchain || uids.is_empty() {
            uids.last().copied()
        } else {
            uids.get(slot.min(uids.len() - 2)).copied()
        };
        let uid = slot_uid.filter(|_| separated);
        sandbox::private_dir(&private, uid)?;
        if job.toolchain {
            // trybuild's project lives under the private dir: pin the course's toolchain
            // there too, or rustup would pick (and try to install) its default one.
            let pin = self.scratch.root.join("rust-toolchain.toml");
            if pin.is_file() {
                fs::copy(&pin, private.join("rust-toolchain.toml"))?;
            }
        }
        let mut env = job
            .env
            .clone()
            .with("HOME", &private.display().to_string())
            .with("TMPDIR", &private.display().to_string());
        let mut exec = Vec::new();
        if job.toolchain {
            // trybuild compiles in <target>/tests/trybuild: give it a private target.
            // Shared by this run's compile-fail tests (one submission), never between runs.
            let shared = self.scratch.trybuild_dir(
                stage,
                uid,
                self.seeds.get(&job.stage).map(PathBuf::as_path),
            )?;
            env = env.with("CARGO_TARGET_DIR", &shared.display().to_string());
            exec = toolchain_dirs();
            // HOME is the private dir now: name the toolchain's homes explicitly, or rustup
            // and cargo would look for them under it.
            let home = std::env::var_os("HOME").map(PathBuf::from);
            for (key, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
                let dir = std::env::var_os(key)
                    .map(PathBuf::from)
                    .or_else(|| home.as_ref().map(|h| h.join(default)));
                if let Some(dir) = dir {
                    env = env.with(key, &dir.display().to_string());
                }
            }
            // Never let rustup install anything from inside a test.
            env = env.with("RUSTUP_AUTO_INSTALL", "0");
        } else {
            env = env.with(
                "CARGO_TARGET_DIR",
                &self.scratch.target_dir.display().to_string(),
            );
        }
        let spec = sandbox::Spec {
            uid,
            landlock: self.isolation.landlock_abi > 0,
            exe: job.test.exe.clone(),
            // The toolchain pin above trybuild's build directory must be readable, or rustup
            // falls back to its default toolchain for the compile-fail cases.
            read: vec![
                self.scratch.root.clone(),
                self.scratch.target_dir.clone(),
                self.scratch.base.join("rust-toolchain.toml"),
            ],
            exec,
            write: if job.toolchain {
                vec![
                    private.clone(),
                    self.scratch.trybuild_dir(stage, uid, None)?,
                    // trybuild writes the compiler's actual output to `<package>/wip/`.
                    self.scratch.wip_dir(stage, uid)?,
                ]
            } else {
                vec![private.clone()]
            },
            toolchain: job.toolchain,
            limits: sandbox::Limits {
                cpu_secs: job.timeout.as_secs() + 5,
                file_size: 64 << 20,
                address_space: 16 << 30,
                open_files: 16_384,
                processes: uid.map(|_| 2_048),
            },
        };
        let use_sandbox = self.isolation.mode != "off" || uid.is_some();
        let result = runner::run_test_in(
            &job.test.exe,
            &job.test.id,
            job.test.listed,
            &job.cwd,
            &env,
            job.timeout,
            use_sandbox.then_some(&spec),
        );
        // Nothing the test started may outlive it: its uid's processes, and orphans that
        // escaped its process group (re-parented to us, the subreaper).
        if let Some(uid) = uid {
            sandbox::kill_uid(uid);
        }
        sandbox::sweep_orphans();
        let _ = fs::remove_dir_all(&private);
        result
    }
}

/// Runs `work(slot, item)` over `items` on up to `jobs` threads; `slot` is the worker's index,
/// so that two tests never run at once in the same slot (each slot has its own uid).
fn run_slots<T: Sync>(
    items: &[T],
    jobs: usize,
    work: impl Fn(usize, &T) -> Result<()> + Sync,
) -> Result<()> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for slot in 0..jobs.max(1).min(items.len().max(1)) {
            let (next, failure, work) = (&next, &failure, &work);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    if let Err(error) = work(slot, item) {
                        failure
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(error);
                    }
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Final bookkeeping and the last report.
fn finish(mut grade: Grade, options: &Options, started: Instant) -> Result<bool> {
    grade.complete = true;
    grade.elapsed_secs = started.elapsed().as_millis() as f64 / 1000.0;
    grade.rescore();
    report::write_all(&grade, &options.formats, &options.out)?;
    if !options.quiet {
        report::print_human(&grade, &options.out, &options.formats);
    }
    Ok(!options.require_all || grade.all_passed())
}

struct Job {
    stage: usize,
    /// The test compiles code (trybuild): it needs the toolchain.
    toolchain: bool,
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
        max_score: 0.0,
        message: "not run".to_owned(),
        duration_ms: 0,
        weight: stage.weights.get(&id.to_string()).copied().unwrap_or(1.0),
        max_cents: 0,
    }
}

/// Turns weights into shares of each stage's points: whole hundredths that add up exactly to
/// the stage's points (largest remainder; see `points.rs`).
fn rebalance(grade: &mut Grade, stages: &[&Stage]) {
    for (stage_grade, stage) in grade.stages.iter_mut().zip(stages) {
        let weights: Vec<f64> = stage_grade.tests.iter().map(|t| t.weight).collect();
        let shares = points::distribute(points::to_cents(stage.points), &weights);
        for (test, cents) in stage_grade.tests.iter_mut().zip(shares) {
            test.max_cents = cents;
            test.max_score = points::from_cents(cents);
            if test.status == Status::Pass {
                test.score = test.max_score;
            }
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
///
/// Copy, never follow: a symbolic link anywhere on the way to `src/` makes the stage
/// ungradable, and one under `src/` is refused (named in the report); nothing outside the
/// submission is ever read. Sizes are bounded.
fn submitted_sources(submission: &Path, stage: &Stage) -> Result<(Sources, Vec<String>), String> {
    const MAX_FILE: u64 = 1024 * 1024;
    const MAX_FILES: usize = 256;
    const MAX_DEPTH: usize = 8;
    let crate_root = submission.join("exercises").join(&stage.dir);
    let src = crate_root.join("src");
    for (path, shown) in [
        (submission.join("exercises"), "exercises".to_owned()),
        (crate_root.clone(), format!("exercises/{}", stage.dir)),
        (src.clone(), format!("exercises/{}/src", stage.dir)),
    ] {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "{shown} is a symbolic link; submissions are copied, never followed \
                     (commit the files themselves)"
                ));
            }
            Ok(meta) if meta.is_dir() => {}
            _ => {
                return Err(format!(
                    "the submission has no {shown} directory; nothing to grade"
                ));
            }
        }
    }
    let mut sources = Sources::new();
    let mut refused = Vec::new();
    let mut stack = vec![(src, 0usize)];
    while let Some((dir, depth)) = stack.pop() {
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
                refused.push(format!("{shown} (a symbolic link: copied files only)"));
            } else if kind.is_dir() {
                if depth + 1 > MAX_DEPTH {
                    refused.push(format!("{shown} (nested more than {MAX_DEPTH} deep)"));
                } else {
                    stack.push((path, depth + 1));
                }
            } else if !kind.is_file() || path.extension().is_none_or(|e| e != "rs") {
                refused.push(format!("{shown} (only .rs files under src/ are graded)"));
            } else if entry.metadata().map_or(true, |m| m.len() > MAX_FILE) {
                refused.push(format!("{shown} (larger than 1 MiB)"));
            } else if sources.len() >= MAX_FILES {
                refused.push(format!("{shown} (more than {MAX_FILES} files)"));
            } else if let Ok(bytes) = fs::read(&path) {
                sources.insert(relative, bytes);
            }
        }
    }
    // Anything else at the crate's root that cargo would act on.
    for name in ["build.rs", ".cargo"] {
        if fs::symlink_metadata(crate_root.join(name)).is_ok() {
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
