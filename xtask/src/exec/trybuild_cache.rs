//! A warm start for tests that compile code (trybuild), made only from trusted code.
//!
//! trybuild builds a project of its own, with every dev-dependency of the stage, in
//! `<target>/tests/trybuild`. In grading that directory must be private to one run (a test
//! could leave something in it for the next submission), so each run would compile those
//! dependencies from scratch: tens of seconds. Instead, the grader keeps a *seed* per stage,
//! made by running the stage's compile-fail tests against the course's own pristine stub (never
//! a submission), and each run starts from a copy of it. A submission can change its own copy,
//! never the seed.
//!
//! The seed is rebuilt when what it was made from changes: the lockfile, the stage's manifest,
//! the support crates, the toolchain pin, the stub.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::Digest;

use crate::course::Stage;
use crate::course::pristine;
use crate::exec::cargo;
use crate::exec::runner::{self, TestEnv};
use crate::exec::scratch::GradeScratch;
use crate::files::{Sources, hex};

/// The seed of `stage`'s compile-fail tests, made now if it is missing or stale. `None` when
/// no seed can be made (the reason is returned for the report); grading then starts cold.
/// `announce` is told before a seed is built (that takes a while).
pub fn seed(
    root: &Path,
    stage: &Stage,
    scratch: &mut GradeScratch,
    extra: &[&str],
    announce: &dyn Fn(&str),
) -> Result<PathBuf, String> {
    let stub = pristine::sources(root, stage)
        .map_err(|e| format!("no pristine stub to build the compile-fail cache from: {e:#}"))?;
    let key = key(root, stage, &stub);
    let dir = scratch.cache_dir().join("trybuild").join(&stage.name);
    if fs::read_to_string(dir.join("key")).is_ok_and(|k| k == key) {
        return Ok(dir.join("target"));
    }
    announce(&format!(
        "grade: preparing the compile-fail cache of {} (once)",
        stage.name
    ));
    make(stage, scratch, &stub, &dir, extra).map_err(|e| format!("{e:#}"))?;
    fs::write(dir.join("key"), key).map_err(|e| e.to_string())?;
    Ok(dir.join("target"))
}

fn key(root: &Path, stage: &Stage, stub: &Sources) -> String {
    let mut hash = sha2::Sha256::new();
    for file in ["Cargo.lock", "rust-toolchain.toml"] {
        hash.update(fs::read(root.join(file)).unwrap_or_default());
    }
    hash.update(fs::read(stage.exercise_dir(root).join("Cargo.toml")).unwrap_or_default());
    let mut support = Vec::new();
    for dir in crate::course::support_crates(root) {
        collect(&root.join(dir), &mut support);
    }
    support.sort();
    for path in support {
        hash.update(path.display().to_string());
        hash.update(fs::read(&path).unwrap_or_default());
    }
    for (path, bytes) in stub {
        hash.update(path.display().to_string());
        hash.update(bytes);
    }
    hex(&hash.finalize())
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if entry.file_name() == "target" {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Builds the stub's compile-fail test binaries and runs one test of each, as the grader, with
/// the seed as their target directory. Whether the tests pass does not matter (a stub fails
/// them); what matters is that trybuild compiled the dependencies.
fn make(
    stage: &Stage,
    scratch: &mut GradeScratch,
    stub: &Sources,
    dir: &Path,
    extra: &[&str],
) -> Result<()> {
    scratch.install(stage, stub)?;
    let build = cargo::build_tests_with(
        &scratch.root,
        &scratch.target_dir,
        &[stage.name.as_str()],
        &stage.overlay_only,
        extra,
        false,
        // A submission is built once: incremental caches would only cost.
        cargo::BuildProfile::Scratch { incremental: false },
    )?;
    let package_dir = scratch.exercise_dir(stage);
    let binaries = build.binaries_of(&package_dir.join("Cargo.toml"));
    anyhow::ensure!(
        !binaries.is_empty(),
        "the stub's compile-fail tests did not build:\n{}",
        build.stderr
    );
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    let target = dir.join("target");
    fs::create_dir_all(&target)?;
    fs::copy(
        scratch.root.join("rust-toolchain.toml"),
        dir.join("rust-toolchain.toml"),
    )
    .ok();
    let env = TestEnv::new(&scratch.root, &package_dir, &stage.name)
        .with("CARGO_TARGET_DIR", &target.display().to_string())
        .with("RUSTUP_AUTO_INSTALL", "0");
    for listed in runner::list_all(&binaries, &package_dir, &env)?
        .into_iter()
        .take(1)
    {
        runner::run_test(
            &listed.exe,
            &listed.id,
            listed.listed,
            &package_dir,
            &env,
            stage.timeout_for(&listed.id).max(Duration::from_secs(60)),
        )
        .context("running the stub's compile-fail test")?;
    }
    anyhow::ensure!(
        target.join("tests").join("trybuild").is_dir(),
        "the stub's compile-fail test did not build a trybuild project"
    );
    Ok(())
}
