//! `cargo xtask classroom export`: what it is told, and the export and its check (see
//! `mod.rs`).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use super::committed;
use crate::course::integrity;
use crate::course::{Course, Stage};
use crate::exec::cargo;
use crate::outcome::Outcome;
use crate::ui;

/// `cargo xtask classroom COMMAND`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Copy the stubs, tests, harness and xtask into a new starter repository
    Export(Options),
}

/// `classroom export --out DIR [--stage NAME]... [--no-check] [--allow-dirty]`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// A new, empty directory
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only these stages (comma-separated or repeated)
    #[arg(
        long = "stage",
        alias = "stages",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub stages: Vec<String>,
    /// Skip building and grading the export
    // Faster; for quick iterations only.
    #[arg(long)]
    pub no_check: bool,
    /// Export git HEAD even though exercises/ has uncommitted changes
    // They are still not exported: the export is made from git `HEAD`.
    #[arg(long)]
    pub allow_dirty: bool,
}

/// Runs a `classroom` subcommand.
pub fn run(root: &Path, command: &Command) -> Result<Outcome> {
    match command {
        Command::Export(options) => export(root, options),
    }
}

/// Exports the course as committed (git `HEAD`), into a staging directory next to `--out`
/// that becomes `--out` only once its check passed: a failed export leaves nothing behind,
/// and running it again works.
fn export(root: &Path, options: &Options) -> Result<Outcome> {
    let out = std::path::absolute(&options.out)
        .with_context(|| format!("cannot resolve {}", options.out.display()))?;
    if out.exists() && fs::read_dir(&out)?.next().is_some() {
        bail!(
            "{} exists and is not empty; export into a new directory (nothing was written)",
            out.display()
        );
    }
    let source = committed::snapshot(root, options.allow_dirty)?;
    let parent = out
        .parent()
        .context("--out needs a parent directory")?
        .to_owned();
    fs::create_dir_all(&parent)?;
    let name = out
        .file_name()
        .context("--out needs a directory name")?
        .to_string_lossy()
        .into_owned();
    let staging = parent.join(format!(".{name}.export-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    let result = export_into(source.path(), &staging, options);
    match result {
        Ok(Outcome::Passed) => {
            // The check's build output is not part of a starter repository.
            let _ = fs::remove_dir_all(staging.join("target"));
            if out.exists() {
                fs::remove_dir(&out)?; // empty (checked above)
            }
            fs::rename(&staging, &out).with_context(|| {
                format!("cannot move {} to {}", staging.display(), out.display())
            })?;
            ui::heading(&format!("exported to {}", out.display()));
            Ok(Outcome::Passed)
        }
        Ok(Outcome::Failed) | Err(_) => {
            let _ = fs::remove_dir_all(&staging);
            println!(
                "  nothing was written to {} (the staging directory was removed)",
                out.display()
            );
            result
        }
    }
}

fn export_into(root: &Path, out: &Path, options: &Options) -> Result<Outcome> {
    let course = Course::load(root)?;
    let stages = course.select(&options.stages)?;
    ensure!(!stages.is_empty(), "there are no stages to export");
    fs::create_dir_all(out)?;
    let out = out.canonicalize()?;
    copy_course(root, &out, &stages)?;
    prune_lockfile(&out)?;
    keep_pristine(&out, &stages)?;
    let manifest = integrity::write_manifest(&out)?;
    ui::heading(&format!(
        "exporting {} stage(s) (staged in {})",
        stages.len(),
        out.display()
    ));
    println!("  checksums of protected files: {}", manifest.display());

    if options.no_check {
        println!("  not checked (--no-check)");
        return Ok(Outcome::Passed);
    }
    check_export(&out)
}

/// 1. The course's shared files, and the chosen stages' exercises (never their solutions),
///    with the starter's manifest, README, workflow and Gradescope scripts.
fn copy_course(root: &Path, out: &Path, stages: &[&Stage]) -> Result<()> {
    let support = crate::course::support_crates(root);
    let shared = [".cargo", ".gitignore", "rust-toolchain.toml", "xtask"];
    for path in shared
        .iter()
        .copied()
        .chain(support.iter().map(String::as_str))
    {
        copy(&root.join(path), &out.join(path))?;
    }
    for stage in stages {
        let dir = out.join("exercises").join(&stage.dir);
        copy(&stage.exercise_dir(root), &dir)?;
        let readme = dir.join("README.md");
        if let Ok(text) = fs::read_to_string(&readme) {
            fs::write(&readme, starter_text(&text))?;
        }
    }
    fs::create_dir_all(out.join(".cargo"))?;
    fs::write(out.join(".cargo/config.toml"), CARGO_CONFIG)?;
    fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock")).context("cannot copy Cargo.lock")?;
    fs::write(out.join("Cargo.toml"), manifest(root, out)?)?;
    fs::write(out.join("README.md"), student_readme(stages))?;
    write_script(
        &out.join(".github/workflows/classroom.yml"),
        &classroom_workflow(stages),
        false,
    )?;
    write_script(
        &out.join("gradescope/setup.sh"),
        &gradescope_setup(stages),
        true,
    )?;
    write_script(&out.join("gradescope/run_autograder"), GRADESCOPE_RUN, true)?;
    write_script(&out.join("gradescope/make-zip.sh"), GRADESCOPE_ZIP, true)?;

    Ok(())
}

/// 2. Prune the lockfile to the export's members (a plain, unlocked metadata call does
///    exactly that; registry versions stay as they were). Only the host's packages need
///    to be on disk: after `cargo test` and `cargo xtask verify`, crates used only on
///    other platforms (wasm-bindgen, ...) were never downloaded.
fn prune_lockfile(out: &Path) -> Result<()> {
    cargo::metadata(out, cargo::Metadata::HostGraph)
        .context("cargo could not read the exported workspace")?;
    Ok(())
}

/// 3. The course's copy of every file the grade needs, for restoring before a self-grade
///    (`cargo xtask grade` in a starter repository grades against it) and for `reset`.
fn keep_pristine(out: &Path, stages: &[&Stage]) -> Result<()> {
    let kept = out.join(crate::course::pristine::DIR);
    let support = crate::course::support_crates(out);
    let shared = ["Cargo.toml", "Cargo.lock", "rust-toolchain.toml"];
    for path in shared
        .iter()
        .copied()
        .chain(support.iter().map(String::as_str))
    {
        copy(&out.join(path), &kept.join(path))?;
    }
    for stage in stages {
        copy(
            &out.join("exercises").join(&stage.dir),
            &kept.join("exercises").join(&stage.dir),
        )?;
    }
    Ok(())
}

/// 4. Check it as a student's first minutes would: from an **empty cargo home** (nothing
///    downloaded or built before, as on a fresh machine or a fresh CI runner), the starter's
///    README commands work — the tooling builds with `--locked`, `cargo xtask` shows the
///    stages, and `cargo xtask grade` scores the stubs zero with every stage compiling.
///    The cargo home lives in the staging directory's `target/`, removed with it.
fn check_export(out: &Path) -> Result<Outcome> {
    let home = out.join("target").join("fresh-cargo-home");
    fs::create_dir_all(&home)?;
    let report = out.join("target").join("export-check");
    let cargo = OsStr::new("cargo");
    let report_arg = report.display().to_string();
    let grade = ["grade", "--format", "json", "--out", &report_arg];
    if out.join("xtask").is_dir() {
        // The student's first commands (the starter README), then its own grader.
        run_fresh(
            out,
            &home,
            cargo,
            &["build", "--locked", "-q", "-p", "xtask"],
        )?;
        run_fresh(out, &home, cargo, &["xtask"])?;
        run_fresh(out, &home, cargo, &[&["xtask"][..], &grade].concat())?;
    } else {
        // A starter without tooling (a course that ships none): this grader, on the export.
        let me = std::env::current_exe().context("cannot find the running xtask")?;
        let root = out.display().to_string();
        let args = [&["--root", &root][..], &grade].concat();
        run_fresh(out, &home, me.as_os_str(), &args)?;
    }
    stubs_score_zero(&report)
}

/// `program args` in the starter `out`, with nothing of the exporting shell's cargo state: the
/// empty cargo home `home`, no target directory or compiler flags. `cargo` is the one on PATH
/// (rustup's proxy honours the starter's rust-toolchain.toml).
fn run_fresh(out: &Path, home: &Path, program: &OsStr, args: &[&str]) -> Result<()> {
    let mut cmd = std::process::Command::new(program);
    cmd.current_dir(out)
        .args(args)
        .env("CARGO_HOME", home)
        .stdin(std::process::Stdio::null());
    for key in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "CARGO",
    ] {
        cmd.env_remove(key);
    }
    let shown = format!("{} {}", program.to_string_lossy(), args.join(" "));
    let started = std::time::Instant::now();
    let output = cmd
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    ensure!(
        output.status.success(),
        "`{shown}` failed in the starter, from an empty cargo home ({}):\n{}",
        output.status,
        last_lines(&String::from_utf8_lossy(&output.stderr), 40)
    );
    ui::line(
        "fresh",
        true,
        &format!("{shown} ({:.0} s)", started.elapsed().as_secs_f64()),
        "",
    );
    Ok(())
}

/// The export check's verdict: the stubs score zero, and every stage compiled.
fn stubs_score_zero(report: &Path) -> Result<Outcome> {
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
            format!(
                "from an empty cargo home the export builds with --locked, and its stubs score 0/{}",
                crate::course::points::show(max)
            )
        } else {
            format!(
                "stubs scored {}/{}; stages that did not build: {broken:?}",
                crate::course::points::show(score),
                crate::course::points::show(max)
            )
        },
        "",
    );
    Ok(Outcome::of(ok))
}

