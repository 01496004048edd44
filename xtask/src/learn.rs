//! The learner's commands: where do I stand, what next, run my tests, a hint, start over,
//! show me the answer (once I have earned it).

use std::fs;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::cargo;
use crate::course::{Course, Stage};
use crate::pristine;
use crate::progress::{self, Progress};
use crate::runner::{self, Status, TestEnv, TestResult};
use crate::scratch::{self, Sources};
use crate::testscan;
use crate::ui;

/// Where a stage stands for this learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    NotStarted,
    InProgress,
    Done,
    /// Passed once, edited since: run it again to be sure.
    ChangedSinceDone,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::NotStarted => "not started",
            State::InProgress => "in progress",
            State::Done => "done",
            State::ChangedSinceDone => "done, edited since",
        }
    }
}

pub fn state(root: &Path, stage: &Stage, progress: &Progress) -> State {
    let Ok(src) = scratch::read_sources(&stage.exercise_dir(root)) else {
        return State::InProgress;
    };
    if let Some(fingerprint) = progress.passed.get(&stage.name) {
        return if *fingerprint == progress::fingerprint(&src) {
            State::Done
        } else {
            State::ChangedSinceDone
        };
    }
    let touched =
        progress.tests.contains_key(&stage.name) || progress.hints.contains_key(&stage.name);
    match pristine::sources(root, stage) {
        Ok(stub) if stub == src && !touched => State::NotStarted,
        Err(_) if !touched => State::NotStarted,
        _ => State::InProgress,
    }
}

/// The first stage that is not done.
pub fn next_stage<'a>(root: &Path, course: &'a Course, progress: &Progress) -> Option<&'a Stage> {
    course
        .stages
        .iter()
        .find(|stage| state(root, stage, progress) != State::Done)
}

/// `cargo xtask` with no arguments.
pub fn status(root: &Path) -> Result<bool> {
    let course = Course::load(root)?;
    let progress = Progress::load(root);
    ui::heading("async-from-scratch: where you stand\n");
    println!(
        "  {:>2}  {:<18} {:<19} {:>7}  {:>9}",
        "#", "stage", "status", "tests", "points"
    );
    for stage in &course.stages {
        let state = state(root, stage, &progress);
        let tests = progress
            .tests
            .get(&stage.name)
            .map(|(p, t)| format!("{p}/{t}"))
            .unwrap_or_default();
        let earned = if state == State::Done {
            format!("{}/{}", stage.points, stage.points)
        } else {
            format!("-/{}", stage.points)
        };
        let line = format!(
            "  {:>2}  {:<18} {:<19} {:>7}  {:>9}",
            stage.order,
            stage.name,
            state.label(),
            tests,
            earned
        );
        println!(
            "{}",
            if state == State::Done {
                ui::green(&line)
            } else {
                line
            }
        );
    }
    match next_stage(root, &course, &progress) {
        Some(stage) => {
            println!(
                "\nNext: stage {} — {}\n  read   exercises/{}/README.md\n  then   cargo xtask run {}     \
                 (or `cargo xtask watch` to re-run on every save)\n  stuck? cargo xtask hint {}",
                stage.order, stage.title, stage.dir, stage.name, stage.name
            );
        }
        None => println!("\n{}", ui::green("Every stage is done. Well built!")),
    }
    Ok(true)
}

/// `cargo xtask next`: make the first unfinished stage current and say how to start.
pub fn next(root: &Path) -> Result<bool> {
    let course = Course::load(root)?;
    let mut progress = Progress::load(root);
    let Some(stage) = next_stage(root, &course, &progress) else {
        println!("{}", ui::green("Every stage is done. Well built!"));
        return Ok(true);
    };
    progress.current = Some(stage.name.clone());
    progress.save()?;
    println!(
        "Stage {}: {}\n  read   exercises/{}/README.md\n  edit   exercises/{}/src/\n  run    cargo xtask run {}   \
         (or cargo xtask watch)",
        stage.order, stage.title, stage.dir, stage.dir, stage.name
    );
    Ok(true)
}

