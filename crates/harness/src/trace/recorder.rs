//! Where events go: an in-memory trace that a test started, a file named by `HARNESS_TRACE`,
//! both, or (almost always) nowhere.
//!
//! Invariants:
//! * **Off costs one atomic load.** Every hook first reads `MODE`; when no file was asked for
//!   and no test has started a trace, it returns at once. (The first call also reads the
//!   environment, once per process.)
//! * **One trace at a time per process.** [`start`] waits until the previous [`Trace`] is
//!   dropped, so tests in one binary that trace never mix their events.
//! * **Events belong to the trace they came from.** Each trace has a generation number;
//!   a traced future remembers the generation it was created in, and a thread remembers the
//!   generation of the last traced future it polled. An event reaches the in-memory trace only
//!   if its generation is the current one, so a hung thread left behind by an earlier test, or a
//!   test that does not trace running its executor next to one that does, cannot pollute it.
//!   The file, which `cargo xtask trace` uses with exactly one test per process, gets every
//!   event.
//! * **Order is the order of recording.** Each sink appends under its own lock and numbers the
//!   event there, so a record's `seq` follows the order in which events were recorded. An event
//!   recorded before another one starts (a `Pending` recorded before the poll returns, then a
//!   wake from a thread that waited for that `Pending`) is always listed first.
//! * **Files survive crashes and kills.** Each event is one `write` of one whole line to an
//!   unbuffered file, so a test that hangs and is killed leaves every event it recorded.

use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::event::{Event, Record, TaskId, WokenBy};

/// The environment variable naming the file to append events to.
pub const ENV_VAR: &str = "HARNESS_TRACE";

/// How long [`start`] waits for another test's trace to end before giving up.
const START_LIMIT: Duration = Duration::from_secs(60);

// Bits of MODE. CHECKED: the environment has been read. FILE: events go to a file.
// SESSION: a test's `Trace` is active.
const CHECKED: u8 = 1;
const FILE: u8 = 2;
const SESSION: u8 = 4;

static MODE: AtomicU8 = AtomicU8::new(0);
static FILE_SINK: OnceLock<Option<FileSink>> = OnceLock::new();
static SESSIONS: Mutex<Slot> = Mutex::new(Slot {
    active: None,
    generations: 0,
});
static SESSION_ENDED: Condvar = Condvar::new();
/// The next task number. Restarted at 1 by [`start`].
static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Who is waking, if a wake happens on this thread now: innermost last.
    static WAKING_AS: RefCell<Vec<WokenBy>> = const { RefCell::new(Vec::new()) };
    /// The generation of the last traced future polled on this thread (0: none).
    static POLLED_IN: Cell<u64> = const { Cell::new(0) };
}

/// Whether anything is being recorded. The hot path of every hook when tracing is off.
#[inline]
pub(crate) fn enabled() -> bool {
    match MODE.load(Ordering::Acquire) {
        CHECKED => false,
        0 => read_environment(),
        _ => true,
    }
}

#[cold]
fn read_environment() -> bool {
    let file = FILE_SINK.get_or_init(FileSink::from_environment).is_some();
    let bits = CHECKED | if file { FILE } else { 0 };
    (MODE.fetch_or(bits, Ordering::AcqRel) | bits) != CHECKED
}

struct Slot {
    active: Option<Arc<Session>>,
    /// Generations handed out so far; the first trace is generation 1.
    generations: u64,
}

fn slot() -> MutexGuard<'static, Slot> {
    SESSIONS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn active_session() -> Option<Arc<Session>> {
    if MODE.load(Ordering::Acquire) & SESSION == 0 {
        return None;
    }
    slot().active.clone()
}

/// The generation of the active trace, 0 if there is none.
pub(crate) fn current_generation() -> u64 {
    active_session().map_or(0, |session| session.generation)
}

/// A number for a new traced future.
pub(crate) fn next_task() -> TaskId {
    TaskId(NEXT_TASK.fetch_add(1, Ordering::Relaxed))
}

/// Records `event`, which came from trace generation `generation`.
pub(crate) fn record(generation: u64, event: Event) {
    if let Some(Some(file)) = FILE_SINK.get() {
        file.append(&event);
    }
    if let Some(session) = active_session()
        && session.generation == generation
    {
        session.append(event);
    }
}

