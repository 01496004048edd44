//! The report formats `grade --format` names, and the files they write.

use anyhow::{Result, bail};

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
