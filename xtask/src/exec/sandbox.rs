//! Least privilege for the processes that run a submission's tests.
//!
//! A submission's code runs inside its test process; whatever that process may do, the
//! submission may do. This module narrows that, with every layer the machine offers, and says
//! which ones were in effect (the report shows it):
//!
//! * **A dedicated user** (when the grader runs as root, as on Gradescope or in a container):
//!   each parallel slot runs its tests as its own uid (`UID_BASE + slot`), which cannot write
//!   the grading workspace, the build cache or the reports, cannot signal or trace the grader,
//!   and cannot read its `/proc/<pid>/environ`. After each test, everything that uid still runs
//!   is killed (`kill(-1)` from a helper that has become that uid).
//! * **Landlock** (Linux >= 5.13, also without root): the test may read only the workspace, the
//!   build output and system libraries, write only its private directory, execute only its own
//!   binary (and the toolchain, for tests that compile code: trybuild; and the programs its
//!   stage declares, `tools = [...]`, exactly those files: see `exec/tools.rs`), and
//!   (ABI >= 6) signal no process outside its own sandbox. `/proc` is reachable only for the
//!   test's own pid.
//! * **rlimits**, always: core dumps off, file size, CPU time, address space, open files, and
//!   the number of processes of the dedicated uid.
//! * **Cleanup**, always: the grader is a child subreaper, so a process that escaped its group
//!   (`setsid`, double fork) is re-parented to the grader and killed after the test.
//! * **A fresh IPC namespace** (when the kernel lets the grader make one: root, outside a
//!   seccomp profile that forbids `unshare`): SysV shared memory, semaphores and message queues
//!   a test or a build creates die with its last process instead of outliving the run.
//!
//! **Declared tools** (`redis-cli`, `redis-benchmark` for the capstone) run *inside* the same
//! sandbox as the test that starts them: they inherit its uid, rlimits, IPC namespace and
//! Landlock domain (a domain cannot be left, only narrowed), start in its process group, and
//! die in the same kill-all and orphan sweep. So they give the submission nothing it could not
//! do itself: it can already run code of its choice as that uid under those rules; a tool is
//! one more such program, not a door out. That is also why a tool must be neither setuid or
//! setgid (an exec that changes credentials would leave the uid layer) nor writable by the
//! test uids (a test could plant code that a later test, or another submission, runs).
//!
//! The restrictions are applied by a small *launcher* (`xtask __sandbox SPEC -- TEST ARGS`),
//! a fresh single-threaded process that applies them in order — rlimits, IPC namespace,
//! Landlock, groups, gid, uid, parent-death signal — and then replaces itself with the test
//! binary (or, for a submission's build, with cargo: see `exec/build_jail.rs`). Doing this
//! in the (multi-threaded) grader between `fork` and `exec` would not be safe.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The first uid (and gid) used for test processes; slot `n` uses `UID_BASE + n`. Far from
/// system and login ranges, and not `nobody` (65534), which other daemons share.
pub const UID_BASE: u32 = 61_000;
/// How many uids the graders of one machine may use, from `UID_BASE`.
pub const UID_RANGE: u32 = 1_000;

/// Uids claimed by this grader for as long as it holds them: concurrent graders on one
/// machine must never share a uid, or one's kill-all would hit the other's tests.
#[derive(Debug)]
pub struct Uids {
    pub uids: Vec<u32>,
    _locks: Vec<fs::File>,
}

impl Uids {
    /// No uids (no user separation).
    pub fn none() -> Uids {
        Uids {
            uids: Vec::new(),
            _locks: Vec::new(),
        }
    }
}

/// Claims `n` uids no other grader on this machine holds (lock files in a root-only
/// directory; a test process cannot open them).
pub fn claim_uids(n: usize) -> Result<Uids> {
    use std::os::fd::AsRawFd;
    let dir = std::env::temp_dir().join("async-from-scratch-uids");
    fs::create_dir_all(&dir)?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
    let mut claimed = Uids {
        uids: Vec::new(),
        _locks: Vec::new(),
    };
    for uid in UID_BASE..UID_BASE + UID_RANGE {
        if claimed.uids.len() == n {
            break;
        }
        let file = fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(uid.to_string()))?;
        // SAFETY: flock on a descriptor we own and keep open; no memory is involved.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            claimed.uids.push(uid);
            claimed._locks.push(file);
        }
    }
    anyhow::ensure!(
        claimed.uids.len() == n,
        "every test uid from {UID_BASE} is taken by other graders"
    );
    Ok(claimed)
}

