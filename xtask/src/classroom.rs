//! `cargo xtask classroom export`: a standalone starter repository for students.
//!
//! The export holds the stubs, their tests and hints, the harness and xtask (so students can
//! run `cargo xtask grade`), a student README, a GitHub Classroom workflow, a Gradescope bundle
//! and `course.sha256` (the checksums `grade` compares protected files with). It never holds
//! solutions, bug variants or anything that depends on them (the benchmark crate).
//!
//! The export is checked before the command reports success: its lockfile is pruned to its
//! own members (registry versions unchanged), it builds with `--locked`, and grading it scores
//! zero, as stubs must.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::cargo;
use crate::course::{Course, Stage};
use crate::grade::{self, Options as GradeOptions};
use crate::integrity;
use crate::report::Format;
use crate::ui;

#[derive(Debug, Clone)]
pub struct Options {
    pub stages: Vec<String>,
    pub out: PathBuf,
    /// Skip building and grading the export (faster; for quick iterations only).
    pub no_check: bool,
}

pub fn export(root: &Path, options: &Options) -> Result<bool> {
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    ensure!(!stages.is_empty(), "there are no stages to export");
    let out = &options.out;
    if out.exists() && fs::read_dir(out)?.next().is_some() {
        bail!(
            "{} exists and is not empty; export into a new directory (nothing was written)",
            out.display()
        );
    }
    fs::create_dir_all(out)?;
    let out = out.canonicalize()?;

    // 1. The course's shared files, and the chosen stages' exercises (never their solutions).
    for path in [
        ".cargo",
        ".gitignore",
        "rust-toolchain.toml",
        "crates/harness",
        "xtask",
    ] {
        copy(&root.join(path), &out.join(path))?;
    }
    for stage in &stages {
        copy(
            &stage.exercise_dir(root),
            &out.join("exercises").join(&stage.dir),
        )?;
        // The stub as shipped, for `cargo xtask reset` and for each stage's status.
        let kept = out
            .join(crate::pristine::DIR)
            .join("exercises")
            .join(&stage.dir);
        copy(&stage.exercise_dir(root).join("src"), &kept.join("src"))?;
    }
    fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock")).context("cannot copy Cargo.lock")?;
    fs::write(out.join("Cargo.toml"), manifest(root, &out)?)?;
    fs::write(out.join("README.md"), student_readme(&stages))?;
    write_script(
        &out.join(".github/workflows/classroom.yml"),
        CLASSROOM_WORKFLOW,
        false,
    )?;
    write_script(&out.join("gradescope/setup.sh"), GRADESCOPE_SETUP, true)?;
    write_script(&out.join("gradescope/run_autograder"), GRADESCOPE_RUN, true)?;
    write_script(&out.join("gradescope/make-zip.sh"), GRADESCOPE_ZIP, true)?;

    // 2. Prune the lockfile to the export's members (a plain, unlocked metadata call does
    //    exactly that; registry versions stay as they were).
    let (ok, output) =
        cargo::run_checked(&out, &["metadata", "--format-version", "1", "--offline"])?;
    ensure!(ok, "cargo could not read the exported workspace:\n{output}");
    let manifest = integrity::write_manifest(&out)?;
    ui::heading(&format!(
        "exported {} stage(s) to {}",
        stages.len(),
        out.display()
    ));
    println!("  checksums of protected files: {}", manifest.display());

    if options.no_check {
        println!("  not checked (--no-check)");
        return Ok(true);
    }

    // 3. Check it: the tooling builds, and grading the stubs scores zero.
    if out.join("xtask").is_dir() {
        let (ok, output) = cargo::run_checked(&out, &["build", "--locked", "-q", "-p", "xtask"])?;
        ensure!(ok, "the exported xtask does not build:\n{output}");
    }
    let report = out.join("target").join("export-check");
    let grade_options = GradeOptions {
        submission: None,
        stages: Vec::new(),
        formats: vec![Format::Json],
        out: report.clone(),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        budget: None,
        require_all: false,
        offline: false,
        isolation: crate::sandbox::Mode::Auto,
        keep_scratch: false,
    };
    grade::run(&out, &grade_options)?;
    let result: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report.join("grade.json"))?)?;
    let broken: Vec<&str> = result["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| !s["compile_error"].is_null())
        .filter_map(|s| s["name"].as_str())
        .collect();
    let score = result["score"].as_f64().unwrap_or(-1.0);
    let max = result["max_score"].as_f64().unwrap_or(0.0);
    let ok = broken.is_empty() && score == 0.0;
    ui::line(
        "check",
        ok,
        &if ok {
            format!("the export builds with --locked, and its stubs score 0/{max}")
        } else {
            format!("stubs scored {score}/{max}; stages that did not build: {broken:?}")
        },
        "",
    );
    Ok(ok)
}

/// The course's root manifest with the export's members.
fn manifest(root: &Path, out: &Path) -> Result<String> {
    let text = fs::read_to_string(root.join("Cargo.toml"))?;
    let mut table: toml::Table = toml::from_str(&text)?;
    // Cargo reads a glob that matches nothing as a literal path: list only what exists.
    let mut members = vec!["exercises/*"];
    let mut defaults = Vec::new();
    for (dir, member) in [("crates", "crates/*"), ("xtask", "xtask")] {
        if out.join(dir).is_dir() {
            members.push(member);
            defaults.push(member);
        }
    }
    let workspace = table
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("the course's Cargo.toml has no [workspace]")?;
    workspace.insert("members".into(), members.into());
    workspace.insert("default-members".into(), defaults.into());
    Ok(format!(
        "# Generated by `cargo xtask classroom export`. Learners edit exercises/*/src only.\n{}",
        toml::to_string(&table)?
    ))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    let Ok(meta) = fs::symlink_metadata(from) else {
        return Ok(()); // optional parts of a course (a fixture has no xtask, say)
    };
    if meta.is_dir() {
        let name = from.file_name().unwrap_or_default();
        if name == "target" || name == ".git" {
            return Ok(());
        }
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from, to).with_context(|| format!("cannot copy {}", from.display()))?;
    }
    Ok(())
}

