//! The grade: one model every report format is written from (see `report/mod.rs` for the
//! formats, `points.rs` for how shares are computed).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::course::integrity::Finding;
use crate::exec::sandbox::Isolation;
use crate::report::points;

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
    pub fn rescore(&mut self) {
        let (mut score, mut max) = (0, 0);
        for stage in &mut self.stages {
            let cents = stage.earned_cents();
            stage.score = points::from_cents(cents);
            score += cents;
            max += points::to_cents(stage.points);
        }
        self.score = points::from_cents(score);
        self.max_score = points::from_cents(max);
    }
}

/// Used by the human report: stage name -> (passed, total).
pub fn tally(stage: &StageGrade) -> BTreeMap<Status, usize> {
    let mut counts = BTreeMap::new();
    for test in &stage.tests {
        *counts.entry(test.status).or_insert(0) += 1;
    }
    counts
}

impl StageGrade {
    /// Hundredths the stage earned: the shares of its passed tests.
    pub fn earned_cents(&self) -> i64 {
        self.tests
            .iter()
            .filter(|t| t.status == Status::Pass)
            .map(|t| t.max_cents)
            .sum()
    }
}
