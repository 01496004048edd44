//! Invoking cargo: building a package's test binaries and reading what the compiler said.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::exec::runner::{self, Exit, TestBinary};

/// A `cargo` command that uses the same cargo that runs xtask, with the caller's compiler
/// flags removed (they would change every build and defeat the shared target directory).
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(program);
    for key in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(key);
    }
    // For measuring where a build's time goes (ARCHITECTURE.md, "Build and feedback times"):
    // a wrapper that logs each rustc call, given on purpose, never one inherited by accident.
    if let Some(wrapper) = std::env::var_os("XTASK_RUSTC_WRAPPER") {
        cmd.env("RUSTC_WRAPPER", wrapper);
    }
    cmd
}

/// What building some packages' tests produced.
#[derive(Debug, Default)]
pub struct Build {
    pub success: bool,
    /// One per integration-test target that was built.
    pub binaries: Vec<TestBinary>,
    /// The compiled library (`.rlib`) of each package, by manifest.
    pub libraries: Vec<(PathBuf, PathBuf)>,
    /// Every file cargo said a unit produced (libraries, metadata, test binaries), with the
    /// manifest of its package: what each package's build wrote.
    pub outputs: Vec<(PathBuf, PathBuf)>,
    /// Compiler errors and warnings, each with the manifest of the package it belongs to.
    pub diagnostics: Vec<Diagnostic>,
    /// cargo's own stderr, for failures that are not compiler diagnostics (a bad lockfile).
    pub stderr: String,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The `Cargo.toml` of the package being compiled when this was reported.
    pub manifest: PathBuf,
    pub error: bool,
    pub rendered: String,
}

impl Build {
    /// The rendered errors of the package whose manifest is `manifest`.
    pub fn errors_of(&self, manifest: &Path) -> Vec<String> {
        self.of(manifest, true)
    }

    /// The rendered warnings of the package whose manifest is `manifest`.
    pub fn warnings_of(&self, manifest: &Path) -> Vec<String> {
        self.of(manifest, false)
    }

    fn of(&self, manifest: &Path, error: bool) -> Vec<String> {
        self.diagnostics
            .iter()
            .filter(|d| d.error == error && same_file(&d.manifest, manifest))
            .map(|d| d.rendered.clone())
            .collect()
    }

    /// The `.rlib` of the package whose manifest is `manifest`, if it was built.
    pub fn library_of(&self, manifest: &Path) -> Option<&Path> {
        self.libraries
            .iter()
            .find(|(m, _)| same_file(m, manifest))
            .map(|(_, rlib)| rlib.as_path())
    }

    /// The files the build of the package whose manifest is `manifest` wrote, each once.
    pub fn outputs_of(&self, manifest: &Path) -> Vec<&Path> {
        let files: std::collections::BTreeSet<&Path> = self
            .outputs
            .iter()
            .filter(|(m, _)| same_file(m, manifest))
            .map(|(_, file)| file.as_path())
            .collect();
        files.into_iter().collect()
    }

    /// The test binaries of the package whose manifest is `manifest`.
    pub fn binaries_of(&self, manifest: &Path) -> Vec<&TestBinary> {
        self.binaries
            .iter()
            .filter(|b| same_file(&b.manifest, manifest))
            .collect()
    }

    /// Forgets every binary, library and output of the package whose manifest is `manifest`
    /// (its files were removed), so nothing later runs or measures them.
    pub fn forget(&mut self, manifest: &Path) {
        self.binaries.retain(|b| !same_file(&b.manifest, manifest));
        self.libraries.retain(|(m, _)| !same_file(m, manifest));
        self.outputs.retain(|(m, _)| !same_file(m, manifest));
    }
}

/// Whether two paths name the same file (as written, or once resolved).
pub fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .is_some_and(|a| Some(a) == b.canonicalize().ok())
}

/// The profile a build uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildProfile {
    /// The learner's own (`cargo test`'s), in the learner's target directory: the same
    /// artifacts, so `cargo xtask run` and `cargo test` never rebuild each other's.
    Learner,
    /// A scratch copy's (verify, grade), in a target directory of its own. Hundreds of test
    /// binaries that nobody steps through in a debugger: without debug info they compile and
    /// link about a fifth faster (cold verify of 7 stages: 315 s -> 248 s, 2 cores).
    /// Incremental compilation only pays when the same packages are built again after a small
    /// edit (verify after an author's change); on a cold build or a submission seen once it
    /// only writes caches.
    Scratch { incremental: bool },
}

