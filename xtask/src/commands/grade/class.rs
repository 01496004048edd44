//! `cargo xtask grade --submissions DIR`: a whole class, one repository after another.
//!
//! DIR is what GitHub Classroom's assistant or `gh classroom clone student-repos` produce:
//! `DIR/<assignment>-<student>/` (or one level deeper, `DIR/<assignment>-submissions/...`).
//! Each repository is graded exactly as `--submission` grades one (same sandbox, same warm
//! build cache: runs are sequential because the cache is held by one grader at a time), into
//! `--out/<student>/`; `--out/gradebook.csv` gets one row per student. Whatever goes wrong
//! with one repository costs only its row.
//!
//! Invariant: one submission cannot stop the class. Each is graded by a child process (this
//! executable, `grade --submission`), with a time limit; a child that crashes (a stack
//! overflow in the gate, say), times out or exits non-zero is recorded in that student's row
//! (`status`, 0 points) and the next student is graded. `gradebook.csv` exists from the start
//! and is rewritten after each student.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use super::args::Args as Options;
use crate::course::Course;
use crate::course::points::show;
use crate::exec::runner::{self, Exit};
use crate::exec::sandbox;
use crate::outcome::Outcome;
use crate::outcome::Problem;
use crate::report::Format;

/// Test-only: the student whose grader child is made to abort (xtask/tests/class.rs).
pub const TEST_CRASH_ON: &str = "XTASK_TEST_CRASH_ON";
/// Test-only: set on that child; `main` aborts when it sees it.
pub const TEST_ABORT: &str = "XTASK_TEST_ABORT";
/// How long one submission may take when no `--budget` bounds its tests.
const CHILD_LIMIT: Duration = Duration::from_secs(60 * 60);

/// One repository to grade.
#[derive(Debug, Clone)]
pub struct Submission {
    pub student: String,
    pub path: PathBuf,
}

pub fn run(root: &Path, options: &Options, dir: &Path) -> Result<Outcome> {
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    let submissions = discover(dir)?;
    ensure!(
        !submissions.is_empty(),
        "{} holds no repositories (expected one folder per student)",
        dir.display()
    );
    fs::create_dir_all(options.out())
        .with_context(|| format!("cannot create {}", options.out().display()))?;
    let mut formats: Vec<Format> = options
        .formats
        .iter()
        .copied()
        .filter(|f| *f != Format::Human)
        .collect();
    if !formats.contains(&Format::Json) {
        formats.push(Format::Json);
    }
    let started = Instant::now();
    let total = submissions.len();
    let mut rows = Vec::new();
    write_gradebook(options.out(), &stages, &rows)?;
    sandbox::become_subreaper();
    for (done, submission) in submissions.iter().enumerate() {
        eprintln!(
            "{} {}",
            progress(done, total, started.elapsed()),
            submission.student
        );
        let out = options.out().join(safe_name(&submission.student));
        let _ = fs::remove_dir_all(&out);
        let one = Options {
            submission: Some(submission.path.clone()),
            formats: formats.clone(),
            out: Some(out.clone()),
            require_all: false,
            submissions: None,
            quiet: true,
            ..options.clone()
        };
        let began = Instant::now();
        let outcome = grade_in_child(root, &one, &submission.student);
        sandbox::sweep_orphans();
        let row = row_of(submission, &out, outcome);
        eprintln!(
            "      {}: {} ({:.1} s){}",
            submission.student,
            row.total.map_or("no score".to_owned(), |t| format!(
                "{}/{}",
                show(t),
                show(row.max)
            )),
            began.elapsed().as_secs_f64(),
            if row.status != "ok" {
                format!("  [{}]", row.status)
            } else if row.flags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", row.flags.join("; "))
            }
        );
        rows.push(row);
        write_gradebook(options.out(), &stages, &rows)?;
    }
    eprintln!(
        "{} done in {:.0} s ({:.1} s per repository)",
        progress(total, total, started.elapsed()),
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() / total as f64
    );
    println!(
        "gradebook: {}",
        options.out().join("gradebook.csv").display()
    );
    Ok(Outcome::Passed)
}

