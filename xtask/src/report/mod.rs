//! Writing a [`Grade`] out: every format is a function of the one model.
//!
//! | model          | JUnit            | Gradescope       | Classroom         | Exercism v3 |
//! |----------------|------------------|------------------|-------------------|-------------|
//! | pass           | success          | passed, full     | pass, score       | pass        |
//! | fail           | failure          | failed, 0        | fail              | fail        |
//! | timeout        | failure "timeout"| failed           | fail              | error       |
//! | crash          | error "crash"    | failed           | error             | error       |
//! | compile error  | error            | failed + errors  | error             | error (top) |
//! | not run        | skipped          | failed           | error             | error       |
//!
//! Files are written to a temporary name and renamed, so a reader (or a process killed
//! mid-write) never sees half a report.

pub mod model;
pub mod points;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::ui;
use model::{Grade, StageGrade, Status, tally};
use points::show;

/// GitHub Classroom reads the result through an environment variable (128 KiB at most on
/// Linux, shared with the rest): keep the encoded payload well below.
const CLASSROOM_LIMIT: usize = 96 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Junit,
    Gradescope,
    Classroom,
    Exercism,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Human,
        Format::Json,
        Format::Junit,
        Format::Gradescope,
        Format::Classroom,
        Format::Exercism,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Gradescope => "gradescope",
            Format::Classroom => "classroom",
            Format::Exercism => "exercism",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The file this format writes under `--out`.
    pub fn file(self) -> Option<&'static str> {
        match self {
            Format::Human => None,
            Format::Json => Some("grade.json"),
            Format::Junit => Some("junit.xml"),
            Format::Gradescope | Format::Exercism => Some("results.json"),
            Format::Classroom => Some("classroom.json"),
        }
    }
}

/// Gradescope and Exercism both require `results.json`: they cannot share one `--out`.
pub fn check_formats(formats: &[Format]) -> Result<()> {
    if formats.contains(&Format::Gradescope) && formats.contains(&Format::Exercism) {
        bail!(
            "the gradescope and exercism formats both write results.json; grade twice, with a \
             different --out for each"
        );
    }
    Ok(())
}

/// Writes every file format (the human report is printed at the end instead).
pub fn write_all(grade: &Grade, formats: &[Format], out: &Path) -> Result<()> {
    for format in formats {
        let text = match format {
            Format::Human => continue,
            Format::Json => serde_json::to_string_pretty(grade)?,
            Format::Junit => junit(grade)?,
            Format::Gradescope => serde_json::to_string_pretty(&gradescope(grade))?,
            Format::Classroom => serde_json::to_string(&classroom(grade))?,
            Format::Exercism => serde_json::to_string_pretty(&exercism(grade))?,
        };
        let file = out.join(format.file().expect("file formats have a file"));
        let temporary = out.join(format!(".{}.partial", format.name()));
        fs::write(&temporary, text).with_context(|| format!("cannot write {}", file.display()))?;
        fs::rename(&temporary, &file)
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    if grade.complete && formats.contains(&Format::Classroom) {
        github_output(grade)?;
    }
    Ok(())
}

fn junit(grade: &Grade) -> Result<String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    use std::time::Duration;

    let mut report = Report::new("async-from-scratch");
    for stage in &grade.stages {
        let mut suite = TestSuite::new(format!("{:02} {}", stage.order, stage.name));
        for test in &stage.tests {
            let mut status = match test.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Fail | Status::Timeout => {
                    TestCaseStatus::non_success(NonSuccessKind::Failure)
                }
                Status::Crash | Status::CompileError => {
                    TestCaseStatus::non_success(NonSuccessKind::Error)
                }
                Status::NotRun => TestCaseStatus::skipped(),
            };
            if test.status != Status::Pass {
                status.set_type(test.status.label());
                status.set_message(first_line(&test.message));
                status.set_description(&test.message);
            }
            let mut case = TestCase::new(&test.id, status);
            case.set_classname(&stage.name);
            case.set_time(Duration::from_millis(test.duration_ms));
            suite.add_test_case(case);
        }
        if let Some(errors) = &stage.compile_error {
            suite.set_system_err(errors);
        }
        report.add_test_suite(suite);
    }
    report.to_string().context("cannot write the JUnit report")
}

