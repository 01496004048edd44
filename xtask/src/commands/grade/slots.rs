//! Running the submission's tests in slots: each test checked, launched in the sandbox, and
//! recorded into the grade as it finishes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;

use crate::course::Stage;
use crate::exec::runner::{self, Status as RunStatus, TestEnv};
use crate::exec::sandbox::{self, Isolation};
use crate::exec::scratch::GradeScratch;
use crate::exec::tools;
use crate::exec::trybuild_cache;
use crate::report::model::{Status, TestGrade};

/// Where the toolchain lives: `CARGO_HOME` and `RUSTUP_HOME` (or their defaults under
/// `HOME`), and the directory of the cargo that runs us.
pub(super) fn toolchain_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut dirs = Vec::new();
    for (key, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
        match std::env::var_os(key) {
            Some(dir) => dirs.push(PathBuf::from(dir)),
            None => dirs.extend(home.as_ref().map(|h| h.join(default))),
        }
    }
    if let Some(cargo) = std::env::var_os("CARGO").map(PathBuf::from)
        && let Some(dir) = cargo.parent()
    {
        dirs.push(dir.to_owned());
    }
    dirs.into_iter().filter(|d| d.exists()).collect()
}

/// Whether the dedicated test users can reach the toolchain (tests that compile code need it).
pub(super) fn toolchain_reachable() -> bool {
    toolchain_dirs().iter().all(|dir| {
        dir.ancestors().all(|d| {
            fs::metadata(d).map_or(true, |meta| {
                std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o001 != 0
            })
        })
    })
}

/// What is checked before every test: the test binaries and the stage's fixture files are
/// exactly what was built and installed. Recorded as (inode, size, ctime) plus a SHA-256 for
/// binaries: an unprivileged process cannot write a file without changing its ctime, so a
/// changed ctime triggers a full re-hash.
pub(super) struct Fingerprints {
    pub(super) files: BTreeMap<PathBuf, (Meta, Option<String>)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Meta {
    pub(super) ino: u64,
    pub(super) size: u64,
    pub(super) ctime: i64,
    pub(super) ctime_nsec: i64,
}

pub(super) fn meta_of(path: &Path) -> Option<Meta> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).ok()?;
    Some(Meta {
        ino: meta.ino(),
        size: meta.size(),
        ctime: meta.ctime(),
        ctime_nsec: meta.ctime_nsec(),
    })
}

pub(super) fn sha256_of(path: &Path) -> Option<String> {
    use sha2::Digest;
    let bytes = fs::read(path).ok()?;
    Some(
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

impl Fingerprints {
    pub(super) fn take(jobs: &[Job], stages: &[&Stage], scratch: &GradeScratch) -> Fingerprints {
        let mut files = BTreeMap::new();
        for job in jobs {
            let exe = &job.test.exe;
            if !files.contains_key(exe)
                && let Some(meta) = meta_of(exe)
            {
                files.insert(exe.clone(), (meta, sha256_of(exe)));
            }
        }
        for stage in stages {
            let tests = scratch.exercise_dir(stage).join("tests");
            for path in crate::files::walk_all(&tests).unwrap_or_default() {
                if let Some(meta) = meta_of(&path) {
                    files.insert(path, (meta, None));
                }
            }
        }
        Fingerprints { files }
    }

    /// The first file that changed since it was recorded, among the binary and the fixtures
    /// of the stage at `tests_dir`.
    pub(super) fn changed(&self, exe: &Path, tests_dir: &Path) -> Option<PathBuf> {
        self.files
            .iter()
            .filter(|(path, _)| *path == exe || path.starts_with(tests_dir))
            .find(|(path, (meta, sha))| {
                meta_of(path) != Some(*meta)
                    && (sha.is_none() || sha256_of(path).as_ref() != sha.as_ref())
            })
            .map(|(path, _)| path.clone())
    }
}

/// Held while a test that compiles code runs (see `RunContext::run_one`).
pub(super) static TOOLCHAIN_TESTS: Mutex<()> = Mutex::new(());

/// Everything a test run needs to know, shared by the worker threads.
pub(super) struct RunContext<'a> {
    /// Per stage index: the seed of its compile-fail tests' build directory.
    pub(super) seeds: BTreeMap<usize, PathBuf>,
    pub(super) scratch: &'a GradeScratch,
    pub(super) uids: sandbox::Uids,
    pub(super) isolation: &'a Isolation,
    pub(super) toolchain_uid_ok: bool,
    pub(super) stages: &'a [&'a Stage],
    pub(super) fingerprints: Fingerprints,
    /// Per stage index, for a stage that declares `tools`: what its tests get.
    pub(super) tools: BTreeMap<usize, StageTools>,
    /// One memory cgroup per slot, when the machine allows them (`sandbox::MemoryCgroups`).
    pub(super) memory: Option<sandbox::MemoryCgroups>,
}

