//! The learner's progress, in two places with different jobs.
//!
//! *Preferences* live in `.course-progress` at the course root, one fact per line, so it is
//! easy to read, diff, copy between machines or delete:
//!
//! ```text
//! current waker-queue                  <- the stage `run`/`watch`/`hint` pick by default
//! hints waker-queue 2                  <- hints revealed so far
//! ```
//!
//! *Results* are facts, not memory: `.course/results/<stage>` holds each test's outcome in its
//! last run and the fingerprint of `src/` it ran against (`Results`). A stage's status and
//! points are derived from them (and from comparing `src/` with the stub), so deleting
//! `.course-progress` forgets only the preferences.
//!
//! Lines this version does not understand (including `passed`/`tests` lines of older
//! versions, and stages the course no longer has) are kept as they are and ignored.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub const FILE: &str = ".course-progress";

#[derive(Debug, Default)]
pub struct Progress {
    path: PathBuf,
    pub current: Option<String>,
    /// Whether the file existed when loaded.
    pub existed: bool,
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
        progress.existed = path.exists();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["current", stage] => progress.current = Some((*stage).to_owned()),
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

/// The outcome of each test of one stage in its last run (`.course/results/<stage>`).
#[derive(Debug, Default, Clone)]
pub struct Results {
    /// The fingerprint of `src/` in the last run (of any part).
    pub fingerprint: String,
    /// Set when the last run of the whole stage passed every test: that run's fingerprint.
    pub done: Option<String>,
    /// `target::name` -> passed, in the order first seen.
    pub tests: Vec<(String, bool)>,
}

pub const RESULTS_DIR: &str = ".course/results";

impl Results {
    fn path(root: &Path, stage: &str) -> PathBuf {
        root.join(RESULTS_DIR).join(stage)
    }

    /// The stage's last results, if it was ever run.
    pub fn load(root: &Path, stage: &str) -> Option<Results> {
        let text = fs::read_to_string(Results::path(root, stage)).ok()?;
        let mut results = Results::default();
        for line in text.lines() {
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["src", fingerprint] => results.fingerprint = (*fingerprint).to_owned(),
                ["done", fingerprint] => results.done = Some((*fingerprint).to_owned()),
                ["pass", id] => results.tests.push(((*id).to_owned(), true)),
                ["fail", id] => results.tests.push(((*id).to_owned(), false)),
                _ => {}
            }
        }
        Some(results)
    }

    /// Records a test's outcome (replacing its previous one).
    pub fn record(&mut self, id: &str, passed: bool) {
        match self.tests.iter_mut().find(|(t, _)| t == id) {
            Some(entry) => entry.1 = passed,
            None => self.tests.push((id.to_owned(), passed)),
        }
    }

    pub fn passed(&self, id: &str) -> bool {
        self.tests.iter().any(|(t, p)| t == id && *p)
    }

    pub fn save(&self, root: &Path, stage: &str) -> Result<()> {
        let path = Results::path(root, stage);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut text = format!(
            "# the last results of {stage}'s tests (cargo xtask run/watch); status and points \
             come from here\nsrc {}\n",
            self.fingerprint
        );
        if let Some(done) = &self.done {
            text.push_str(&format!("done {done}\n"));
        }
        for (id, passed) in &self.tests {
            text.push_str(&format!("{} {id}\n", if *passed { "pass" } else { "fail" }));
        }
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Forgets the stage's results (after `reset`).
    pub fn remove(root: &Path, stage: &str) -> bool {
        fs::remove_file(Results::path(root, stage)).is_ok()
    }
}

/// A short fingerprint of a stage's sources (FNV-1a over paths and contents): enough to tell
/// "passed, and unchanged since" from "changed after passing".
pub fn fingerprint(sources: &crate::files::Sources) -> String {
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
