//! Files and trees of files: a version's sources, walking, copying, writing only what changed.
//! The bottom layer: imports nothing from the crate.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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

/// Copies a tree of plain files and directories, with their mtimes (symbolic links are
/// skipped).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &dest)?;
            // cargo compares the mtimes of a unit's outputs with its dependencies': keep them.
            let modified = entry.metadata()?.modified()?;
            fs::File::options()
                .write(true)
                .open(&dest)?
                .set_modified(modified)?;
        }
    }
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file under `dir`, recursively, without following symbolic links.
pub fn walk_all(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files.extend(walk_all(&entry.path())?);
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// The names of the `.rs` files directly in `dir`, sorted (none if it cannot be read).
pub fn rust_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Writes every file of `files` under `root`, creating folders as needed.
pub fn write_tree(root: &Path, files: &Sources) -> Result<()> {
    for (relative, content) in files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A `Sources` from `(path, text)` pairs, for tests.
#[cfg(test)]
pub fn sources_of(files: &[(&str, &str)]) -> Sources {
    files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.as_bytes().to_vec()))
        .collect()
}