/// A stage's declared tools as its tests see them (see `exec/tools.rs`).
pub(super) struct StageTools {
    /// Their `PATH`: one symlink per tool found, nothing else.
    pub(super) bin: PathBuf,
    /// The canonical files Landlock lets them execute.
    pub(super) files: Vec<PathBuf>,
}

impl RunContext<'_> {
    /// Runs test `job` as number `n`, in worker `slot`; afterwards nothing it started is alive.
    pub(super) fn run_one(&self, slot: usize, n: usize, job: &Job) -> Result<runner::TestResult> {
        let stage = self.stages[job.stage];
        let tests_dir = self.scratch.exercise_dir(stage).join("tests");
        if let Some(changed) = self.fingerprints.changed(&job.test.exe, &tests_dir) {
            return Ok(runner::TestResult {
                id: job.test.id.clone(),
                status: runner::Status::Error(format!(
                    "not run: {} changed after it was built or installed (grading state must \
                     not change while tests run)",
                    relativize(&changed.display().to_string(), &self.scratch.root)
                )),
                message: String::new(),
                elapsed: Duration::ZERO,
            });
        }
        let private = self.scratch.private_dir(n);
        // Tests that compile code share one build directory, so they run one at a time, as
        // one uid of their own (a kill-all after one must not hit another).
        let _one_at_a_time = job
            .toolchain
            .then(|| TOOLCHAIN_TESTS.lock().unwrap_or_else(|e| e.into_inner()));
        let uid = self.uid_for(slot, job);
        sandbox::private_dir(&private, uid)?;
        let env = self.env_for(job, stage, uid, &private)?;
        let spec = self.spec_for(job, stage, uid, &private, slot)?;
        let use_sandbox = self.isolation.mode != "off" || uid.is_some();
        let result = runner::run_test_in(
            &job.test,
            &job.cwd,
            &env,
            job.timeout,
            use_sandbox.then_some(&spec),
        );
        // Nothing the test started may outlive it: its uid's processes, and orphans that
        // escaped its process group (re-parented to us, the subreaper).
        if let Some(uid) = uid {
            sandbox::kill_uid(uid);
        }
        sandbox::sweep_orphans();
        let _ = fs::remove_dir_all(&private);
        result
    }

    /// The uid `job` runs as in `slot`, if tests run as users of their own: one per slot, and
    /// the last claimed one for tests that compile code.
    fn uid_for(&self, slot: usize, job: &Job) -> Option<u32> {
        let separated = self.isolation.user_separation && (!job.toolchain || self.toolchain_uid_ok);
        let uids = &self.uids.uids;
        let slot_uid = if job.toolchain || uids.is_empty() {
            uids.last().copied()
        } else {
            uids.get(slot.min(uids.len() - 2)).copied()
        };
        slot_uid.filter(|_| separated)
    }

    /// The test's environment: its private HOME and TMPDIR, and its target directory (for a
    /// test that compiles code, trybuild's own, with the toolchain's homes named).
    fn env_for(
        &self,
        job: &Job,
        stage: &Stage,
        uid: Option<u32>,
        private: &Path,
    ) -> Result<runner::TestEnv> {
        let mut env = job
            .env
            .clone()
            .with("HOME", &private.display().to_string())
            .with("TMPDIR", &private.display().to_string());
        if let Some(tools) = self.tools.get(&job.stage) {
            // Only the declared tools are found by name; a test that compiles code keeps the
            // grader's PATH after them (cargo, the linker).
            let mut path = tools.bin.display().to_string();
            if job.toolchain
                && let Some(grader) = std::env::var_os("PATH")
            {
                path = format!("{path}:{}", grader.to_string_lossy());
            }
            env = env.with("PATH", &path).with(tools::REQUIRED, "1");
        }
        if !job.toolchain {
            let target = self.scratch.target_dir.display().to_string();
            return Ok(env.with("CARGO_TARGET_DIR", &target));
        }
        // trybuild's project lives under the private dir: pin the course's toolchain there
        // too, or rustup would pick (and try to install) its default one.
        let pin = self.scratch.root.join("rust-toolchain.toml");
        if pin.is_file() {
            fs::copy(&pin, private.join("rust-toolchain.toml"))?;
        }
        // trybuild compiles in <target>/tests/trybuild: give it a private target.
        // Shared by this run's compile-fail tests (one submission), never between runs.
        let shared = self.scratch.trybuild_dir(
            stage,
            uid,
            self.seeds.get(&job.stage).map(PathBuf::as_path),
        )?;
        let mut env = env.with("CARGO_TARGET_DIR", &shared.display().to_string());
        // HOME is the private dir now: name the toolchain's homes explicitly, or rustup
        // and cargo would look for them under it.
        let home = std::env::var_os("HOME").map(PathBuf::from);
        for (key, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
            let dir = std::env::var_os(key)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(default)));
            if let Some(dir) = dir {
                env = env.with(key, &dir.display().to_string());
            }
        }
        // Never let rustup install anything from inside a test. The seed was made with
        // trybuild's case flags for every build: so is this run, or it checks them again.
        Ok(trybuild_cache::with_case_flags(
            env.with("RUSTUP_AUTO_INSTALL", "0"),
        ))
    }

    /// What the sandbox launcher enforces for `job`: who, what it may read, run and write,
    /// and its limits.
    fn spec_for(
        &self,
        job: &Job,
        stage: &Stage,
        uid: Option<u32>,
        private: &Path,
        slot: usize,
    ) -> Result<sandbox::Spec> {
        Ok(sandbox::Spec {
            uid,
            landlock: self.isolation.landlock_abi > 0,
            exe: job.test.exe.clone(),
            // The toolchain pin above trybuild's build directory must be readable, or rustup
            // falls back to its default toolchain for the compile-fail cases. Not the build
            // cache: a test runs its own binary (`exe`) and reads nothing else built there.
            read: vec![
                self.scratch.root.clone(),
                self.scratch.base.join("rust-toolchain.toml"),
            ],
            exec: if job.toolchain {
                toolchain_dirs()
            } else {
                Vec::new()
            },
            write: if job.toolchain {
                vec![
                    private.to_owned(),
                    self.scratch.trybuild_dir(stage, uid, None)?,
                    // trybuild writes the compiler's actual output to `<package>/wip/`.
                    self.scratch.wip_dir(stage, uid)?,
                ]
            } else {
                vec![private.to_owned()]
            },
            tools: self
                .tools
                .get(&job.stage)
                .map(|t| t.files.clone())
                .unwrap_or_default(),
            toolchain: job.toolchain,
            new_ipc: self.isolation.ipc_namespace,
            // The slot's memory limit, when the machine gives us cgroups.
            cgroup: self
                .memory
                .as_ref()
                .and_then(|m| m.slot(slot))
                .map(Path::to_owned),
            limits: sandbox::Limits {
                cpu_secs: job.timeout.as_secs() + 5,
                file_size: 64 << 20,
                address_space: 16 << 30,
                open_files: 16_384,
                processes: uid.map(|_| 2_048),
            },
        })
    }
}

