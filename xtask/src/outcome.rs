//! How a command ends: the one convention every command follows (ARCHITECTURE.md, "One error
//! type, one exit code convention").
//!
//! A command returns `anyhow::Result<Outcome>`:
//!
//! | what happened                                            | value                    | exit |
//! |----------------------------------------------------------|--------------------------|------|
//! | it did its job and every check passed                    | `Ok(Outcome::Passed)`    | 0    |
//! | it did its job and a check failed (a test, a stage, ...) | `Ok(Outcome::Failed)`    | 1    |
//! | bad input (unknown stage, bad flag) or broken machinery  | `Err(anyhow::Error)`     | 2    |
//! | Ctrl-C                                                   | `Err(Interrupted)`       | 130  |
//!
//! clap's own errors (an unknown flag, a bad `--format`) also exit 2. A failure that is a
//! *finding* (a test that fails, a stage that does not compile, a patch that does not apply) is
//! never an `Err`: it is reported and makes the outcome `Failed`.

use std::process::ExitCode;

/// Whether a command's checks passed (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// Exit 0.
    Passed,
    /// Exit 1: a check failed, and the command said which.
    Failed,
}

/// The exit code of an `Err`: bad input, or machinery that broke.
pub const BAD_INPUT: u8 = 2;

impl Outcome {
    /// `Passed` if `passed`.
    pub fn of(passed: bool) -> Outcome {
        if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }

    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Passed => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::FAILURE,
        }
    }
}

/// Why the thing a command checked did not pass, as a sentence for a person: a version that
/// does not build, an upload that is not a copy of the course, a file the gate refuses, a
/// student's grader that crashed. It is a finding, reported where it belongs (a verify line, a
/// report's notes, a gradebook row), never an error of the tool: `Result<T, Problem>` keeps the
/// two apart wherever an `anyhow::Result` also says whether the tool itself could work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(String);

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Problem {
    fn from(text: String) -> Problem {
        Problem(text)
    }
}

impl From<&str> for Problem {
    fn from(text: &str) -> Problem {
        Problem(text.to_owned())
    }
}

/// A `Problem` reads as its sentence wherever text is expected.
impl std::ops::Deref for Problem {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}
