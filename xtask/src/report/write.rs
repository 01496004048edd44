//! Writing every file format of one grade, each file whole (a temporary name, then renamed).

use std::path::Path;

use anyhow::Result;

use super::bounded;
use super::classroom::{classroom, github_output};
use super::exercism::exercism;
use super::format::Format;
use super::gradescope::gradescope;
use super::junit::junit;
use super::model::Grade;
use crate::files;

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
        // Never through a symbolic link, and never a predictable temporary name.
        let file = format.file().expect("file formats have a file");
        files::write_whole(out, file, text.as_bytes())?;
    }
    if grade.complete && formats.contains(&Format::Classroom) {
        github_output(grade)?;
    }
    Ok(())
}
