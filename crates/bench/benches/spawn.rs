//! Stage 7's spawn benchmark: spawn + join through a `JoinHandle`, on the reference runtime
//! (and the learner's, with `--learner`) against tokio's current-thread runtime and smol's
//! `LocalExecutor` and `Executor`, each driven on one thread.
//!
//! ```text
//! cargo bench -p bench --bench spawn                 # tokio-ct, smol-local, smol, reference
//! cargo bench -p bench --bench spawn -- --learner    # ... and the learner's runtime
//! cargo bench -p bench --bench spawn -- --samples 51
//! ```
//!
//! Workloads (every task is tiny, so what is measured is the runtime's own cost: allocate a
//! task, queue it, poll it, hand its output to the handle, wake the joiner):
//! * `spawn_join`: the root spawns 10 000 tasks, keeps their handles, awaits them in order.
//! * `fan_out`: the root spawns 100 tasks; each spawns 100 tasks and joins them.
//!
//! As in `executors`: one runtime per (runtime, workload), reused for the warm-up and every
//! sample; samples interleaved (the starting runtime rotates each round); a cell is the median
//! sample, shown as a ratio to tokio-ct's median from the same run. Nothing here passes or
//! fails; a reference cell above its target (1.3x tokio-ct) is marked `!`.

use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TASKS: u64 = 10_000;
const FAN: u64 = 100;
const TARGET: f64 = 1.3;
/// What both workloads return: checked so that no runtime can skip work.
const SPAWN_JOIN_SUM: u64 = TASKS * (TASKS - 1) / 2;
const FAN_OUT_SUM: u64 = (FAN * (FAN - 1) / 2) * (FAN * (FAN - 1) / 2);

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    SpawnJoin,
    FanOut,
}

const WORKLOADS: [(Workload, &str); 2] = [
    (Workload::SpawnJoin, "spawn_join (10 000 tasks)"),
    (Workload::FanOut, "fan_out (100 x 100 tasks)"),
];

/// One runtime instance, able to run either workload once.
trait Lane {
    fn run(&mut self, workload: Workload) -> u64;
}

struct TokioCt(tokio::runtime::Runtime);

