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
//! * **rlimits**: file size (a huge static stops at `FILE_SIZE`), CPU time, address space,
//!   open files; a wall-clock limit (`cargo::BUILD_TIMEOUT`) from the runner;
//! * **IPC namespace** of its own when the machine allows one;
//! * **disk**: after the build the target directory is measured; over `DISK_BUDGET` it is
//!   removed and the build counts as failed.
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

/// The largest file a build may write (the biggest artifact of the course is under 100 MiB).
pub const FILE_SIZE: u64 = 512 << 20;
/// `FILE_SIZE`, or (test-only, xtask/tests/hostile.rs, which cannot afford to write 512 MiB)
/// a lower limit from `XTASK_TEST_BUILD_FILE_SIZE`; it can only lower the limit.
fn file_size() -> u64 {
    std::env::var("XTASK_TEST_BUILD_FILE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(FILE_SIZE, |v: u64| v.min(FILE_SIZE))
}

/// The most the target directory may hold after a build.
pub const DISK_BUDGET: u64 = 2 << 30;

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
    /// Builds the tests of `packages` in the sandbox (see the module's notes).
    pub fn build_tests(&self, packages: &[&str], profile: BuildProfile) -> Result<Build> {
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
        let mut args = cargo::build_args(packages, &[], &["--offline"], false);
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
            .envs(cargo::profile_env(profile));
        let mut build = cargo::run_build(cmd, cargo::BUILD_TIMEOUT)?;
        self.check_disk(&mut build);
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
            limits: sandbox::Limits {
                cpu_secs: cargo::BUILD_TIMEOUT.as_secs(),
                file_size: file_size(),
                address_space: 32 << 30,
                open_files: 16_384,
                processes: None,
            },
        })
    }

    /// Over `DISK_BUDGET`, the target directory is removed and the build fails.
    fn check_disk(&self, build: &mut Build) {
        let used = size_of(self.target_dir);
        if used <= DISK_BUDGET {
            return;
        }
        let _ = fs::remove_dir_all(self.target_dir);
        build.success = false;
        build.binaries.clear();
        build.libraries.clear();
        build.stderr = format!(
            "the build wrote {} MiB, more than the {} MiB a build may use; its output was \
             removed\n{}",
            used >> 20,
            DISK_BUDGET >> 20,
            build.stderr
        );
    }
}

/// Bytes under `dir` (symbolic links not followed).
pub fn size_of(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => size_of(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}
