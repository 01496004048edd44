//! The course as committed: what `classroom export` reads, so an instructor who tried the
//! exercises in their checkout never exports their own answers.
//!
//! `git archive HEAD:<the course's directory>` is unpacked into a temporary directory (removed
//! on drop). A course that is not in git is read from the working tree, with a warning.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::ui;

/// A read-only view of the course to export.
pub struct Snapshot {
    path: PathBuf,
    temporary: bool,
}

impl Snapshot {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if self.temporary {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// The course at git `HEAD`. Uncommitted changes under `exercises/` are refused unless
/// `allow_dirty` (then they are named, and still not exported).
pub fn snapshot(root: &Path, allow_dirty: bool) -> Result<Snapshot> {
    // In git, and the course itself is tracked (a copy inside an ignored directory of some
    // other repository is not "in git").
    let tracked = git(root, &["ls-files", "--", "exercises"]).is_ok_and(|l| !l.trim().is_empty());
    let prefix = git(root, &["rev-parse", "--show-prefix"])
        .ok()
        .filter(|_| tracked);
    let Some(prefix) = prefix else {
        warn(&format!(
            "{} is not in a git repository: exporting the WORKING TREE as it is (answers you \
             wrote in exercises/*/src would be exported too). Commit the course to export \
             what is committed.",
            root.display()
        ));
        return Ok(Snapshot {
            path: root.to_owned(),
            temporary: false,
        });
    };
    if git(root, &["rev-parse", "--verify", "-q", "HEAD"]).is_err() {
        bail!("the course's git repository has no commit yet: commit it, then export");
    }
    check_clean(root, allow_dirty)?;
    let prefix = prefix.trim().trim_end_matches('/');
    let tree = if prefix.is_empty() {
        "HEAD".to_owned()
    } else {
        format!("HEAD:{prefix}")
    };
    let dir = std::env::temp_dir().join(format!(
        "async-from-scratch-export-src-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    fs::create_dir_all(&dir)?;
    let snapshot = Snapshot {
        path: dir.clone(),
        temporary: true,
    };
    unpack(root, &tree, &dir)?;
    let head = git(root, &["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    println!(
        "  exporting the committed course (git HEAD {})",
        head.trim()
    );
    Ok(snapshot)
}

/// Uncommitted changes under `exercises/` are an error, or only a warning with `allow_dirty`.
fn check_clean(root: &Path, allow_dirty: bool) -> Result<()> {
    let dirty = git(
        root,
        &[
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            "exercises",
        ],
    )?;
    if !dirty.trim().is_empty() {
        let listing: String = dirty
            .lines()
            .take(20)
            .map(|l| format!("\n    {l}"))
            .collect();
        if !allow_dirty {
            bail!(
                "exercises/ has uncommitted changes (the export is made from git HEAD, so \
                 they would not be exported):{listing}\nCommit or stash them, or pass \
                 --allow-dirty to export HEAD anyway (nothing was written)"
            );
        }
        warn(&format!(
            "exercises/ has uncommitted changes; they are NOT exported (exporting git HEAD):\
             {listing}"
        ));
    }
    Ok(())
}

/// `git archive TREE | tar -x` into `dir`.
fn unpack(root: &Path, tree: &str, dir: &Path) -> Result<()> {
    let mut archive = Command::new("git")
        .current_dir(root)
        .args(["archive", "--format=tar", tree])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run git archive")?;
    let stdout = archive.stdout.take().context("git archive has no output")?;
    let unpacked = Command::new("tar")
        .current_dir(dir)
        .args(["-xf", "-"])
        .stdin(stdout)
        .output()
        .context("cannot run tar")?;
    let archived = archive.wait_with_output()?;
    if !archived.status.success() || !unpacked.status.success() {
        bail!(
            "cannot read the committed course (git archive {tree}): {}{}",
            String::from_utf8_lossy(&archived.stderr).trim(),
            String::from_utf8_lossy(&unpacked.stderr).trim()
        );
    }
    Ok(())
}

fn warn(text: &str) {
    eprintln!("{} {text}", ui::red("WARNING:"));
}

fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run git")?;
    if !output.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
