//! Stage 2's executor benchmark: the reference executor (and the learner's, with `--learner`)
//! against tokio's current-thread runtime and smol's `LocalExecutor`, on tokio's scheduler
//! micro-workloads plus `dup_wake`.
//!
//! ```text
//! cargo bench -p bench                                  # tokio-ct, smol-local, reference
//! cargo bench -p bench -- --learner                     # ... and the learner's executor
//! cargo bench -p bench -- --samples 51 --only yield_many
//! ```
//!
//! How it measures (see `README.md` for why):
//! * Every workload is written once, generic over [`Runtime`]; the leaves are runtime-neutral
//!   (`futures_lite::future::yield_now`, `futures::channel::oneshot`), so only the executor
//!   differs between runtimes.
//! * One runtime instance per (runtime, workload), reused for the warm-up and every sample, as
//!   tokio's own benches reuse theirs: a sample times the workload on a warm runtime, not the
//!   runtime's construction or its first allocations.
//! * Samples are interleaved: sample i of every runtime runs before sample i + 1 of any (the
//!   starting runtime rotates each round), so drift on a shared machine hits all of them alike.
//! * A cell is the median sample; ratios are to tokio-ct's median from the same run. Wall-clock
//!   figures are informational: nothing here passes or fails.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::process;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures_lite::future::yield_now;
use smol::LocalExecutor;

// ---------------------------------------------------------------------------------------------
// Runtimes
// ---------------------------------------------------------------------------------------------

/// What a workload needs from a runtime: spawn from inside tasks, and run a root future.
trait Runtime: Sized {
    const NAME: &'static str;
    /// Spawns tasks from inside other tasks.
    type Spawner: Clone + Send + 'static;

    fn new() -> Self;

    /// Spawns a task that runs to completion on its own (nothing joins it but its oneshot).
    fn spawn(spawner: &Self::Spawner, future: impl Future<Output = ()> + Send + 'static);

    /// Runs `root(spawner)` and returns once it has finished. Every workload's root awaits all
    /// the tasks it spawned, so by then everything has finished.
    fn run<F>(&mut self, root: impl FnOnce(Self::Spawner) -> F)
    where
        F: Future<Output = ()> + Send + 'static;
}

/// tokio's current-thread runtime; the root is the `block_on` future, as in tokio's benches.
struct TokioCt {
    rt: tokio::runtime::Runtime,
}

impl Runtime for TokioCt {
    const NAME: &'static str = "tokio-ct";
    type Spawner = tokio::runtime::Handle;

    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("build tokio's current-thread runtime");
        TokioCt { rt }
    }

    fn spawn(spawner: &Self::Spawner, future: impl Future<Output = ()> + Send + 'static) {
        // Dropping a tokio JoinHandle detaches the task.
        drop(spawner.spawn(future));
    }

    fn run<F>(&mut self, root: impl FnOnce(Self::Spawner) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = self.rt.handle().clone();
        self.rt.block_on(root(handle));
    }
}

thread_local! {
    /// The executor [`SmolSpawner`] spawns onto: `LocalExecutor` is not `Send`, the spawner must be.
    static SMOL: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
}

/// smol's single-threaded `LocalExecutor`, driven by `futures_lite::future::block_on`.
struct SmolLocal {
    ex: Rc<LocalExecutor<'static>>,
}

/// A `Send` handle on the `LocalExecutor` of the thread it is used on.
#[derive(Clone, Copy)]
struct SmolSpawner;

impl Runtime for SmolLocal {
    const NAME: &'static str = "smol-local";
    type Spawner = SmolSpawner;

    fn new() -> Self {
        SmolLocal {
            ex: Rc::new(LocalExecutor::new()),
        }
    }

    fn spawn(_: &SmolSpawner, future: impl Future<Output = ()> + Send + 'static) {
        SMOL.with_borrow(|ex| {
            let ex = ex
                .as_ref()
                .expect("SmolSpawner used outside SmolLocal::run");
            // Dropping a smol Task cancels it: detach it instead.
            ex.spawn(future).detach();
        });
    }