/// `--isolation` (clap spells each in lower case; `none` is also `off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Every layer the machine offers.
    Auto,
    /// Refuse to grade unless tests run as a separate user or under Landlock.
    Strict,
    /// Nothing but rlimits and cleanup (for debugging the grader; never for grades).
    #[value(alias = "none")]
    Off,
}

impl Mode {
    /// The name `--isolation` takes.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Strict => "strict",
            Mode::Off => "off",
        }
    }
}

/// Which layers are in effect; part of every report.
#[derive(Debug, Clone, Serialize)]
pub struct Isolation {
    pub mode: String,
    /// Tests run as a dedicated uid per slot (needs root).
    pub user_separation: bool,
    /// Landlock ABI version enforced, 0 if none.
    pub landlock_abi: u32,
    /// One line a person can read.
    pub summary: String,
    /// Tests and the build get a fresh IPC namespace (not in the report's JSON: the summary
    /// says it).
    #[serde(skip)]
    pub ipc_namespace: bool,
    /// Each test slot gets a cgroup v2 memory limit (`MemoryCgroups`; the summary says it).
    #[serde(skip)]
    pub memory_cgroup: bool,
}

impl Isolation {
    /// Whether tests cannot write what later tests and submissions use.
    pub fn protects_shared_state(&self) -> bool {
        self.user_separation || self.landlock_abi > 0
    }
}

/// Finds out what this machine allows.
pub fn probe(mode: Mode, shared: &[&Path]) -> Result<Isolation> {
    let root = is_root();
    let landlock_abi = if mode == Mode::Off { 0 } else { landlock_abi() };
    let mut notes = Vec::new();
    let mut user_separation = false;
    if mode != Mode::Off {
        if !root {
            notes.push("no user separation (the grader is not root)".to_owned());
        } else if let Some(blocked) = shared.iter().find_map(|p| unreachable_for_others(p)) {
            notes.push(format!(
                "no user separation ({} is not readable by other users)",
                blocked.display()
            ));
        } else {
            user_separation = true;
            notes.push(format!("tests run as uid {UID_BASE}+slot"));
        }
        if landlock_abi > 0 {
            notes.push(format!("Landlock ABI {landlock_abi}"));
        } else {
            notes.push("no Landlock (the kernel does not offer it)".to_owned());
        }
    } else {
        notes.push("isolation off: tests run as the grader's user, unrestricted".to_owned());
    }
    let ipc_namespace = mode != Mode::Off && can_unshare_ipc();
    notes.push(if ipc_namespace {
        "a fresh IPC namespace per test and build".to_owned()
    } else {
        "no IPC namespace (SysV IPC a test creates may outlive it)".to_owned()
    });
    // `build_jail.rs`: the toolchain lives in the grader's home, so the build keeps its uid.
    notes.push(
        match (mode, landlock_abi) {
            (Mode::Off, _) => "the build runs as the grader's uid with a cleared environment",
            (_, 0) => {
                "the build runs as the grader's uid, no Landlock: cleared environment, rlimits"
            }
            _ => "the build runs as the grader's uid under Landlock, cleared environment, rlimits",
        }
        .to_owned(),
    );
    let memory_cgroup = mode != Mode::Off && root && MemoryCgroups::available();
    notes.push(if memory_cgroup {
        "a memory cgroup per test slot (cgroup v2 memory.max: 3/4 of RAM shared among the slots)"
            .to_owned()
    } else {
        "no memory cgroup (needs root and cgroup v2's memory controller): memory is bounded \
         per process (16 GiB address space), not per slot"
            .to_owned()
    });
    notes.push("rlimits on every test".to_owned());
    notes.push("subreaper cleanup".to_owned());
    let isolation = Isolation {
        mode: mode.name().to_owned(),
        user_separation,
        landlock_abi,
        summary: notes.join(", "),
        ipc_namespace,
        memory_cgroup,
    };
    if mode == Mode::Strict && !isolation.protects_shared_state() {
        bail!(
            "--isolation strict: this machine offers neither user separation (run the grader \
             as root) nor Landlock (Linux >= 5.13 with landlock enabled); refusing to grade. \
             What is available: {}",
            isolation.summary
        );
    }
    Ok(isolation)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The Landlock ABI the kernel offers (0: none; always 0 off Linux).
#[cfg(not(target_os = "linux"))]
pub fn landlock_abi() -> u32 {
    0
}

/// The Landlock ABI the kernel offers (0: none).
#[cfg(target_os = "linux")]
pub fn landlock_abi() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag, the syscall only
    // returns the ABI version (or -1); it reads and writes no memory of ours.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(version).unwrap_or(0)
}

