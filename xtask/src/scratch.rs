//! A scratch copy of the course in which a stage's `src/` can be swapped for another version
//! (the stub, the reference solution, a known-bug variant, later a learner's submission)
//! without touching the checkout.
//!
//! Every version is built as the *exercise* package, against the exercise's own tests, exactly
//! as a learner's work is. Compile-fail tests and snapshots therefore see one path for every
//! version.
//!
//! Invariants:
//! * Files are written only when their content changed, so unchanged files keep their
//!   modification time and cargo's incremental rebuilds stay cheap across runs.
//! * A swapped-in file is always written after the previous build finished, so its
//!   modification time is newer than any artifact: cargo can never mistake a different
//!   version for a fresh build (it decides freshness by mtime, not content).
//! * The scratch workspace has its own target directory; nothing built here is ever confused
//!   with the checkout's builds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::course::Stage;

/// Directories never copied: build output and version control.
const SKIP: &[&str] = &["target", ".git"];

#[derive(Debug)]
pub struct Scratch {
    /// The copy of the course.
    pub root: PathBuf,
    /// Its target directory (outside the copy, so mirroring never touches it).
    pub target_dir: PathBuf,
}

impl Scratch {
    /// Brings the scratch copy under `course/target/xtask/<name>/` up to date with `course`.
    pub fn prepare(course: &Path, name: &str) -> Result<Scratch> {
        let base = course.join("target").join("xtask").join(name);
        let scratch = Scratch {
            root: base.join("ws"),
            target_dir: base.join("target"),
        };
        mirror(course, &scratch.root)
            .with_context(|| format!("cannot copy the course to {}", scratch.root.display()))?;
        Ok(scratch)
    }

    /// Replaces the stage's `src/` in the scratch copy with `files` (paths relative to the
    /// crate root, e.g. `src/lib.rs`).
    pub fn install(&self, stage: &Stage, files: &Sources) -> Result<()> {
        let crate_root = stage.exercise_dir(&self.root);
        let src = crate_root.join("src");
        // Remove files the new version does not have.
        for existing in walk(&src)? {
            let relative = existing
                .strip_prefix(&crate_root)
                .expect("walked under crate root");
            if !files.contains_key(relative) {
                fs::remove_file(&existing)?;
            }
        }
        for (relative, content) in files {
            write_if_changed(&crate_root.join(relative), content)?;
        }
        Ok(())
    }

    pub fn exercise_dir(&self, stage: &Stage) -> PathBuf {
        stage.exercise_dir(&self.root)
    }
}

/// A version of a stage's sources: file contents by path relative to the crate root.
pub type Sources = BTreeMap<PathBuf, Vec<u8>>;

/// The `src/**` of the crate at `crate_root`.
pub fn read_sources(crate_root: &Path) -> Result<Sources> {
    let mut files = Sources::new();
    for path in walk(&crate_root.join("src"))? {
        let relative = path
            .strip_prefix(crate_root)
            .expect("walked under crate root");
        files.insert(relative.to_owned(), fs::read(&path)?);
    }
    anyhow::ensure!(
        !files.is_empty(),
        "{} has no files under src/",
        crate_root.display()
    );
    Ok(files)
}

/// Makes `to` an exact copy of `from` (minus SKIP), writing only what changed.
fn mirror(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    let mut wanted = Vec::new();
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if SKIP.iter().any(|skip| name == *skip) {
            continue;
        }
        let (source, dest) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            mirror(&source, &dest)?;
        } else {
            write_if_changed(&dest, &fs::read(&source)?)?;
        }
        wanted.push(name);
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        let name = entry.file_name();
        // Build output in the copy (a compile-fail test's target dir) is not ours to delete.
        if !wanted.contains(&name) && !SKIP.iter().any(|skip| name == *skip) {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

pub fn write_if_changed(path: &Path, content: &[u8]) -> Result<()> {
    if fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

/// Every file under `dir`, recursively (none if it does not exist).
pub fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            files.extend(walk(&entry.path())?);
        } else {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}
