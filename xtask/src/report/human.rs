//! The human report, printed at the end of `grade`.

use std::fmt::Write as _;
use std::path::Path;

use super::format::Format;
use super::model::{Grade, StageGrade, Status, tally};
use super::text::first_line;
use crate::course::points::show;
use crate::ui;

/// The human report: a per-stage table, then every failure with its message.
pub fn print_human(grade: &Grade, out: &Path, formats: &[Format]) {
    let grade = &super::bounded::bounded(grade);
    println!();
    ui::heading(&format!("grade: {}", grade.submission));
    print_table(grade);
    for stage in &grade.stages {
        print_failures(stage);
    }
    print_notes(grade);
    let files: Vec<String> = formats
        .iter()
        .filter_map(|f| f.file())
        .map(|f| out.join(f).display().to_string())
        .collect();
    if !files.is_empty() {
        println!("\nreports: {}", files.join(", "));
    }
}

/// One row per stage (score and counts by status), and the total.
fn print_table(grade: &Grade) {
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
            "{:<width$}  {:>11}  {:>4} {:>4} {:>7} {:>5} {:>7} {:>7} {:>8}",
            "stage", "score", "pass", "fail", "timeout", "crash", "compile", "not run", "withheld"
        ))
    );
    for stage in &grade.stages {
        let counts = tally(stage);
        let count = |s| counts.get(&s).copied().unwrap_or(0);
        let score = format!("{}/{}", show(stage.score), show(stage.points));
        let row = format!(
            "{:<width$}  {:>11}  {:>4} {:>4} {:>7} {:>5} {:>7} {:>7} {:>8}",
            format!("{:02} {}", stage.order, stage.name),
            score,
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Timeout),
            count(Status::Crash),
            count(Status::CompileError),
            count(Status::NotRun),
            count(Status::Withheld),
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
}

/// Why the stage lost points: its compile errors, the code the gate refused, or each test
/// that did not pass with its message.
fn print_failures(stage: &StageGrade) {
    if let Some(errors) = &stage.compile_error {
        println!(
            "\n{} {:02} {}",
            ui::red("COMPILE ERROR"),
            stage.order,
            stage.name
        );
        ui::detail(errors);
        return;
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
        return;
    }
    if !stage.review.is_empty() {
        println!(
            "\n{} {:02} {}: its tests ran, but its points are withheld until a person reviews \
             its code, which shows patterns of memory forgery (a way to forge the test \
             results):",
            ui::red("NEEDS REVIEW"),
            stage.order,
            stage.name
        );
        ui::detail(&stage.review.join("\n"));
    }
    let shown = |t: &&super::model::TestGrade| !matches!(t.status, Status::Pass | Status::Withheld);
    for test in stage.tests.iter().filter(shown) {
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

/// Files not used, integrity, the budget, isolation and notes.
fn print_notes(grade: &Grade) {
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
}

pub(super) fn summary(grade: &Grade) -> String {
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
        for evidence in &stage.review {
            let _ = write!(text, "\n  needs review (points withheld): {evidence}");
        }
        for note in &stage.notes {
            let _ = write!(text, "\n  note: {note}");
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