/// Whether this process may create an IPC namespace: a forked child tries, and exits with
/// the answer (so the grader's own namespace never changes).
#[cfg(target_os = "linux")]
fn can_unshare_ipc() -> bool {
    // SAFETY: between fork and _exit the child only makes the unshare and _exit syscalls,
    // both async-signal-safe, so forking a multi-threaded process is sound here; the parent
    // reaps exactly the pid it forked.
    unsafe {
        match libc::fork() {
            -1 => false,
            0 => libc::_exit(if libc::unshare(libc::CLONE_NEWIPC) == 0 {
                0
            } else {
                1
            }),
            pid => {
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0) == pid
                    && libc::WIFEXITED(status)
                    && libc::WEXITSTATUS(status) == 0
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn can_unshare_ipc() -> bool {
    false
}

/// The first ancestor (or `path` itself) that other users cannot enter, if any.
fn unreachable_for_others(path: &Path) -> Option<PathBuf> {
    let mut current = Some(path);
    while let Some(dir) = current {
        if let Ok(meta) = fs::metadata(dir)
            && meta.is_dir()
            && meta.permissions().mode() & 0o001 == 0
        {
            return Some(dir.to_owned());
        }
        current = dir.parent();
    }
    None
}

/// Limits for one test process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limits {
    pub cpu_secs: u64,
    pub file_size: u64,
    pub address_space: u64,
    pub open_files: u64,
    /// Processes (threads count) of the dedicated uid; only with user separation (root is
    /// exempt from this limit, and without a dedicated uid it would count the grader's own).
    pub processes: Option<u64>,
}

/// What one test process may do; passed to the launcher.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    /// Become this uid/gid (root only).
    pub uid: Option<u32>,
    /// Apply Landlock.
    pub landlock: bool,
    /// The test binary: read and execute.
    pub exe: PathBuf,
    /// Read-only trees (the workspace, the build output).
    pub read: Vec<PathBuf>,
    /// Read and execute (the toolchain, for tests that compile code).
    pub exec: Vec<PathBuf>,
    /// Read, write and execute: the private directory.
    pub write: Vec<PathBuf>,
    /// Read and execute, exactly these files: the programs the stage declares (`tools` in
    /// its `exercise.toml`), each the canonical file `exec/tools.rs` resolved.
    #[serde(default)]
    pub tools: Vec<PathBuf>,
    /// Whether the test compiles code (needs the toolchain and system tools).
    pub toolchain: bool,
    /// Run in a fresh IPC namespace (only when `Isolation::ipc_namespace` said it can).
    #[serde(default)]
    pub new_ipc: bool,
    /// Join this cgroup (its `cgroup.procs`) first: the slot's memory limit (`MemoryCgroups`).
    #[serde(default)]
    pub cgroup: Option<PathBuf>,
    pub limits: Limits,
}

/// The launcher's command line for `exe args...` under `spec`.
pub fn command(spec: &Spec, args: &[OsString]) -> Result<Command> {
    let me = std::env::current_exe().context("cannot find the xtask binary for the launcher")?;
    let mut cmd = Command::new(me);
    cmd.arg(LAUNCH)
        .arg(serde_json::to_string(spec)?)
        .arg("--")
        .arg(&spec.exe)
        .args(args);
    Ok(cmd)
}

/// The launcher's hidden subcommand.
pub const LAUNCH: &str = "__sandbox";
/// The kill-all helper's hidden subcommand.
pub const KILL_ALL: &str = "__kill-uid";

/// Entry point of the launcher: never returns. Exit status 125 means the sandbox could not be
/// set up (the grader reports it as the grader's error, not the submission's).
pub fn launcher_main(args: &[OsString]) -> ! {
    let result = (|| -> Result<std::convert::Infallible> {
        let [spec, dash, exe, rest @ ..] = args else {
            bail!("usage: xtask {LAUNCH} SPEC -- EXE ARGS...");
        };
        anyhow::ensure!(dash == "--", "usage: xtask {LAUNCH} SPEC -- EXE ARGS...");
        let spec: Spec = serde_json::from_str(&spec.to_string_lossy())?;
        set_limits(&spec.limits)?;
        if let Some(cgroup) = &spec.cgroup {
            // Before Landlock and the uid drop: writing cgroup.procs needs root.
            fs::write(cgroup.join("cgroup.procs"), std::process::id().to_string())
                .with_context(|| format!("cannot join the cgroup {}", cgroup.display()))?;
        }
        if spec.new_ipc {
            new_ipc_namespace()?;
        }
        if spec.landlock {
            restrict_with_landlock(&spec)?;
        }
        if let Some(uid) = spec.uid {
            become_user(uid)?;
        }
        // After the uid change: the kernel clears the parent-death signal on credential
        // changes. If the grader dies, the test goes with it.
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number; no memory is passed.
        #[cfg(target_os = "linux")]
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        }
        let error = Command::new(exe).args(rest).exec();
        Err(error).with_context(|| format!("cannot start {}", exe.to_string_lossy()))
    })();
    let error = match result {
        Ok(never) => match never {},
        Err(error) => error,
    };
    eprintln!("sandbox: {error:#}");
    std::process::exit(125)
}

