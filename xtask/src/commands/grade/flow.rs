//! The flow of `cargo xtask grade` (see `mod.rs`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result, ensure};

use super::args::Args as Options;
use super::class;
use super::slots::{
    Fingerprints, Job, RunContext, StageTools, apply, run_slots, toolchain_reachable,
};
use super::stages::{
    StageJobs, add_jobs, first_lines, list_spec, pending, prepare_stage, skip_gate,
    submitted_sources,
};
use crate::course::integrity::{self, Finding};
use crate::course::points;
use crate::course::testscan;
use crate::course::{Course, Stage};
use crate::exec::build_jail;
use crate::exec::cargo;
use crate::exec::gate;
use crate::exec::sandbox::{self, Isolation};
use crate::exec::scratch::GradeScratch;
use crate::exec::tools::{TestUsers, Tools};
use crate::exec::trybuild_cache;
use crate::files::Sources;
use crate::outcome::Outcome;
use crate::outcome::Problem;
use crate::report;
use crate::report::model::{Grade, StageGrade, Status};
use crate::ui;

/// Grades and writes the reports (`--submissions`: a whole class, see `class.rs`). `Failed`
/// only with `--require-all` and a test that did not pass.
pub fn run(root: &Path, options: Options) -> Result<Outcome> {
    let options = &options.resolved(root);
    if let Some(dir) = &options.submissions {
        out_apart_from(options.out(), dir, "--submissions")?;
        return class::run(root, options, dir);
    }
    // A starter repository grading itself: the course is its `.course/pristine` copy (tests,
    // manifests, harness as shipped) and the checkout is the submission, as on Gradescope.
    if options.submission.is_none()
        && let Some(course) = crate::course::pristine::course_copy(root)
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
) -> Result<Outcome> {
    let started = Instant::now();
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    ensure!(!stages.is_empty(), "this course has no stages to grade");
    report::check_formats(&options.formats)?;
    if let Some(submission) = &options.submission {
        out_apart_from(options.out(), submission, "--submission")?;
    }
    prepare_out(options.out())?;

    // 0. The first report, before anything else can fail: every test "not run".
    let shown = options.submission.as_ref().map_or_else(
        || checkout.display().to_string(),
        |s| s.display().to_string(),
    );
    let mut grade = skeleton(root, &stages, shown);
    report::write_all(&grade, &options.formats, options.out())?;

    let Some(submission) = locate_submission(root, restored, options, &mut grade) else {
        return finish(grade, options, started);
    };
    let isolation = match isolate(checkout, options, &mut grade) {
        Ok(isolation) => isolation,
        Err(why) => {
            // The last report is written; the reason grading could not go on is the error.
            let _ = finish(grade, options, started)?;
            return Err(why);
        }
    };
    let tools = resolve_tools(&stages, &isolation, options, &mut grade);
    report::write_all(&grade, &options.formats, options.out())?;
    let graded = Graded {
        root,
        stages: &stages,
        submission: &submission,
        options,
        isolation: &isolation,
        tools: &tools,
        started,
    };
    grade_in_scratch(&graded, checkout, &mut grade)?;
    finish(grade, options, started)
}

/// What one run grades, and how.
struct Graded<'a> {
    root: &'a Path,
    stages: &'a [&'a Stage],
    submission: &'a Path,
    options: &'a Options,
    isolation: &'a Isolation,
    /// The programs the stages declare, resolved once (`exec/tools.rs`).
    tools: &'a Tools,
    started: Instant,
}

/// Refuses an `--out` that is the submission, lies inside it or contains it (compared as
/// written and with symbolic links resolved): the grader writes its reports there, and a
/// submission could have planted links (`report/.json.partial -> /etc/...`) or hold the
/// directory a later step removes.
pub(super) fn out_apart_from(out: &Path, submission: &Path, flag: &str) -> Result<()> {
    ensure!(
        !crate::files::overlap(out, submission),
        "--out {} overlaps {flag} {}: it is the same directory, inside it or contains it. The \
         grader writes its reports into --out, and a submission could plant files or symbolic \
         links there that the reports would be written through; choose a directory outside \
         the submission (nothing was graded)",
        out.display(),
        submission.display()
    );
    Ok(())
}

/// `--out` exists and is a real directory (not a symbolic link: refused, never followed), and
/// files we create are readable by the test user (never writable by it).
fn prepare_out(out: &Path) -> Result<()> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let meta =
        fs::symlink_metadata(out).with_context(|| format!("cannot read {}", out.display()))?;
    ensure!(
        !meta.file_type().is_symlink() && meta.is_dir(),
        "--out {} is a symbolic link (or not a directory): the grader writes reports only into \
         a real directory, never through a link (nothing was graded)",
        out.display()
    );
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe { libc::umask(0o022) };
    Ok(())
}

