//! Run one child process with a deadline, and run one libtest test in its own process.
//!
//! Invariants, because a learner's code runs in these processes:
//! * the child runs in its own process group, and the whole group is killed when the child
//!   exits or times out, so a leaked grandchild can neither outlive the run nor hold our pipes
//!   open;
//! * output is read concurrently and capped, so a flood cannot exhaust memory or block the
//!   child on a full pipe;
//! * we never wait for pipe EOF without a bound.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::course::TestId;

/// A built test binary (what `cargo::build_tests` reports).
#[derive(Debug, Clone)]
pub struct TestBinary {
    /// The `Cargo.toml` of the package the binary belongs to.
    pub manifest: PathBuf,
    /// The test target's name (the file under `tests/` without `.rs`), or [`MERGED`].
    pub target: String,
    pub path: PathBuf,
}

/// The name of a test target that holds several test files, each as a module named after its
/// file (verify's version packages, see `exec/batch.rs`): its tests are listed as
/// `<file>::<test>`, and each keeps the id it has in the file's own binary.
pub const MERGED: &str = "xtask_merged_tests";

/// Output kept per stream; anything beyond is read and dropped.
pub const OUTPUT_CAP: usize = 256 * 1024;

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut,
}

/// A finished child process.
#[derive(Debug)]
pub struct Finished {
    pub exit: Exit,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `cmd` (stdin closed, stdout and stderr captured) for at most `timeout`.
pub fn run(cmd: Command, timeout: Duration) -> Result<Finished> {
    run_with(cmd, timeout, None)
}

/// Like [`run`], but hands each line of stdout to `on_line` as it arrives (on the reading
/// thread) instead of keeping it: for a producer whose output has no useful bound but whose
/// reader keeps only what it needs (cargo's JSON messages for hundreds of packages). Stdout in
/// the result is then empty; stderr is captured and capped as always.
pub fn run_lines(
    cmd: Command,
    timeout: Duration,
    on_line: impl FnMut(&str) + Send + 'static,
) -> Result<Finished> {
    run_with(cmd, timeout, Some(Box::new(on_line)))
}

/// A consumer of stdout lines (see [`run_lines`]).
type OnLine = Box<dyn FnMut(&str) + Send>;

fn run_with(mut cmd: Command, timeout: Duration, on_line: Option<OnLine>) -> Result<Finished> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own group, so that killing the group reaches everything it started.
        cmd.process_group(0);
    }
    let start = Instant::now();
    let mut child = crate::exec::sandbox::spawn_registered(&mut cmd)
        .with_context(|| format!("cannot start {:?}", cmd.get_program()))?;
    let stdout = match on_line {
        Some(on_line) => Capture::lines(child.stdout.take().expect("stdout is piped"), on_line),
        None => Capture::start(child.stdout.take().expect("stdout is piped")),
    };
    let stderr = Capture::start(child.stderr.take().expect("stderr is piped"));

    // Wait on another thread so this one can give up at the deadline.
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        crate::exec::sandbox::forget_child(pid);
        let _ = tx.send(status);
    });
    let exit = match rx.recv_timeout(timeout) {
        Ok(status) => {
            kill_group(pid);
            exit_of(status.context("waiting for the child failed")?)
        }
        Err(_) => {
            kill_group(pid);
            // SIGKILL cannot be ignored: the waiter now returns promptly.
            let _ = rx.recv();
            Exit::TimedOut
        }
    };
    let _ = waiter.join();
    let elapsed = start.elapsed();
    Ok(Finished {
        exit,
        stdout: stdout.finish(),
        stderr: stderr.finish(),
        elapsed,
    })
}

fn exit_of(status: ExitStatus) -> Exit {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Exit::Signal(signal);
        }
    }
    Exit::Code(status.code().unwrap_or(-1))
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: killpg only sends a signal; it touches no memory of ours. The group id is the
    // child's pid because we started it with `process_group(0)`, and the child has not been
    // reaped by the time of the first call, so the id cannot have been reused by an unrelated
    // group. Failure (the group is already empty) is harmless and ignored.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {
    // Without process groups the waiter's child is killed by dropping it at exit; grandchildren
    // may survive. The course's supported platforms for grading are Unix.
}