/// Picks the stage named, or the current one, or the next unfinished one.
pub fn pick<'a>(course: &'a Course, root: &Path, name: Option<&str>) -> Result<&'a Stage> {
    if let Some(name) = name {
        return Ok(course.select(&[name.to_owned()])?[0]);
    }
    let progress = Progress::load(root);
    if let Some(current) = &progress.current
        && let Some(stage) = course.stages.iter().find(|s| &s.name == current)
        && state(root, stage, &progress) != State::Done
    {
        return Ok(stage);
    }
    next_stage(root, course, &progress)
        .or(course.stages.first())
        .context("this course has no stages")
}

/// The outcome of running one stage's tests.
#[derive(Debug)]
pub struct StageRun {
    pub passed: usize,
    pub total: usize,
    pub compiled: bool,
}

impl StageRun {
    pub fn all_passed(&self) -> bool {
        self.compiled && self.total > 0 && self.passed == self.total
    }
}

/// `cargo xtask run [stage]`.
pub fn run(root: &Path, name: Option<&str>) -> Result<bool> {
    let course = Course::load(root)?;
    let stage = pick(&course, root, name)?;
    Ok(run_stage(root, stage)?.all_passed())
}

/// Builds one stage in the learner's workspace and runs each of its tests in its own process
/// with the stage's timeout, so a hang is reported, never a frozen terminal. Records the
/// outcome in the progress file.
pub fn run_stage(root: &Path, stage: &Stage) -> Result<StageRun> {
    println!(
        "\n{} {}",
        ui::bold(&format!("{:02} {}", stage.order, stage.name)),
        stage.title
    );
    let build = cargo::build_tests(root, &root.join("target"), &[stage.name.as_str()], &[], &[])?;
    let package_dir = stage.exercise_dir(root);
    let manifest = package_dir.join("Cargo.toml");
    let mut progress = Progress::load(root);
    progress.current = Some(stage.name.clone());
    if !build.success {
        let errors = build.errors_of(&manifest);
        println!("{}", ui::red("  does not compile yet:"));
        ui::detail(&if errors.is_empty() {
            build.stderr.clone()
        } else {
            errors.join("\n")
        });
        progress.save()?;
        return Ok(StageRun {
            passed: 0,
            total: 0,
            compiled: false,
        });
    }
    let env = TestEnv::new(root, &package_dir, &stage.name);
    let binaries = build.binaries_of(&manifest);
    let mut jobs = runner::list_all(&binaries, &package_dir, &env)?;
    // Report in the order the tests are written (the order they teach in), not libtest's.
    let order = testscan::scan(&package_dir);
    jobs.sort_by_key(|job| {
        let position = order
            .iter()
            .position(|o| *o == job.id)
            .unwrap_or(usize::MAX);
        (job.id.target.clone(), position)
    });
    let jobs_count = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = runner::run_parallel(jobs, jobs_count, |job| {
        runner::run_test(
            &job.exe,
            &job.id,
            job.listed,
            &package_dir,
            &env,
            stage.timeout_for(&job.id),
        )
    })?;
    print_results(&results);
    let passed = results.iter().filter(|r| r.status.passed()).count();
    let run = StageRun {
        passed,
        total: results.len(),
        compiled: true,
    };
    progress
        .tests
        .insert(stage.name.clone(), (passed, run.total));
    if run.all_passed() {
        let src = scratch::read_sources(&package_dir)?;
        progress
            .passed
            .insert(stage.name.clone(), progress::fingerprint(&src));
        println!(
            "{}",
            ui::green(&format!(
                "  all {} tests pass: stage {} is done!",
                run.total, stage.order
            ))
        );
    } else {
        progress.passed.remove(&stage.name);
        println!("  {passed} of {} tests pass", run.total);
    }
    progress.save()?;
    Ok(run)
}