/// The last `n` lines of `text` (cargo's error is at the end of a long build log).
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skipped = lines.len().saturating_sub(n);
    let mut shown = String::new();
    if skipped > 0 {
        shown.push_str(&format!("[... {skipped} earlier lines]\n"));
    }
    shown.push_str(&lines[skipped..].join("\n"));
    shown
}

/// A stage README as a starter repository shows it: blocks between `<!-- course-only` and
/// `<!-- /course-only -->` (they name tools a starter does not have: the benchmark crate,
/// `verify`) are dropped, and `<!-- starter: TEXT -->` becomes TEXT.
fn starter_text(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("<!-- course-only") {
            skipping = true;
            continue;
        }
        if trimmed.starts_with("<!-- /course-only") {
            skipping = false;
            continue;
        }
        if skipping {
            continue;
        }
        if let Some(note) = trimmed
            .strip_prefix("<!-- starter:")
            .and_then(|t| t.strip_suffix("-->"))
        {
            out.push_str(note.trim());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
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
            "| {} | [{}](exercises/{}/README.md) | `cargo xtask run {}` | {} |\n",
            stage.order,
            stage.title,
            stage.dir,
            stage.name,
            crate::course::points::show(stage.points)
        ));
    }
    let total: f64 = stages.iter().map(|s| s.points).sum();
    let first = stages.first().map_or("STAGE", |s| s.name.as_str());
    format!(
        r#"# async-from-scratch

Build async Rust from the bottom up. Each stage is a crate under `exercises/` with a README
that teaches its idea, stubs (`todo!()`) for you to fill in, and tests that fail until your code
is right. Work through the stages in order.

| # | Stage | Run its tests | Points |
|---|-------|---------------|--------|
{rows}
Total: {total} points.

## Getting started

You need [rustup](https://rustup.rs); the pinned toolchain installs itself on the first `cargo`
command here.

## The loop

```sh
cargo xtask                  # where you stand: every stage, its status and points
cargo xtask run              # the current stage's tests, each in its own process
cargo xtask run {first}      # ... or a stage by name or number
cargo xtask watch            # re-run the current stage every time you save
cargo xtask hint             # the next hint for the current stage (--again: all so far)
cargo xtask reset {first} # put the stub back (your version is kept in .course/backups/)
cargo xtask grade            # your score, test by test, exactly as the autograder computes it
cargo test -p {first}        # plain cargo works too (it stops at the first failing file)
```

Read a stage's README, write code in `exercises/NN-name/src/`, run its tests, read what a
failing test says (it names the idea and where to look), and ask for a hint when stuck: hints
go from a gentle nudge to nearly the answer, one at a time.

## The rules

Edit only the files under `exercises/*/src/`. The grader takes nothing else from your
repository: tests, manifests and the harness come from the course's copy in
`.course/pristine/`, and the report names any protected file that differs (`course.sha256`
holds their checksums). Code that ends the test process itself (`std::process::exit`) or writes
to the raw output streams (`std::io::stdout()`; `println!` is fine) is refused by the grader.

## Submitting

- **GitHub Classroom**: commit and push. Every push runs `cargo xtask grade` in GitHub Actions
  (`.github/workflows/classroom.yml`); the run's summary shows your score table, and the JUnit
  report is attached to the run.
- **Gradescope** (if your course uses it): upload your whole repository: either a zip of it
  (`git archive -o submission.zip HEAD`), or the repository's folder, or just its `exercises/`
  folder. Only `exercises/*/src/**/*.rs` is graded.

## How you are graded

Each test runs in its own process with a time limit; a test that hangs costs only itself, and a
stage that does not compile costs only that stage. A stage's points are shared among its tests
(by the weights in its `exercise.toml`), in hundredths that add up exactly to the stage's
points. `cargo xtask grade` locally gives the same score as the autograder.
"#
    )
}