/// Reads one pipe on its own thread into a capped buffer.
struct Capture {
    buffer: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Capture {
    fn start(mut pipe: impl Read + Send + 'static) -> Capture {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let shared = Arc::clone(&buffer);
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                let mut buffer = shared.lock().unwrap_or_else(|e| e.into_inner());
                let room = OUTPUT_CAP.saturating_sub(buffer.len());
                buffer.extend_from_slice(&chunk[..n.min(room)]);
            }
            let _ = tx.send(());
        });
        Capture { buffer, done }
    }

    /// Reads `pipe` line by line into `on_line`, keeping nothing. A line longer than
    /// `OUTPUT_CAP` is cut there (the rest of it is skipped).
    fn lines(pipe: impl Read + Send + 'static, mut on_line: OnLine) -> Capture {
        let (tx, done) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = std::io::BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                // `take` bounds one line's memory; what is left of a longer line is read as
                // the next "line" and fails to parse as a message, which callers ignore.
                match std::io::BufRead::read_until(
                    &mut (&mut reader).take(OUTPUT_CAP as u64),
                    b'\n',
                    &mut line,
                ) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => on_line(String::from_utf8_lossy(&line).trim_end()),
                }
            }
            let _ = tx.send(());
        });
        Capture {
            buffer: Arc::new(Mutex::new(Vec::new())),
            done,
        }
    }

    /// What was read, once the pipe closed or a short grace period passed (a grandchild that
    /// escaped the group kill may still hold the pipe; we do not wait for it).
    fn finish(self) -> String {
        let _ = self.done.recv_timeout(Duration::from_millis(500));
        let buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = String::from_utf8_lossy(&buffer).into_owned();
        if buffer.len() >= OUTPUT_CAP {
            text.push_str("\n[output truncated]");
        }
        text
    }
}

/// The verdict on one test.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Pass,
    Fail,
    Timeout,
    /// Killed by a signal (stack overflow and `abort` are SIGABRT).
    Crash(i32),
    /// The process ended without reporting a result for this test.
    Error(String),
}

impl Status {
    pub fn passed(&self) -> bool {
        *self == Status::Pass
    }

    pub fn label(&self) -> String {
        match self {
            Status::Pass => "pass".into(),
            Status::Fail => "fail".into(),
            Status::Timeout => "timeout".into(),
            Status::Crash(signal) => format!("crash (signal {signal})"),
            Status::Error(_) => "error".into(),
        }
    }
}

/// One test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub id: TestId,
    pub status: Status,
    /// The part of the output that explains a failure (the panic message), or empty.
    pub message: String,
    pub elapsed: Duration,
}

/// Lists the tests in a libtest binary (`--list --format terse`).
/// `exe args`, in `cwd` with exactly `env`: directly, or through the sandbox launcher.
fn test_command(
    exe: &Path,
    args: &[&str],
    cwd: &Path,
    env: &TestEnv,
    sandbox: Option<&crate::exec::sandbox::Spec>,
) -> Result<Command> {
    let mut cmd = match sandbox {
        Some(spec) => {
            let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
            crate::exec::sandbox::command(spec, &args)?
        }
        None => {
            let mut cmd = Command::new(exe);
            cmd.args(args);
            cmd
        }
    };
    cmd.current_dir(cwd);
    env.apply(&mut cmd);
    Ok(cmd)
}

/// Lists the tests in a libtest binary (`--list --format terse`), through the sandbox
/// launcher when `sandbox` is given: listing runs the binary, and so anything a submission
/// managed to run before `main`.
pub fn list_tests_in(
    exe: &Path,
    cwd: &Path,
    env: &TestEnv,
    sandbox: Option<&crate::exec::sandbox::Spec>,
) -> Result<Vec<String>> {
    let cmd = test_command(exe, &["--list", "--format", "terse"], cwd, env, sandbox)?;
    let out = run(cmd, Duration::from_secs(30))?;
    anyhow::ensure!(
        out.exit == Exit::Code(0),
        "{} --list failed ({:?}):\n{}",
        exe.display(),
        out.exit,
        out.stderr
    );
    Ok(out
        .stdout
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect())
}

/// One test ready to run: its binary, its id, and how many tests that binary lists (the
/// exact summary `run_test` expects depends on it).
#[derive(Debug, Clone)]
pub struct Listed {
    pub exe: PathBuf,
    pub id: TestId,
    /// The test's name in its binary (what `--exact` selects): `id.name`, or
    /// `<target>::<name>` in a [`MERGED`] binary.
    pub filter: String,
    pub listed: usize,
}

/// Every test of the given test binaries, listed with `list_tests`.
pub fn list_all(binaries: &[&TestBinary], cwd: &Path, env: &TestEnv) -> Result<Vec<Listed>> {
    list_all_in(binaries, cwd, env, &|_| None)
}