/// Runs `work(slot, item)` over `items` on up to `jobs` threads; `slot` is the worker's index,
/// so that two tests never run at once in the same slot (each slot has its own uid).
pub(super) fn run_slots<T: Sync>(
    items: &[T],
    jobs: usize,
    work: impl Fn(usize, &T) -> Result<()> + Sync,
) -> Result<()> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for slot in 0..jobs.max(1).min(items.len().max(1)) {
            let (next, failure, work) = (&next, &failure, &work);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    if let Err(error) = work(slot, item) {
                        failure
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(error);
                    }
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

pub(super) struct Job {
    pub(super) stage: usize,
    /// The test compiles code (trybuild): it needs the toolchain.
    pub(super) toolchain: bool,
    pub(super) test: runner::Listed,
    pub(super) cwd: PathBuf,
    pub(super) env: TestEnv,
    pub(super) timeout: Duration,
}

pub(super) fn apply(test: &mut TestGrade, result: Option<&runner::TestResult>) {
    let Some(result) = result else {
        test.status = Status::NotRun;
        test.message = "not run: the time budget ran out first".to_owned();
        return;
    };
    test.duration_ms = u64::try_from(result.elapsed.as_millis()).unwrap_or(u64::MAX);
    test.message = result.message.clone();
    test.status = match &result.status {
        RunStatus::Pass => Status::Pass,
        RunStatus::Fail => Status::Fail,
        RunStatus::Timeout => Status::Timeout,
        RunStatus::Crash(_) => Status::Crash,
        RunStatus::Error(why) => {
            test.message = format!("{why}\n{}", result.message);
            Status::Fail
        }
    };
    test.score = if test.status == Status::Pass {
        test.max_score
    } else {
        0.0
    };
}

/// `text` with the paths under `root` made relative to it.
pub(super) fn relativize(text: &str, root: &Path) -> String {
    text.replace(&format!("{}/", root.display()), "")
}
