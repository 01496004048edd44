//! Everything xtask prints: progress lines as checks finish, and the summary table.
//!
//! Colour is used only on a terminal, and never when `NO_COLOR` is set.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use crate::verify::StageReport;

fn colour() -> bool {
    static COLOUR: OnceLock<bool> = OnceLock::new();
    *COLOUR
        .get_or_init(|| std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
}

fn paint(text: &str, code: &str) -> String {
    if colour() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

pub fn green(text: &str) -> String {
    paint(text, "32")
}

pub fn red(text: &str) -> String {
    paint(text, "1;31")
}

pub fn bold(text: &str) -> String {
    paint(text, "1")
}

fn flush() {
    let _ = std::io::stdout().flush();
}

pub fn heading(text: &str) {
    println!("{}", bold(text));
    flush();
}

/// One finished check: `  stub      ok    every test fails on the stub`, then its detail
/// (indented) if there is any.
pub fn line(column: &str, ok: bool, what: &str, detail: &str) {
    let verdict = if ok { green("ok  ") } else { red("FAIL") };
    println!("  {column:<9} {verdict}  {what}");
    if !detail.is_empty() {
        self::detail(detail);
    }
    flush();
}

/// Indented supporting text under a line.
pub fn detail(text: &str) {
    for line in text.trim_end().lines() {
        println!("                  {line}");
    }
    flush();
}

/// The per-stage summary table.
pub fn table(reports: &[StageReport]) {
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
    println!("{}", bold(header.trim_end()));
    for report in reports {
        let mut row = format!("{:<width$}", report.label);
        for column in COLUMNS {
            let cell = report.cell(column);
            let padded = format!("{cell:<8}");
            let failed = cell == "FAIL" || cell.split_once('/').is_some_and(|(a, b)| a != b);
            row.push_str("  ");
            row.push_str(&if failed { red(&padded) } else { padded });
        }
        println!("{}", row.trim_end());
    }
    flush();
}