    fn run<F>(&mut self, root: impl FnOnce(Self::Spawner) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        SMOL.set(Some(Rc::clone(&self.ex)));
        futures_lite::future::block_on(self.ex.run(root(SmolSpawner)));
    }
}

impl Drop for SmolLocal {
    fn drop(&mut self) {
        SMOL.set(None);
    }
}

/// An adapter for a Stage 2 executor (the reference or the learner's: same API): the root is
/// spawned as a task, then `run()` returns once every task has finished.
macro_rules! waker_queue_runtime {
    ($(#[$doc:meta])* $adapter:ident, $krate:ident, $name:literal) => {
        $(#[$doc])*
        struct $adapter {
            ex: $krate::Executor,
        }

        impl Runtime for $adapter {
            const NAME: &'static str = $name;
            type Spawner = $krate::Spawner;

            fn new() -> Self {
                $adapter {
                    ex: $krate::Executor::new(),
                }
            }

            fn spawn(spawner: &Self::Spawner, future: impl Future<Output = ()> + Send + 'static) {
                spawner.spawn(future);
            }

            fn run<F>(&mut self, root: impl FnOnce(Self::Spawner) -> F)
            where
                F: Future<Output = ()> + Send + 'static,
            {
                self.ex.spawn(root(self.ex.spawner()));
                self.ex.run();
            }
        }
    };
}

waker_queue_runtime!(
    /// The course's reference executor (`solutions/02-waker-queue`).
    Reference,
    reference,
    "reference"
);
waker_queue_runtime!(
    /// The learner's executor (`exercises/02-waker-queue`); only run with `--learner`.
    Learner,
    learner,
    "learner"
);

// ---------------------------------------------------------------------------------------------
// Workloads (sizes as tokio's `rt_current_thread.rs` / `rt_multi_threaded.rs`)
// ---------------------------------------------------------------------------------------------

const SPAWN_MANY: usize = 1_000;
const YIELD_TASKS: usize = 200;
const YIELDS_PER_TASK: usize = 1_000;
const PINGS: usize = 1_000;
const CHAIN_DEPTH: usize = 1_000;
const DUP_WAKE_ROUND_TRIPS: usize = 10_000;
/// How many times each notification wakes the waiting task in `dup_wake`.
const DUP_WAKES: usize = 8;

const DROPPED: &str = "a task was dropped before it finished (the executor lost it)";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Workload {
    /// The root spawns 1 000 empty tasks and awaits them all: spawn + join throughput (task
    /// allocation, queue push, first poll). A weak discriminator alone (a naive executor is
    /// already close to tokio here), but the baseline every executor is compared on.
    SpawnMany,
    /// 200 tasks each yield 1 000 times (`wake_by_ref` + Pending): the wake -> queue -> poll
    /// round trip, the executor's hot path, with no spawning in the way.
    YieldMany,
    /// 1 000 pings: each spawns a peer and the two exchange oneshots. Message passing between
    /// tasks: wakes of tasks that are not running, mixed with spawns.
    PingPong,
    /// A chain 1 000 deep, each task spawning the next: spawn from inside a task with a queue
    /// of length one, so per-spawn latency rather than batch throughput.
    ChainedSpawn,
    /// Two tasks ping-pong 10 000 times; every notification wakes the waiter 8 times before it
    /// runs. An executor that does not dedupe wakes polls 8 times per message (the research
    /// measured a naive one at 4.4x tokio): the workload that catches a missing `scheduled` flag.
    DupWake,
}

impl Workload {
    const ALL: [Workload; 5] = [
        Workload::SpawnMany,
        Workload::YieldMany,
        Workload::PingPong,
        Workload::ChainedSpawn,
        Workload::DupWake,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::SpawnMany => "spawn_many",
            Workload::YieldMany => "yield_many",
            Workload::PingPong => "ping_pong",
            Workload::ChainedSpawn => "chained_spawn",
            Workload::DupWake => "dup_wake",
        }
    }

    /// The reference executor's target, as a ratio to tokio-ct's median in the same run.
    fn target(self) -> f64 {
        match self {
            Workload::DupWake => 1.2,
            _ => 1.3,
        }
    }

    fn run<R: Runtime>(self, rt: &mut R) {
        match self {
            Workload::SpawnMany => spawn_many(rt),
            Workload::YieldMany => yield_many(rt),
            Workload::PingPong => ping_pong(rt),
            Workload::ChainedSpawn => chained_spawn(rt),
            Workload::DupWake => dup_wake(rt),
        }
    }
}

fn spawn_many<R: Runtime>(rt: &mut R) {
    rt.run(|spawner| async move {
        let mut done = Vec::with_capacity(SPAWN_MANY);
        for _ in 0..SPAWN_MANY {
            let (tx, rx) = oneshot::channel();
            R::spawn(&spawner, async move {
                let _ = tx.send(());
            });
            done.push(rx);
        }
        for rx in done {
            rx.await.expect(DROPPED);
        }
    });
}

fn yield_many<R: Runtime>(rt: &mut R) {
    rt.run(|spawner| async move {
        let mut done = Vec::with_capacity(YIELD_TASKS);
        for _ in 0..YIELD_TASKS {
            let (tx, rx) = oneshot::channel();
            R::spawn(&spawner, async move {
                for _ in 0..YIELDS_PER_TASK {
                    yield_now().await;
                }
                let _ = tx.send(());
            });
            done.push(rx);
        }
        for rx in done {
            rx.await.expect(DROPPED);
        }
    });
}

/// Counts tasks down; the last one to finish sends on the oneshot (tokio's `ping_pong` uses a
/// counter and one "done" signal the same way).
struct Countdown {
    remaining: AtomicUsize,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Countdown {
    fn finish_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(done) = lock(&self.done).take()
        {
            let _ = done.send(());
        }
    }
}

fn ping_pong<R: Runtime>(rt: &mut R) {
    rt.run(|spawner| async move {
        let (done_tx, done_rx) = oneshot::channel();
        let countdown = Arc::new(Countdown {
            remaining: AtomicUsize::new(PINGS),
            done: Mutex::new(Some(done_tx)),
        });
        for _ in 0..PINGS {
            let peer_spawner = spawner.clone();
            let countdown = Arc::clone(&countdown);
            R::spawn(&spawner, async move {
                let (tx1, rx1) = oneshot::channel::<()>();
                let (tx2, rx2) = oneshot::channel::<()>();
                R::spawn(&peer_spawner, async move {
                    rx1.await.expect(DROPPED);
                    let _ = tx2.send(());
                });
                let _ = tx1.send(());
                rx2.await.expect(DROPPED);
                countdown.finish_one();
            });
        }
        done_rx.await.expect(DROPPED);
    });
}

/// Spawns the next link of the chain, or signals `done` at the end of it.
fn chain<R: Runtime>(spawner: R::Spawner, left: usize, done: oneshot::Sender<()>) {
    if left == 0 {
        let _ = done.send(());
    } else {
        let next = spawner.clone();
        R::spawn(&spawner, async move { chain::<R>(next, left - 1, done) });
    }
}

fn chained_spawn<R: Runtime>(rt: &mut R) {
    rt.run(|spawner| async move {
        let (tx, rx) = oneshot::channel();
        chain::<R>(spawner, CHAIN_DEPTH, tx);
        rx.await.expect(DROPPED);
    });
}

/// A one-bit mailbox between two tasks whose notifier wakes the waiter [`DUP_WAKES`] times,
/// modelling several readiness sources firing for one task (`dup_wake_xK` in the research).
#[derive(Default)]
struct Flag {
    set: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Flag {
    fn notify(&self) {
        self.set.store(true, Ordering::SeqCst);
        if let Some(waker) = lock(&self.waker).as_ref() {
            for _ in 0..DUP_WAKES {
                waker.wake_by_ref();
            }
        }
    }

    /// Completes once the flag is set, and clears it.
    async fn wait(&self) {
        poll_fn(|cx| {
            if self.set.swap(false, Ordering::SeqCst) {
                return Poll::Ready(());
            }
            {
                let mut slot = lock(&self.waker);
                match slot.as_ref() {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
            }
            // Checked again after registering: a notify in between is not lost.
            if self.set.swap(false, Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

fn dup_wake<R: Runtime>(rt: &mut R) {
    rt.run(|spawner| async move {
        let ping = Arc::new(Flag::default());
        let pong = Arc::new(Flag::default());
        let (a_done, a_rx) = oneshot::channel();
        let (b_done, b_rx) = oneshot::channel();
        {
            let (ping, pong) = (Arc::clone(&ping), Arc::clone(&pong));
            R::spawn(&spawner, async move {
                for _ in 0..DUP_WAKE_ROUND_TRIPS {
                    ping.notify();
                    pong.wait().await;
                }
                let _ = a_done.send(());
            });
        }
        R::spawn(&spawner, async move {
            for _ in 0..DUP_WAKE_ROUND_TRIPS {
                ping.wait().await;
                pong.notify();
            }
            let _ = b_done.send(());
        });
        a_rx.await.expect(DROPPED);
        b_rx.await.expect(DROPPED);
    });
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

/// Runs one workload on one runtime; the runtime is built on the first call (untimed) and
/// reused for every later one.
trait Sampler {
    fn sample(&mut self, workload: Workload) -> Duration;
}

struct Adapter<R>(Option<R>);

impl<R: Runtime> Sampler for Adapter<R> {
    fn sample(&mut self, workload: Workload) -> Duration {
        let rt = self.0.get_or_insert_with(R::new);
        let start = Instant::now();
        workload.run(rt);
        start.elapsed()
    }
}

/// One runtime's samples of the current workload.
struct Lane {
    name: &'static str,
    /// Catch panics (the learner's code): report them instead of aborting the run.
    catch: bool,
    sampler: Option<Box<dyn Sampler>>,
    times: Vec<Duration>,
    failure: Option<String>,
}

impl Lane {
    fn new<R: Runtime + 'static>(catch: bool) -> Lane {
        Lane {
            name: R::NAME,
            catch,
            sampler: Some(Box::new(Adapter::<R>(None))),
            times: Vec::new(),
            failure: None,
        }
    }

    /// Runs one sample, unless this lane has already failed; `keep` is false for warm-ups.
    fn sample(&mut self, workload: Workload, keep: bool) {
        let Some(sampler) = self.sampler.as_mut() else {
            return;
        };
        *lock(&RUNNING) = Some((Instant::now(), self.name, workload.name()));
        let result = if self.catch {
            CAPTURE_PANICS.set(true);
            let result = panic::catch_unwind(AssertUnwindSafe(|| sampler.sample(workload)));
            CAPTURE_PANICS.set(false);
            result.map_err(|_| {
                LAST_PANIC
                    .take()
                    .unwrap_or_else(|| "panicked (no message)".to_owned())
            })
        } else {
            Ok(sampler.sample(workload))
        };
        *lock(&RUNNING) = None;
        match result {
            Ok(time) if keep => self.times.push(time),
            Ok(_) => {}
            Err(message) => {
                // Leaked on purpose: after a panic its state is unknown, and dropping it could
                // panic again or block.
                std::mem::forget(self.sampler.take());
                self.failure = Some(message);
            }
        }
    }

    fn median(&self) -> Option<Duration> {
        let mut times = self.times.clone();
        times.sort_unstable();
        let n = times.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(times[n / 2]),
            _ => Some((times[n / 2 - 1] + times[n / 2]) / 2),
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        let sampler = self.sampler.take();
        if self.catch {
            CAPTURE_PANICS.set(true);
            let dropped = panic::catch_unwind(AssertUnwindSafe(|| drop(sampler)));
            CAPTURE_PANICS.set(false);
            if dropped.is_err() {
                eprintln!(
                    "note: {}'s executor panicked while being dropped: {}",
                    self.name,
                    LAST_PANIC.take().unwrap_or_default()
                );
            }
        }
    }
}

thread_local! {
    /// Set while the learner's code runs: the panic hook records the message instead of
    /// printing a backtrace note.
    static CAPTURE_PANICS: Cell<bool> = const { Cell::new(false) };
    /// The last captured panic: its message, then a line "  at file:line:col".
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if CAPTURE_PANICS.get() {
            let message = info.payload_as_str().unwrap_or("(a non-string payload)");
            let mut text = message.to_owned();
            if let Some(at) = info.location() {
                let _ = write!(text, "\n  at {at}");
            }
            LAST_PANIC.set(Some(text));
        } else {
            default(info);
        }
    }));
}

/// The sample running now, for the watchdog: when it started, the runtime, the workload.
static RUNNING: Mutex<Option<(Instant, &'static str, &'static str)>> = Mutex::new(None);
/// A sample takes milliseconds; one still running after this never returns.
const STUCK_AFTER: Duration = Duration::from_secs(30);

/// A hung executor (a lost wake-up, or `run` that never returns) cannot be caught like a panic:
/// report it and exit instead of hanging. Checks once a second, so it costs nothing measurable.
fn start_watchdog() {
    thread::spawn(|| {
        loop {
            thread::sleep(Duration::from_secs(1));
            if let Some((since, runtime, workload)) = *lock(&RUNNING)
                && since.elapsed() > STUCK_AFTER
            {
                eprintln!(
                    "error: {runtime} did not finish {workload} within {} s. `run()` must return \
                     once every task has finished; a task that is never woken again, or a wake \
                     that does not reach a sleeping `run()`, leaves it asleep forever.",
                    STUCK_AFTER.as_secs()
                );
                process::exit(3);
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Command line and output
// ---------------------------------------------------------------------------------------------

struct Options {
    samples: usize,
    warmup: usize,
    learner: bool,
    only: Vec<Workload>,
}

const USAGE: &str = "\
usage: cargo bench -p bench -- [--learner] [--samples N] [--warmup N] [--only WORKLOAD[,..]]
  --learner        also run the learner's executor (exercises/02-waker-queue)
  --samples N      timed samples per runtime and workload (default 21)
  --warmup N       untimed warm-up runs before them (default 3)
  --only W[,W..]   only these workloads (repeatable); also accepted as bare names
workloads: spawn_many, yield_many, ping_pong, chained_spawn, dup_wake";

fn fail_usage(message: &str) -> ! {
    eprintln!("error: {message}\n{USAGE}");
    process::exit(2);
}

fn parse_options() -> Options {
    let mut options = Options {
        samples: 21,
        warmup: 3,
        learner: false,
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let count = |flag: &str, value: Option<String>, min: usize| -> usize {
        match value.as_deref().map(str::parse::<usize>) {
            Some(Ok(n)) if n >= min => n,
            _ => fail_usage(&format!("{flag} needs a whole number >= {min}")),
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo passes --bench to every bench target.
            "--bench" => {}
            "--learner" => options.learner = true,
            "--samples" => options.samples = count("--samples", args.next(), 1),
            "--warmup" => options.warmup = count("--warmup", args.next(), 0),
            "--only" => match args.next() {
                Some(names) => add_workloads(&mut options.only, &names),
                None => fail_usage("--only needs a workload name"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                process::exit(0);
            }
            // `cargo bench -p bench -- ...` hands the same arguments to the echo benchmark:
            // skip its options here.
            "--connections" | "--rounds" | "--warmup-ms" | "--window-ms" => {
                args.next();
            }
            name if !name.starts_with('-') => add_workloads(&mut options.only, name),
            other => fail_usage(&format!("unknown option {other}")),
        }
    }
    options
}

fn add_workloads(only: &mut Vec<Workload>, names: &str) {
    for name in names.split(',').filter(|name| !name.is_empty()) {
        match Workload::ALL.iter().find(|w| w.name() == name) {
            Some(workload) if !only.contains(workload) => only.push(*workload),
            Some(_) => {}
            None => fail_usage(&format!("unknown workload {name}")),
        }
    }
}

impl Options {
    /// The command that reproduces this run.
    fn command(&self) -> String {
        let mut command = String::from("cargo bench -p bench --");
        if self.learner {
            command.push_str(" --learner");
        }
        let _ = write!(command, " --samples {}", self.samples);
        if self.warmup != 3 {
            let _ = write!(command, " --warmup {}", self.warmup);
        }
        if !self.only.is_empty() {
            let names: Vec<_> = self.only.iter().map(|w| w.name()).collect();
            let _ = write!(command, " --only {}", names.join(","));
        }
        command
    }
}

const NOT_IMPLEMENTED: &str = "not implemented yet";

/// A `×tokio` cell, 13 columns wide: the ratio, then `!` when it misses `target`.
fn ratio_cell(lane: &Lane, tokio: Duration, target: Option<f64>) -> String {
    if let Some(failure) = &lane.failure {
        let todo = failure.contains("not yet implemented") || failure.contains("not implemented");
        return format!("{} ", if todo { NOT_IMPLEMENTED } else { "panicked" });
    }
    let Some(median) = lane.median() else {
        return "-".to_owned();
    };
    let ratio = median.as_secs_f64() / tokio.as_secs_f64();
    let miss = target.is_some_and(|target| ratio > target);
    format!(
        "{:>12}{}",
        format!("{ratio:.2}×"),
        if miss { "!" } else { " " }
    )
}

fn main() {
    let options = parse_options();
    install_panic_hook();
    start_watchdog();
    if cfg!(debug_assertions) {
        eprintln!("warning: built without optimisations; run it with `cargo bench -p bench`");
    }

    // Always in the same order, whatever the order of `--only`.
    let workloads = Workload::ALL
        .into_iter()
        .filter(|w| options.only.is_empty() || options.only.contains(w));
    // Ratio cells end in a marker column (`!` or a space): headers end one column before it.
    let learner_header = if options.learner { "learner" } else { "" };
    let header = format!(
        "{:<14}{:>12}{:>12} {:>12} {:>20}",
        "workload", "tokio-ct µs", "smol-local", "reference", learner_header
    );
    println!("{}", header.trim_end());

    let mut failures: Vec<(&'static str, String)> = Vec::new();
    for workload in workloads {
        let mut lanes = vec![
            Lane::new::<TokioCt>(false),
            Lane::new::<SmolLocal>(false),
            Lane::new::<Reference>(false),
        ];
        if options.learner {
            lanes.push(Lane::new::<Learner>(true));
        }
        for round in 0..options.warmup + options.samples {
            let keep = round >= options.warmup;
            for k in 0..lanes.len() {
                let index = (round + k) % lanes.len();
                lanes[index].sample(workload, keep);
            }
        }

        let tokio = lanes[0].median().expect("tokio-ct has samples");
        let mut row = format!("{:<14}{:>12.1}", workload.name(), tokio.as_secs_f64() * 1e6);
        for lane in &lanes[1..] {
            let target = (lane.name == Reference::NAME).then(|| workload.target());
            let cell = ratio_cell(lane, tokio, target);
            let width = if lane.name == Learner::NAME { 21 } else { 13 };
            let _ = write!(row, "{cell:>width$}");
            if let Some(failure) = &lane.failure {
                failures.push((workload.name(), format!("{}: {failure}", lane.name)));
            }
        }
        println!("{}", row.trim_end());
    }

    println!();
    println!("command: {}", options.command());
    println!(
        "samples: {} per cell after {} warm-up, interleaved across runtimes; cells are medians",
        options.samples, options.warmup
    );
    println!(
        "reference targets: ≤ 1.3× tokio-ct on spawn_many, yield_many, ping_pong, chained_spawn;"
    );
    println!(
        "≤ 1.2× on dup_wake. `!` marks a miss. Same-run wall-clock ratios: informational only."
    );

    // One note per distinct failure, naming the workloads it hit.
    let mut notes: Vec<(Vec<&str>, String)> = Vec::new();
    for (workload, message) in failures {
        match notes.iter_mut().find(|(_, m)| *m == message) {
            Some((hit, _)) => hit.push(workload),
            None => notes.push((vec![workload], message)),
        }
    }
    for (hit, message) in notes {
        println!("\n{message}\n  in {}", hit.join(", "));
    }
}