/// Grades one submission in a child process (`xtask grade --submission ...` with `one`'s
/// options). `Ok` when it exited 0; otherwise what happened to it, for the gradebook.
fn grade_in_child(root: &Path, one: &Options, student: &str) -> Result<(), Problem> {
    let me = std::env::current_exe().map_err(|e| format!("grader error: {e}"))?;
    let mut cmd = std::process::Command::new(me);
    cmd.arg("--root").arg(root).args(child_args(one));
    if std::env::var_os(TEST_CRASH_ON).is_some_and(|s| s == student) {
        cmd.env(TEST_ABORT, "1");
    }
    let limit = one
        .budget
        .map_or(CHILD_LIMIT, |budget| budget + Duration::from_secs(30 * 60));
    let finished = runner::run(cmd, limit).map_err(|e| format!("grader error: {e:#}"))?;
    let tail = || {
        let last: Vec<&str> = finished.stderr.lines().rev().take(3).collect();
        last.into_iter().rev().collect::<Vec<_>>().join(" / ")
    };
    match finished.exit {
        Exit::Code(0) => Ok(()),
        Exit::Code(code) => Err(format!("grader crashed: exit {code} ({})", tail()).into()),
        Exit::Signal(signal) => Err(format!("grader crashed: signal {signal}").into()),
        Exit::TimedOut => {
            Err(format!("grader timed out after {} min", limit.as_secs() / 60).into())
        }
    }
}

/// The command line that grades `one` as a single submission.
fn child_args(one: &Options) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["grade".into(), "--submission".into()];
    args.extend(one.submission.iter().map(|p| p.clone().into_os_string()));
    let formats: Vec<&str> = one.formats.iter().map(|f| f.name()).collect();
    args.extend(["--format".into(), formats.join(",").into()]);
    args.extend(["--out".into(), one.out().as_os_str().to_owned()]);
    args.extend(["--jobs".into(), one.jobs.to_string().into()]);
    args.extend(["--isolation".into(), one.isolation.name().into()]);
    for stage in &one.stages {
        args.extend(["--stage".into(), stage.into()]);
    }
    if let Some(budget) = one.budget {
        args.extend([
            "--budget".into(),
            format!("{}ms", budget.as_millis()).into(),
        ]);
    }
    if one.offline {
        args.push("--offline".into());
    }
    if one.keep_scratch {
        args.push("--keep-scratch".into());
    }
    args
}

/// `[#####-----] 3/30  0:42 elapsed, ETA 5:10`
fn progress(done: usize, total: usize, elapsed: Duration) -> String {
    const WIDTH: usize = 20;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(0);
    let eta = if done == 0 {
        "ETA ?".to_owned()
    } else {
        let per = elapsed.as_secs_f64() / done as f64;
        format!("ETA {}", clock((per * (total - done) as f64) as u64))
    };
    format!(
        "[{}{}] {done}/{total}  {} elapsed, {eta}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        clock(elapsed.as_secs())
    )
}

