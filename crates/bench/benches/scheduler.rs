//! Stage 10's scheduler benchmark: the work-stealing reference on 2 workers (and again with
//! stealing off) against tokio's multi-thread runtime and smol's `Executor`, each on 2
//! threads, on tokio's scheduler workloads and a fan-out imbalance workload.
//!
//! ```text
//! cargo bench -p bench --bench scheduler                 # tokio-mt, smol, reference, no-steal
//! cargo bench -p bench --bench scheduler -- --learner    # ... and the learner's runtime
//! cargo bench -p bench --bench scheduler -- --samples 51 --only yield_many
//! ```
//!
//! Workloads (the root is spawned as a task and awaited from the bench's thread, which is not
//! a worker, on every runtime):
//! * `spawn_many`: the root spawns 10 000 empty tasks and awaits them all.
//! * `yield_many`: 100 tasks × 1 000 `yield_now().await`.
//! * `ping_pong`: 1 000 pings; each spawns a pong and they swap oneshots.
//! * `chained_spawn`: a chain of 1 000 tasks, each spawning the next.
//! * `fan_out`: the root spawns 64 tasks that each spin for 250 µs: all land on the root's
//!   worker, so without stealing one worker does all of it (≈ 16 ms), with stealing the work
//!   is shared (≈ 8 ms on 2 workers).
//!
//! As in `spawn`: one runtime per (runtime, workload), reused for the warm-up and every
//! sample; samples interleaved (the starting runtime rotates each round); a cell is the median
//! sample, shown as a ratio to tokio-mt's median from the same run. Nothing here passes or
//! fails; a reference cell above its target (1.3x tokio-mt) is marked `!`.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

const WORKERS: usize = 2;
const TARGET: f64 = 1.3;
const SPAWN_MANY: u64 = 10_000;
const YIELD_TASKS: u64 = 100;
const YIELDS: u64 = 1_000;
const PINGS: u64 = 1_000;
const CHAIN: u64 = 1_000;
const FAN: u64 = 64;
const SPIN: Duration = Duration::from_micros(250);

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    SpawnMany,
    YieldMany,
    PingPong,
    ChainedSpawn,
    FanOut,
}

const WORKLOADS: [(Workload, &str); 5] = [
    (Workload::SpawnMany, "spawn_many"),
    (Workload::YieldMany, "yield_many"),
    (Workload::PingPong, "ping_pong"),
    (Workload::ChainedSpawn, "chained_spawn"),
    (Workload::FanOut, "fan_out (64 x 250us)"),
];

/// What a workload returns, checked so that no runtime can skip work.
fn expected(workload: Workload) -> u64 {
    match workload {
        Workload::SpawnMany => SPAWN_MANY,
        Workload::YieldMany => YIELD_TASKS * YIELDS,
        Workload::PingPong => PINGS,
        Workload::ChainedSpawn => CHAIN,
        Workload::FanOut => FAN,
    }
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A runtime's spawn, as the workloads need it: every handle becomes a boxed future of the
/// output (the same boxing for every runtime, so only the scheduler differs).
trait Spawn: Clone + Send + Sync + 'static {
    fn spawn<T: Send + 'static>(&self, future: Boxed<T>) -> Boxed<T>;

    /// Spawns a task that runs to its end with nobody awaiting it (smol cancels a task whose
    /// handle is dropped, so "drop the handle" is not the same everywhere).
    fn detach(&self, future: Boxed<()>) {
        drop(self.spawn(future));
    }
}

#[derive(Clone)]
struct Tokio(tokio::runtime::Handle);

impl Spawn for Tokio {
    fn spawn<T: Send + 'static>(&self, future: Boxed<T>) -> Boxed<T> {
        let handle = self.0.spawn(future);
        Box::pin(async move { handle.await.unwrap() })
    }
}

#[derive(Clone)]
struct Smol(Arc<smol::Executor<'static>>);

impl Spawn for Smol {
    fn spawn<T: Send + 'static>(&self, future: Boxed<T>) -> Boxed<T> {
        Box::pin(self.0.spawn(future))
    }

    fn detach(&self, future: Boxed<()>) {
        self.0.spawn(future).detach();
    }
}

/// The course's runtime API (the reference's and the learner's are the same API).
macro_rules! course_spawn {
    ($name:ident, $krate:ident) => {
        #[derive(Clone)]
        struct $name($krate::Handle);

        impl Spawn for $name {
            fn spawn<T: Send + 'static>(&self, future: Boxed<T>) -> Boxed<T> {
                let handle = self.0.spawn(future);
                Box::pin(async move { handle.await.unwrap() })
            }
        }
    };
}