/// The starter repository's cargo alias (the course's names files a starter repo lacks).
const CARGO_CONFIG: &str = r#"[alias]
# `cargo xtask <command>`: the course's tooling (grade, run, watch, hint, reset).
xtask = "run --package xtask --quiet --"
"#;

/// The GitHub Classroom workflow: one reporter runner per stage (see `report::classroom`).
fn classroom_workflow(stages: &[&Stage]) -> String {
    let runners: Vec<String> = stages
        .iter()
        .map(|s| crate::report::runner_name(s.order))
        .collect();
    let env: String = runners
        .iter()
        .map(|r| {
            format!(
                "          {}_RESULTS: \"${{{{ steps.grade.outputs.{r} }}}}\"\n",
                r.to_uppercase()
            )
        })
        .collect();
    let packages = debian_packages(stages);
    let install = if packages.is_empty() {
        String::new()
    } else {
        format!(
            "      - name: Install the programs the tests start (exercise.toml `tools_debian`)\n        \
             run: sudo apt-get update -qq && sudo apt-get install -y -qq {packages}\n"
        )
    };
    CLASSROOM_WORKFLOW
        .replace("@INSTALL@\n", &install)
        .replace("@ENV@\n", &env)
        .replace("@RUNNERS@", &runners.join(","))
}

