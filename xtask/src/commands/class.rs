//! `cargo xtask grade --submissions DIR`: a whole class, one repository after another.
//!
//! DIR is what GitHub Classroom's assistant or `gh classroom clone student-repos` produce:
//! `DIR/<assignment>-<student>/` (or one level deeper, `DIR/<assignment>-submissions/...`).
//! Each repository is graded exactly as `--submission` grades one (same sandbox, same warm
//! build cache: runs are sequential because the cache is held by one grader at a time), into
//! `--out/<student>/`; `--out/gradebook.csv` gets one row per student. Whatever goes wrong
//! with one repository costs only its row.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::commands::grade::{self, Options};
use crate::course::Course;
use crate::report::Format;
use crate::report::points::show;

/// One repository to grade.
#[derive(Debug, Clone)]
pub struct Submission {
    pub student: String,
    pub path: PathBuf,
}

pub fn run(root: &Path, options: &Options, dir: &Path) -> Result<bool> {
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    let submissions = discover(dir)?;
    ensure!(
        !submissions.is_empty(),
        "{} holds no repositories (expected one folder per student)",
        dir.display()
    );
    fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
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
    for (done, submission) in submissions.iter().enumerate() {
        eprintln!(
            "{} {}",
            progress(done, total, started.elapsed()),
            submission.student
        );
        let out = options.out.join(safe_name(&submission.student));
        let _ = fs::remove_dir_all(&out);
        let one = Options {
            submission: Some(submission.path.clone()),
            formats: formats.clone(),
            out: out.clone(),
            require_all: false,
            submissions: None,
            quiet: true,
            ..options.clone()
        };
        let began = Instant::now();
        let outcome = grade::run(root, &one);
        let row = row_of(submission, &out, outcome.err());
        eprintln!(
            "      {}: {} ({:.1} s){}",
            submission.student,
            row.total.map_or("no score".to_owned(), |t| format!(
                "{}/{}",
                show(t),
                show(row.max)
            )),
            began.elapsed().as_secs_f64(),
            if row.flags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", row.flags.join("; "))
            }
        );
        rows.push(row);
        write_gradebook(&options.out, &stages, &rows)?;
    }
    eprintln!(
        "{} done in {:.0} s ({:.1} s per repository)",
        progress(total, total, started.elapsed()),
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() / total as f64
    );
    println!("gradebook: {}", options.out.join("gradebook.csv").display());
    Ok(true)
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
}

fn row_of(submission: &Submission, out: &Path, error: Option<anyhow::Error>) -> Row {
    let mut row = Row {
        student: submission.student.clone(),
        path: submission.path.clone(),
        stages: Vec::new(),
        total: None,
        max: 0.0,
        flags: Vec::new(),
    };
    if let Some(error) = error {
        row.flags.push(format!("grader error: {error:#}"));
    }
    let graded: Option<Value> = fs::read_to_string(out.join("grade.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
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
    let _ = writeln!(text, ",total ({}),flags,repository", show(max));
    for row in rows {
        text.push_str(&csv(&row.student));
        for stage in stages {
            let cell = row
                .stages
                .iter()
                .find(|(name, _)| *name == stage.name)
                .map_or(String::new(), |(_, s)| show(*s));
            let _ = write!(text, ",{cell}");
        }
        let _ = writeln!(
            text,
            ",{},{},{}",
            row.total.map_or(String::new(), show),
            csv(&row.flags.join("; ")),
            csv(&row.path.display().to_string())
        );
    }
    let file = out.join("gradebook.csv");
    let partial = out.join(".gradebook.csv.partial");
    fs::write(&partial, text)?;
    fs::rename(&partial, &file).with_context(|| format!("cannot write {}", file.display()))
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
