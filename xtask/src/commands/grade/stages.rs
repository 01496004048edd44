//! Preparing each stage of a submission: its sources read and gated, its tests listed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::slots::{Job, relativize};
use crate::course::points;
use crate::course::{Stage, TestId};
use crate::exec::cargo;
use crate::exec::gate;
use crate::exec::runner::{self, TestEnv};
use crate::exec::sandbox::{self, Isolation};
use crate::exec::scratch::GradeScratch;
use crate::files::Sources;
use crate::outcome::Problem;
use crate::report::model::{Grade, Status, TestGrade};

pub(super) enum StageJobs {
    Ready(Vec<runner::Listed>, TestEnv, PathBuf),
    CompileError(String),
    Refused(Vec<String>),
}

/// `XTASK_TEST_SKIP_GATE=1` runs refused code anyway. Only xtask's own tests set it, to check
/// that the sandbox holds by itself behind the gate; every report of such a run says so.
pub(super) fn skip_gate() -> bool {
    std::env::var_os("XTASK_TEST_SKIP_GATE").is_some_and(|v| v == "1")
}

/// What one built stage needs before its tests can run.
pub(super) fn prepare_stage(
    stage: &Stage,
    build: &cargo::Build,
    scratch: &GradeScratch,
    violations: &mut gate::Violations,
    listing: &dyn Fn(&Path) -> Option<sandbox::Spec>,
) -> Result<StageJobs> {
    let package_dir = scratch.exercise_dir(stage);
    let manifest = package_dir.join("Cargo.toml");
    let errors = build.errors_of(&manifest);
    let binaries = build.binaries_of(&manifest);
    if !errors.is_empty() || binaries.is_empty() {
        let text = if errors.is_empty() {
            build.stderr.clone()
        } else {
            errors.join("\n")
        };
        return Ok(StageJobs::CompileError(relativize(&text, &scratch.root)));
    }
    match build.library_of(&manifest) {
        Some(rlib) => gate::check_library(&stage.name, rlib, violations),
        None => violations
            .entry(stage.name.clone())
            .or_default()
            .push("the grader could not find the compiled library to check it".to_owned()),
    }
    if let Some(found) = violations.get(&stage.name)
        && !skip_gate()
    {
        return Ok(StageJobs::Refused(found.clone()));
    }
    let env = TestEnv::new(&scratch.root, &package_dir, &stage.name);
    let listed = runner::list_all_in(&binaries, &package_dir, &env, listing)
        .context("listing the stage's tests failed")?;
    Ok(StageJobs::Ready(listed, env, package_dir))
}

pub(super) fn add_jobs(
    grade: &mut Grade,
    index: usize,
    stage: &Stage,
    listed: Vec<runner::Listed>,
    env: &TestEnv,
    cwd: &Path,
    jobs: &mut Vec<Job>,
) {
    let stage_grade = &mut grade.stages[index];
    for test in listed {
        if !stage_grade
            .tests
            .iter()
            .any(|t| t.id == test.id.to_string())
        {
            // Not found by the scan (a test in a module, say): grade it too.
            stage_grade.tests.push(pending(stage, &test.id));
        }
        jobs.push(Job {
            stage: index,
            timeout: stage.timeout_for(&test.id),
            toolchain: stage.overlay_only.contains(&test.id.target),
            test,
            cwd: cwd.to_owned(),
            env: env.clone(),
        });
    }
    // Expected tests the binaries do not have: the submission cannot rename the course's
    // tests (they are pristine), so this means the build is not what we expected.
    for test in &mut stage_grade.tests {
        if !jobs
            .iter()
            .any(|j| j.stage == index && j.test.id.to_string() == test.id)
        {
            test.status = Status::Fail;
            test.message = "this test was not found in the built test binaries".to_owned();
        }
    }
}

