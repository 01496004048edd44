//! Which files of a submission differ from the course's, among those a learner must not edit.
//!
//! The grader never *uses* a submission's protected files (it builds the course's pristine
//! copies); this module only reports differences, so an instructor sees an edited test or a
//! smuggled `.cargo/config.toml` instead of it silently not mattering.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The checksum manifest an exported starter repository carries (`sha256sum -c` reads it).
pub const MANIFEST: &str = "course.sha256";

/// Paths (files or directories) whose contents belong to the course; the support crates
/// (`course::support_crates`) too.
const PROTECTED: &[&str] = &[
    ".cargo",
    ".course/pristine",
    ".github",
    "Cargo.lock",
    "Cargo.toml",
    "exercises",
    "rust-toolchain.toml",
    "xtask",
];

/// Files that change how tools behave if they merely exist, wherever a submission adds them.
const SUSPICIOUS: &[&str] = &[
    "build.rs",
    "insta.yaml",
    ".insta.yaml",
    ".config/insta.yaml",
    ".config/nextest.toml",
    "clippy.toml",
    ".clippy.toml",
];

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub path: String,
    pub change: Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Modified,
    Missing,
    Added,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::Modified => "modified",
            Change::Missing => "missing",
            Change::Added => "added",
        }
    }
}

/// Compares the submission with the course. `explicit` is whether `--submission` was given;
/// without it the course grades its own checkout, and the only reference is the checksum
/// manifest, if the checkout has one.
pub fn check(course: &Path, submission: &Path, explicit: bool) -> (Vec<Finding>, String) {
    if !explicit {
        return match check_manifest(course) {
            Some(findings) => (
                findings,
                format!(
                    "checked against {MANIFEST}, the checksums shipped with this repository \
                     (anyone who can edit the files can edit it too: feedback only)"
                ),
            ),
            None => (
                Vec::new(),
                "not checked: the course is grading its own checkout".to_owned(),
            ),
        };
    }
    let course_files = protected_files(course);
    let submitted = protected_files(submission);
    // A student repository is an export: it has no solutions/ and its root manifests list
    // fewer members than the instructor's. Compare those only between trees of the same kind.
    let same_kind = course.join("solutions").exists() == submission.join("solutions").exists();
    let compared = |path: &String| {
        same_kind
            || !(path == "Cargo.toml"
                || path == "Cargo.lock"
                || path.starts_with(".github/")
                || path.starts_with(".course/"))
    };
    let mut findings = Vec::new();
    for path in course_files.iter().filter(|p| compared(p)) {
        match (fs::read(course.join(path)), fs::read(submission.join(path))) {
            (Ok(a), Ok(b)) if a != b => findings.push(Finding {
                path: path.clone(),
                change: Change::Modified,
            }),
            (Ok(_), Err(_)) => findings.push(Finding {
                path: path.clone(),
                change: Change::Missing,
            }),
            _ => {}
        }
    }
    for path in submitted.difference(&course_files).filter(|p| compared(p)) {
        findings.push(Finding {
            path: path.clone(),
            change: Change::Added,
        });
    }
    for name in SUSPICIOUS {
        if submission.join(name).exists() && !course.join(name).exists() {
            findings.push(Finding {
                path: (*name).to_owned(),
                change: Change::Added,
            });
        }
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    findings.dedup_by(|a, b| a.path == b.path);
    let note = if same_kind {
        "compared with the course's files".to_owned()
    } else {
        "compared with the course's files (root Cargo.toml, Cargo.lock and .github/ skipped: \
         the submission is a student repository, the course an instructor's)"
            .to_owned()
    };
    (findings, note)
}

/// Every protected file under `root`, as `/`-separated relative paths, excluding the
/// learner's `exercises/*/src/**`.
pub fn protected_files(root: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for entry in PROTECTED {
        collect(root, &root.join(entry), &mut files);
    }
    for support in crate::course::support_crates(root) {
        collect(root, &root.join(support), &mut files);
    }
    files
}

fn collect(root: &Path, path: &Path, files: &mut BTreeSet<String>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    if meta.is_dir() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let learners = relative.starts_with("exercises/")
            && relative.ends_with("/src")
            && relative.matches('/').count() == 2;
        if name == "target" || name == ".git" || learners {
            return;
        }
        if let Ok(entries) = fs::read_dir(path) {
            for entry in entries.filter_map(|e| e.ok()) {
                collect(root, &entry.path(), files);
            }
        }
    } else {
        files.insert(relative);
    }
}

/// Writes `course.sha256` for the protected files of the tree at `root`.
pub fn write_manifest(root: &Path) -> Result<PathBuf> {
    let mut text = String::new();
    for path in protected_files(root) {
        if path == MANIFEST {
            continue;
        }
        let bytes = fs::read(root.join(&path)).with_context(|| format!("cannot read {path}"))?;
        text.push_str(&format!("{}  {path}\n", hex(&Sha256::digest(&bytes))));
    }
    let manifest = root.join(MANIFEST);
    fs::write(&manifest, text).with_context(|| format!("cannot write {}", manifest.display()))?;
    Ok(manifest)
}

/// `None` if there is no manifest; otherwise the files that differ from it.
fn check_manifest(root: &Path) -> Option<Vec<Finding>> {
    let text = fs::read_to_string(root.join(MANIFEST)).ok()?;
    let mut findings = Vec::new();
    let mut listed = BTreeSet::new();
    for line in text.lines() {
        let Some((sum, path)) = line.split_once("  ") else {
            continue;
        };
        listed.insert(path.to_owned());
        match fs::read(root.join(path)) {
            Ok(bytes) if hex(&Sha256::digest(&bytes)) != sum => findings.push(Finding {
                path: path.to_owned(),
                change: Change::Modified,
            }),
            Err(_) => findings.push(Finding {
                path: path.to_owned(),
                change: Change::Missing,
            }),
            Ok(_) => {}
        }
    }
    for path in protected_files(root) {
        if !listed.contains(&path) && path != MANIFEST {
            findings.push(Finding {
                path,
                change: Change::Added,
            });
        }
    }
    Some(findings)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