/// Moves this process into a fresh IPC namespace (before the uid drop: it needs root). What
/// it and its children create there is destroyed with the namespace's last process.
fn new_ipc_namespace() -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: unshare takes a flag word; it changes this (single-threaded) process only.
        let code = unsafe { libc::unshare(libc::CLONE_NEWIPC) };
        anyhow::ensure!(
            code == 0,
            "unshare(CLONE_NEWIPC): {}",
            std::io::Error::last_os_error()
        );
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    bail!("IPC namespaces need Linux")
}

fn set_limits(limits: &Limits) -> Result<()> {
    let set = |resource, soft: u64, hard: u64| -> Result<()> {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we pass by reference and nothing else.
        let code = unsafe { libc::setrlimit(resource, &limit) };
        anyhow::ensure!(
            code == 0,
            "setrlimit({resource}) failed: {}",
            std::io::Error::last_os_error()
        );
        Ok(())
    };
    // Lowering is always allowed; never raise above what we were given.
    let current = |resource| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass, which lives on our stack.
        unsafe { libc::getrlimit(resource, &mut limit) };
        limit
    };
    let lower = |resource, wanted: u64| -> Result<()> {
        let now = current(resource);
        let hard = now.rlim_max.min(wanted);
        set(resource, now.rlim_cur.min(hard), hard)
    };
    set(libc::RLIMIT_CORE, 0, 0)?;
    lower(libc::RLIMIT_FSIZE, limits.file_size)?;
    lower(libc::RLIMIT_AS, limits.address_space)?;
    lower(libc::RLIMIT_NOFILE, limits.open_files)?;
    // CPU: SIGXCPU at the soft limit, SIGKILL at the hard one.
    let now = current(libc::RLIMIT_CPU);
    let hard = now.rlim_max.min(limits.cpu_secs + 1);
    set(libc::RLIMIT_CPU, limits.cpu_secs.min(hard), hard)?;
    if let Some(processes) = limits.processes {
        lower(libc::RLIMIT_NPROC, processes)?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn restrict_with_landlock(_spec: &Spec) -> Result<()> {
    bail!("Landlock needs Linux")
}

#[cfg(target_os = "linux")]
fn restrict_with_landlock(spec: &Spec) -> Result<()> {
    use landlock::{
        ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr,
        Scope, path_beneath_rules,
    };
    let abi = ABI::V6;
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let read_exec = read | AccessFs::Execute;
    let all = AccessFs::from_all(abi);
    let existing = |paths: Vec<PathBuf>| -> Vec<PathBuf> {
        paths.into_iter().filter(|p| p.exists()).collect()
    };
    let pid = std::process::id();
    // What any dynamically linked program needs, and what libtest and std read.
    let mut system_read = vec![
        PathBuf::from("/usr"),
        PathBuf::from("/etc/ld.so.cache"),
        PathBuf::from("/etc/localtime"),
        PathBuf::from("/dev/urandom"),
        PathBuf::from("/dev/random"),
        PathBuf::from("/sys/devices/system/cpu"),
        PathBuf::from("/sys/fs/cgroup"),
        // Its own /proc entries only (this pid is the test's: exec keeps it).
        PathBuf::from(format!("/proc/{pid}")),
    ];
    let mut system_exec = vec![
        PathBuf::from("/lib"),
        PathBuf::from("/lib64"),
        PathBuf::from("/lib32"),
        PathBuf::from("/usr/lib"),
        PathBuf::from("/usr/lib64"),
    ];
    if spec.toolchain {
        // Compiling needs the compiler, the linker, and what they read.
        system_exec.extend(["/usr", "/bin", "/sbin"].map(PathBuf::from));
        system_read.push(PathBuf::from("/etc"));
    }
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)?
        .scope(Scope::Signal | Scope::AbstractUnixSocket)?
        .create()?
        .add_rules(path_beneath_rules(existing(system_read), read))?
        .add_rules(path_beneath_rules(existing(system_exec), read_exec))?
        .add_rules(path_beneath_rules(existing(spec.read.clone()), read))?
        .add_rules(path_beneath_rules(existing(spec.exec.clone()), read_exec))?
        .add_rules(path_beneath_rules(
            existing(vec![spec.exe.clone()]),
            AccessFs::ReadFile | AccessFs::Execute,
        ))?
        // The declared tools: exactly their files. Their ELF interpreter is executable by the
        // rules above (`/lib*`, `/usr/lib*`), their libraries readable (`/usr`).
        .add_rules(path_beneath_rules(
            existing(spec.tools.clone()),
            AccessFs::ReadFile | AccessFs::Execute,
        ))?
        .add_rules(path_beneath_rules(existing(spec.write.clone()), all))?
        .add_rules(path_beneath_rules(
            existing(vec![PathBuf::from("/dev/null")]),
            AccessFs::ReadFile | AccessFs::WriteFile,
        ))?
        .restrict_self()?;
    anyhow::ensure!(
        status.ruleset != landlock::RulesetStatus::NotEnforced,
        "Landlock is not enforced on this kernel"
    );
    Ok(())
}