/// `list_all`, each binary listed under the sandbox `sandbox(exe)` gives (if any).
pub fn list_all_in(
    binaries: &[&TestBinary],
    cwd: &Path,
    env: &TestEnv,
    sandbox: &dyn Fn(&Path) -> Option<crate::exec::sandbox::Spec>,
) -> Result<Vec<Listed>> {
    let mut all = Vec::new();
    for binary in binaries {
        let (target, exe) = (binary.target.as_str(), binary.path.as_path());
        let names = list_tests_in(exe, cwd, env, sandbox(exe).as_ref())?;
        let listed = names.len();
        all.extend(names.into_iter().map(|filter| {
            let id = match filter.split_once("::") {
                Some((file, name)) if target == MERGED => TestId {
                    target: file.to_owned(),
                    name: name.to_owned(),
                },
                _ => TestId {
                    target: target.to_owned(),
                    name: filter.clone(),
                },
            };
            Listed {
                exe: exe.to_owned(),
                id,
                filter,
                listed,
            }
        }));
    }
    Ok(all)
}

/// Runs exactly one test of a libtest binary in its own process.
///
/// It passes only if the process exits 0 **and** libtest reported this test `ok` **and** the
/// summary says exactly one test ran out of `listed` (so a test that was renamed away, or a
/// program that calls `exit(0)` or prints a forged "ok", does not pass).
pub fn run_test(job: &Listed, cwd: &Path, env: &TestEnv, timeout: Duration) -> Result<TestResult> {
    run_test_in(job, cwd, env, timeout, None)
}

/// `run_test`, through the sandbox launcher when `sandbox` is given (see `sandbox.rs`).
pub fn run_test_in(
    job: &Listed,
    cwd: &Path,
    env: &TestEnv,
    timeout: Duration,
    sandbox: Option<&crate::exec::sandbox::Spec>,
) -> Result<TestResult> {
    let (exe, id, name) = (job.exe.as_path(), &job.id, job.filter.as_str());
    let args = ["--exact", name, "--test-threads", "1", "--color", "never"];
    let out = run(test_command(exe, &args, cwd, env, sandbox)?, timeout)?;
    if sandbox.is_some()
        && out.exit == Exit::Code(125)
        && let Some(line) = out.stderr.lines().find(|l| l.starts_with("sandbox: "))
    {
        return Ok(TestResult {
            id: id.clone(),
            status: Status::Error(format!(
                "the grader could not start this test in its sandbox ({line}); this is the \
                 grader's problem, not the submission's"
            )),
            message: String::new(),
            elapsed: out.elapsed,
        });
    }
    let status = status_of(&out, name, job.listed);
    let message = message_of(&status, &out, name, timeout);
    Ok(TestResult {
        id: id.clone(),
        status,
        message,
        elapsed: out.elapsed,
    })
}

/// The strict pass rule: exit 0, libtest's "ok" line for this test, and a summary saying
/// exactly one test ran out of the `listed` ones.
fn status_of(out: &Finished, name: &str, listed: usize) -> Status {
    // `#[should_panic]` tests report as `test name - should panic ... ok`.
    let ok_lines = [
        format!("test {name} ... ok"),
        format!("test {name} - should panic ... ok"),
    ];
    let reported_ok = out
        .stdout
        .lines()
        .any(|line| ok_lines.iter().any(|ok| line == ok));
    let summary = format!(
        "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; {} filtered out;",
        listed.saturating_sub(1)
    );
    let summary_ok = out.stdout.lines().any(|line| line.starts_with(&summary));
    match out.exit {
        Exit::Code(0) if reported_ok && summary_ok => Status::Pass,
        Exit::Code(0) => {
            Status::Error("the test process exited without reporting this test's result".into())
        }
        Exit::Code(_) => Status::Fail,
        Exit::Signal(signal) => Status::Crash(signal),
        Exit::TimedOut => Status::Timeout,
    }
}

/// What the learner reads about a test that did not pass.
fn message_of(status: &Status, out: &Finished, name: &str, timeout: Duration) -> String {
    match status {
        Status::Pass => String::new(),
        Status::Timeout => format!(
            "HANG: the test did not finish within {timeout:?} and was stopped. Something it \
             called never returned: an endless loop, or a wait for a wake or an event that \
             never comes{}",
            tail_note(&out.stdout, &out.stderr)
        ),
        Status::Crash(signal) => format!(
            "the test process was killed by signal {signal}{}",
            tail_note(&out.stdout, &out.stderr)
        ),
        Status::Fail | Status::Error(_) => match failure_message(&out.stdout, name) {
            // Tools that run inside a test (trybuild) explain themselves on stderr.
            Some(message) if !out.stderr.trim().is_empty() => {
                format!("{}\n{message}", tail(&out.stderr, 60))
            }
            Some(message) => message,
            None => tail(&format!("{}{}", out.stdout, out.stderr), 40),
        },
    }
}