/// The submission's directory, with its integrity findings recorded in `grade`; `None` (every
/// stage marked, with why) when there is nothing gradable.
fn locate_submission(
    root: &Path,
    restored: Option<&Path>,
    options: &Options,
    grade: &mut Grade,
) -> Option<PathBuf> {
    let resolved = match restored {
        Some(checkout) => Ok(checkout.to_owned()),
        None => resolve_submission(root, options),
    };
    let submission = match resolved {
        Ok(submission) => submission,
        Err(why) => {
            for stage in &mut grade.stages {
                stage.compile_error = Some(why.to_string());
                mark_all(stage, Status::CompileError, &why);
            }
            return None;
        }
    };
    let (integrity, integrity_note) = match restored {
        Some(checkout) => restore_note(root, checkout),
        None => integrity::check(root, &submission, options.submission.is_some()),
    };
    grade.integrity = integrity;
    grade.integrity_note = integrity_note;
    Some(submission)
}

/// The sandbox layers this machine offers, recorded in `grade`; an error (every test marked
/// "not run") when `--isolation` asks for more.
fn isolate(checkout: &Path, options: &Options, grade: &mut Grade) -> Result<Isolation> {
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
    Ok(isolation)
}

/// Resolves every tool the stages declare on the grader's PATH, once. A tool that cannot be
/// used is said now (unless quiet) and in the reports: a run note and the stage's note. Its
/// tests still run and fail (see `exec/tools.rs`).
fn resolve_tools(
    stages: &[&Stage],
    isolation: &Isolation,
    options: &Options,
    grade: &mut Grade,
) -> Tools {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let users = TestUsers {
        dedicated: sandbox::UID_BASE..sandbox::UID_BASE + sandbox::UID_RANGE,
        grader: (!isolation.user_separation && me != 0).then_some(me),
    };
    let tools = Tools::resolve(stages, std::env::var_os("PATH").as_deref(), &users);
    for (index, stage) in stages.iter().enumerate() {
        for problem in tools.problems_of(stage) {
            if !options.quiet {
                eprintln!("{} {problem}", ui::red("warning:"));
            }
            grade.notes.push(problem.clone());
            grade.stages[index].notes.push(problem);
        }
    }
    tools
}

/// Grades in a fresh scratch workspace, removed afterwards unless `--keep-scratch`.
fn grade_in_scratch(graded: &Graded, checkout: &Path, grade: &mut Grade) -> Result<()> {
    let shared_cache = graded.isolation.protects_shared_state();
    let mut scratch =
        GradeScratch::create_with_target(graded.root, &checkout.join("target"), shared_cache)?;
    if !shared_cache {
        grade.notes.push(
            "the build cache is not shared between runs: the tests could write it".to_owned(),
        );
    }
    let result = grade_in(graded, grade, &mut scratch);
    let kept = scratch.finish(graded.options.keep_scratch)?;
    if let Some(kept) = kept {
        grade
            .notes
            .push(format!("scratch kept at {}", kept.display()));
    }
    result
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
        crate::course::pristine::DIR,
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
            review: Vec::new(),
            notes: Vec::new(),
            tests: expected.iter().map(|id| pending(stage, id)).collect(),
        });
    }
    rebalance(&mut grade, stages);
    grade.rescore();
    grade
}

