//! A submission's build, in the sandbox.
//!
//! Compiling runs code the submission chooses: `include_str!`/`include_bytes!` read any path,
//! `option_env!`/`env!` read the environment, and const evaluation can make huge statics. The
//! gate refuses the names it knows; this module makes the build safe without it, with the
//! launcher of `sandbox.rs` wrapped around `cargo build`:
//!
//! * **environment**: cleared, then only `PATH` (the toolchain's `bin/` and the system's),
//!   `HOME` and `TMPDIR` (private, empty), `CARGO_HOME` (private, see below), `RUSTC` (the
//!   pinned toolchain's compiler, so no rustup proxy runs), `RUSTUP_TOOLCHAIN` and `LANG`;
//!   the target directory is an argument, not a variable, so nothing in the environment
//!   names the course checkout;
//! * **Landlock** (when the kernel has it): reads only the scratch workspace, the toolchain,
//!   the cargo registry and system directories; writes only the target directory and the
//!   build's private directories. Never the checkout, `solutions/`, other submissions, the
//!   grader's home or the reports;
//! * **rlimits**: file size (a huge static stops at `FILE_SIZE`), CPU time per process
//!   (`CPU_PER_PROCESS`: each rustc, so compile-time code that never ends costs minutes, not
//!   the build), address space, open files; a wall-clock limit for the whole build
//!   (`cargo::BUILD_TIMEOUT`) from the runner;
//! * **flags**: `--forbid=long_running_const_eval` for every rustc (`RUSTFLAGS`), so a crate
//!   cannot allow endless compile-time evaluation;
//! * **IPC namespace** of its own when the machine allows one;
//! * **disk**: after the build each stage's own outputs are measured; a stage over its share
//!   of `DISK_BUDGET` loses its units and gets a compile error, the others are untouched, and
//!   the shared cache (dependencies) is never removed.
//!
//! The build runs as the grader's uid: the toolchain lives under the grader's home, which the
//! test uids cannot read (`Isolation::summary` says so).
//!
//! `CARGO_HOME`: cargo takes its package-cache lock (`.package-cache`) and writes its usage
//! database under `CARGO_HOME`, so the real one would have to be writable. Instead the build
//! gets a private, empty `CARGO_HOME` whose `registry` (and `git`) are symbolic links to the
//! real ones, readable only (Landlock); `cargo fetch`, run before, by the grader, outside the
//! sandbox, downloads and unpacks what the lockfile needs (it reads only the course's
//! manifests and lockfile: no submission code runs in it), and the build runs `--offline`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::exec::cargo::{self, Build, BuildProfile};
use crate::exec::sandbox::{self, Isolation};

/// The largest file a build may write. Measured (2026-12-07, the reference of all 11 stages
/// built as the grader builds them): the largest file is a dependency's library (zerocopy's
/// `.rlib`, 14 MiB); a stage's own files are at most 24 MiB together (Stage 11's library and
/// test binaries). 64 MiB leaves room for that to grow fourfold.
pub const FILE_SIZE: u64 = 64 << 20;
/// `FILE_SIZE`, or (test-only, xtask/tests/hostile.rs, which cannot afford to write 64 MiB)
/// a lower limit from `XTASK_TEST_BUILD_FILE_SIZE`; it can only lower the limit.
fn file_size() -> u64 {
    test_override("XTASK_TEST_BUILD_FILE_SIZE", FILE_SIZE)
}

/// The most the stages of one build may write together (their own units: libraries, metadata,
/// test binaries; the dependencies are the course's). Each of the N stages built together may
/// use `DISK_BUDGET / N`; a stage over its share is that stage's compile error.
pub const DISK_BUDGET: u64 = 2 << 30;
/// `DISK_BUDGET`, or (test-only) a lower one from `XTASK_TEST_DISK_BUDGET`.
fn disk_budget() -> u64 {
    test_override("XTASK_TEST_DISK_BUDGET", DISK_BUDGET)
}

/// CPU seconds any one process of the build may use (cargo, each rustc, the linker, a build
/// script). Measured (2026-12-07, 2 loaded cores): the slowest rustc of a cold build of every
/// stage's reference and all dependencies used 5.4 s (the `redis` crate), a stage's own test
/// crate at most 2 s; 120 s is more than 20 times that, and 15 times below `BUILD_TIMEOUT`,
/// so compile-time code that never ends (a `const` loop, a recursive macro or trait) costs its
/// stage 2 minutes of one build, not 30 minutes of all of them.
pub const CPU_PER_PROCESS: u64 = 120;
/// `CPU_PER_PROCESS`, or (test-only) a lower one from `XTASK_TEST_BUILD_CPU_SECS`.
fn cpu_per_process() -> u64 {
    test_override("XTASK_TEST_BUILD_CPU_SECS", CPU_PER_PROCESS)
}

