//! The source gate run where nothing it meets can stop the grader: a child process of its own
//! (`xtask __gate`), with a time limit.
//!
//! The pre-scan (`limits`) bounds bracket nesting, but `syn` recurses on other shapes too (a
//! chain of 100 000 `!`, `else if` or `a = b = …`); a stack overflow aborts a whole process,
//! and a thread cannot catch it. So the parse runs in a child: if it crashes, overruns
//! [`TIME_LIMIT`] or answers nonsense, that stage is refused with the reason, and the grader
//! goes on. Invariant: the grader's own threads never parse submitted code.
//!
//! Under `cargo test` of xtask itself the test binary is not xtask, so there the check runs on
//! a thread with a bounded stack instead (the pre-scan keeps those inputs shallow).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::source::{self, Findings, Policy};
use crate::files::Sources;
use crate::outcome::Problem;

/// The hidden first argument that makes `xtask` the gate's child.
pub const CHILD: &str = "__gate";
/// How long the source gate may take over one stage (the course's largest takes ~50 ms).
pub const TIME_LIMIT: Duration = Duration::from_secs(60);
/// What the child may answer (its findings are capped well below).
const ANSWER_LIMIT: u64 = 1 << 20;

#[derive(Serialize, Deserialize)]
struct Request {
    policy: Policy,
    sources: Sources,
}

/// The child's side: a request on stdin, the findings on stdout.
pub fn child_main() -> ! {
    let mut input = Vec::new();
    let request: Option<Request> = std::io::stdin()
        .read_to_end(&mut input)
        .ok()
        .and_then(|_| serde_json::from_slice(&input).ok());
    let Some(request) = request else {
        std::process::exit(3);
    };
    let found = source::check(&request.sources, &request.policy);
    let answer = serde_json::to_vec(&found).unwrap_or_default();
    let written = std::io::stdout().write_all(&answer);
    std::process::exit(if written.is_ok() { 0 } else { 3 });
}

/// `source::check` where a crash or a hang costs only this stage.
pub fn check(sources: &Sources, policy: &Policy) -> Findings {
    if cfg!(test) {
        return on_a_thread(sources, policy);
    }
    match in_a_child(sources, policy) {
        Ok(found) => found,
        Err(why) => Findings::refused(format!(
            "the grader's check of this stage's code {why}; the stage was not run (write it in \
             plainer Rust, and tell your instructor)"
        )),
    }
}

fn in_a_child(sources: &Sources, policy: &Policy) -> Result<Findings, Problem> {
    let request = serde_json::to_vec(&Request {
        policy: policy.clone(),
        sources: sources.clone(),
    })
    .map_err(|e| format!("could not start ({e})"))?;
    let exe = std::env::current_exe().map_err(|e| format!("could not start ({e})"))?;
    let mut child = Command::new(exe)
        .arg(CHILD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start ({e})"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&request);
    });
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut answer = Vec::new();
        let _ = (&mut stdout).take(ANSWER_LIMIT).read_to_end(&mut answer);
        answer
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < TIME_LIMIT => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {}s", TIME_LIMIT.as_secs()).into());
            }
        }
    };
    let _ = writer.join();
    let answer = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("stopped ({status})").into());
    }
    serde_json::from_slice(&answer).map_err(|_| Problem::from("gave no answer"))
}

/// For xtask's own unit tests: a thread with a bounded stack; a panic refuses the stage.
fn on_a_thread(sources: &Sources, policy: &Policy) -> Findings {
    let (sources, policy) = (sources.clone(), policy.clone());
    let spawned = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || source::check(&sources, &policy));
    match spawned.map(|handle| handle.join()) {
        Ok(Ok(found)) => found,
        _ => Findings::refused("the grader's check of this stage's code failed".to_owned()),
    }
}