/// Records that `task` (of trace `generation`) was woken, by whoever is waking now.
pub(crate) fn record_wake(generation: u64, task: TaskId) {
    record(generation, Event::Woken { task, by: waker() });
}

fn waker() -> WokenBy {
    let innermost = WAKING_AS
        .try_with(|stack| stack.borrow().last().cloned())
        .ok()
        .flatten();
    innermost.unwrap_or_else(|| match thread::current().name() {
        Some(name) => WokenBy::Thread(name.to_owned()),
        None => WokenBy::UnnamedThread,
    })
}

/// While alive, wakes on this thread are attributed to `by`, and executor events on this
/// thread to `generation`'s trace.
pub(crate) struct Attribution {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Attribution {
    pub(crate) fn enter(by: WokenBy, generation: Option<u64>) -> Attribution {
        let _ = WAKING_AS.try_with(|stack| stack.borrow_mut().push(by));
        if let Some(generation) = generation {
            let _ = POLLED_IN.try_with(|polled| polled.set(generation));
        }
        Attribution {
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for Attribution {
    fn drop(&mut self) {
        let _ = WAKING_AS.try_with(|stack| stack.borrow_mut().pop());
    }
}

/// Records an executor event, attributed to the trace of the futures this thread polls.
fn record_here(event: Event) {
    let generation = POLLED_IN.try_with(Cell::get).unwrap_or(0);
    record(generation, event);
}

/// Call just before the executor (or `block_on`) goes to sleep waiting for a wake.
///
/// Recorded as "executor parked". Does nothing unless a trace is being recorded. Call it
/// only when the thread really is about to block, and [`unparked`] when it wakes up.
pub fn parked() {
    if enabled() {
        record_here(Event::Parked);
    }
}

/// Call when the executor (or `block_on`) wakes up after [`parked`].
pub fn unparked() {
    if enabled() {
        record_here(Event::Unparked);
    }
}

/// Adds free text to the trace, e.g. `note("reactor: 2 events")`, attributed like [`parked`].
/// Does nothing unless a trace is being recorded; check [`is_on`] first if the text is
/// expensive to make.
pub fn note(text: impl Into<String>) {
    if enabled() {
        record_here(Event::Note(text.into()));
    }
}

/// Whether a trace is being recorded (by a test, or into `HARNESS_TRACE`).
pub fn is_on() -> bool {
    enabled()
}

/// Runs `f` with every wake it does on this thread attributed to `label` (for example
/// `waking_as("trigger", || trigger.fire())`), instead of to the thread's name.
pub fn waking_as<R>(label: &str, f: impl FnOnce() -> R) -> R {
    if !enabled() {
        return f();
    }
    let _attribution = Attribution::enter(WokenBy::Label(label.to_owned()), None);
    f()
}

/// Blocks until the active trace's records satisfy `done`, or `limit` passes. Returns whether
/// they did (false at once if no trace is active).
///
/// This is how a test waits for "the task has returned `Pending`" before firing a wake, so
/// that the order of the two is fixed. `done` runs with the trace locked: it must not record.
pub fn wait_for(limit: Duration, mut done: impl FnMut(&[Record]) -> bool) -> bool {
    let Some(session) = active_session() else {
        return false;
    };
    let deadline = Instant::now() + limit;
    let mut records = session.lock();
    loop {
        if done(&records) {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        records = session
            .changed
            .wait_timeout(records, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// Starts recording in memory for the calling test, and returns the handle to read the
/// events from. Recording stops when the handle is dropped.
///
/// Task numbers start again at `#1`. If another test in this process holds a `Trace`, this
/// waits for it to be dropped (keep the handle on the test's own thread, outside
/// `Watchdog::run`, so that a hung body cannot keep it forever).
pub fn start() -> Trace {
    enabled(); // read HARNESS_TRACE first, so that the file gets these events too
    let deadline = Instant::now() + START_LIMIT;
    let mut slot = slot();
    while slot.active.is_some() {
        let now = Instant::now();
        assert!(
            now < deadline,
            "harness::trace::start: another test in this process has held a trace for {:?}",
            START_LIMIT
        );
        slot = SESSION_ENDED
            .wait_timeout(slot, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    slot.generations += 1;
    let session = Arc::new(Session {
        generation: slot.generations,
        test_thread: thread::current().name().map(str::to_owned),
        started: Instant::now(),
        records: Mutex::new(Vec::new()),
        changed: Condvar::new(),
    });
    slot.active = Some(Arc::clone(&session));
    NEXT_TASK.store(1, Ordering::Relaxed);
    MODE.fetch_or(SESSION, Ordering::AcqRel);
    Trace { session }
}

/// A test's in-memory trace: what happened since [`start`], until it is dropped.
///
/// ```
/// use harness::trace::{self, Event, traced};
/// use harness::{Poller, yield_times};
///
/// let trace = trace::start();
/// let mut poller = Poller::new(traced("yield once", yield_times(1)));
/// poller.poll();
/// poller.poll();
/// let kinds: Vec<&str> = trace.records().iter().map(|r| match r.event {
///     Event::Spawned { .. } => "spawned",
///     Event::Poll { .. } => "poll",
///     Event::Woken { .. } => "woken",
///     Event::Pending { .. } => "pending",
///     Event::Ready { .. } => "ready",
///     _ => "other",
/// }).collect();
/// assert_eq!(kinds, ["spawned", "poll", "woken", "pending", "poll", "ready"]);
/// ```
#[derive(Debug)]
pub struct Trace {
    session: Arc<Session>,
}

impl Trace {
    /// A copy of every event recorded so far, oldest first.
    pub fn records(&self) -> Vec<Record> {
        self.session.lock().clone()
    }

    /// The name of the thread that started the trace (the test's thread), which the views
    /// call "the test".
    pub fn test_thread(&self) -> Option<&str> {
        self.session.test_thread.as_deref()
    }

    /// Runs `body`; if it panics (a failed assertion, a watchdog's HANG), panics again with the
    /// same message followed by this trace's text view, so the failure shows what happened.
    pub fn explain<T>(&self, body: impl FnOnce() -> T) -> T {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
            Ok(value) => value,
            Err(payload) => {
                let message = if let Some(text) = payload.downcast_ref::<String>() {
                    text.clone()
                } else if let Some(text) = payload.downcast_ref::<&str>() {
                    (*text).to_owned()
                } else {
                    "the test panicked".to_owned()
                };
                let view = self.text();
                panic!("{message}\n\nWhat the trace recorded up to the failure:\n\n{view}");
            }
        }
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        let mut slot = slot();
        if slot
            .active
            .as_ref()
            .is_some_and(|active| Arc::ptr_eq(active, &self.session))
        {
            slot.active = None;
            MODE.fetch_and(!SESSION, Ordering::AcqRel);
        }
        drop(slot);
        SESSION_ENDED.notify_all();
    }
}

#[derive(Debug)]
struct Session {
    generation: u64,
    test_thread: Option<String>,
    started: Instant,
    records: Mutex<Vec<Record>>,
    /// Notified after every append, for [`wait_for`].
    changed: Condvar,
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        // A push cannot be left half done by a panic; keep the records.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, event: Event) {
        let mut records = self.lock();
        let seq = records.len() as u64 + 1;
        records.push(Record {
            seq,
            at: self.started.elapsed(),
            event,
        });
        drop(records);
        self.changed.notify_all();
    }
}

/// The file named by `HARNESS_TRACE`.
struct FileSink {
    started: Instant,
    /// The file and the last sequence number written to it.
    file: Mutex<(File, u64)>,
}

impl FileSink {
    fn from_environment() -> Option<FileSink> {
        let path = PathBuf::from(std::env::var_os(ENV_VAR).filter(|v| !v.is_empty())?);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut file = match OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => file,
            Err(err) => {
                // Tracing is a debugging aid: a test must not fail because of it.
                eprintln!("harness::trace: cannot open {}: {err}", path.display());
                return None;
            }
        };
        let _ = file
            .write_all(b"# harness::trace v1: seq, microseconds, event, fields (tab-separated)\n");
        Some(FileSink {
            started: Instant::now(),
            file: Mutex::new((file, 0)),
        })
    }

    fn append(&self, event: &Event) {
        let mut guard = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let (file, seq) = &mut *guard;
        *seq += 1;
        let record = Record {
            seq: *seq,
            at: self.started.elapsed(),
            event: event.clone(),
        };
        let mut line = record.to_line();
        line.push('\n');
        // One write per line on an unbuffered file: nothing waits in our memory to be lost.
        let _ = file.write_all(line.as_bytes());
    }
}
