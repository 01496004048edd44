//! GitHub Classroom: the runner JSON (`classroom.json`), the step outputs and the job summary.

use std::fmt::Write as _;
use std::fs;

use anyhow::{Context, Result};
use base64::Engine as _;
use serde_json::{Value, json};

use super::model::{Grade, StageGrade, Status};
use super::text::truncate;
use crate::course::points::{self, show};

/// GitHub Classroom reads the result through an environment variable (128 KiB at most on
/// Linux, shared with the rest): keep the encoded payload well below.
const CLASSROOM_LIMIT: usize = 96 * 1024;

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
pub(super) fn classroom(grade: &Grade) -> Value {
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

pub(super) fn classroom_runners(grade: &Grade, message_limit: usize) -> Vec<(String, Value)> {
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

pub(super) fn classroom_stage(stage: &StageGrade, scores: &[f64], message_limit: usize) -> Value {
    let mut tests = Vec::new();
    for (test, score) in stage.tests.iter().zip(scores) {
        let status = match test.status {
            Status::Pass => "pass",
            Status::Fail | Status::Timeout | Status::Withheld => "fail",
            Status::Crash | Status::CompileError | Status::NotRun => "error",
        };
        let mut message = if test.status == Status::Pass {
            String::new()
        } else {
            format!("[{}] {}", test.status.label(), test.message)
        };
        if test.status == Status::Withheld {
            message = format!("{message}\n{}", stage.review_note());
        }
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
pub(super) fn github_output(grade: &Grade) -> Result<()> {
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
    for stage in grade.stages.iter().filter(|s| !s.review.is_empty()) {
        let _ = writeln!(
            text,
            "\n**{:02} {}: needs review** (points withheld):\n\n```text\n{}\n```",
            stage.order,
            stage.name,
            stage.review.join("\n")
        );
    }
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