course_spawn!(Reference, stealing_reference);
course_spawn!(Learner, stealing_learner);

/// The workload's root task.
fn root<S: Spawn>(rt: S, workload: Workload) -> Boxed<u64> {
    Box::pin(async move {
        match workload {
            Workload::SpawnMany => {
                let handles: Vec<_> = (0..SPAWN_MANY)
                    .map(|_| rt.spawn(Box::pin(async { 1u64 })))
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await;
                }
                sum
            }
            Workload::YieldMany => {
                let handles: Vec<_> = (0..YIELD_TASKS)
                    .map(|_| {
                        rt.spawn(Box::pin(async {
                            for _ in 0..YIELDS {
                                futures_lite::future::yield_now().await;
                            }
                            YIELDS
                        }))
                    })
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await;
                }
                sum
            }
            Workload::PingPong => {
                let handles: Vec<_> = (0..PINGS)
                    .map(|_| {
                        let inner = rt.clone();
                        rt.spawn(Box::pin(async move {
                            let (ping_tx, ping_rx) = oneshot::channel::<u64>();
                            let (pong_tx, pong_rx) = oneshot::channel::<u64>();
                            let pong = inner.spawn(Box::pin(async move {
                                let n = ping_rx.await.unwrap();
                                pong_tx.send(n).unwrap();
                            }));
                            ping_tx.send(1).unwrap();
                            let n = pong_rx.await.unwrap();
                            pong.await;
                            n
                        }))
                    })
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await;
                }
                sum
            }
            Workload::ChainedSpawn => {
                fn link<S: Spawn>(rt: S, left: u64, done: oneshot::Sender<u64>) {
                    let next = rt.clone();
                    rt.detach(Box::pin(async move {
                        if left == 1 {
                            done.send(CHAIN).unwrap();
                        } else {
                            link(next, left - 1, done);
                        }
                    }));
                }
                let (tx, rx) = oneshot::channel();
                link(rt, CHAIN, tx);
                rx.await.unwrap()
            }
            Workload::FanOut => {
                let handles: Vec<_> = (0..FAN)
                    .map(|_| {
                        rt.spawn(Box::pin(async {
                            let start = Instant::now();
                            while start.elapsed() < SPIN {
                                std::hint::spin_loop();
                            }
                            1u64
                        }))
                    })
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await;
                }
                sum
            }
        }
    })
}

/// One runtime instance, able to run any workload once.
trait Lane {
    fn run(&mut self, workload: Workload) -> u64;
}

struct TokioLane(tokio::runtime::Runtime);

impl Lane for TokioLane {
    fn run(&mut self, workload: Workload) -> u64 {
        let rt = Tokio(self.0.handle().clone());
        let task = rt.spawn(root(rt.clone(), workload));
        self.0.block_on(task)
    }
}

/// smol's `Executor` run by `WORKERS` threads until the lane is dropped.
struct SmolLane {
    ex: Arc<smol::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl SmolLane {
    fn new() -> SmolLane {
        let ex = Arc::new(smol::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..WORKERS)
            .map(|_| {
                let (ex, stopped) = (Arc::clone(&ex), stopped.clone());
                std::thread::spawn(move || {
                    let _ = smol::future::block_on(ex.run(stopped.recv()));
                })
            })
            .collect();
        SmolLane {
            ex,
            stop: Some(stop),
            threads,
        }
    }
}

impl Drop for SmolLane {
    fn drop(&mut self) {
        drop(self.stop.take()); // closes the channel: every `run` returns
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Lane for SmolLane {
    fn run(&mut self, workload: Workload) -> u64 {
        let rt = Smol(Arc::clone(&self.ex));
        smol::future::block_on(rt.spawn(root(rt.clone(), workload)))
    }
}

macro_rules! course_lane {
    ($lane:ident, $spawn:ident, $krate:ident) => {
        struct $lane($krate::Runtime);

        impl Lane for $lane {
            fn run(&mut self, workload: Workload) -> u64 {
                let rt = $spawn(self.0.handle());
                let task = rt.spawn(root(rt.clone(), workload));
                self.0.block_on(task)
            }
        }
    };
}

course_lane!(ReferenceLane, Reference, stealing_reference);
course_lane!(LearnerLane, Learner, stealing_learner);

/// A column: a name, a lane (None once it failed), its samples.
struct Column {
    name: &'static str,
    lane: Option<Box<dyn Lane>>,
    samples: Vec<Duration>,
    failure: Option<String>,
}

impl Column {
    fn new(name: &'static str, make: impl FnOnce() -> Box<dyn Lane>) -> Column {
        match panic::catch_unwind(AssertUnwindSafe(make)) {
            Ok(lane) => Column {
                name,
                lane: Some(lane),
                samples: Vec::new(),
                failure: None,
            },
            Err(payload) => Column {
                name,
                lane: None,
                samples: Vec::new(),
                failure: Some(message(&*payload)),
            },
        }
    }

    fn sample(&mut self, workload: Workload) {
        let Some(lane) = self.lane.as_mut() else {
            return;
        };
        let start = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| lane.run(workload)));
        let elapsed = start.elapsed();
        match outcome {
            Ok(sum) if sum == expected(workload) => self.samples.push(elapsed),
            Ok(sum) => {
                self.failure = Some(format!(
                    "wrong result {sum} (expected {})",
                    expected(workload)
                ));
                self.lane = None;
            }
            Err(payload) => {
                self.failure = Some(message(&*payload));
                self.lane = None;
            }
        }
    }