impl Lane for TokioCt {
    fn run(&mut self, workload: Workload) -> u64 {
        self.0.block_on(async {
            match workload {
                Workload::SpawnJoin => {
                    let handles: Vec<_> =
                        (0..TASKS).map(|i| tokio::spawn(async move { i })).collect();
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await.unwrap();
                    }
                    sum
                }
                Workload::FanOut => {
                    let outer: Vec<_> = (0..FAN)
                        .map(|i| {
                            tokio::spawn(async move {
                                let inner: Vec<_> = (0..FAN)
                                    .map(|j| tokio::spawn(async move { i * j }))
                                    .collect();
                                let mut sum = 0;
                                for handle in inner {
                                    sum += handle.await.unwrap();
                                }
                                sum
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for handle in outer {
                        sum += handle.await.unwrap();
                    }
                    sum
                }
            }
        })
    }
}

struct SmolLocal(Rc<smol::LocalExecutor<'static>>);

impl Lane for SmolLocal {
    fn run(&mut self, workload: Workload) -> u64 {
        let ex = Rc::clone(&self.0);
        smol::future::block_on(self.0.run(async move {
            match workload {
                Workload::SpawnJoin => {
                    let handles: Vec<_> = (0..TASKS).map(|i| ex.spawn(async move { i })).collect();
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await;
                    }
                    sum
                }
                Workload::FanOut => {
                    let outer: Vec<_> = (0..FAN)
                        .map(|i| {
                            let inner_ex = Rc::clone(&ex);
                            ex.spawn(async move {
                                let inner: Vec<_> = (0..FAN)
                                    .map(|j| inner_ex.spawn(async move { i * j }))
                                    .collect();
                                let mut sum = 0;
                                for handle in inner {
                                    sum += handle.await;
                                }
                                sum
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for handle in outer {
                        sum += handle.await;
                    }
                    sum
                }
            }
        }))
    }
}

struct Smol(Arc<smol::Executor<'static>>);

impl Lane for Smol {
    fn run(&mut self, workload: Workload) -> u64 {
        let ex = Arc::clone(&self.0);
        smol::future::block_on(self.0.run(async move {
            match workload {
                Workload::SpawnJoin => {
                    let handles: Vec<_> = (0..TASKS).map(|i| ex.spawn(async move { i })).collect();
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await;
                    }
                    sum
                }
                Workload::FanOut => {
                    let outer: Vec<_> = (0..FAN)
                        .map(|i| {
                            let inner_ex = Arc::clone(&ex);
                            ex.spawn(async move {
                                let inner: Vec<_> = (0..FAN)
                                    .map(|j| inner_ex.spawn(async move { i * j }))
                                    .collect();
                                let mut sum = 0;
                                for handle in inner {
                                    sum += handle.await;
                                }
                                sum
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for handle in outer {
                        sum += handle.await;
                    }
                    sum
                }
            }
        }))
    }
}

/// The course's runtime API (the reference's and the learner's are the same API): free
/// `spawn` found through the thread-local context.
macro_rules! course_lane {
    ($name:ident, $krate:ident) => {
        struct $name($krate::Runtime);

        impl Lane for $name {
            fn run(&mut self, workload: Workload) -> u64 {
                self.0.block_on(async {
                    match workload {
                        Workload::SpawnJoin => {
                            let handles: Vec<_> = (0..TASKS)
                                .map(|i| $krate::spawn(async move { i }))
                                .collect();
                            let mut sum = 0;
                            for handle in handles {
                                sum += handle.await.unwrap();
                            }
                            sum
                        }
                        Workload::FanOut => {
                            let outer: Vec<_> = (0..FAN)
                                .map(|i| {
                                    $krate::spawn(async move {
                                        let inner: Vec<_> = (0..FAN)
                                            .map(|j| $krate::spawn(async move { i * j }))
                                            .collect();
                                        let mut sum = 0;
                                        for handle in inner {
                                            sum += handle.await.unwrap();
                                        }
                                        sum
                                    })
                                })
                                .collect();
                            let mut sum = 0;
                            for handle in outer {
                                sum += handle.await.unwrap();
                            }
                            sum
                        }
                    }
                })
            }
        }
    };
}

course_lane!(Reference, runtime_reference);
course_lane!(Learner, runtime_learner);

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
        let expected = match workload {
            Workload::SpawnJoin => SPAWN_JOIN_SUM,
            Workload::FanOut => FAN_OUT_SUM,
        };
        match outcome {
            Ok(sum) if sum == expected => self.samples.push(elapsed),
            Ok(sum) => {
                self.failure = Some(format!("wrong result {sum} (expected {expected})"));
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

fn main() {
    let mut samples = 21;
    let mut learner = false;
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
            "--bench" => {} // cargo bench passes it
            "--help" | "-h" => {
                println!(
                    "spawn benchmark: cargo bench -p bench --bench spawn -- [--learner] [--samples N]"
                );
                return;
            }
            other => panic!("unknown option {other:?} (try --help)"),
        }
    }
    // A learner's todo!() would print a panic message per sample: keep the table readable.
    panic::set_hook(Box::new(|_| {}));
    println!(
        "spawn + join through JoinHandle; median of {samples} samples; tokio-ct in ms, the others as a ratio to it"
    );
    println!();
    let mut header = format!(
        "{:<28} {:>10} {:>11} {:>11} {:>11}",
        "workload", "tokio-ct", "smol-local", "smol", "reference"
    );
    if learner {
        header.push_str(&format!(" {:>11}", "learner"));
    }
    println!("{header}");
    let mut notes = Vec::new();
    for (workload, label) in WORKLOADS {
        let mut columns = vec![
            Column::new("tokio-ct", || {
                Box::new(TokioCt(
                    tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap(),
                ))
            }),
            Column::new("smol-local", || {
                Box::new(SmolLocal(Rc::new(smol::LocalExecutor::new())))
            }),
            Column::new("smol", || Box::new(Smol(Arc::new(smol::Executor::new())))),
            Column::new("reference", || {
                Box::new(Reference(runtime_reference::Runtime::new()))
            }),
        ];
        if learner {
            columns.push(Column::new("learner", || {
                Box::new(Learner(runtime_learner::Runtime::new()))
            }));
        }
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
        let base = columns[0].median().expect("tokio-ct ran");
        let mut row = format!("{label:<28} {:>8.2}ms", base.as_secs_f64() * 1e3);
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
            row.push_str(&format!(" {cell:>11}"));
        }
        println!("{row}");
    }
    for note in notes {
        println!("  {note}");
    }
}
