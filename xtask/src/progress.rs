//! The learner's progress: a plain text file at the course root, `.course-progress`.
//!
//! One fact per line, so it is easy to read, diff, copy between machines or delete:
//!
//! ```text
//! current waker-queue
//! passed manual-poll 5f3a9c01          <- the stage passed with this content of src/
//! tests waker-queue 12 28              <- the last run: 12 of 28 tests passed
//! hints waker-queue 2                  <- hints revealed so far
//! ```
//!
//! Lines about stages the course no longer has are kept as they are and ignored, so renaming
//! or removing a stage never breaks the file (or loses what it says about other stages).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub const FILE: &str = ".course-progress";

#[derive(Debug, Default)]
pub struct Progress {
    path: PathBuf,
    pub current: Option<String>,
    /// Stage name -> fingerprint of its `src/` when it last passed.
    pub passed: BTreeMap<String, String>,
    /// Stage name -> (passed, total) of the last run.
    pub tests: BTreeMap<String, (usize, usize)>,
    /// Stage name -> hints revealed.
    pub hints: BTreeMap<String, usize>,
    /// Lines this version does not understand, kept verbatim.
    other: Vec<String>,
}

impl Progress {
    pub fn load(root: &Path) -> Progress {
        let path = root.join(FILE);
        let mut progress = Progress {
            path: path.clone(),
            ..Progress::default()
        };
        let text = fs::read_to_string(&path).unwrap_or_default();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["current", stage] => progress.current = Some((*stage).to_owned()),
                ["passed", stage, fingerprint] => {
                    progress
                        .passed
                        .insert((*stage).to_owned(), (*fingerprint).to_owned());
                }
                ["tests", stage, passed, total] => {
                    if let (Ok(p), Ok(t)) = (passed.parse(), total.parse()) {
                        progress.tests.insert((*stage).to_owned(), (p, t));
                    }
                }
                ["hints", stage, count] => {
                    if let Ok(count) = count.parse() {
                        progress.hints.insert((*stage).to_owned(), count);
                    }
                }
                _ => progress.other.push(line.to_owned()),
            }
        }
        progress
    }

    pub fn save(&self) -> Result<()> {
        let mut text = String::from(
            "# Your progress through async-from-scratch, kept by `cargo xtask`. Safe to edit or \
             delete.\n",
        );
        if let Some(current) = &self.current {
            text.push_str(&format!("current {current}\n"));
        }
        for (stage, fingerprint) in &self.passed {
            text.push_str(&format!("passed {stage} {fingerprint}\n"));
        }
        for (stage, (passed, total)) in &self.tests {
            text.push_str(&format!("tests {stage} {passed} {total}\n"));
        }
        for (stage, count) in &self.hints {
            text.push_str(&format!("hints {stage} {count}\n"));
        }
        for line in &self.other {
            text.push_str(line);
            text.push('\n');
        }
        fs::write(&self.path, text).with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// A short fingerprint of a stage's sources (FNV-1a over paths and contents): enough to tell
/// "passed, and unchanged since" from "changed after passing".
pub fn fingerprint(sources: &crate::scratch::Sources) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, bytes) in sources {
        for byte in path
            .to_string_lossy()
            .bytes()
            .chain([0])
            .chain(bytes.iter().copied())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:08x}", hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_lines_and_removed_stages_survive_a_round_trip() {
        let dir = std::env::temp_dir().join(format!("xtask-progress-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join(FILE),
            "current gone-stage\npassed manual-poll abc\nfuture-key x y\ntests gone 1 2\n",
        )
        .unwrap();
        let mut progress = Progress::load(&dir);
        assert_eq!(progress.current.as_deref(), Some("gone-stage"));
        progress.hints.insert("manual-poll".into(), 2);
        progress.save().unwrap();
        let text = fs::read_to_string(dir.join(FILE)).unwrap();
        for line in [
            "passed manual-poll abc",
            "future-key x y",
            "tests gone 1 2",
            "hints manual-poll 2",
        ] {
            assert!(text.contains(line), "{line} lost:\n{text}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