fn become_user(uid: u32) -> Result<()> {
    // SAFETY: these calls take plain integers (and a null list for setgroups); order matters:
    // supplementary groups and gid first, while we are still root, then the uid.
    unsafe {
        anyhow::ensure!(
            libc::setgroups(0, std::ptr::null()) == 0,
            "setgroups: {}",
            std::io::Error::last_os_error()
        );
        anyhow::ensure!(
            libc::setgid(uid) == 0,
            "setgid({uid}): {}",
            std::io::Error::last_os_error()
        );
        anyhow::ensure!(
            libc::setuid(uid) == 0,
            "setuid({uid}): {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// Entry point of the kill-all helper: becomes `uid` and kills every process it owns. As that
/// uid, `kill(-1)` reaches exactly that uid's processes (and never the grader, which is root).
pub fn kill_all_main(args: &[OsString]) -> ! {
    let uid: Option<u32> = args.first().and_then(|a| a.to_str()?.parse().ok());
    let Some(uid) = uid.filter(|uid| *uid >= UID_BASE) else {
        eprintln!("usage: xtask {KILL_ALL} UID (UID >= {UID_BASE})");
        std::process::exit(2);
    };
    if let Err(error) = become_user(uid) {
        eprintln!("kill-all: {error:#}");
        std::process::exit(1);
    }
    // A fork can land between rounds: keep going until two rounds in a row find nobody.
    let mut quiet = 0;
    for _ in 0..50 {
        // SAFETY: kill(-1, SIGKILL) as an unprivileged uid signals only that uid's processes
        // other than this one; no memory is involved.
        let code = unsafe { libc::kill(-1, libc::SIGKILL) };
        if code != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            quiet += 1;
            if quiet >= 2 {
                break;
            }
        } else {
            quiet = 0;
        }
        std::thread::yield_now();
    }
    std::process::exit(0)
}

/// Kills every process of `uid` (a dedicated test uid), through the helper.
pub fn kill_uid(uid: u32) {
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    let mut cmd = Command::new(me);
    cmd.arg(KILL_ALL).arg(uid.to_string());
    let _ = spawn_registered(&mut cmd).and_then(|mut child| {
        let status = child.wait();
        forget_child(child.id());
        status.map(|_| ())
    });
}

// ---------------------------------------------------------------------------------------------
// Children and orphans.
//
// Invariant: every process the grader starts itself is registered in LIVE from before anyone
// can observe it (spawning holds SPAWN for reading; the sweep holds it for writing), and is
// removed only after it was reaped. So a child of ours that is not in LIVE is an orphan that
// a test left behind and that was re-parented to us (we are a subreaper): it is killed and
// reaped by the sweep, never waited for by anyone else.

static SPAWN: RwLock<()> = RwLock::new(());
static LIVE: Mutex<Option<HashSet<u32>>> = Mutex::new(None);
/// Set once by `stop_all` (Ctrl-C, SIGTERM; see `interrupt.rs`): nothing new is started.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Whether `stop_all` was called.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// From now on `spawn_registered` refuses to start anything; every live group is killed.
pub fn stop_all() {
    STOPPING.store(true, Ordering::SeqCst);
    kill_live_groups();
}

/// Spawns `cmd` and registers it.
pub fn spawn_registered(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    let _spawning = SPAWN.read().unwrap_or_else(|e| e.into_inner());
    if stopping() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "interrupted (Ctrl-C): not starting anything new",
        ));
    }
    let child = cmd.spawn()?;
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(child.id());
    Ok(child)
}

