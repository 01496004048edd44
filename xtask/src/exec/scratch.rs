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
use crate::files::{Sources, copy_tree, hex, walk, walk_all, write_if_changed};

/// Directories never copied: build output and version control.
const SKIP: &[&str] = &["target", ".git"];

#[derive(Debug)]
pub struct Scratch {
    /// The copy of the course.
    pub root: PathBuf,
    /// Its target directory (outside the copy, so mirroring never touches it).
    pub target_dir: PathBuf,
    /// Whether its builds compile incrementally (`cargo::BuildProfile::Scratch`).
    pub incremental: bool,
}

impl Scratch {
    /// Brings the scratch copy under `course/target/xtask/<name>/` up to date with `course`.
    pub fn prepare(course: &Path, name: &str) -> Result<Scratch> {
        let base = course.join("target").join("xtask").join(name);
        let scratch = Scratch {
            root: base.join("ws"),
            target_dir: base.join("target"),
            incremental: true,
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

/// The workspace one `grade` run builds and runs a submission in.
///
/// Invariants (see ARCHITECTURE.md, "How grading stays trustworthy"):
/// * it is made fresh for every run, outside the course checkout, under a directory none of
///   whose ancestors holds a `.cargo/` (cargo would read its configuration), and removed
///   afterwards;
/// * it holds only what grading needs: the root manifest (members rewritten), the lockfile,
///   the toolchain pin, the support crates that do not depend on solutions, and `exercises/`;
///   never `solutions/`, bug variants, `xtask/` or `.git`;
/// * the build cache (target directory) survives between runs only when the tests cannot
///   write it (a dedicated user or Landlock); otherwise every run builds from scratch, since a
///   poisoned artifact with an old mtime would be trusted by cargo;
/// * a file whose content is the same as what the previous run wrote at that path gets that
///   run's mtime back, so cargo's mtime-based freshness keeps the cache warm; any other file
///   is new and newer than every artifact;
/// * one run at a time per course (a lock in the cache directory);
/// * nothing of the run stays behind: when it ends (`finish`, or dropped on an error or a
///   panic) the run's directory is removed, and so are the exercise packages' units in a shared
///   target directory (what the submission's code compiled to), so the cache between runs
///   holds only dependencies built from the course's own code and the registry.
#[derive(Debug)]
pub struct GradeScratch {
    /// The run's directory: `ws/` (the workspace), `tmp/` (private directories of tests).
    pub base: PathBuf,
    pub root: PathBuf,
    pub target_dir: PathBuf,
    cache: PathBuf,
    mtimes: BTreeMap<String, (String, u64, u32)>,
    /// `finish` ran (then `Drop` has nothing left to do).
    finished: bool,
    _lock: fs::File,
}

impl GradeScratch {
    /// Copies what grading needs from `course`. `shared_cache`: keep the build cache between
    /// runs (only when the tests cannot write it). The cache lives under `target` (the course's
    /// `target/`; a starter repository grades against its `.course/pristine` copy, but keeps
    /// its cache in its own `target/`).
    pub fn create_with_target(
        course: &Path,
        target: &Path,
        shared_cache: bool,
    ) -> Result<GradeScratch> {
        use sha2::Digest;
        let course = course
            .canonicalize()
            .with_context(|| format!("cannot find the course at {}", course.display()))?;
        let key = hex(&sha2::Sha256::digest(
            course.display().to_string().as_bytes(),
        ))[..16]
            .to_owned();
        let base = std::env::temp_dir()
            .canonicalize()
            .unwrap_or_else(|_| std::env::temp_dir())
            .join(format!("async-from-scratch-grade-{key}"));
        if let Some(found) = base
            .ancestors()
            .skip(1)
            .find(|dir| dir.join(".cargo").exists())
        {
            anyhow::bail!(
                "{} exists: cargo would read it while building the submission. Remove it, or \
                 set TMPDIR to a directory with no .cargo above it (nothing was graded)",
                found.join(".cargo").display()
            );
        }
        let cache = target.join("xtask").join("grade-cache");
        fs::create_dir_all(&cache)?;
        let lock = lock_file(&cache.join("lock"))?;
        if base.exists() {
            fs::remove_dir_all(&base)
                .with_context(|| format!("cannot remove the old scratch {}", base.display()))?;
        }
        fs::create_dir_all(base.join("tmp"))?;
        set_mode(&base, 0o755)?;
        set_mode(&base.join("tmp"), 0o711)?;
        let target_dir = if shared_cache {
            cache.join("target")
        } else {
            base.join("target")
        };
        let mtimes = fs::read_to_string(cache.join("mtimes.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let mut scratch = GradeScratch {
            root: base.join("ws"),
            base,
            target_dir,
            cache,
            mtimes,
            finished: false,
            _lock: lock,
        };
        scratch.copy_course(&course)?;
        Ok(scratch)
    }

    fn copy_course(&mut self, course: &Path) -> Result<()> {
        let manifest = fs::read_to_string(course.join("Cargo.toml"))?;
        let mut table: toml::Table = toml::from_str(&manifest)?;
        let mut members = vec!["exercises/*".to_owned()];
        for support in crate::course::support_crates(course) {
            self.copy_tree(course, Path::new(&support), &[])?;
            members.push(support);
        }
        let workspace = table
            .get_mut("workspace")
            .and_then(|w| w.as_table_mut())
            .context("the course's Cargo.toml has no [workspace]")?;
        workspace.insert("members".into(), members.into());
        workspace.remove("default-members");
        self.put(
            Path::new("Cargo.toml"),
            format!(
                "# A grading scratch (cargo xtask grade).\n{}",
                toml::to_string(&table)?
            )
            .as_bytes(),
        )?;
        for file in ["Cargo.lock", "rust-toolchain.toml"] {
            if let Ok(bytes) = fs::read(course.join(file)) {
                self.put(Path::new(file), &bytes)?;
            }
        }
        // The toolchain pin also above everything else of the run (trybuild's build directory
        // included): rustup picks the toolchain from the nearest pin file, and without one it
        // would compile the compile-fail cases with its default toolchain.
        if let Ok(bytes) = fs::read(course.join("rust-toolchain.toml")) {
            fs::write(self.base.join("rust-toolchain.toml"), bytes)?;
        }
        self.copy_tree(course, Path::new("exercises"), &["src"])?;
        Ok(())
    }

    /// Copies `course/relative` into the workspace, leaving out `target/`, `.git` and, at the
    /// top of each stage, the names in `skip_in_stage` (a stage's `src/` is installed apart).
    fn copy_tree(&mut self, course: &Path, relative: &Path, skip_in_stage: &[&str]) -> Result<()> {
        for path in walk_all(&course.join(relative))? {
            let rel = path
                .strip_prefix(course)
                .expect("walked under the course")
                .to_owned();
            let parts: Vec<_> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect();
            if parts.iter().any(|p| p == "target" || p == ".git") {
                continue;
            }
            if parts.first().is_some_and(|p| p == "exercises")
                && parts
                    .get(2)
                    .is_some_and(|p| skip_in_stage.contains(&p.as_ref()))
            {
                continue;
            }
            self.put(&rel, &fs::read(&path)?)?;
        }
        Ok(())
    }

    /// The stage's `src/` in the workspace becomes exactly `files`.
    pub fn install(&mut self, stage: &Stage, files: &Sources) -> Result<()> {
        let crate_root = Path::new("exercises").join(&stage.dir);
        let src = self.root.join(&crate_root).join("src");
        if src.exists() {
            fs::remove_dir_all(&src)?;
        }
        for (relative, content) in files {
            self.put(&crate_root.join(relative), content)?;
        }
        Ok(())
    }

    /// Writes one file of the workspace (see the mtime invariant above).
    fn put(&mut self, relative: &Path, content: &[u8]) -> Result<()> {
        use sha2::Digest;
        let path = self.root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
        let key = relative.display().to_string();
        let sha = hex(&sha2::Sha256::digest(content));
        match self.mtimes.get(&key) {
            Some((old, secs, nanos)) if *old == sha => {
                let when = std::time::UNIX_EPOCH + std::time::Duration::new(*secs, *nanos);
                fs::File::options()
                    .write(true)
                    .open(&path)?
                    .set_modified(when)?;
            }
            _ => {
                let when = fs::metadata(&path)?
                    .modified()?
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                self.mtimes
                    .insert(key, (sha, when.as_secs(), when.subsec_nanos()));
            }
        }
        Ok(())
    }

    pub fn exercise_dir(&self, stage: &Stage) -> PathBuf {
        stage.exercise_dir(&self.root)
    }

    /// A fresh private directory for test number `n` (see `sandbox::private_dir`).
    pub fn private_dir(&self, n: usize) -> PathBuf {
        self.base.join("tmp").join(format!("test-{n}"))
    }

    /// The build directory shared by this run's tests that compile code (trybuild), owned by
    /// `uid` when tests run as a dedicated user. Never shared between runs: a test could
    /// leave something in it.
    /// Starts as a copy of `seed` (a build directory the grader made with the course's own
    /// stub, so that dependencies need not be compiled again; see `trybuild_cache.rs`).
    pub fn trybuild_dir(
        &self,
        stage: &Stage,
        uid: Option<u32>,
        seed: Option<&Path>,
    ) -> Result<PathBuf> {
        let dir = self.base.join(format!("trybuild-{}", stage.name));
        if !dir.exists() {
            match seed {
                Some(seed) => copy_tree(seed, &dir)?,
                None => fs::create_dir_all(&dir)?,
            }
            set_mode(&dir, 0o700)?;
            if let Some(uid) = uid {
                chown_tree(&dir, uid)?;
            }
        }
        Ok(dir)
    }

    /// `<package>/wip`, where trybuild writes what the compiler said about a case: the one
    /// place in the workspace a test that compiles code may write (the workspace is fresh for
    /// every run, so nothing written there reaches another submission).
    pub fn wip_dir(&self, stage: &Stage, uid: Option<u32>) -> Result<PathBuf> {
        let dir = self.exercise_dir(stage).join("wip");
        if !dir.exists() {
            fs::create_dir_all(&dir)?;
            set_mode(&dir, 0o700)?;
            if let Some(uid) = uid {
                std::os::unix::fs::chown(&dir, Some(uid), Some(uid))?;
            }
        }
        Ok(dir)
    }

    /// The course's cache directory (`target/xtask/grade-cache`).
    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// Saves what the cache needs and removes the run's directory (unless `keep`) and what
    /// the run compiled into a shared target directory.
    pub fn finish(mut self, keep: bool) -> Result<Option<PathBuf>> {
        self.finished = true;
        self.forget_run_units();
        fs::write(
            self.cache.join("mtimes.json"),
            serde_json::to_string(&self.mtimes)?,
        )?;
        if keep {
            return Ok(Some(self.base.clone()));
        }
        fs::remove_dir_all(&self.base)
            .with_context(|| format!("cannot remove the scratch {}", self.base.display()))?;
        Ok(None)
    }

    /// Removes the exercise packages' units (libraries, test binaries, fingerprints, object
    /// files of a compilation that was killed, rustc's temporary directories) from the target
    /// directory, when it is the shared one (a private one goes with the run's directory).
    fn forget_run_units(&self) {
        if self.target_dir.starts_with(&self.base) {
            return;
        }
        let (crates, packages) = exercise_units(&self.root);
        let debug = self.target_dir.join("debug");
        let unit = |name: &str, names: &[String], lib: bool| {
            names.iter().any(|n| {
                name.starts_with(&format!("{n}-"))
                    || (lib && name.starts_with(&format!("lib{n}-")))
                    || (lib && name.starts_with(&format!("lib{n}.")))
            })
        };
        for (dir, names, lib) in [
            (debug.join("deps"), &crates, true),
            (debug.join("incremental"), &crates, false),
            (debug.clone(), &crates, true),
            (debug.join(".fingerprint"), &packages, false),
            (debug.join("build"), &packages, false),
        ] {
            for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let temporary = dir.ends_with("deps") && is_dir;
                if temporary || unit(&name, names, lib) {
                    let path = entry.path();
                    let _ = if is_dir {
                        fs::remove_dir_all(&path)
                    } else {
                        fs::remove_file(&path)
                    };
                }
            }
        }
    }
}

impl Drop for GradeScratch {
    /// A run that ended without `finish` (an error, a panic) leaves nothing behind either.
    fn drop(&mut self) {
        if !self.finished {
            self.forget_run_units();
            let _ = fs::remove_dir_all(&self.base);
        }
    }
}

/// The crate names (libraries and test targets, `-` as `_`) and package names of the
/// workspace's exercise packages: what a submission's code is compiled into.
fn exercise_units(root: &Path) -> (Vec<String>, Vec<String>) {
    let (mut crates, mut packages) = (Vec::new(), Vec::new());
    for entry in fs::read_dir(root.join("exercises"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = entry.path();
        let name = fs::read_to_string(dir.join("Cargo.toml"))
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_owned));
        let Some(name) = name else { continue };
        crates.push(name.replace('-', "_"));
        packages.push(name);
        for test in fs::read_dir(dir.join("tests"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let test = test.path();
            if test.extension().is_some_and(|e| e == "rs")
                && let Some(stem) = test.file_stem()
            {
                crates.push(stem.to_string_lossy().replace('-', "_"));
            }
        }
    }
    (crates, packages)
}

fn chown_tree(dir: &Path, uid: u32) -> Result<()> {
    std::os::unix::fs::lchown(dir, Some(uid), Some(uid))?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            chown_tree(&entry.path(), uid)?;
        } else {
            std::os::unix::fs::lchown(entry.path(), Some(uid), Some(uid))?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// An exclusive lock held for as long as the file is open.
fn lock_file(path: &Path) -> Result<fs::File> {
    use std::os::fd::AsRawFd;
    let file = fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a file descriptor we own and keep open; no memory is involved.
    let code = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    anyhow::ensure!(
        code == 0,
        "cannot lock {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
    Ok(file)
}