/// The Debian packages the exported stages' tests need (`tools_debian`), sorted, each once,
/// space-separated; empty when no stage declares one. Names are checked when the course loads.
fn debian_packages(stages: &[&Stage]) -> String {
    let packages: std::collections::BTreeSet<&str> = stages
        .iter()
        .flat_map(|stage| stage.tools_debian.iter().map(String::as_str))
        .collect();
    packages.into_iter().collect::<Vec<_>>().join(" ")
}

/// Gradescope's image set-up, installing the exported stages' `tools_debian` packages with
/// the toolchain's.
fn gradescope_setup(stages: &[&Stage]) -> String {
    let packages = debian_packages(stages);
    let extra = if packages.is_empty() {
        String::new()
    } else {
        format!(" {packages}")
    };
    GRADESCOPE_SETUP.replace(" @PACKAGES@", &extra)
}

const CLASSROOM_WORKFLOW: &str = r#"# Generated by `cargo xtask classroom export`.
# Keep the workflow and job names: GitHub Classroom looks for them.
name: Autograding Tests
on:
  push:
  repository_dispatch:
  workflow_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v5
@INSTALL@
      - name: Install the pinned toolchain (rust-toolchain.toml)
        run: rustup show active-toolchain || rustup toolchain install
      - name: Cargo cache (keyed on Cargo.lock)
        uses: actions/cache@v4
        with:
          path: |
            ~/.cargo/registry/index
            ~/.cargo/registry/cache
            ~/.cargo/git/db
            target
          key: cargo-${{ runner.os }}-${{ hashFiles('Cargo.lock', 'rust-toolchain.toml') }}
          restore-keys: |
            cargo-${{ runner.os }}-
      - name: grade
        id: grade
        timeout-minutes: 30
        # Grades against the course's copy of the tests (.course/pristine), never the
        # repository's own; the report names any protected file that differs.
        # Always exits 0 once reports exist; the reporter below decides pass/fail.
        # Writes one `stageNN=<base64 JSON>` per stage to $GITHUB_OUTPUT for the reporter,
        # and the score table to the job summary.
        run: cargo xtask grade --format classroom,human,junit --out target/grade
      - name: Upload the JUnit report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: junit
          path: target/grade/junit.xml
          if-no-files-found: warn
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
@ENV@
        with:
          runners: @RUNNERS@
