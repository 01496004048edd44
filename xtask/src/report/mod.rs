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
//! | withheld       | failure + review | failed, 0 +review| fail + review     | fail        |
//!
//! `withheld`: the test passed, but its stage shows evidence of memory forgery
//! (`StageGrade::review`): it earns nothing until a person reviews it, and every format says so.
//! Every format is written from `bounded::bounded`'s copy of the grade: texts the submission
//! controls are capped and their control characters escaped.
//!
//! Files are written to a temporary name and renamed, so a reader (or a process killed
//! mid-write) never sees half a report.

pub mod bounded;
mod classroom;
mod exercism;
mod gradescope;
mod human;
mod junit;
pub mod model;

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

pub use classroom::runner_name;
use classroom::{classroom, github_output};
use exercism::exercism;
use gradescope::gradescope;
pub use human::print_human;
use junit::junit;
use model::Grade;

/// A report format (`grade --format`; clap spells each in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Gradescope,
    Classroom,
    Exercism,
}

impl Format {
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
    let grade = &bounded::bounded(grade);
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

pub(super) fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("thread '"))
        .unwrap_or("")
        .to_owned()
}

pub(super) fn truncate(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" [truncated]");
    }
}