/// The `---- name stdout ----` block libtest prints for a failed test: the test's own output
/// and its panic message.
pub fn failure_message(stdout: &str, name: &str) -> Option<String> {
    let header = format!("---- {name} stdout ----\n");
    let start = stdout.find(&header)? + header.len();
    let rest = &stdout[start..];
    let end = rest.find("\n\nfailures:").unwrap_or(rest.len());
    let text = strip_thread_ids(rest[..end].trim());
    // We run tests with RUST_BACKTRACE=0 on purpose; the hint to change that is noise here.
    let text: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE=1`"))
        .collect();
    Some(text.join("\n"))
}

/// `thread 'x' (1234) panicked at` -> `thread 'x' panicked at`: thread ids differ per run and
/// mean nothing to a learner.
fn strip_thread_ids(text: &str) -> String {
    text.lines()
        .map(
            |line| match (line.find("' ("), line.find(") panicked at")) {
                (Some(open), Some(close)) if line.starts_with("thread '") && open < close => {
                    format!("{}'{}", &line[..open], &line[close + 1..])
                }
                _ => line.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn tail_note(stdout: &str, stderr: &str) -> String {
    let text = tail(&format!("{stdout}{stderr}"), 20);
    if text.trim().is_empty() {
        String::new()
    } else {
        format!("; its last output:\n{text}")
    }
}

/// The environment a test process sees: nothing from the caller's environment except a short
/// allowlist, plus settings that make snapshot and compile-fail tools compare, never update.
#[derive(Debug, Clone)]
pub struct TestEnv {
    vars: Vec<(String, String)>,
}

impl TestEnv {
    /// The environment for tests of the package in `package_dir`, inside `workspace`.
    pub fn new(workspace: &Path, package_dir: &Path, package: &str) -> TestEnv {
        let mut vars = Vec::new();
        for key in [
            "PATH",
            "HOME",
            "TMPDIR",
            "USER",
            "LANG",
            "RUSTUP_HOME",
            "CARGO_HOME",
        ] {
            if let Ok(value) = std::env::var(key) {
                vars.push((key.to_owned(), value));
            }
        }
        // Tests that run cargo (trybuild) need the same cargo and toolchain we were run with.
        for key in ["CARGO", "RUSTUP_TOOLCHAIN"] {
            if let Ok(value) = std::env::var(key) {
                vars.push((key.to_owned(), value));
            }
        }
        let fixed = [
            ("CARGO_MANIFEST_DIR", package_dir.display().to_string()),
            ("CARGO_PKG_NAME", package.to_owned()),
            ("RUST_BACKTRACE", "0".to_owned()),
            ("NO_COLOR", "1".to_owned()),
            ("CI", "true".to_owned()),
            ("INSTA_UPDATE", "no".to_owned()),
            ("INSTA_FORCE_PASS", "0".to_owned()),
            ("INSTA_WORKSPACE_ROOT", workspace.display().to_string()),
        ];
        vars.extend(fixed.into_iter().map(|(k, v)| (k.to_owned(), v)));
        TestEnv { vars }
    }

    /// Adds or replaces one variable.
    pub fn with(mut self, key: &str, value: &str) -> TestEnv {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_owned(), value.to_owned()));
        self
    }

    fn apply(&self, cmd: &mut Command) {
        cmd.env_clear();
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
    }
}

/// How many tests run at once by default: the number of CPUs this process may use.
pub fn cpus() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` over `items` on up to `jobs` threads; results keep the items' order.
pub fn run_parallel<T: Sync, R: Send>(
    items: Vec<T>,
    jobs: usize,
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<R>>>> =
        Mutex::new((0..items.len()).map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap();
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(item) = items.get(index) else { break };
                    let result = work(item);
                    results.lock().unwrap()[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item was run"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_outlives_its_deadline_is_killed_with_its_group() {
        let mut cmd = Command::new("sh");
        // The grandchild `sleep` holds stdout; the kill must reach it, and we must not hang.
        cmd.args(["-c", "echo started; sleep 30 & sleep 30"]);
        let out = run(cmd, Duration::from_millis(300)).unwrap();
        assert_eq!(out.exit, Exit::TimedOut);
        assert_eq!(out.stdout.trim(), "started");
        assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    }

    #[test]
    fn exit_codes_and_signals_are_told_apart() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 3"]);
        assert_eq!(
            run(cmd, Duration::from_secs(10)).unwrap().exit,
            Exit::Code(3)
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "kill -ABRT $$"]);
        assert_eq!(
            run(cmd, Duration::from_secs(10)).unwrap().exit,
            Exit::Signal(libc::SIGABRT)
        );
    }

    #[test]
    fn streamed_lines_are_all_delivered_however_much_is_printed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "yes message | head -n 200000"]);
        let seen = Arc::new(Mutex::new(0usize));
        let counting = Arc::clone(&seen);
        let out = run_lines(cmd, Duration::from_secs(10), move |line| {
            assert_eq!(line, "message");
            *counting.lock().unwrap() += 1;
        })
        .unwrap();
        assert_eq!(out.exit, Exit::Code(0));
        assert!(out.stdout.is_empty());
        // 1.6 MB, six times the cap on kept output: every line reached the reader.
        assert_eq!(*seen.lock().unwrap(), 200_000);
    }

    #[test]
    fn output_is_capped() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "head -c 1000000 /dev/zero"]);
        let out = run(cmd, Duration::from_secs(10)).unwrap();
        assert!(out.stdout.len() < OUTPUT_CAP + 100);
        assert!(out.stdout.ends_with("[output truncated]"));
    }

    /// A fake test binary: a shell script that prints `output` and exits with `code`.
    fn fake_test(name: &str, output: &str, code: i32) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("xtask-fake-{name}-{}", std::process::id()));
        std::fs::write(
            &path,
            format!("#!/bin/sh\nprintf '{output}'\nexit {code}\n"),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn id(name: &str) -> TestId {
        TestId {
            target: "t".into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_pass_needs_exit_zero_the_ok_line_and_the_exact_summary() {
        let env = TestEnv::new(Path::new("/"), Path::new("/"), "x");
        let cwd = std::env::temp_dir();
        let ok = "running 1 test\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; \
                  0 measured; 2 filtered out; finished in 0.00s\n";
        let cases = [
            ("genuine", ok, 0, 3, true),
            ("exit-0-without-output", "", 0, 3, false),
            ("wrong-filtered-count", ok, 0, 1, false),
            ("ok-but-exit-101", ok, 101, 3, false),
        ];
        for (name, output, code, listed, passes) in cases {
            let exe = fake_test(name, output, code);
            let job = Listed {
                exe: exe.clone(),
                id: id("a"),
                filter: "a".into(),
                listed,
            };
            let result = run_test(&job, &cwd, &env, Duration::from_secs(10)).unwrap();
            assert_eq!(result.status.passed(), passes, "{name}: {result:?}");
            let _ = std::fs::remove_file(exe);
        }
    }

    #[test]
    fn a_merged_binary_lists_each_test_under_its_own_file() {
        let env = TestEnv::new(Path::new("/"), Path::new("/"), "x");
        let cwd = std::env::temp_dir();
        let exe = fake_test("merged", "part1::a: test\npart2::nested::b: test\n", 0);
        let binary = |target: &str| TestBinary {
            manifest: PathBuf::from("Cargo.toml"),
            target: target.into(),
            path: exe.clone(),
        };
        let (merged, single) = (binary(MERGED), binary("part1"));
        let listed = list_all(&[&merged], &cwd, &env).unwrap();
        let seen: Vec<(String, String, String)> = listed
            .iter()
            .map(|l| (l.id.target.clone(), l.id.name.clone(), l.filter.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                ("part1".into(), "a".into(), "part1::a".into()),
                (
                    "part2".into(),
                    "nested::b".into(),
                    "part2::nested::b".into()
                ),
            ]
        );
        assert!(listed.iter().all(|l| l.listed == 2));
        // In a binary of one file, a module path is part of the test's name.
        let listed = list_all(&[&single], &cwd, &env).unwrap();
        assert_eq!(listed[1].id.target, "part1");
        assert_eq!(listed[1].id.name, "part2::nested::b");
        let _ = std::fs::remove_file(exe);
    }

    #[test]
    fn failure_messages_are_cut_out_of_libtest_output() {
        let stdout = "running 1 test\ntest t ... FAILED\n\nfailures:\n\n---- t stdout ----\n\
                      thread 't' (4242) panicked at src/lib.rs:1:1:\nboom\n\nfailures:\n    t\n";
        assert_eq!(
            failure_message(stdout, "t").unwrap(),
            "thread 't' panicked at src/lib.rs:1:1:\nboom"
        );
    }
}