"#;

const GRADESCOPE_SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope image build (runs once, as root, with network): install the pinned toolchain and
# build everything once, so grading at submission time is offline and only recompiles the
# student's crates.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq curl build-essential unzip @PACKAGES@ >/dev/null
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
# Accepted uploads: the repository (a zip of it: Gradescope unpacks it), a folder containing
# it, or only its exercises/ folder (or that folder's stage folders). Anything else is graded
# 0 with a message saying what to upload: results.json is written for every outcome.
set -uo pipefail
source "$HOME/.cargo/env" 2>/dev/null || true
cd /autograder/source
results=/autograder/results
mkdir -p "$results"
upload=/autograder/submission
work=$(mktemp -d)
# A zip inside the upload (uploaded as a file, not unpacked): unpack it and look inside.
if [ ! -d "$upload/exercises" ]; then
  zipfile=$(find "$upload" -maxdepth 2 -type f -name '*.zip' | sort | head -n 1)
  if [ -n "$zipfile" ] && command -v unzip >/dev/null; then
    mkdir -p "$work/unzipped" && unzip -qq -o "$zipfile" -d "$work/unzipped" && upload="$work/unzipped"
  fi
fi
submission="$upload"
if [ ! -d "$submission/exercises" ]; then
  # A folder containing the repository (shallowest match wins).
  found=$(find "$upload" -maxdepth 4 -type d -name exercises -not -path '*/.course/*' \
    -printf '%d %p\n' 2>/dev/null | sort -n | head -n 1 | cut -d' ' -f2-)
  if [ -n "$found" ]; then
    submission=$(dirname "$found")
  else
    # Only the exercises/ folder's content: stage folders NN-name/ with src/ inside.
    stages=$(find "$upload" -maxdepth 3 -type d -name src -path '*/[0-9][0-9]-*/src' | sort)
    if [ -n "$stages" ]; then
      mkdir -p "$work/repo/exercises"
      while IFS= read -r src; do
        stage=$(basename "$(dirname "$src")")
        mkdir -p "$work/repo/exercises/$stage" && cp -R "$src" "$work/repo/exercises/$stage/"
      done <<< "$stages"
      submission="$work/repo"
    fi
  fi