/// The submission's root, or why it cannot be graded (said in the report).
fn resolve_submission(root: &Path, options: &Options) -> Result<PathBuf, Problem> {
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
                .into(),
        ),
        Ok(meta) if meta.is_dir() => Ok(submission),
        _ => Err(format!(
            "this upload is not a copy of the course: it has no exercises/ directory. Upload \
             your whole repository (a zip of it, or its folder), or just its exercises/ \
             folder: the grader needs exercises/NN-name/src/*.rs; found at the top: {}",
            top_entries(&submission)
        )
        .into()),
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
fn grade_in(graded: &Graded, grade: &mut Grade, scratch: &mut GradeScratch) -> Result<()> {
    let options = graded.options;
    // 1. Take each stage's sources (copied, never followed) and read them through the gate.
    let mut violations = gate::Violations::new();
    let (installed, submitted) = install_stages(graded, grade, scratch, &mut violations);
    report::write_all(grade, &options.formats, options.out())?;

    // 2. Compile-fail tests start from a seed made with the course's own stub (once).
    let seeds = seed_compile_fail(graded, grade, scratch, &installed, &submitted)?;

    // 3. Build every stage the source gate accepted, at once; a stage that does not compile
    // does not stop the others. A refused stage is not built: compiling runs its code too
    // (macros, `const` evaluation), and what the gate refused is never run. Except a file the
    // gate could not parse: the compiler's syntax error is what the learner needs (and the
    // stage is refused after the build if it does compile).
    let buildable: Vec<usize> = installed
        .iter()
        .copied()
        .filter(|&i| {
            violations.get(&graded.stages[i].name).is_none_or(|found| {
                skip_gate() || found.iter().all(|f| f.contains(gate::UNREADABLE))
            })
        })
        .collect();
    let build = build_stages(graded, scratch, &buildable)?;

    // Each worker slot gets a uid of its own, and tests that compile code one more.
    let uids = if graded.isolation.user_separation {
        sandbox::claim_uids(options.jobs.max(1) + 1)?
    } else {
        sandbox::Uids::none()
    };

    // 4. Per stage: compile errors first, then the gates, then the list of tests to run.
    let mut jobs = Vec::new();
    for &index in &installed {
        let stage = graded.stages[index];
        let listing = |exe: &Path| list_spec(exe, scratch, graded.isolation, &uids).ok();
        let prepared = match violations.get(&stage.name) {
            Some(found) if !buildable.contains(&index) => Ok(StageJobs::Refused(found.clone())),
            _ => prepare_stage(stage, &build, scratch, &mut violations, &listing),
        };
        if let Some(&uid) = uids.uids.first() {
            sandbox::kill_uid(uid);
        }
        sandbox::sweep_orphans();
        record_prepared(grade, index, stage, prepared, &mut jobs);
    }
    rebalance(grade, graded.stages);
    grade.rescore();
    report::write_all(grade, &options.formats, options.out())?;

    // 5. Run every test in its own sandboxed process, writing reports as results come in.
    let tools = stage_tools(graded, scratch, &installed)?;
    let memory = memory_cgroups(graded, grade, jobs.len());
    let context = RunContext {
        seeds,
        tools,
        uids,
        scratch,
        isolation: graded.isolation,
        toolchain_uid_ok: toolchain_reachable(),
        stages: graded.stages,
        fingerprints: Fingerprints::take(&jobs, graded.stages, scratch),
        memory,
    };
    run_jobs(graded, grade, &context, &jobs)
}

/// One memory cgroup per worker slot (`sandbox::MemoryCgroups`), when the probe found the
/// machine allows them; if making them fails now, the run goes on without (a note says so).
fn memory_cgroups(
    graded: &Graded,
    grade: &mut Grade,
    jobs: usize,
) -> Option<sandbox::MemoryCgroups> {
    if !graded.isolation.memory_cgroup {
        return None;
    }
    let workers = graded.options.jobs.max(1).min(jobs.max(1));
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let made = sandbox::memory_per_slot(&meminfo, workers)
        .and_then(|per_slot| sandbox::MemoryCgroups::create(workers, per_slot));
    if made.is_none() {
        grade.notes.push(
            "the memory cgroups the probe found possible could not be made: memory is bounded \
             per process only"
                .to_owned(),
        );
    }
    made
}

/// Per installed stage that declares tools: its tests' private `PATH` directory (made now, in
/// the scratch, read-only to tests) and the files they may execute.
fn stage_tools(
    graded: &Graded,
    scratch: &GradeScratch,
    installed: &[usize],
) -> Result<BTreeMap<usize, StageTools>> {
    let mut tools = BTreeMap::new();
    for &index in installed {
        let stage = graded.stages[index];
        if stage.tools.is_empty() {
            continue;
        }
        let bin = scratch.base.join("tools").join(&stage.dir);
        graded.tools.make_bin_dir(stage, &bin)?;
        let files = graded.tools.files_of(stage);
        tools.insert(index, StageTools { bin, files });
    }
    Ok(tools)
}

/// Step 1: each stage's submitted sources, gated and installed. Returns the indices of the
/// stages installed and their sources; a stage that could not be is marked in `grade`.
fn install_stages(
    graded: &Graded,
    grade: &mut Grade,
    scratch: &mut GradeScratch,
    violations: &mut gate::Violations,
) -> (Vec<usize>, BTreeMap<usize, Sources>) {
    let mut installed = Vec::new();
    let mut submitted = BTreeMap::new();
    for (index, stage) in graded.stages.iter().enumerate() {
        let stage_grade = &mut grade.stages[index];
        let outcome = submitted_sources(graded.submission, stage).and_then(|(sources, refused)| {
            stage_grade.refused = refused;
            submitted.insert(index, sources.clone());
            stage_grade.review =
                gate::scan(&stage.name, &sources, &gate::Policy::of(stage), violations);
            scratch.install(stage, &sources).map_err(|e| {
                Problem::from(format!(
                    "the grader could not install this stage's files: {e:#}"
                ))
            })
        });
        match outcome {
            Ok(()) => installed.push(index),
            Err(why) => {
                stage_grade.compile_error = Some(why.to_string());
                mark_all(stage_grade, Status::CompileError, &why);
            }
        }
    }
    (installed, submitted)
}