fn write_script(path: &Path, text: &str, executable: bool) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

fn student_readme(stages: &[&Stage]) -> String {
    let mut rows = String::new();
    for stage in stages {
        rows.push_str(&format!(
            "| {} | [{}](exercises/{}/README.md) | `cargo test -p {}` | {} |\n",
            stage.order, stage.title, stage.dir, stage.name, stage.points
        ));
    }
    format!(
        r#"# async-from-scratch

Build async Rust from the bottom up. Each stage is a crate under `exercises/` with a README
that teaches its idea, stubs (`todo!()`) for you to fill in, and tests that fail until your code
is right. Work through the stages in order.

| # | Stage | Run its tests | Points |
|---|-------|---------------|--------|
{rows}
## Getting started

You need [rustup](https://rustup.rs); the pinned toolchain installs itself on the first `cargo`
command here.

```sh
cargo test -p manual-poll        # a stage's tests (cargo stops at the first failing part)
cargo xtask grade                # your score, test by test, as the autograder computes it
```

Each stage's `hints.md` goes from a gentle nudge to nearly the answer: read one hint at a time.

## The rules

Edit only the files under `exercises/*/src/`. The grader takes nothing else from your
repository: tests, manifests, `.cargo/`, `xtask/` and the harness come from the course, and
changes to them are reported (`course.sha256` holds their checksums). Code that ends the test
process itself (`std::process::exit`) or writes to the raw output streams
(`std::io::stdout()`; `println!` is fine) is refused by the grader.

## How you are graded

Every push runs `cargo xtask grade` in GitHub Actions (`.github/workflows/classroom.yml`). Each
test runs in its own process with a time limit; a test that hangs costs only itself, and a stage
that does not compile costs only that stage. A stage's points are shared among its tests.
"#
    )
}

const CLASSROOM_WORKFLOW: &str = r#"# Generated by `cargo xtask classroom export`.
# Keep the workflow and job names: GitHub Classroom looks for them.
name: Autograding Tests
on: [push, repository_dispatch, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
      - name: Install the pinned toolchain (rust-toolchain.toml)
        run: rustup show active-toolchain || rustup toolchain install
      - name: grade
        id: grade
        timeout-minutes: 30
        # Always exits 0 once reports exist; the reporter below decides pass/fail.
        # Writes `result=<base64 JSON>` to $GITHUB_OUTPUT for the reporter.
        run: cargo xtask grade --format classroom,human,junit --out target/grade
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          GRADE_RESULTS: "${{ steps.grade.outputs.result }}"
        with:
          runners: grade
"#;

const GRADESCOPE_SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope image build (runs once, as root, with network): install the pinned toolchain and
# build everything once, so grading at submission time is offline and only recompiles the
# student's crates.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq curl build-essential >/dev/null
curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
source "$HOME/.cargo/env"
cd /autograder/source
rustup show active-toolchain || rustup toolchain install
cargo fetch --locked
# Pre-warm: grade the stubs once (builds the dependencies and the grader itself).
cargo xtask grade --format json --out /tmp/prewarm || true
"#;

const GRADESCOPE_RUN: &str = r#"#!/usr/bin/env bash
# Gradescope: grade /autograder/submission against this pristine copy of the course.
set -uo pipefail
source "$HOME/.cargo/env"
cd /autograder/source
submission=/autograder/submission
# Students may upload the repository itself or a folder containing it.
if [ ! -d "$submission/exercises" ]; then
  found=$(find /autograder/submission -maxdepth 4 -type d -name exercises | head -n 1)
  [ -n "$found" ] && submission=$(dirname "$found")
fi
# --budget stays under Gradescope's default 10 minute limit; results.json is rewritten after
# every test, so a partial result exists even if the platform stops us.
mkdir -p /autograder/results
cargo xtask grade --submission "$submission" --offline --budget 8m \
  --format gradescope,human --out /autograder/results
# The grader writes results.json before anything else can fail; if even that did not happen
# (the grader itself could not start), say so instead of leaving Gradescope without a result.
if [ ! -s /autograder/results/results.json ]; then
  cat > /autograder/results/results.json <<'JSON'
{"score": 0, "output": "The autograder could not grade this upload (see the log). Upload your whole repository (or a zip of it): the grader needs exercises/NN-name/src/*.rs.", "tests": []}
JSON
fi
exit 0
"#;

const GRADESCOPE_ZIP: &str = r#"#!/usr/bin/env bash
# Builds autograder.zip for Gradescope: this repository with setup.sh and run_autograder at
# the root of the zip. Run from anywhere: ./gradescope/make-zip.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && tar --exclude=./target --exclude=./.git -cf - .) | (cd "$work" && tar -xf -)
cp "$root/gradescope/setup.sh" "$root/gradescope/run_autograder" "$work/"
(cd "$work" && zip -qr "$root/autograder.zip" .)
echo "wrote $root/autograder.zip"
"#;