/// The flags every rustc of the build gets (`CARGO_ENCODED_RUSTFLAGS`; the build's environment
/// is cleared and the scratch has no `.cargo/config.toml`, so nothing else sets flags).
/// `--forbid long_running_const_eval`: compile-time evaluation that runs too long stays an
/// error, and a crate cannot allow it again (`#![allow(...)]` under a forbid is itself an
/// error, E0453). Checked with rustc 1.95: after that E0453 rustc still goes on evaluating an
/// endless `const`, so what ends it is `CPU_PER_PROCESS` (and, first, the gate, which refuses
/// the lint's name, and a refused stage is not built). Registry dependencies are built with `--cap-lints allow`, which covers forbid too,
/// so they compile as before; the flags are part of every unit's fingerprint, so the grade
/// cache is consistent from its first build on.
pub const RUSTFLAGS: &str = "--forbid=long_running_const_eval";

/// `default`, or the lower value of the environment variable `key` (xtask's own tests).
fn test_override(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(default, |v: u64| v.min(default))
}

/// Where one sandboxed build happens.
#[derive(Debug)]
pub struct Jail<'a> {
    /// The workspace being built.
    pub workspace: &'a Path,
    /// Its target directory (the only tree outside `private` the build may write).
    pub target_dir: &'a Path,
    /// Read-only besides the workspace (the toolchain pin above it, say).
    pub read: Vec<PathBuf>,
    /// A directory of the run's own, removed with it: the build's HOME, TMPDIR, CARGO_HOME.
    pub private: PathBuf,
    pub isolation: &'a Isolation,
    pub offline: bool,
}

/// The pinned toolchain: where it lives and which host it builds for.
struct Toolchain {
    sysroot: PathBuf,
    host: String,
}