/// Kills the process group of every registered child (each was started as the leader of its
/// own group by `runner::run`; a child that is not a group leader is killed alone).
pub fn kill_live_groups() {
    let live: Vec<u32> = LIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .flatten()
        .copied()
        .collect();
    for pid in live {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            continue;
        };
        // SAFETY: kill/killpg only send a signal. `pid` is a registered child that has not
        // been reaped yet (it leaves LIVE only after its wait returned), so neither the pid nor
        // its group id can have been reused by an unrelated process.
        unsafe {
            if libc::killpg(pid, libc::SIGKILL) != 0 {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Forgets a child that has been reaped.
pub fn forget_child(pid: u32) {
    if let Some(live) = LIVE.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        live.remove(&pid);
    }
}

/// Makes this process the reaper of its descendants' orphans.
pub fn become_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag; no memory is passed.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Elsewhere escaped processes re-parent to init; only the group kill applies.
        false
    }
}

/// Kills and reaps every orphan re-parented to us. Returns how many there were.
pub fn sweep_orphans() -> usize {
    let _no_spawning = SPAWN.write().unwrap_or_else(|e| e.into_inner());
    let me = std::process::id();
    let mut killed = 0;
    for _ in 0..3 {
        let live: HashSet<u32> = LIVE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default();
        let orphans: Vec<u32> = children_of(me)
            .into_iter()
            .filter(|pid| !live.contains(pid))
            .collect();
        if orphans.is_empty() {
            break;
        }
        for pid in orphans {
            let Ok(pid) = libc::pid_t::try_from(pid) else {
                continue;
            };
            // SAFETY: the pid is our own child (ppid checked) and not reaped, so it cannot have
            // been reused; kill and waitpid touch no memory but the status integer.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0);
            }
            killed += 1;
        }
    }
    killed
}

