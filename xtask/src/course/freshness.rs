//! When `verify` may skip a stage: a SHA-256 of everything the stage's checks depend on,
//! compared with the hash recorded at its last passing verify (`target/xtask/verify/passed`,
//! one `<key> <hash>` line per stage and kind of run: the key is the stage's directory for a
//! plain verify, and the directory followed by `+redteam` for one that also replayed the red
//! team's corpus, so `verify` then `verify --redteam` still replays the corpus).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::course::Stage;

/// Where the hashes of the last passing verify of each stage are kept.
const PASSED: &str = "target/xtask/verify/passed";

/// The toolchain that builds the course (`rustc -vV` in the course root, so
/// `rust-toolchain.toml` applies).
pub fn toolchain(root: &Path) -> String {
    Command::new("rustc")
        .arg("-vV")
        .current_dir(root)
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default()
}

/// A hash of everything a stage's verify depends on: its exercise and solution files, the
/// support crates (harness, blocks), xtask, the workspace manifest and lockfile, the toolchain file and version.
pub fn inputs_hash(root: &Path, stage: &Stage, toolchain: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(toolchain.as_bytes());
    let mut inputs = vec![
        stage.exercise_dir(root),
        stage.solution_dir(root),
        root.join("xtask/src"),
        root.join("xtask/Cargo.toml"),
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        root.join("rust-toolchain.toml"),
        root.join(".cargo/config.toml"),
    ];
    inputs.extend(super::support_crates(root).iter().map(|c| root.join(c)));
    for input in inputs {
        for file in files_under(&input) {
            let relative = file.strip_prefix(root).unwrap_or(&file);
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            let content = fs::read(&file).unwrap_or_default();
            hasher.update((content.len() as u64).to_le_bytes());
            hasher.update(&content);
        }
    }
    let digest = hasher.finalize();
    digest.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// `path` itself if it is a file, else every file under it (sorted; `target/` left out).
fn files_under(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    let Ok(entries) = fs::read_dir(path) else {
        return files;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if entry.file_name() == "target" {
            continue;
        }
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The key under which a passing verify of the stage in `dir` is recorded; `redteam`: the run
/// also replayed the red team's corpus.
pub fn key(dir: &str, redteam: bool) -> String {
    if redteam {
        format!("{dir}+redteam")
    } else {
        dir.to_owned()
    }
}

pub fn read_passed(root: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(root.join(PASSED))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(dir, hash)| (dir.to_owned(), hash.to_owned()))
        .collect()
}

pub fn write_passed(root: &Path, passed: &BTreeMap<String, String>) -> Result<()> {
    let path = root.join(PASSED);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let text: String = passed
        .iter()
        .map(|(dir, hash)| format!("{dir} {hash}\n"))
        .collect();
    fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}