/// One line per test; the messages of the first few failures in full.
fn print_results(results: &[TestResult]) {
    const FULL: usize = 3;
    let mut target = "";
    let mut shown = 0;
    for result in results {
        if result.id.target != target {
            target = &result.id.target;
            println!("  {target}");
        }
        let mark = match &result.status {
            Status::Pass => ui::green("ok  "),
            Status::Timeout => ui::red("HANG"),
            Status::Crash(_) => ui::red("CRSH"),
            _ => ui::red("FAIL"),
        };
        println!("    {mark} {}", result.id.name);
        if !result.status.passed() {
            if shown < FULL {
                ui::detail(&result.message);
            }
            shown += 1;
        }
    }
    if shown > FULL {
        println!("  (messages of the first {FULL} failures shown; fix those first)");
    }
}

/// `cargo xtask hint [stage] [--again]`: reveal the next hint, remembering how far we got.
pub fn hint(root: &Path, name: Option<&str>, again: bool) -> Result<bool> {
    let course = Course::load(root)?;
    let stage = pick(&course, root, name)?;
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
        (1, seen.max(1))
    } else {
        let next = (seen + 1).min(hints.len());
        (next, next)
    };
    for (number, hint) in hints.iter().enumerate().skip(from - 1).take(to - from + 1) {
        println!(
            "{}",
            ui::bold(&format!(
                "Hint {} of {} — {}",
                number + 1,
                hints.len(),
                hint.0
            ))
        );
        println!("{}\n", hint.1.trim());
    }
    progress.hints.insert(stage.name.clone(), seen.max(to));
    progress.save()?;
    if to < hints.len() {
        println!(
            "Run `cargo xtask hint {}` again for the next one.",
            stage.name
        );
    } else {
        println!(
            "That was the last hint. `cargo xtask hint {} --again` shows them all.",
            stage.name
        );
    }
    Ok(true)
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
pub fn reset(root: &Path, name: &str, yes: bool) -> Result<bool> {
    let course = Course::load(root)?;
    let stage = course.select(&[name.to_owned()])?[0];
    let crate_root = stage.exercise_dir(root);
    let stub = pristine::sources(root, stage)?;
    let mine = scratch::read_sources(&crate_root).unwrap_or_default();
    if mine == stub {
        println!(
            "exercises/{}/src is already the stub; nothing to do.",
            stage.dir
        );
        return Ok(true);
    }
    let backup = backup_dir(root, stage);
    if !yes {
        print!(
            "This replaces exercises/{}/src with the stub it started as.\nYour version is kept in {}.\nContinue? [y/N] ",
            stage.dir,
            backup.display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return Ok(true);
        }
    }
    write_tree(&backup, &mine)?;
    fs::remove_dir_all(crate_root.join("src")).context("cannot remove the old src/")?;
    write_tree(&crate_root, &stub)?;
    let mut progress = Progress::load(root);
    progress.passed.remove(&stage.name);
    progress.tests.remove(&stage.name);
    progress.save()?;
    println!(
        "exercises/{}/src is the stub again; your version is in {}",
        stage.dir,
        backup.display()
    );
    Ok(true)
}

/// Where a learner's `src/` is kept before it is replaced: `.course/backups/<stage>-<unix time>`.
pub fn backup_dir(root: &Path, stage: &Stage) -> std::path::PathBuf {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    root.join(".course")
        .join("backups")
        .join(format!("{}-{stamp}", stage.dir))
}

pub fn write_tree(root: &Path, files: &Sources) -> Result<()> {
    for (relative, content) in files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `cargo xtask solution <stage> [--force]`: the reference, once the stage passes.
pub fn solution(root: &Path, name: &str, force: bool) -> Result<bool> {
    let course = Course::load(root)?;
    let stage = course.select(&[name.to_owned()])?[0];
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
        return Ok(false);
    }
    for (path, content) in scratch::read_sources(&solution_dir)? {
        println!(
            "{}",
            ui::bold(&format!("── solutions/{}/{} ──", stage.dir, path.display()))
        );
        println!("{}", String::from_utf8_lossy(&content));
    }
    Ok(true)
}