/// Pids whose parent is `parent`, from `/proc/*/stat`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
                    let after = &stat[stat.rfind(')')? + 1..];
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// Creates a private directory for one test: owned by `uid` (if any), mode 0700.
pub fn private_dir(path: &Path, uid: Option<u32>) -> Result<()> {
    if path.exists() {
        fs::remove_dir_all(path)?;
    }
    fs::create_dir_all(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
    if let Some(uid) = uid {
        std::os::unix::fs::chown(path, Some(uid), Some(uid))
            .with_context(|| format!("cannot give {} to uid {uid}", path.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Memory cgroups.

/// Where cgroup v2 is mounted (a unified hierarchy).
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One cgroup v2 per test slot, each with `memory.max` (and no swap), under a parent of this
/// grader's own, next to the grader in its cgroup: RLIMIT_AS bounds one process (16 GiB), but
/// two slots of 12 GiB each can exhaust a machine's RAM, and the kernel's OOM killer then
/// chooses any process. With these, the kernel kills inside the slot that went over
/// (`memory.oom.group`: the whole test). Only when the grader is root and its cgroup offers the
/// memory controller; otherwise grading goes on without them (the isolation summary says
/// which applied). Removed when dropped (every test's processes are dead by then).
#[derive(Debug)]
pub struct MemoryCgroups {
    parent: PathBuf,
    slots: Vec<PathBuf>,
}

impl MemoryCgroups {
    /// Whether this machine lets the grader make them (a trial parent, made and removed).
    pub fn available() -> bool {
        MemoryCgroups::create(1, 1 << 30).is_some()
    }

    /// `slots` cgroups of `per_slot` bytes each, or `None` when the machine does not allow it.
    pub fn create(slots: usize, per_slot: u64) -> Option<MemoryCgroups> {
        let own = own_cgroup(&fs::read_to_string("/proc/self/cgroup").ok()?)?;
        let here = Path::new(CGROUP_ROOT).join(own.trim_start_matches('/'));
        let controllers = fs::read_to_string(here.join("cgroup.controllers")).ok()?;
        if !controllers.split_whitespace().any(|c| c == "memory") {
            return None;
        }
        // The grader's own cgroup hands the controller to its children (refused, EBUSY, when
        // it is not the root and holds processes: then there is nothing to do quietly).
        enable_memory(&here).ok()?;
        let parent = here.join(format!("async-from-scratch-grade-{}", std::process::id()));
        fs::create_dir(&parent).ok()?;
        let mut groups = MemoryCgroups {
            parent,
            slots: Vec::new(),
        };
        enable_memory(&groups.parent).ok()?;
        for slot in 0..slots {
            let dir = groups.parent.join(format!("slot-{slot}"));
            fs::create_dir(&dir).ok()?;
            groups.slots.push(dir.clone());
            fs::write(dir.join("memory.max"), per_slot.to_string()).ok()?;
            let _ = fs::write(dir.join("memory.swap.max"), "0");
            let _ = fs::write(dir.join("memory.oom.group"), "1");
        }
        Some(groups)
    }

    /// The cgroup of `slot`, if there is one.
    pub fn slot(&self, slot: usize) -> Option<&Path> {
        self.slots.get(slot).map(PathBuf::as_path)
    }
}

impl Drop for MemoryCgroups {
    fn drop(&mut self) {
        for dir in &self.slots {
            let _ = fs::remove_dir(dir);
        }
        let _ = fs::remove_dir(&self.parent);
    }
}

/// What each of `slots` may use: 3/4 of the machine's RAM shared among them, at most the
/// address space a test may map (16 GiB). `None` when `/proc/meminfo` says nothing.
pub fn memory_per_slot(meminfo: &str, slots: usize) -> Option<u64> {
    let total_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((total_kib * 1024 / 4 * 3 / slots.max(1) as u64).min(16 << 30))
}

/// The cgroup v2 path of this process (`0::/path` in `/proc/self/cgroup`).
fn own_cgroup(proc_cgroup: &str) -> Option<String> {
    proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_owned)
}

fn enable_memory(dir: &Path) -> std::io::Result<()> {
    let control = fs::read_to_string(dir.join("cgroup.subtree_control"))?;
    if control.split_whitespace().any(|c| c == "memory") {
        return Ok(());
    }
    fs::write(dir.join("cgroup.subtree_control"), "+memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_gets_its_share_of_three_quarters_of_ram() {
        let meminfo = "MemTotal:       24000000 kB\nMemFree: 1 kB\n";
        let total = 24_000_000u64 * 1024;
        assert_eq!(memory_per_slot(meminfo, 2), Some(total / 4 * 3 / 2));
        assert_eq!(memory_per_slot(meminfo, 1), Some(16 << 30));
        assert_eq!(memory_per_slot("nothing", 2), None);
    }

    #[test]
    fn the_own_cgroup_is_the_unified_line() {
        let text = "4:memory:/a\n0::/user.slice/grader\n";
        assert_eq!(own_cgroup(text).as_deref(), Some("/user.slice/grader"));
        assert_eq!(own_cgroup("4:memory:/a\n"), None);
    }
}