/// Step 2: the compile-fail seed of every installed stage that has compile-fail tests.
fn seed_compile_fail(
    graded: &Graded,
    grade: &mut Grade,
    scratch: &mut GradeScratch,
    installed: &[usize],
    submitted: &BTreeMap<usize, Sources>,
) -> Result<BTreeMap<usize, PathBuf>> {
    let mut seeds = BTreeMap::new();
    for &index in installed {
        let stage = graded.stages[index];
        if stage.overlay_only.is_empty() {
            continue;
        }
        let extra = offline_flag(graded.options);
        match trybuild_cache::seed(graded.root, stage, scratch, extra, &ui::heading) {
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
    Ok(seeds)
}

fn offline_flag(options: &Options) -> &'static [&'static str] {
    if options.offline { &["--offline"] } else { &[] }
}

/// Step 3: one cargo build of every installed stage.
fn build_stages(
    graded: &Graded,
    scratch: &GradeScratch,
    installed: &[usize],
) -> Result<cargo::Build> {
    let packages: Vec<(&str, PathBuf)> = installed
        .iter()
        .map(|&i| {
            let stage = graded.stages[i];
            let manifest = scratch.exercise_dir(stage).join("Cargo.toml");
            (stage.name.as_str(), manifest)
        })
        .collect();
    if packages.is_empty() {
        return Ok(cargo::Build::default());
    }
    ui::heading(&format!("grade: building {} stage(s)", packages.len()));
    // Compiling is running the submission's code too: in the sandbox (`build_jail.rs`).
    let jail = build_jail::Jail {
        workspace: &scratch.root,
        target_dir: &scratch.target_dir,
        read: vec![scratch.base.join("rust-toolchain.toml")],
        private: scratch.base.join("build"),
        isolation: graded.isolation,
        offline: graded.options.offline,
    };
    // A submission is built once: incremental caches would only cost.
    jail.build_tests(
        &packages,
        cargo::BuildProfile::Scratch { incremental: false },
    )
}

/// Step 4, per stage: its tests become jobs, or the stage is marked (compile error, refused,
/// or the grader's own failure).
fn record_prepared(
    grade: &mut Grade,
    index: usize,
    stage: &Stage,
    prepared: Result<StageJobs>,
    jobs: &mut Vec<Job>,
) {
    let stage_grade = &mut grade.stages[index];
    match prepared {
        Ok(StageJobs::Ready(listed, env, cwd)) => {
            add_jobs(grade, index, stage, listed, &env, &cwd, jobs);
        }
        Ok(StageJobs::CompileError(text)) => {
            stage_grade.compile_error = Some(first_lines(&text, 60));
            mark_all(
                stage_grade,
                Status::CompileError,
                "the stage did not compile",
            );
        }
        Ok(StageJobs::Refused(found)) => {
            stage_grade.violations = found;
            mark_all(
                stage_grade,
                Status::Fail,
                "not run: the submission uses code the grader refuses to run (see violations)",
            );
        }
        Err(why) => {
            let text = format!("the grader could not prepare this stage: {why:#}");
            stage_grade.compile_error = Some(text.clone());
            mark_all(stage_grade, Status::CompileError, &text);
        }
    }
}

/// Step 5: every job in its slot, until the budget runs out; the reports are rewritten after
/// each result.
fn run_jobs(graded: &Graded, grade: &mut Grade, context: &RunContext, jobs: &[Job]) -> Result<()> {
    let options = graded.options;
    let workers = options.jobs.max(1).min(jobs.len().max(1));
    let deadline = options.budget.map(|budget| graded.started + budget);
    let state = Mutex::new(std::mem::replace(grade, skeleton_empty()));
    let counter = std::sync::atomic::AtomicUsize::new(0);
    run_slots(jobs, workers, |slot, job| {
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
        grade.elapsed_secs = graded.started.elapsed().as_millis() as f64 / 1000.0;
        report::write_all(&grade, &options.formats, options.out())?;
        Ok(())
    })?;
    *grade = state.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(())
}

fn skeleton_empty() -> Grade {
    skeleton(Path::new("."), &[], String::new())
}

/// Final bookkeeping and the last report.
fn finish(mut grade: Grade, options: &Options, started: Instant) -> Result<Outcome> {
    grade.complete = true;
    grade.elapsed_secs = started.elapsed().as_millis() as f64 / 1000.0;
    grade.rescore();
    report::write_all(&grade, &options.formats, options.out())?;
    if !options.quiet {
        report::print_human(&grade, options.out(), &options.formats);
    }
    Ok(Outcome::of(!options.require_all || grade.all_passed()))
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