fn clock(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// The repositories under `dir`: each folder with an `exercises/` (or anything else that is
/// not an assignment folder: it is graded, and its report says what is missing). An assignment
/// folder (no `exercises/`, but repositories inside) is looked into, one level.
pub fn discover(dir: &Path) -> Result<Vec<Submission>> {
    let mut found = Vec::new();
    for child in subdirs(dir)? {
        let is_repo = child.join("exercises").exists()
            || child.join("Cargo.toml").exists()
            || child.join(".git").exists();
        let inner: Vec<PathBuf> = if is_repo {
            Vec::new()
        } else {
            subdirs(&child)?
                .into_iter()
                .filter(|d| d.join("exercises").exists() || d.join(".git").exists())
                .collect()
        };
        if inner.is_empty() {
            found.push(vec![child]);
        } else {
            found.push(subdirs(&child)?);
        }
    }
    let mut submissions = Vec::new();
    for group in found {
        let names: Vec<String> = group.iter().map(|p| file_name(p)).collect();
        let prefix = common_prefix(&names);
        for (path, name) in group.into_iter().zip(names) {
            let student = name
                .strip_prefix(&prefix)
                .filter(|s| !s.is_empty())
                .unwrap_or(&name)
                .to_owned();
            submissions.push(Submission { student, path });
        }
    }
    // Two assignment folders may hold the same student: keep the full names then.
    let mut seen = std::collections::BTreeMap::new();
    for s in &submissions {
        *seen.entry(s.student.clone()).or_insert(0) += 1;
    }
    for s in &mut submissions {
        if seen[&s.student] > 1 {
            s.student = file_name(&s.path);
        }
    }
    Ok(submissions)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The longest prefix all names share, cut after its last `-` (`lab-alice`, `lab-bob`: `lab-`).
fn common_prefix(names: &[String]) -> String {
    if names.len() < 2 {
        return String::new();
    }
    let first = &names[0];
    let mut len = first.len();
    for name in &names[1..] {
        len = len.min(
            first
                .bytes()
                .zip(name.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    match first[..len].rfind('-') {
        Some(cut) => first[..=cut].to_owned(),
        None => String::new(),
    }
}

fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

struct Row {
    student: String,
    path: PathBuf,
    /// Per stage (by name): points earned.
    stages: Vec<(String, f64)>,
    total: Option<f64>,
    max: f64,
    flags: Vec<String>,
    /// `ok`, or what happened to the grader of this submission.
    status: String,
}

fn row_of(submission: &Submission, out: &Path, outcome: Result<(), Problem>) -> Row {
    let mut row = Row {
        student: submission.student.clone(),
        path: submission.path.clone(),
        stages: Vec::new(),
        total: None,
        max: 0.0,
        flags: Vec::new(),
        status: "ok".to_owned(),
    };
    let graded: Option<Value> = fs::read_to_string(out.join("grade.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if let Err(status) = outcome {
        // Whatever report the child left is partial: the student gets 0 and the reason.
        row.status = status.to_string();
        row.total = Some(0.0);
        row.max = graded
            .as_ref()
            .and_then(|g| g["max_score"].as_f64())
            .unwrap_or(0.0);
        return row;
    }
    let Some(graded) = graded else {
        row.flags.push("no report".to_owned());
        return row;
    };
    row.total = graded["score"].as_f64();
    row.max = graded["max_score"].as_f64().unwrap_or(0.0);
    for stage in graded["stages"].as_array().into_iter().flatten() {
        let name = stage["name"].as_str().unwrap_or("?").to_owned();
        row.stages
            .push((name.clone(), stage["score"].as_f64().unwrap_or(0.0)));
        if let Some(error) = stage["compile_error"].as_str() {
            let first = error.lines().next().unwrap_or("");
            if first.contains("no exercises/ directory") || first.contains("cannot be read") {
                row.flags.push("not a copy of the course".to_owned());
            } else {
                row.flags.push(format!("{name}: compile error"));
            }
        }
        if stage["violations"]
            .as_array()
            .is_some_and(|v| !v.is_empty())
        {
            row.flags.push(format!("{name}: refused code"));
        }
        if stage["review"].as_array().is_some_and(|v| !v.is_empty()) {
            row.flags
                .push(format!("{name}: NEEDS REVIEW (points withheld)"));
        }
        let tests = stage["tests"].as_array().into_iter().flatten();
        let timeouts = tests.filter(|t| t["status"] == "timeout").count();
        if timeouts > 0 {
            row.flags.push(format!("{name}: {timeouts} timeout(s)"));
        }
    }
    row.flags.dedup();
    let changed = graded["integrity"].as_array().map_or(0, Vec::len);
    if changed > 0 {
        row.flags
            .push(format!("{changed} protected file(s) differ (not used)"));
    }
    if graded["budget_exhausted"] == true {
        row.flags.push("time budget ran out".to_owned());
    }
    row
}

fn write_gradebook(out: &Path, stages: &[&crate::course::Stage], rows: &[Row]) -> Result<()> {
    let mut text = String::from("student");
    for stage in stages {
        let _ = write!(
            text,
            ",{}",
            csv(&format!(
                "{:02} {} ({})",
                stage.order,
                stage.name,
                show(stage.points)
            ))
        );
    }
    let max: f64 = stages.iter().map(|s| s.points).sum();
    let _ = writeln!(text, ",total ({}),flags,repository,status", show(max));
    for row in rows {
        text.push_str(&csv(&row.student));
        for stage in stages {
            let cell = row
                .stages
                .iter()
                .find(|(name, _)| *name == stage.name)
                .map_or(String::new(), |(_, s)| show(*s));
            let cell = if row.status == "ok" { cell } else { show(0.0) };
            let _ = write!(text, ",{cell}");
        }
        let _ = writeln!(
            text,
            ",{},{},{},{}",
            row.total.map_or(String::new(), show),
            csv(&row.flags.join("; ")),
            csv(&row.path.display().to_string()),
            csv(&row.status)
        );
    }
    crate::files::write_whole(out, "gradebook.csv", text.as_bytes())
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn students_are_named_without_the_assignment_prefix() {
        let names = ["lab-alice", "lab-al", "lab-bob"].map(str::to_owned);
        assert_eq!(common_prefix(&names), "lab-");
        assert_eq!(common_prefix(&["solo-x".to_owned()]), "");
        assert_eq!(csv("a, b"), "\"a, b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