/// Gradescope's `results.json` (gradescope-autograders specs). The top-level `score` is the
/// exact total (Gradescope would otherwise add up the tests' scores as floats).
fn gradescope(grade: &Grade) -> Value {
    let mut tests = Vec::new();
    for stage in &grade.stages {
        for (i, test) in stage.tests.iter().enumerate() {
            let mut output = test.message.clone();
            if test.status == Status::CompileError
                && let Some(errors) = &stage.compile_error
            {
                output = format!("The stage did not compile:\n\n{errors}");
            }
            tests.push(json!({
                "name": format!("{:02} {} › {}", stage.order, stage.name, test.id),
                "number": format!("{}.{}", stage.order, i + 1),
                "score": test.score,
                "max_score": test.max_score,
                "status": if test.status == Status::Pass { "passed" } else { "failed" },
                "output": if test.status == Status::Pass { String::new() } else {
                    format!("[{}] {output}", test.status.label())
                },
                "output_format": "text",
                "tags": [stage.name],
            }));
        }
    }
    json!({
        "score": grade.score,
        "execution_time": grade.elapsed_secs.round() as u64,
        "output": summary(grade),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// The runner JSONs GitHub Classroom's reporter reads
/// (`classroom-resources/autograding-grading-reporter`), one runner per stage, named
/// `stageNN` (the workflow lists them in order).
///
/// What the reporter does with them: the log and its table give each runner
/// `passed / tests × max_score`; the annotation Classroom records is `Σ score / Σ max_score`
/// over every test of every runner, added up as floats in order. So: `max_score` is the
/// stage's points (whole numbers add up exactly), a finished or untouched stage gives the same
/// number everywhere, and the tests' `score`s are chosen (`points::for_float_sum`) so that
/// the annotation's running sum is exactly our total. Only for a partly solved stage does the
/// log's per-stage line (passed ÷ total) differ from the stage's weighted score; the job
/// summary (`$GITHUB_STEP_SUMMARY`) shows ours.
fn classroom(grade: &Grade) -> Value {
    let runners: Vec<Value> = classroom_runners(grade, usize::MAX)
        .into_iter()
        .map(|(runner, results)| json!({ "runner": runner, "results": results }))
        .collect();
    json!({
        "score": grade.score,
        "max_score": grade.max_score,
        "runners": runners,
    })
}

/// The name of a stage's runner in the workflow (letters and digits only, as the reporter
/// requires).
pub fn runner_name(order: u32) -> String {
    format!("stage{order:02}")
}

fn classroom_runners(grade: &Grade, message_limit: usize) -> Vec<(String, Value)> {
    let mut before = 0;
    let mut runners = Vec::new();
    for stage in &grade.stages {
        let earned: Vec<i64> = stage
            .tests
            .iter()
            .map(|t| {
                if t.status == Status::Pass {
                    t.max_cents
                } else {
                    0
                }
            })
            .collect();
        let scores = points::for_float_sum(&earned, before);
        before += earned.iter().sum::<i64>();
        runners.push((
            runner_name(stage.order),
            classroom_stage(stage, &scores, message_limit),
        ));
    }
    runners
}

fn classroom_stage(stage: &StageGrade, scores: &[f64], message_limit: usize) -> Value {
    let mut tests = Vec::new();
    for (test, score) in stage.tests.iter().zip(scores) {
        let status = match test.status {
            Status::Pass => "pass",
            Status::Fail | Status::Timeout => "fail",
            Status::Crash | Status::CompileError | Status::NotRun => "error",
        };
        let mut message = if test.status == Status::Pass {
            String::new()
        } else {
            format!("[{}] {}", test.status.label(), test.message)
        };
        truncate(&mut message, message_limit);
        tests.push(json!({
            "name": format!("{:02} {} › {}", stage.order, stage.name, test.id),
            "status": status,
            "score": score,
            "message": message,
            "test_code": "",
            "filename": format!("exercises/{}/tests/{}.rs", stage.dir, test.target),
            "line_no": 0,
            "execution_time": format!("{:.2}s", test.duration_ms as f64 / 1000.0),
        }));
    }
    let all = stage.tests.iter().all(|t| t.status == Status::Pass);
    json!({
        "version": 1,
        "status": if all { "pass" } else { "fail" },
        "max_score": stage.points,
        "tests": tests,
    })
}

/// Appends `stageNN=<base64 JSON>` per stage to `$GITHUB_OUTPUT` (shrinking messages until
/// each fits), and the score table to `$GITHUB_STEP_SUMMARY`.
fn github_output(grade: &Grade) -> Result<()> {
    use std::io::Write;
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        let mut file = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .context("cannot open $GITHUB_STEP_SUMMARY")?;
        file.write_all(markdown_summary(grade).as_bytes())
            .context("cannot write $GITHUB_STEP_SUMMARY")?;
    }
    let Some(path) = std::env::var_os("GITHUB_OUTPUT") else {
        return Ok(());
    };
    let encode = |limit| -> Vec<(String, String)> {
        classroom_runners(grade, limit)
            .into_iter()
            .map(|(runner, results)| {
                let text = serde_json::to_string(&results).unwrap_or_default();
                (
                    runner,
                    base64::engine::general_purpose::STANDARD.encode(text),
                )
            })
            .collect()
    };
    let mut payload = encode(usize::MAX);
    for limit in [2000, 500, 100, 0] {
        if payload.iter().map(|(_, p)| p.len()).sum::<usize>() <= CLASSROOM_LIMIT {
            break;
        }
        payload = encode(limit);
    }
    let mut file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .context("cannot open $GITHUB_OUTPUT")?;
    for (runner, encoded) in payload {
        writeln!(file, "{runner}={encoded}").context("cannot write $GITHUB_OUTPUT")?;
    }
    writeln!(file, "score={}", show(grade.score)).context("cannot write $GITHUB_OUTPUT")?;
    writeln!(file, "max_score={}", show(grade.max_score)).context("cannot write $GITHUB_OUTPUT")
}

/// The score table as Markdown (the GitHub job summary).
pub fn markdown_summary(grade: &Grade) -> String {
    let mut text = format!(
        "## Score: {} / {}\n\n| stage | score | passed |\n|---|---:|---:|\n",
        show(grade.score),
        show(grade.max_score)
    );
    for stage in &grade.stages {
        let passed = stage
            .tests
            .iter()
            .filter(|t| t.status == Status::Pass)
            .count();
        let _ = writeln!(
            text,
            "| {:02} {} | {} / {} | {passed} / {} |",
            stage.order,
            stage.name,
            show(stage.score),
            show(stage.points),
            stage.tests.len()
        );
    }
    let _ = writeln!(
        text,
        "| **total** | **{} / {}** | |",
        show(grade.score),
        show(grade.max_score)
    );
    for finding in &grade.integrity {
        let _ = writeln!(
            text,
            "\n{} `{}` (the course's copy was used)",
            finding.change.label(),
            finding.path
        );
    }
    for note in &grade.notes {
        let _ = writeln!(text, "\nNote: {note}");
    }
    text
}

/// Exercism's test-runner interface, version 3: tests in file order, `task_id` = the stage.
fn exercism(grade: &Grade) -> Value {
    let ran = grade
        .stages
        .iter()
        .flat_map(|s| &s.tests)
        .any(|t| !matches!(t.status, Status::CompileError | Status::NotRun));
    let mut tests = Vec::new();
    for stage in &grade.stages {
        for test in &stage.tests {
            let status = match test.status {
                Status::Pass => "pass",
                Status::Fail => "fail",
                _ => "error",
            };
            let mut entry = json!({
                "name": test.id,
                "status": status,
                "test_code": "",
                "task_id": stage.order,
            });
            if test.status != Status::Pass {
                entry["message"] = json!(format!("[{}] {}", test.status.label(), test.message));
            }
            tests.push(entry);
        }
    }
    if !ran {
        let message: Vec<String> = grade
            .stages
            .iter()
            .filter_map(|s| {
                s.compile_error
                    .as_ref()
                    .map(|e| format!("{}:\n{e}", s.name))
            })
            .collect();
        let mut message = message.join("\n\n");
        truncate(&mut message, 65_000);
        return json!({ "version": 3, "status": "error", "message": message });
    }
    json!({
        "version": 3,
        "status": if grade.all_passed() { "pass" } else { "fail" },
        "tests": tests,
    })
}

/// The human report: a per-stage table, then every failure with its message.
pub fn print_human(grade: &Grade, out: &Path, formats: &[Format]) {
    println!();
    ui::heading(&format!("grade: {}", grade.submission));
    let width = grade
        .stages
        .iter()
        .map(|s| s.name.len() + 3)
        .max()
        .unwrap_or(10)
        .max(10);
    println!(
        "{}",
        ui::bold(&format!(
            "{:<width$}  {:>11}  {:>4} {:>4} {:>7} {:>5} {:>7} {:>7}",
            "stage", "score", "pass", "fail", "timeout", "crash", "compile", "not run"
        ))
    );
    for stage in &grade.stages {
        let counts = tally(stage);
        let count = |s| counts.get(&s).copied().unwrap_or(0);
        let score = format!("{}/{}", show(stage.score), show(stage.points));
        let row = format!(
            "{:<width$}  {:>11}  {:>4} {:>4} {:>7} {:>5} {:>7} {:>7}",
            format!("{:02} {}", stage.order, stage.name),
            score,
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Timeout),
            count(Status::Crash),
            count(Status::CompileError),
            count(Status::NotRun),
        );
        let full = stage.tests.iter().all(|t| t.status == Status::Pass);
        println!("{}", if full { ui::green(&row) } else { ui::red(&row) });
    }
    println!(
        "{}",
        ui::bold(&format!(
            "{:<width$}  {:>11}",
            "total",
            format!("{}/{}", show(grade.score), show(grade.max_score))
        ))
    );

    for stage in &grade.stages {
        if let Some(errors) = &stage.compile_error {
            println!(
                "\n{} {:02} {}",
                ui::red("COMPILE ERROR"),
                stage.order,
                stage.name
            );
            ui::detail(errors);
            continue;
        }
        if !stage.violations.is_empty() {
            println!(
                "\n{} {:02} {}: its tests were not run, because it uses code the grader \
                 refuses (it could end the test process or forge its output):",
                ui::red("REFUSED"),
                stage.order,
                stage.name
            );
            ui::detail(&stage.violations.join("\n"));
            continue;
        }
        for test in stage.tests.iter().filter(|t| t.status != Status::Pass) {
            println!(
                "\n{} {:02} {} › {}",
                ui::red(&test.status.label().to_uppercase()),
                stage.order,
                stage.name,
                test.id
            );
            ui::detail(&test.message);
        }
    }
    let refused: Vec<&String> = grade.stages.iter().flat_map(|s| &s.refused).collect();
    if !refused.is_empty() {
        println!("\n{}", ui::bold("not used from the submission:"));
        for file in refused {
            println!("  {file}");
        }
    }
    println!("\n{} {}", ui::bold("integrity:"), grade.integrity_note);
    for finding in &grade.integrity {
        println!(
            "  {} {} (the course's copy was used)",
            ui::red(finding.change.label()),
            finding.path
        );
    }
    if grade.budget_exhausted {
        println!("\nThe time budget ran out: tests marked \"not run\" were never started.");
    }
    match &grade.isolation {
        Some(isolation) => println!("{} {}", ui::bold("isolation:"), isolation.summary),
        None => println!("{} no test was run", ui::bold("isolation:")),
    }
    for note in &grade.notes {
        println!("{} {note}", ui::bold("note:"));
    }
    let files: Vec<String> = formats
        .iter()
        .filter_map(|f| f.file())
        .map(|f| out.join(f).display().to_string())
        .collect();
    if !files.is_empty() {
        println!("\nreports: {}", files.join(", "));
    }
}

fn summary(grade: &Grade) -> String {
    let mut text = format!("Score: {} / {}\n", show(grade.score), show(grade.max_score));
    for stage in &grade.stages {
        let _ = write!(
            text,
            "{:02} {}: {} / {}",
            stage.order,
            stage.name,
            show(stage.score),
            show(stage.points)
        );
        if let Some(error) = &stage.compile_error {
            let _ = write!(text, " (not graded: {})", first_line(error));
        }
        for violation in &stage.violations {
            let _ = write!(text, "\n  refused: {violation}");
        }
        text.push('\n');
    }
    for note in &grade.notes {
        let _ = write!(text, "\nNote: {note}");
    }
    if let Some(isolation) = &grade.isolation {
        let _ = write!(text, "\nIsolation: {}\n", isolation.summary);
    }
    if !grade.integrity.is_empty() {
        text.push_str(
            "\nProtected files that differ from the course's (the course's were used):\n",
        );
        for finding in &grade.integrity {
            let _ = writeln!(text, "  {} {}", finding.change.label(), finding.path);
        }
    }
    text
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("thread '"))
        .unwrap_or("")
        .to_owned()
}

fn truncate(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" [truncated]");
    }
}
