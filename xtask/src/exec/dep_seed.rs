//! A cold scratch target directory starts from the dependencies `cargo test` already built.
//!
//! Verify builds in a target directory of its own (`target/xtask/verify/target`, see
//! `cargo::BuildProfile`), so its first run used to compile every registry dependency again
//! (tokio, smol, futures, shuttle, syn...: about 70 s of CPU on the development machine) right
//! after the author's `cargo test` had compiled the very same ones. A registry package built
//! with the same version, features, profile and compiler gets the same unit name
//! (`<package>-<hash>`) in any target directory, and what cargo records about it (its
//! fingerprint, dep-info and build-script output) names only the registry sources and paths
//! relative to the target directory. So copying those units into the empty scratch directory
//! makes them fresh there; a unit whose hash differs (other features) is simply never looked
//! at, and cargo builds what it needs as before. Correctness never depends on the copy: cargo's
//! own freshness check decides what is reused.
//!
//! Invariants:
//! * only units of packages that are not workspace members are copied (the members' units
//!   are hashed with their paths, which differ in a scratch, and would only take space);
//! * the learner's directory is only read: files are copied, never linked, so a rebuild in
//!   the scratch cannot rewrite them;
//! * modification times are kept, so cargo's mtime comparisons see what they saw before;
//! * nothing is copied while cargo builds there (its lock on `.cargo-lock` is shared).

use std::collections::BTreeSet;
use std::fs::{self, File, FileTimes};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::exec::cargo;

/// What a seeding copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Compilation units (a library, a build script, its run) copied.
    pub units: usize,
    pub bytes: u64,
    /// Where they came from (`<learner target>/debug`).
    pub from: PathBuf,
}

/// Fills the not-yet-existing `scratch_target` with the registry units of the workspace at
/// `workspace`'s own target directory (`debug` profile). `Ok(None)` when there is nothing to
/// copy from, or `scratch_target` already exists (then it is left alone).
pub fn seed(workspace: &Path, scratch_target: &Path) -> Result<Option<Seeded>> {
    if scratch_target.exists() {
        return Ok(None);
    }
    let (learner_target, members) = workspace_target_and_members(workspace)?;
    let from = learner_target.join("debug");
    if !from.join(".fingerprint").is_dir() {
        return Ok(None);
    }
    copy_when_idle(&from, &scratch_target.join("debug"), &members).map(Some)
}

/// `copy_registry_units`, unless cargo is building in `from` right now: it holds
/// `.cargo-lock` exclusively while it does, and a copy taken meanwhile could pair a new
/// fingerprint with a half-written library. The copy shares that lock.
fn copy_when_idle(from: &Path, to: &Path, members: &BTreeSet<String>) -> Result<Seeded> {
    let lock = File::open(from.join(".cargo-lock")).ok();
    if let Some(lock) = &lock
        && lock.try_lock_shared().is_err()
    {
        anyhow::bail!("cargo is building in {} right now", from.display());
    }
    copy_registry_units(from, to, members)
}

#[derive(Deserialize)]
struct Metadata {
    target_directory: PathBuf,
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
}

/// The workspace's target directory and the names of its member packages.
fn workspace_target_and_members(workspace: &Path) -> Result<(PathBuf, BTreeSet<String>)> {
    let out = cargo::metadata(workspace, cargo::Metadata::MembersOnly)?;
    let metadata: Metadata =
        serde_json::from_str(&out).context("cargo metadata printed no JSON")?;
    let members = metadata.packages.into_iter().map(|p| p.name).collect();
    Ok((metadata.target_directory, members))
}

/// Copies every unit of `from` (a profile directory: `.fingerprint/`, `build/`, `deps/`)
/// whose package is not in `members` into `to`.
fn copy_registry_units(from: &Path, to: &Path, members: &BTreeSet<String>) -> Result<Seeded> {
    let mut seeded = Seeded {
        from: from.to_owned(),
        ..Seeded::default()
    };
    let mut hashes = BTreeSet::new();
    for unit in dir_names(&from.join(".fingerprint"))? {
        let Some((package, hash)) = unit.rsplit_once('-') else {
            continue;
        };
        if members.contains(package) {
            continue;
        }
        for sub in [".fingerprint", "build"] {
            let source = from.join(sub).join(&unit);
            if source.is_dir() {
                seeded.bytes += copy_tree(&source, &to.join(sub).join(&unit))?;
            }
        }
        hashes.insert(hash.to_owned());
        seeded.units += 1;
    }
    fs::create_dir_all(to.join("deps"))?;
    for file in dir_names(&from.join("deps"))? {
        if unit_hash(&file).is_some_and(|hash| hashes.contains(hash)) {
            seeded.bytes +=
                copy_file(&from.join("deps").join(&file), &to.join("deps").join(&file))?;
        }
    }
    Ok(seeded)
}

