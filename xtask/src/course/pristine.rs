//! The stub a stage started from, for `reset` and for telling "not started" from "in progress".
//!
//! A starter repository made by `classroom export` carries the stubs in `.course/pristine/`.
//! In the course's own repository the committed version (git `HEAD`) is the stub.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::course::Stage;
use crate::files::{self, Sources};

pub const DIR: &str = ".course/pristine";

/// The pristine `src/` of `stage`, keyed like `files::read_sources` (`src/lib.rs`, ...).
pub fn sources(root: &Path, stage: &Stage) -> Result<Sources> {
    if root.ends_with(DIR) {
        // `root` is itself the pristine copy (a starter repository grading itself).
        return files::read_sources(&stage.exercise_dir(root));
    }
    let kept = root.join(DIR).join("exercises").join(&stage.dir);
    if kept.join("src").is_dir() {
        return files::read_sources(&kept);
    }
    from_git(root, stage).with_context(|| {
        format!(
            "there is no pristine copy of {}'s stub: neither {DIR}/ nor a git repository",
            stage.name
        )
    })
}

fn from_git(root: &Path, stage: &Stage) -> Result<Sources> {
    let prefix = format!("exercises/{}/src", stage.dir);
    let listing = git(root, &["ls-tree", "-r", "--name-only", "HEAD", &prefix])?;
    let mut files = Sources::new();
    for path in String::from_utf8_lossy(&listing).lines() {
        let content = git(root, &["show", &format!("HEAD:{path}")])?;
        let relative = path
            .strip_prefix(&format!("exercises/{}/", stage.dir))
            .unwrap_or(path);
        files.insert(PathBuf::from(relative), content);
    }
    if files.is_empty() {
        bail!("git HEAD has no {prefix}");
    }
    Ok(files)
}

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .context("cannot run git")?;
    if !output.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}

/// The course's copy of everything the grade needs, in a starter repository: its own
/// `Cargo.toml`, `Cargo.lock`, toolchain file, harness and every stage's manifest and tests.
/// `None` in the course's own repository (or an older export that kept only the stubs).
pub fn course_copy(root: &Path) -> Option<PathBuf> {
    let kept = root.join(DIR);
    let complete = ["Cargo.toml", "Cargo.lock", "exercises"]
        .iter()
        .all(|p| kept.join(p).exists());
    complete.then_some(kept)
}