fn toolchain(workspace: &Path) -> Result<Toolchain> {
    let output = Command::new("rustc")
        .current_dir(workspace)
        .args(["--print", "sysroot", "--print", "host-tuple"])
        .output()
        .context("cannot run rustc --print sysroot")?;
    anyhow::ensure!(
        output.status.success(),
        "rustc --print sysroot failed:\n{}",
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines = text.lines();
    let (Some(sysroot), Some(host)) = (lines.next(), lines.next()) else {
        anyhow::bail!("rustc --print sysroot --print host-tuple said: {text}");
    };
    Ok(Toolchain {
        sysroot: PathBuf::from(sysroot),
        host: host.to_owned(),
    })
}

/// The grader's own cargo home (`CARGO_HOME`, else `~/.cargo`).
fn real_cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

impl Jail<'_> {
    /// Builds the tests of `packages` (name, manifest) in the sandbox (see the module's
    /// notes).
    pub fn build_tests(
        &self,
        packages: &[(&str, PathBuf)],
        profile: BuildProfile,
    ) -> Result<Build> {
        let names: Vec<&str> = packages.iter().map(|(name, _)| *name).collect();
        let toolchain = toolchain(self.workspace)?;
        self.fetch(&toolchain)?;
        let cargo_home = self.private_cargo_home()?;
        // It must exist for Landlock to name it (cargo would make it through a sibling).
        fs::create_dir_all(self.target_dir)?;
        let (home, tmp) = (self.private.join("home"), self.private.join("tmp"));
        for dir in [&home, &tmp] {
            sandbox::private_dir(dir, None)?;
        }
        let bin = toolchain.sysroot.join("bin");
        let spec = self.spec(&toolchain, &cargo_home)?;
        let mut args = cargo::build_args(&names, &[], &["--offline"], false);
        args.push("--target-dir".to_owned());
        args.push(self.target_dir.display().to_string());
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let mut cmd = sandbox::command(&spec, &args)?;
        cmd.env_clear()
            .current_dir(self.workspace)
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .env("HOME", &home)
            .env("TMPDIR", &tmp)
            .env("CARGO_HOME", &cargo_home)
            .env("RUSTC", bin.join("rustc"))
            .env("RUSTUP_TOOLCHAIN", &toolchain.sysroot)
            .env("LANG", "C.UTF-8")
            .env("CARGO_TERM_COLOR", "never")
            // The registry is read-only here: cargo must not try to clean it.
            .env("CARGO_CACHE_AUTO_CLEAN_FREQUENCY", "never")
            .env("CARGO_ENCODED_RUSTFLAGS", RUSTFLAGS)
            .envs(cargo::profile_env(profile));
        let mut build = cargo::run_build(cmd, cargo::BUILD_TIMEOUT)?;
        self.check_disk(&mut build, packages);
        Ok(build)
    }

    /// Downloads what the workspace's lockfile needs, as the grader, outside the sandbox
    /// (the build itself is offline). Only manifests and the lockfile are read.
    fn fetch(&self, toolchain: &Toolchain) -> Result<()> {
        let mut args = vec!["fetch", "--target", &toolchain.host];
        if self.offline {
            args.push("--offline");
        }
        let (ok, said) = cargo::run_checked(self.workspace, &args)?;
        anyhow::ensure!(ok, "cargo {} failed:\n{said}", args.join(" "));
        Ok(())
    }

    /// An empty cargo home whose `registry` and `git` are the real ones (read-only to the
    /// build), so cargo's locks and usage records land in the run's own directory.
    fn private_cargo_home(&self) -> Result<PathBuf> {
        let home = self.private.join("cargo-home");
        sandbox::private_dir(&home, None)?;
        if let Some(real) = real_cargo_home() {
            for name in ["registry", "git"] {
                if real.join(name).is_dir() {
                    std::os::unix::fs::symlink(real.join(name), home.join(name))
                        .with_context(|| format!("cannot link {}", home.join(name).display()))?;
                }
            }
        }
        Ok(home)
    }

    /// What the launcher enforces for the build.
    fn spec(&self, toolchain: &Toolchain, cargo_home: &Path) -> Result<sandbox::Spec> {
        let cargo_exe = toolchain.sysroot.join("bin").join("cargo");
        anyhow::ensure!(
            cargo_exe.is_file(),
            "the toolchain at {} has no cargo",
            toolchain.sysroot.display()
        );
        let mut read = vec![self.workspace.to_owned()];
        read.extend(self.read.iter().cloned());
        if let Some(real) = real_cargo_home() {
            read.extend(["registry", "git"].map(|name| real.join(name)));
        }
        Ok(sandbox::Spec {
            uid: None,
            landlock: self.isolation.landlock_abi > 0,
            exe: cargo_exe,
            read,
            // The compiler, and the linker and what it runs (cc, ld, as).
            exec: vec![
                toolchain.sysroot.clone(),
                PathBuf::from("/usr"),
                PathBuf::from("/bin"),
                PathBuf::from("/sbin"),
            ],
            write: vec![
                self.target_dir.to_owned(),
                self.private.clone(),
                cargo_home.to_owned(),
            ],
            tools: Vec::new(),
            toolchain: false,
            new_ipc: self.isolation.ipc_namespace,
            cgroup: None,
            limits: sandbox::Limits {
                // Per process: each rustc gets its own CPU_PER_PROCESS (the wall clock, for
                // the whole build, is BUILD_TIMEOUT).
                cpu_secs: cpu_per_process(),
                file_size: file_size(),
                address_space: 32 << 30,
                open_files: 16_384,
                processes: None,
            },
        })
    }

    /// Each package's own outputs, measured against its share of `DISK_BUDGET`: a package
    /// over it loses its units (files and fingerprints; nothing else of the target directory,
    /// which is the shared cache) and gets a compile error naming the budget. The others keep
    /// theirs.
    fn check_disk(&self, build: &mut Build, packages: &[(&str, PathBuf)]) {
        let share = disk_budget() / packages.len().max(1) as u64;
        for (name, manifest) in packages {
            let files: Vec<PathBuf> = build
                .outputs_of(manifest)
                .into_iter()
                .map(Path::to_owned)
                .collect();
            let used: u64 = files
                .iter()
                .filter_map(|f| fs::symlink_metadata(f).ok())
                .map(|m| m.len())
                .sum();
            if used <= share {
                continue;
            }
            for file in &files {
                let _ = fs::remove_file(file);
            }
            self.forget_fingerprints(name);
            build.success = false;
            build.forget(manifest);
            build.diagnostics.push(cargo::Diagnostic {
                manifest: manifest.clone(),
                error: true,
                rendered: format!(
                    "error: this stage's build wrote {} MiB, more than its share of the disk \
                     budget: {} MiB ({} MiB for the {} stage(s) built together); its output \
                     was removed (the other stages are graded)",
                    used >> 20,
                    share >> 20,
                    disk_budget() >> 20,
                    packages.len()
                ),
            });
        }
    }

    /// Removes what cargo recorded about `package`'s units, so that nothing refers to the
    /// removed files.
    fn forget_fingerprints(&self, package: &str) {
        let dir = self.target_dir.join("debug").join(".fingerprint");
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // `<package>-<16 hex digits>`: never another package whose name starts the same.
            let hash = name
                .strip_prefix(package)
                .and_then(|rest| rest.strip_prefix('-'));
            if hash.is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}