fi
# --budget stays under Gradescope's default 10 minute limit; results.json is rewritten after
# every test, so a partial result exists even if the platform stops us. Without exercises/,
# the grader writes a 0 with a message saying what to upload.
cargo xtask grade --submission "$submission" --offline --budget 8m \
  --format gradescope,human --out "$results"
# If even the grader could not start, say so instead of leaving Gradescope without a result.
if [ ! -s "$results/results.json" ]; then
  cat > "$results/results.json" <<'JSON'
{"score": 0, "output": "The autograder could not grade this upload (see the log). Upload your whole repository (a zip of it, or its folder) or its exercises/ folder: the grader needs exercises/NN-name/src/*.rs.", "tests": []}
JSON
fi
rm -rf "$work"
exit 0
"#;

const GRADESCOPE_ZIP: &str = r#"#!/usr/bin/env bash
# Builds the Gradescope autograder zip from what is committed in this repository, with
# setup.sh and run_autograder at the root of the zip. Deterministic: the same commit gives the
# same zip, byte for byte (sorted names, fixed times, no extra attributes).
#   ./gradescope/make-zip.sh [OUT.zip]     (default: ../autograder.zip, outside the tree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$(dirname "$root")/autograder.zip}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  # Committed files only: deleted and untracked files never end up in the zip.
  git -C "$root" archive --format=tar HEAD | tar -xf - -C "$work"
else
  (cd "$root" && tar --exclude=./target --exclude=./.git --exclude='./*.zip' -cf - .) \
    | tar -xf - -C "$work"
fi
cp "$root/gradescope/setup.sh" "$root/gradescope/run_autograder" "$work/"
chmod 755 "$work/setup.sh" "$work/run_autograder"
export TZ=UTC
find "$work" -exec touch -h -d '2000-01-01 00:00:00' {} +
rm -f "$out"
(cd "$work" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' | zip -q -X -D -@ "$out")
echo "wrote $out ($(sha256sum "$out" | cut -c1-16))"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_only_blocks_are_left_out_of_a_starter() {
        let text = "intro\n<!-- course-only: why -->\n`cargo bench -p bench`\n<!-- /course-only -->\n<!-- starter: Ask your instructor. -->\nend\n";
        assert_eq!(starter_text(text), "intro\nAsk your instructor.\nend\n");
    }

    /// A stage loaded from a course of its own, declaring `extra` in its exercise.toml.
    fn stage_with(name: &str, extra: &str) -> Stage {
        let root = std::env::temp_dir().join(format!("xtask-export-{name}-{}", std::process::id()));
        let stage = crate::course::stage_for_test(&root, extra);
        let _ = fs::remove_dir_all(&root);
        stage
    }

    #[test]
    fn the_packages_a_stages_tools_need_are_installed_by_the_exported_graders() {
        let plain = stage_with("plain", "");
        let redis = stage_with(
            "redis",
            "tools = [\"redis-cli\"]\ntools_debian = [\"redis-tools\"]\n",
        );
        let workflow = classroom_workflow(&[&plain, &redis]);
        assert!(
            workflow.contains("sudo apt-get install -y -qq redis-tools\n"),
            "{workflow}"
        );
        assert!(
            !workflow.contains("@INSTALL@"),
            "a placeholder left: {workflow}"
        );
        assert!(gradescope_setup(&[&plain, &redis]).contains("unzip redis-tools >/dev/null"));
        // Without a declared package: no install step, and the set-up line as it always was.
        let workflow = classroom_workflow(&[&plain]);
        assert!(!workflow.contains("Install the programs"), "{workflow}");
        assert!(
            !workflow.contains("@INSTALL@"),
            "a placeholder left: {workflow}"
        );
        assert!(gradescope_setup(&[&plain]).contains("unzip >/dev/null"));
    }
}