/// Builds the integration tests of `packages` in the workspace at `workspace` (or only the
/// test targets named in `only`), with `--keep-going`, so one package that does not compile
/// does not stop the others. In the learner's profile: see `build_tests_with` for scratches.
pub fn build_tests(
    workspace: &Path,
    target_dir: &Path,
    packages: &[&str],
    only: &[String],
    extra: &[&str],
) -> Result<Build> {
    build_tests_with(
        workspace,
        target_dir,
        packages,
        only,
        extra,
        true,
        BuildProfile::Learner,
    )
}

/// `build_tests`, in `profile`; `locked: false` lets cargo prune the lockfile to the workspace's members
/// (a grading scratch has fewer members than the course; versions stay as locked).
pub fn build_tests_with(
    workspace: &Path,
    target_dir: &Path,
    packages: &[&str],
    only: &[String],
    extra: &[&str],
    locked: bool,
    profile: BuildProfile,
) -> Result<Build> {
    let mut cmd = cargo();
    cmd.envs(profile_env(profile))
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(build_args(packages, only, extra, locked));
    run_build(cmd, BUILD_TIMEOUT)
}

/// How long any build may take: a cold build of the course's dependencies takes well under
/// this.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The environment `profile` sets for cargo.
pub fn profile_env(profile: BuildProfile) -> Vec<(&'static str, &'static str)> {
    match profile {
        BuildProfile::Learner => Vec::new(),
        // Dependencies already build without debug info (`[profile.dev.package."*"]`), so
        // only the course's own packages change.
        BuildProfile::Scratch { incremental } => vec![
            ("CARGO_PROFILE_DEV_DEBUG", "0"),
            ("CARGO_INCREMENTAL", if incremental { "1" } else { "0" }),
        ],
    }
}

/// `cargo build --keep-going --message-format=json ...` for the tests of `packages` (or only
/// the test targets in `only`); see `build_tests_with`.
pub fn build_args(packages: &[&str], only: &[String], extra: &[&str], locked: bool) -> Vec<String> {
    let mut args: Vec<String> = ["build", "--keep-going", "--message-format=json"]
        .into_iter()
        .chain(extra.iter().copied())
        .map(str::to_owned)
        .collect();
    if locked {
        args.push("--locked".to_owned());
    }
    for package in packages {
        args.extend(["-p".to_owned(), (*package).to_owned()]);
    }
    if only.is_empty() {
        args.extend(["--test".to_owned(), "*".to_owned()]);
    } else {
        for target in only {
            args.extend(["--test".to_owned(), target.clone()]);
        }
    }
    args
}

/// Runs a build command made of `build_args` (bounded by `timeout`) and reads what it said.
/// cargo's messages are read as they stream (one build of a stage's every version prints more
/// than any fixed cap on kept output: 260 KiB for Stage 5's 97 versions), and only what a
/// `Build` holds is kept, with a bound on diagnostics per package.
pub fn run_build(cmd: Command, timeout: Duration) -> Result<Build> {
    let build = Arc::new(Mutex::new(Build::default()));
    let reading = Arc::clone(&build);
    let out = runner::run_lines(cmd, timeout, move |line| {
        if let Ok(message) = serde_json::from_str::<Message>(line) {
            reading
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .read(message);
        }
    })?;
    // The reading thread is done (the pipe closed) or was given up on: take what it read.
    let mut build = std::mem::take(&mut *build.lock().unwrap_or_else(PoisonError::into_inner));
    build.stderr = out.stderr;
    if out.exit == Exit::TimedOut {
        build.success = false;
        build.stderr.push_str(&format!(
            "\n[the build was stopped: it took more than {} minutes]",
            timeout.as_secs() / 60
        ));
    }
    build.binaries.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(build)
}

/// The most diagnostics kept per package: a learner reads the first few, and a submission
/// can make the compiler say anything any number of times.
const DIAGNOSTICS_PER_PACKAGE: usize = 100;

impl Build {
    /// Takes in one of cargo's JSON messages.
    fn read(&mut self, message: Message) {
        match message.reason.as_str() {
            "compiler-artifact" => self.read_artifact(message),
            "compiler-message" => self.read_diagnostic(message),
            "build-finished" => self.success = message.success.unwrap_or(false),
            _ => {}
        }
    }

