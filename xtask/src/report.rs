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

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::grade::{Grade, Status, tally};
use crate::ui;

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

/// Gradescope's `results.json` (gradescope-autograders specs): the total is the sum of the
/// tests' scores, so no top-level `score` is given.
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
                "score": round(test.score),
                "max_score": round(test.max_score),
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
        "execution_time": grade.elapsed_secs.round() as u64,
        "output": summary(grade),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// The runner JSON GitHub Classroom's reporter reads (the shape of the command grader's, plus
/// per-test scores for weighted credit).
fn classroom(grade: &Grade) -> Value {
    classroom_sized(grade, usize::MAX)
}

fn classroom_sized(grade: &Grade, message_limit: usize) -> Value {
    let mut tests = Vec::new();
    for stage in &grade.stages {
        for test in &stage.tests {
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
                "score": round(test.score),
                "message": message,
                "test_code": "",
                "filename": format!("exercises/{:02}-…/tests/{}.rs", stage.order, test.target),
                "line_no": 0,
                "duration": test.duration_ms,
            }));
        }
    }
    let status = if grade.all_passed() { "pass" } else { "fail" };
    json!({
        "version": 3,
        "status": status,
        "max_score": round(grade.max_score),
        "tests": tests,
    })
}

/// Appends `result=<base64 JSON>` to `$GITHUB_OUTPUT`, shrinking messages until it fits.
fn github_output(grade: &Grade) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_OUTPUT") else {
        return Ok(());
    };
    let encode = |limit| {
        base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_string(&classroom_sized(grade, limit)).unwrap_or_default())
    };
    let mut payload = encode(usize::MAX);
    for limit in [2000, 500, 100, 0] {
        if payload.len() <= CLASSROOM_LIMIT {
            break;
        }
        payload = encode(limit);
    }
    let mut file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .context("cannot open $GITHUB_OUTPUT")?;
    use std::io::Write;
    writeln!(file, "result={payload}").context("cannot write $GITHUB_OUTPUT")
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
        let score = format!("{:.1}/{:.1}", stage.score, stage.points);
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
            format!("{:.1}/{:.1}", grade.score, grade.max_score)
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
    let mut text = format!("Score: {:.1} / {:.1}\n", grade.score, grade.max_score);
    for stage in &grade.stages {
        let _ = write!(
            text,
            "{:02} {}: {:.1} / {:.1}",
            stage.order, stage.name, stage.score, stage.points
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

fn round(score: f64) -> f64 {
    (score * 1000.0).round() / 1000.0
}