/// The unit hash in an artifact's name: `libtokio-0123456789abcdef.rlib` -> the 16 hex digits.
fn unit_hash(file: &str) -> Option<&str> {
    let (_, rest) = file.rsplit_once('-')?;
    let hash = rest.split('.').next()?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hash)
}

fn dir_names(dir: &Path) -> Result<Vec<String>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    Ok(entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect())
}

/// Copies a directory tree (files, directories and symlinks as links); returns the bytes.
fn copy_tree(from: &Path, to: &Path) -> Result<u64> {
    fs::create_dir_all(to)?;
    let mut bytes = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &target)?;
        } else if kind.is_dir() {
            bytes += copy_tree(&source, &target)?;
        } else {
            bytes += copy_file(&source, &target)?;
        }
    }
    Ok(bytes)
}

/// Copies one file and gives the copy the original's modification time.
fn copy_file(from: &Path, to: &Path) -> Result<u64> {
    let bytes = fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    let modified = fs::metadata(from)?.modified()?;
    File::options()
        .write(true)
        .open(to)?
        .set_times(FileTimes::new().set_modified(modified))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_artifact_names_its_unit_hash() {
        assert_eq!(
            unit_hash("libtokio-e72abb389ccc83f5.rlib"),
            Some("e72abb389ccc83f5")
        );
        assert_eq!(
            unit_hash("build_script_build-0123456789abcdef"),
            Some("0123456789abcdef")
        );
        assert_eq!(unit_hash("libfoo-bar.rlib"), None);
        assert_eq!(unit_hash("noversion"), None);
    }

    #[test]
    fn only_units_of_packages_outside_the_workspace_are_copied() {
        let dir = std::env::temp_dir().join(format!("xtask-dep-seed-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let from = dir.join("from");
        let write = |path: &str| {
            let path = from.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "x").unwrap();
        };
        write(".fingerprint/tokio-00000000000000aa/lib-tokio");
        write("build/rustix-00000000000000bb/output");
        write(".fingerprint/rustix-00000000000000bb/run-build-script");
        write(".fingerprint/harness-00000000000000cc/lib-harness");
        write("deps/libtokio-00000000000000aa.rlib");
        write("deps/libharness-00000000000000cc.rlib");
        write("deps/part1-00000000000000dd");
        let members = BTreeSet::from(["harness".to_owned()]);
        let to = dir.join("to");
        let seeded = copy_registry_units(&from, &to, &members).unwrap();
        assert_eq!(seeded.units, 2);
        assert!(
            to.join(".fingerprint/tokio-00000000000000aa/lib-tokio")
                .is_file()
        );
        assert!(to.join("build/rustix-00000000000000bb/output").is_file());
        assert!(to.join("deps/libtokio-00000000000000aa.rlib").is_file());
        assert!(!to.join("deps/libharness-00000000000000cc.rlib").exists());
        assert!(!to.join(".fingerprint/harness-00000000000000cc").exists());
        assert!(!to.join("deps/part1-00000000000000dd").exists());

        // While cargo builds there (it holds the lock), nothing is copied.
        fs::write(from.join(".cargo-lock"), "").unwrap();
        let cargo = File::open(from.join(".cargo-lock")).unwrap();
        cargo.lock().unwrap();
        let again = dir.join("again");
        let refused = copy_when_idle(&from, &again, &members).unwrap_err();
        assert!(refused.to_string().contains("building"), "{refused}");
        assert!(!again.exists());
        // Unlock rather than only close: a child another test forks meanwhile holds a copy of
        // the descriptor until it execs, and with it the lock.
        cargo.unlock().unwrap();
        assert_eq!(copy_when_idle(&from, &again, &members).unwrap().units, 2);
        let _ = fs::remove_dir_all(&dir);
    }
}