    /// A library (its `.rlib`, for the symbol gate) or a test binary.
    fn read_artifact(&mut self, message: Message) {
        if let Some(manifest) = &message.manifest_path {
            // The executable is one of the filenames too: `outputs_of` lists each file once.
            for file in message.filenames.iter().chain(&message.executable) {
                self.outputs.push((manifest.clone(), file.clone()));
            }
        }
        let is_test = message.profile.as_ref().is_some_and(|p| p.test);
        let target = message.target.as_ref();
        if let (false, Some(target), Some(manifest)) =
            (is_test, target, message.manifest_path.as_ref())
            && target
                .kind
                .iter()
                .any(|kind| kind == "lib" || kind == "rlib")
            && let Some(rlib) = message
                .filenames
                .iter()
                .find(|f| f.extension().is_some_and(|e| e == "rlib"))
        {
            self.libraries.push((manifest.clone(), rlib.clone()));
        }
        if let (true, Some(target), Some(path), Some(manifest)) =
            (is_test, target, message.executable, message.manifest_path)
            && target.kind.iter().any(|kind| kind == "test")
        {
            self.binaries.push(TestBinary {
                manifest,
                target: target.name.clone(),
                path,
            });
        }
    }

    /// A compiler error or warning, with the package it belongs to.
    fn read_diagnostic(&mut self, message: Message) {
        let (Some(diagnostic), Some(manifest)) = (message.message, message.manifest_path) else {
            return;
        };
        let Some(rendered) = diagnostic.rendered else {
            return;
        };
        let error = diagnostic.level.starts_with("error");
        let kept = self
            .diagnostics
            .iter()
            .filter(|d| d.manifest == manifest)
            .count();
        if kept >= DIAGNOSTICS_PER_PACKAGE {
            return;
        }
        if error || diagnostic.level == "warning" {
            self.diagnostics.push(Diagnostic {
                manifest,
                error,
                rendered,
            });
        }
    }
}

/// Runs a cargo subcommand in `workspace` and returns whether it succeeded and what it printed.
pub fn run_checked(workspace: &Path, args: &[&str]) -> Result<(bool, String)> {
    let mut cmd = cargo();
    cmd.current_dir(workspace).args(args);
    let out = runner::run(cmd, Duration::from_secs(30 * 60))
        .with_context(|| format!("cannot run cargo {}", args.join(" ")))?;
    Ok((
        out.exit == Exit::Code(0),
        format!("{}{}", out.stdout, out.stderr),
    ))
}

/// What `cargo metadata` should read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    /// The workspace's own packages only (`--no-deps`, `--offline`): nothing is resolved or
    /// downloaded.
    MembersOnly,
    /// The resolved graph, restricted to the host platform (`--filter-platform`), downloading
    /// what is missing. Neither restriction can be dropped on a fresh cargo home after a
    /// plain `cargo test`, which downloads only what the default members build: without the
    /// filter cargo reads the manifest of every package in the lockfile (Windows- and
    /// wasm-only ones included), and `--offline` fails on anything only a non-default member
    /// uses (trybuild's `glob`, for the exercises). With a complete cache cargo makes no
    /// network request.
    HostGraph,
}

/// `cargo metadata --format-version 1` in `workspace`, as JSON text. A failed cargo is an
/// error that carries cargo's stderr (never an empty string for the caller to misparse).
pub fn metadata(workspace: &Path, what: Metadata) -> Result<String> {
    let mut args = vec!["metadata", "--format-version", "1"];
    let host;
    match what {
        Metadata::MembersOnly => args.extend(["--no-deps", "--offline"]),
        Metadata::HostGraph => {
            host = host_triple(workspace)?;
            args.extend(["--filter-platform", &host]);
        }
    }
    // Not `runner::run`: that caps what it keeps of stdout (it reads untrusted tests), and the
    // whole graph is larger than the cap. Cargo here is the course's, run on the course's files.
    let out = cargo()
        .current_dir(workspace)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run cargo {}", args.join(" ")))?;
    anyhow::ensure!(
        out.status.success(),
        "`cargo {}` failed in {} ({}):\n{}",
        args.join(" "),
        workspace.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    String::from_utf8(out.stdout).context("cargo metadata printed something that is not UTF-8")
}

/// The platform this machine builds for (`rustc -vV`'s `host:`), with the toolchain that
/// `dir`'s `rust-toolchain.toml` pins.
pub fn host_triple(dir: &Path) -> Result<String> {
    let output = Command::new("rustc")
        .current_dir(dir)
        .arg("-vV")
        .output()
        .context("cannot run rustc -vV")?;
    anyhow::ensure!(
        output.status.success(),
        "rustc -vV failed:\n{}",
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV did not say which host it runs on")
}

/// The fields we read from cargo's JSON messages (`--message-format=json`).
#[derive(Debug, Deserialize)]
struct Message {
    reason: String,
    manifest_path: Option<PathBuf>,
    target: Option<Target>,
    profile: Option<Profile>,
    executable: Option<PathBuf>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
    message: Option<CompilerMessage>,
    success: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    test: bool,
}

#[derive(Debug, Deserialize)]
struct CompilerMessage {
    level: String,
    rendered: Option<String>,
}
