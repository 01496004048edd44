//! The grade: one model every report format is written from (see `report/mod.rs` for the
//! formats, `points.rs` for how shares are computed).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::course::integrity::Finding;
use crate::course::points;
use crate::exec::sandbox::Isolation;

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
    /// Code the grader refuses to run (see `exec/gate/`); the stage's tests were not run.
    pub violations: Vec<String>,
    /// Evidence of memory forgery (`exec/gate/forgery.rs`, `file:line: pattern`): the tests
    /// ran, but a passed test earns nothing (status `withheld`) until a person reviews the
    /// code. Empty for a stage that needs no review.
    pub review: Vec<String>,
    /// What the grader says about how this stage was graded on this machine (a tool the
    /// stage declares that is missing here); the grader's words, never the submission's.
    pub notes: Vec<String>,
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
    /// Passed, but its points are withheld: the stage's code needs review (see
    /// `StageGrade::review`).
    Withheld,
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
            Status::Withheld => "withheld",
        }
    }
}

impl Grade {
    /// Every field but the stages (empty), the integrity findings and the notes (for
    /// `bounded`, which rebuilds those).
    pub fn clone_without_stages(&self) -> Grade {
        Grade {
            submission: String::new(),
            score: self.score,
            max_score: self.max_score,
            complete: self.complete,
            budget_exhausted: self.budget_exhausted,
            elapsed_secs: self.elapsed_secs,
            stages: Vec::new(),
            integrity: Vec::new(),
            integrity_note: String::new(),
            isolation: self.isolation.clone(),
            notes: Vec::new(),
        }
    }

    pub fn all_passed(&self) -> bool {
        self.stages
            .iter()
            .all(|s| s.tests.iter().all(|t| t.status == Status::Pass))
    }

    /// Totals, summed in whole hundredths (never as floats): a finished stage scores exactly
    /// its points and the stages add up exactly to the course's maximum.
    /// A stage under review has every pass withheld first (see [`StageGrade::withhold`]).
    pub fn rescore(&mut self) {
        let (mut score, mut max) = (0, 0);
        for stage in &mut self.stages {
            stage.withhold();
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

/// What a withheld test says.
pub const WITHHELD: &str = "passed, but its points are withheld: this stage's code shows \
                            patterns of memory forgery (see the stage's review evidence) and \
                            needs a person to review it";

impl StageGrade {
    /// Every field but the texts a submission controls and the tests (for `bounded`, which
    /// rebuilds those).
    pub fn clone_without_texts(&self) -> StageGrade {
        StageGrade {
            order: self.order,
            name: self.name.clone(),
            dir: self.dir.clone(),
            title: self.title.clone(),
            points: self.points,
            score: self.score,
            compile_error: None,
            refused: Vec::new(),
            violations: Vec::new(),
            review: Vec::new(),
            notes: self.notes.clone(),
            tests: Vec::new(),
        }
    }

    /// The review evidence as text for a report (empty when none).
    pub fn review_note(&self) -> String {
        if self.review.is_empty() {
            return String::new();
        }
        format!(
            "NEEDS REVIEW: points withheld; evidence of memory forgery:\n  {}",
            self.review.join("\n  ")
        )
    }

    /// Invariant: a stage with review evidence earns nothing; its passes become `Withheld`.
    pub fn withhold(&mut self) {
        if self.review.is_empty() {
            return;
        }
        for test in &mut self.tests {
            if test.status == Status::Pass {
                test.status = Status::Withheld;
                test.message = WITHHELD.to_owned();
            }
            if test.status == Status::Withheld {
                test.score = 0.0;
            }
        }
    }

    /// Hundredths the stage earned: the shares of its passed tests.
    pub fn earned_cents(&self) -> i64 {
        self.tests
            .iter()
            .filter(|t| t.status == Status::Pass)
            .map(|t| t.max_cents)
            .sum()
    }
}
