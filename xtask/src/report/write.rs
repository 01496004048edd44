//! Writing every file format of one grade, each file whole (a temporary name, then renamed).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::bounded;
use super::classroom::{classroom, github_output};
use super::exercism::exercism;
use super::format::Format;
use super::gradescope::gradescope;
use super::junit::junit;
use super::model::Grade;

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
