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
use crate::outcome::Problem;

/// The compiler flags trybuild (1.0.122: `src/rustflags.rs` and `src/cargo.rs`) gives the
/// builds of its test cases, `\x1f`-separated as `CARGO_ENCODED_RUSTFLAGS` wants them.
pub const CASE_FLAGS: &str =
    "--cfg\x1ftrybuild\x1f--verbose\x1f-A\x1fdead_code\x1f--diagnostic-width=140";

/// `env` for a test that runs trybuild, with one set of compiler flags for all its builds.
///
/// trybuild checks its project's dependencies with one set of flags and then builds the
/// cases with another (`--diagnostic-width=140` added). cargo keeps one fingerprint per
/// unit, so a first run compiles every dependency twice, and a run that starts from a seed
/// made by an earlier run checks them all again with the first set. `CARGO_ENCODED_RUSTFLAGS`
/// takes precedence over the `--config build.rustflags` trybuild passes, so setting it to the
/// cases' own flags makes every build use them: the cases compile exactly as in a learner's
/// `cargo test`, and the dependencies once (Stage 3's first compile-fail run: 35 s of CPU ->
/// 19 s). A trybuild whose flags differ from [`CASE_FLAGS`] fails the xtask test
/// `trybuild_still_uses_the_case_flags_we_copy`.
pub fn with_case_flags(env: TestEnv) -> TestEnv {
    env.with("CARGO_ENCODED_RUSTFLAGS", CASE_FLAGS)
}

/// The seed of `stage`'s compile-fail tests, made now if it is missing or stale. `None` when
/// no seed can be made (the reason is returned for the report); grading then starts cold.
/// `announce` is told before a seed is built (that takes a while).
pub fn seed(
    root: &Path,
    stage: &Stage,
    scratch: &mut GradeScratch,
    extra: &[&str],
    announce: &dyn Fn(&str),
) -> Result<PathBuf, Problem> {
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
    let env = with_case_flags(
        TestEnv::new(&scratch.root, &package_dir, &stage.name)
            .with("CARGO_TARGET_DIR", &target.display().to_string())
            .with("RUSTUP_AUTO_INSTALL", "0"),
    );
    for listed in runner::list_all(&binaries, &package_dir, &env)?
        .into_iter()
        .take(1)
    {
        runner::run_test(
            &listed,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The source of the trybuild the course's lockfile names (from cargo's registry cache).
    fn trybuild_source() -> PathBuf {
        // The host's graph, downloading what is missing: after a plain `cargo test` on a fresh
        // cargo home, nothing that only the exercises use is there (`cargo::Metadata::HostGraph`).
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let json = crate::exec::cargo::metadata(root, crate::exec::cargo::Metadata::HostGraph)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let metadata: serde_json::Value =
            serde_json::from_str(&json).expect("cargo metadata prints JSON");
        let package = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "trybuild")
            .expect("the course depends on trybuild");
        PathBuf::from(package["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn trybuild_still_uses_the_case_flags_we_copy() {
        let dir = trybuild_source();
        let read = |file: &str| fs::read_to_string(dir.join("src").join(file)).unwrap();
        let (rustflags, cargo) = (read("rustflags.rs"), read("cargo.rs"));
        for (file, text, expected) in [
            (
                "rustflags.rs",
                &rustflags,
                r#"vec!["--cfg", "trybuild", "--verbose"]"#,
            ),
            (
                "rustflags.rs",
                &rustflags,
                r#"IGNORED_LINTS: &[&str] = &["dead_code"]"#,
            ),
            (
                "cargo.rs",
                &cargo,
                r#"cargo_with_rustflags(project, &["--diagnostic-width=140"])"#,
            ),
        ] {
            assert!(
                text.contains(expected),
                "{} no longer has `{expected}` in src/{file}: trybuild changed the flags it \
                 compiles test cases with. Read them there and update CASE_FLAGS in \
                 xtask/src/exec/trybuild_cache.rs, or compile-fail cases run by verify and \
                 grade would compile differently from a learner's `cargo test`.",
                dir.display()
            );
        }
        assert_eq!(
            CASE_FLAGS.split('\x1f').collect::<Vec<_>>(),
            [
                "--cfg",
                "trybuild",
                "--verbose",
                "-A",
                "dead_code",
                "--diagnostic-width=140"
            ]
        );
    }
}
