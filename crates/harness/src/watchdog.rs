//! Run a test body under a deadline, and turn a hang into a failure that teaches.

use std::panic;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long a watched body may run before it counts as hung, unless the test says otherwise.
///
/// Correct code finishes every watched body in milliseconds; the limit only decides how long a
/// *broken* program takes to fail. It is generous so that a loaded two-core machine never turns
/// a slow pass into a failure.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(5);

/// Runs a closure on its own thread and fails the test if it does not finish in time.
///
/// ```
/// use harness::Watchdog;
///
/// let answer = Watchdog::new("adding two numbers")
///     .likely_cause("the addition waits for something that never happens")
///     .run(|| 40 + 2);
/// assert_eq!(answer, 42);
/// ```
///
/// On time-out the test panics with a message naming what was running, the limit, and the
/// likely causes. A panic inside the body is re-raised unchanged, so `#[should_panic]` and the
/// original message keep working.
///
/// The hung thread cannot be stopped from outside (Rust has no safe way to kill a thread); it is
/// left behind and ends with the test process. The course's runner runs each test in its own
/// process, so a hang costs only the test that hung.
#[derive(Debug, Clone)]
#[must_use = "a Watchdog does nothing until `.run(...)` is called"]
pub struct Watchdog {
    what: String,
    limit: Duration,
    causes: Vec<String>,
    /// A counter the body advances as it works (see [`Watchdog::progress`]); `None`: the limit
    /// is on the body's whole run.
    progress: Option<fn() -> usize>,
}

/// With a progress counter, a body that keeps advancing it may run this many limits in all.
const PROGRESS_CAP: u32 = 12;

impl Watchdog {
    /// A watchdog for `what`, described the way a learner would recognise it, e.g.
    /// `"block_on(Countdown::new(3))"`.
    pub fn new(what: impl Into<String>) -> Self {
        Watchdog {
            what: what.into(),
            limit: DEFAULT_LIMIT,
            causes: Vec::new(),
            progress: None,
        }
    }

    /// Sets how long the body may run.
    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Makes the limit a limit on time *without progress*: the body counts as hung only once
    /// `counter` has not changed for the whole limit (and, however it progresses, after
    /// twelve limits in all). For bodies whose running time depends on the machine's load but
    /// which advance a counter all along, such as the model checker's search (thousands of
    /// schedules: seconds on an idle machine, several times that on a loaded one), while a real
    /// hang stops the counter at once.
    pub fn progress(mut self, counter: fn() -> usize) -> Self {
        self.progress = Some(counter);
        self
    }

    /// Adds one likely cause to the time-out message. Write it as a question the learner can
    /// check in their code ("did you store `cx.waker()` before returning `Pending`?").
    pub fn likely_cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    /// Runs `body` and returns its result, or fails the test if it is still running after the
    /// limit.
    ///
    /// The environment variable `HARNESS_WATCHDOG_MS`, when set, replaces every limit. The
    /// course's `verify` sets it only when running known-bug variants, which are expected to
    /// fail anyway: a hang then costs a second instead of the full limit.
    pub fn run<T, F>(mut self, body: F) -> T
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if let Some(ms) = std::env::var("HARNESS_WATCHDOG_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
        {
            self.limit = Duration::from_millis(ms);
        }
        let (done_tx, done_rx) = mpsc::channel();
        // Name the body's thread after the test's, so a panic inside it points at the test.
        let name = thread::current()
            .name()
            .unwrap_or("watched body")
            .to_owned();
        let handle = thread::Builder::new()
            .name(name)
            .spawn(move || {
                let value = body();
                // The receiver is gone only if the watchdog already gave up; nothing to do then.
                let _ = done_tx.send(value);
            })
            .expect("the watchdog could not start a thread for the test body");

        let started = Instant::now();
        let mut quiet_since = started;
        let mut seen = self.progress.map(|counter| counter());
        // Without a progress counter one wait covers the whole limit; with one, the counter is
        // read every step and any change restarts the quiet period.
        let step = match self.progress {
            Some(_) => self.limit.min(Duration::from_millis(200)),
            None => self.limit,
        };
        loop {
            match done_rx.recv_timeout(step) {
                Ok(value) => return value,
                // The sender was dropped without sending: the body panicked. Re-raise it.
                Err(RecvTimeoutError::Disconnected) => match handle.join() {
                    Err(payload) => panic::resume_unwind(payload),
                    Ok(()) => unreachable!("the body thread ended without a value or a panic"),
                },
                Err(RecvTimeoutError::Timeout) => {
                    let now = self.progress.map(|counter| counter());
                    if now != seen {
                        seen = now;
                        quiet_since = Instant::now();
                    }
                    if quiet_since.elapsed() >= self.limit
                        || started.elapsed() >= self.limit * PROGRESS_CAP
                    {
                        panic!("{}", self.timeout_message());
                    }
                }
            }
        }
    }

    fn timeout_message(&self) -> String {
        let mut message = match self.progress {
            None => format!(
                "HANG: {} did not finish within {:?}; the test gave up waiting.",
                self.what, self.limit
            ),
            Some(_) => format!(
                "HANG: {} made no progress for {:?} (or ran longer than {:?} in all); the \
                 test gave up waiting.",
                self.what,
                self.limit,
                self.limit * PROGRESS_CAP
            ),
        };
        if !self.causes.is_empty() {
            message.push_str("\nLikely causes:");
            for cause in &self.causes {
                message.push_str("\n  - ");
                message.push_str(cause);
            }
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static STEPS: AtomicUsize = AtomicUsize::new(0);
    static STILL: AtomicUsize = AtomicUsize::new(0);

    fn steps() -> usize {
        STEPS.load(Ordering::Relaxed)
    }

    fn still() -> usize {
        STILL.load(Ordering::Relaxed)
    }

    #[test]
    fn a_body_that_keeps_progressing_may_outlast_the_limit() {
        let limit = Duration::from_millis(800);
        let done = Watchdog::new("a long search")
            .limit(limit)
            .progress(steps)
            .run(move || {
                let started = Instant::now();
                while started.elapsed() < limit * 2 {
                    STEPS.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(2));
                }
                true
            });
        assert!(done);
    }

    #[test]
    fn a_body_that_stops_progressing_is_a_hang() {
        let caught = panic::catch_unwind(|| {
            Watchdog::new("a blocked search")
                .limit(Duration::from_millis(300))
                .progress(still)
                .run(|| {
                    let (_keep, blocked) = mpsc::channel::<()>();
                    let _ = blocked.recv(); // never: the sender is held on this thread
                })
        });
        let message = crate::panic_message(&*caught.expect_err("the watchdog gave up"));
        assert!(message.contains("made no progress for 300ms"), "{message}");
    }
}