/// The sandbox for listing a test binary's tests (listing runs the binary too).
pub(super) fn list_spec(
    exe: &Path,
    scratch: &GradeScratch,
    isolation: &Isolation,
    uids: &sandbox::Uids,
) -> Result<sandbox::Spec> {
    let uid = uids.uids.first().copied();
    let private = scratch.base.join("tmp").join("list");
    sandbox::private_dir(&private, uid)?;
    Ok(sandbox::Spec {
        uid,
        landlock: isolation.landlock_abi > 0,
        exe: exe.to_owned(),
        read: vec![scratch.root.clone()],
        exec: Vec::new(),
        write: vec![private],
        tools: Vec::new(),
        toolchain: false,
        new_ipc: isolation.ipc_namespace,
        cgroup: None,
        limits: sandbox::Limits {
            cpu_secs: 30,
            file_size: 1 << 20,
            address_space: 16 << 30,
            open_files: 1_024,
            processes: uid.map(|_| 256),
        },
    })
}

/// The learner's `src/**/*.rs` for one stage, and what was refused.
///
/// Copy, never follow: a symbolic link anywhere on the way to `src/` makes the stage
/// ungradable, and one under `src/` is refused (named in the report); nothing outside the
/// submission is ever read. Sizes are bounded.
pub(super) fn submitted_sources(
    submission: &Path,
    stage: &Stage,
) -> Result<(Sources, Vec<String>), Problem> {
    const MAX_FILE: u64 = 1024 * 1024;
    const MAX_FILES: usize = 256;
    const MAX_DEPTH: usize = 8;
    let crate_root = submission.join("exercises").join(&stage.dir);
    let src = crate_root.join("src");
    for (path, shown) in [
        (submission.join("exercises"), "exercises".to_owned()),
        (crate_root.clone(), format!("exercises/{}", stage.dir)),
        (src.clone(), format!("exercises/{}/src", stage.dir)),
    ] {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "{shown} is a symbolic link; submissions are copied, never followed \
                     (commit the files themselves)"
                )
                .into());
            }
            Ok(meta) if meta.is_dir() => {}
            _ => {
                return Err(
                    format!("the submission has no {shown} directory; nothing to grade").into(),
                );
            }
        }
    }
    let mut sources = Sources::new();
    let mut refused = Vec::new();
    let mut stack = vec![(src, 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            let relative = path.strip_prefix(&crate_root).unwrap_or(&path).to_owned();
            let shown = format!("exercises/{}/{}", stage.dir, relative.display());
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_symlink() {
                refused.push(format!("{shown} (a symbolic link: copied files only)"));
            } else if kind.is_dir() {
                if depth + 1 > MAX_DEPTH {
                    refused.push(format!("{shown} (nested more than {MAX_DEPTH} deep)"));
                } else {
                    stack.push((path, depth + 1));
                }
            } else if !kind.is_file() || path.extension().is_none_or(|e| e != "rs") {
                refused.push(format!("{shown} (only .rs files under src/ are graded)"));
            } else if entry.metadata().map_or(true, |m| m.len() > MAX_FILE) {
                refused.push(format!("{shown} (larger than 1 MiB)"));
            } else if sources.len() >= MAX_FILES {
                refused.push(format!("{shown} (more than {MAX_FILES} files)"));
            } else if let Ok(bytes) = fs::read(&path) {
                sources.insert(relative, bytes);
            }
        }
    }
    // Anything else at the crate's root that cargo would act on.
    for name in ["build.rs", ".cargo"] {
        if fs::symlink_metadata(crate_root.join(name)).is_ok() {
            refused.push(format!(
                "exercises/{}/{name} (only src/**/*.rs is taken from a submission)",
                stage.dir
            ));
        }
    }
    if sources.is_empty() {
        return Err(format!("exercises/{}/src has no .rs files", stage.dir).into());
    }
    refused.sort();
    Ok((sources, refused))
}

pub(super) fn first_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    if all.len() <= lines {
        return text.trim_end().to_owned();
    }
    format!(
        "{}\n[... {} more lines]",
        all[..lines].join("\n"),
        all.len() - lines
    )
}

/// A test not yet run, with its share of the stage's points.
pub(super) fn pending(stage: &Stage, id: &TestId) -> TestGrade {
    TestGrade {
        id: id.to_string(),
        target: id.target.clone(),
        name: id.name.clone(),
        status: Status::NotRun,
        score: 0.0,
        max_score: 0.0,
        message: "not run".to_owned(),
        duration_ms: 0,
        weight: points::weight(stage, id),
        max_cents: 0,
    }
}