    fn median(&self) -> Option<Duration> {
        let mut sorted = self.samples.clone();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied()
    }
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    if text.contains("not yet implemented") {
        "not implemented yet".to_owned()
    } else {
        format!("panicked: {text}")
    }
}

fn columns(learner: bool) -> Vec<Column> {
    let mut columns = vec![
        Column::new("tokio-mt", || {
            Box::new(TokioLane(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(WORKERS)
                    .build()
                    .unwrap(),
            ))
        }),
        Column::new("smol", || Box::new(SmolLane::new())),
        Column::new("reference", || {
            Box::new(ReferenceLane(
                stealing_reference::Builder::new()
                    .worker_threads(WORKERS)
                    .build(),
            ))
        }),
        Column::new("no-steal", || {
            Box::new(ReferenceLane(
                stealing_reference::Builder::new()
                    .worker_threads(WORKERS)
                    .stealing(false)
                    .build(),
            ))
        }),
    ];
    if learner {
        columns.push(Column::new("learner", || {
            Box::new(LearnerLane(
                stealing_learner::Builder::new()
                    .worker_threads(WORKERS)
                    .build(),
            ))
        }));
    }
    columns
}

fn main() {
    let mut samples = 21;
    let mut learner = false;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--learner" => learner = true,
            "--samples" => {
                samples = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .expect("--samples needs a positive number");
            }
            "--only" => only = Some(args.next().expect("--only needs a workload name")),
            "--bench" => {} // cargo bench passes it
            "--help" | "-h" => {
                println!(
                    "scheduler benchmark: cargo bench -p bench --bench scheduler -- [--learner] [--samples N] [--only WORKLOAD]"
                );
                return;
            }
            other => panic!("unknown option {other:?} (try --help)"),
        }
    }
    // A learner's todo!() would print a panic message per sample: keep the table readable.
    panic::set_hook(Box::new(|_| {}));
    println!(
        "{WORKERS} worker threads each; median of {samples} samples; tokio-mt in ms, the others as a ratio to it"
    );
    println!();
    let mut header = format!(
        "{:<22} {:>10} {:>9} {:>10} {:>9}",
        "workload", "tokio-mt", "smol", "reference", "no-steal"
    );
    if learner {
        header.push_str(&format!(" {:>9}", "learner"));
    }
    println!("{header}");
    let mut notes = Vec::new();
    for (workload, label) in WORKLOADS {
        if only.as_deref().is_some_and(|only| !label.starts_with(only)) {
            continue;
        }
        let mut columns = columns(learner);
        for column in &mut columns {
            column.sample(workload); // warm-up, not recorded
            column.samples.clear();
        }
        for round in 0..samples {
            let n = columns.len();
            for k in 0..n {
                columns[(round + k) % n].sample(workload);
            }
        }
        let base = columns[0].median().expect("tokio-mt ran");
        let mut row = format!("{label:<22} {:>8.2}ms", base.as_secs_f64() * 1e3);
        for column in &columns[1..] {
            let cell = match column.median() {
                Some(median) if column.failure.is_none() => {
                    let ratio = median.as_secs_f64() / base.as_secs_f64();
                    let mark = if column.name == "reference" && ratio > TARGET {
                        "!"
                    } else {
                        ""
                    };
                    format!("{ratio:.2}x{mark}")
                }
                _ => {
                    notes.push(format!(
                        "{} on {label}: {}",
                        column.name,
                        column.failure.clone().unwrap_or_default()
                    ));
                    "failed".to_owned()
                }
            };
            row.push_str(&format!(" {cell:>9}"));
        }
        println!("{row}");
    }
    for note in notes {
        println!("  {note}");
    }
}
