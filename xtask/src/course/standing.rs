//! The learner's standing: where each stage stands (from its sources and last results), which
//! stage is next, and which stage a command means when none is named. Used by the learner's
//! commands and by `mistakes` (which opens only once a stage is done).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use super::pristine;
use super::progress::{self, Progress, Results};
use super::{Course, Stage};
use crate::files;

/// Where a stage stands for this learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    NotStarted,
    InProgress,
    Done,
    /// Passed once, edited since: run it again to be sure.
    ChangedSinceDone,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::NotStarted => "not started",
            State::InProgress => "in progress",
            State::Done => "done",
            State::ChangedSinceDone => "done, edited since",
        }
    }
}

pub fn state(root: &Path, stage: &Stage, _progress: &Progress) -> State {
    let Ok(src) = files::read_sources(&stage.exercise_dir(root)) else {
        return State::InProgress;
    };
    let fingerprint = progress::fingerprint(&src);
    match Results::load(root, &stage.name) {
        Some(results) => match results.done {
            Some(done) if done == fingerprint => State::Done,
            Some(_) => State::ChangedSinceDone,
            None => State::InProgress,
        },
        None => match pristine::sources(root, stage) {
            Ok(stub) if stub != src => State::InProgress,
            _ => State::NotStarted,
        },
    }
}

/// The first stage that is not done.
pub fn next_stage<'a>(root: &Path, course: &'a Course, progress: &Progress) -> Option<&'a Stage> {
    course
        .stages
        .iter()
        .find(|stage| state(root, stage, progress) != State::Done)
}

/// Picks the stage named; else the one whose directory we stand in; else the current one;
/// else the first unfinished one.
pub fn pick<'a>(course: &'a Course, root: &Path, name: Option<&str>) -> Result<&'a Stage> {
    if let Some(name) = name {
        return Ok(course.select(&[name.to_owned()])?[0]);
    }
    if let Some(stage) = stage_of_cwd(course, root) {
        return Ok(stage);
    }
    let progress = Progress::load(root);
    if let Some(current) = &progress.current
        && let Some(stage) = course.stages.iter().find(|s| &s.name == current)
        && state(root, stage, &progress) != State::Done
    {
        return Ok(stage);
    }
    next_stage(root, course, &progress)
        .or(course.stages.first())
        .context("this course has no stages")
}

/// The stage whose `exercises/NN-name/` contains the current directory.
fn stage_of_cwd<'a>(course: &'a Course, root: &Path) -> Option<&'a Stage> {
    let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
    course.stages.iter().find(|stage| {
        stage
            .exercise_dir(root)
            .canonicalize()
            .is_ok_and(|dir| cwd.starts_with(dir))
    })
}

/// Where a learner's `src/` is kept before it is replaced: `.course/backups/<stage>-<unix time>`.
pub fn backup_dir(root: &Path, stage: &Stage) -> PathBuf {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    root.join(".course")
        .join("backups")
        .join(format!("{}-{stamp}", stage.dir))
}
