//! What verify found: each check as it finishes (`[done/total]` lines) and the summary table.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::course::Stage;
use crate::ui;

/// Counts finished checks across the stages running at once, and prints each as it ends.
pub(super) struct Progress {
    done: AtomicUsize,
    total: usize,
    print: Mutex<()>,
}

impl Progress {
    /// Counts `total` checks from zero.
    pub(super) fn new(total: usize) -> Progress {
        Progress {
            done: AtomicUsize::new(0),
            total,
            print: Mutex::new(()),
        }
    }
}

/// The outcome of every check of one stage.
#[derive(Debug)]
pub struct StageReport {
    pub label: String,
    pub checks: Vec<Check>,
    /// Not checked: its inputs are what they were when it last passed.
    pub skipped: bool,
    /// rustfmt's complaints about patched files, folded into the lint check.
    pub(super) patched_fmt: String,
}

#[derive(Debug)]
pub struct Check {
    /// The column this check belongs to: files, stub, solution, bugs, alts or lint.
    pub column: &'static str,
    pub ok: bool,
}

impl StageReport {
    pub(super) fn new(stage: &Stage) -> StageReport {
        StageReport {
            label: format!("{:02} {}", stage.order, stage.name),
            checks: Vec::new(),
            skipped: false,
            patched_fmt: String::new(),
        }
    }

    pub(super) fn broken(dir: &str, _problem: &str) -> StageReport {
        StageReport {
            label: dir.to_owned(),
            checks: vec![Check {
                column: "files",
                ok: false,
            }],
            skipped: false,
            patched_fmt: String::new(),
        }
    }

    pub fn ok(&self) -> bool {
        self.checks.iter().all(|check| check.ok)
    }

    /// "ok", "FAIL", "3/4" (for columns with several checks), "-" (not run) or "same"
    /// (skipped: unchanged since it last passed).
    pub fn cell(&self, column: &str) -> String {
        if self.skipped {
            return "same".to_owned();
        }
        let checks: Vec<&Check> = self.checks.iter().filter(|c| c.column == column).collect();
        let passed = checks.iter().filter(|c| c.ok).count();
        match (column, checks.len()) {
            (_, 0) => "-".to_owned(),
            ("bugs" | "alts", n) => format!("{passed}/{n}"),
            (_, n) if passed == n => "ok".to_owned(),
            _ => "FAIL".to_owned(),
        }
    }

    pub(super) fn record(
        &mut self,
        column: &'static str,
        ok: bool,
        what: &str,
        detail: &str,
        progress: &Progress,
    ) {
        let done = progress.done.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let _guard = progress.print.lock().unwrap_or_else(|e| e.into_inner());
            let total = progress.total.max(done);
            ui::line(
                &format!("[{done:>3}/{total}] {} {column}", self.label),
                ok,
                what,
                detail,
            );
        }
        self.checks.push(Check { column, ok });
    }
}

/// The per-stage summary table.
pub(super) fn table(reports: &[StageReport]) {
    const COLUMNS: [&str; 6] = ["files", "stub", "solution", "bugs", "alts", "lint"];
    let width = reports
        .iter()
        .map(|r| r.label.len())
        .chain([5])
        .max()
        .unwrap_or(5);
    println!();
    let mut header = format!("{:<width$}", "stage");
    for column in COLUMNS {
        header.push_str(&format!("  {column:<8}"));
    }
    println!("{}", ui::bold(header.trim_end()));
    for report in reports {
        let mut row = format!("{:<width$}", report.label);
        for column in COLUMNS {
            let cell = report.cell(column);
            let padded = format!("{cell:<8}");
            let failed = cell == "FAIL" || cell.split_once('/').is_some_and(|(a, b)| a != b);
            row.push_str("  ");
            row.push_str(&if failed { ui::red(&padded) } else { padded });
        }
        println!("{}", row.trim_end());
    }
    ui::flush();
}
