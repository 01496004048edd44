//! Stage 8's timer benchmark: the reference's timers (and the learner's, with `--learner`)
//! against tokio's current-thread runtime (time enabled) and async-io's `Timer` (under smol's
//! `block_on`), each on one thread.
//!
//! ```text
//! cargo bench -p bench --bench timers                 # tokio-ct, async-io, reference
//! cargo bench -p bench --bench timers -- --learner    # ... and the learner's timers
//! cargo bench -p bench --bench timers -- --samples 11
//! ```
//!
//! Workloads:
//! * `churn`: 1 000 000 x (create a 1 s sleep, poll it once, drop it): register and cancel.
//! * `timeouts`: 1 000 000 x `timeout(1 s, ready)`: a timeout whose future is ready at once.
//! * `fire`: 100 000 sleeps with deadlines spread over 100 ms, awaited together (in one
//!   `FuturesUnordered`; for tokio inside `task::unconstrained`, see `TokioCt`); the process's
//!   CPU time is measured (the wall time is the 100 ms the deadlines span), and every sleep
//!   must complete, none before its deadline.
//! * `accuracy` (one run each, not a ratio): 10 000 sleeps of 10 to 100 ms beside two tasks
//!   that burn the CPU in 100 µs slices; p50, p99 and max lateness, and "never early, none
//!   lost".
//!
//! As in the other benchmarks: one runtime per (runtime, workload), reused for the warm-up and
//! every sample; samples interleaved (the starting runtime rotates each round); a cell is the
//! median sample, shown as a ratio to tokio-ct's median from the same run. Nothing here passes
//! or fails; a reference cell above its target (1.3x tokio-ct) is marked `!`.

use std::cell::Cell;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use futures_lite::FutureExt as _;

const CHURN: u64 = 1_000_000;
const TIMEOUTS: u64 = 1_000_000;
const FIRE: u64 = 100_000;
const FIRE_SPAN_MS: u64 = 100;
const ACCURACY: u64 = 10_000;
const TARGET: f64 = 1.3;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Workload {
    Churn,
    Timeouts,
    Fire,
}

const WORKLOADS: [(Workload, &str); 3] = [
    (Workload::Churn, "churn (1M create/poll/drop)"),
    (Workload::Timeouts, "timeouts (1M, future ready)"),
    (Workload::Fire, "fire (100k over 100 ms, CPU)"),
];

/// What a runtime must provide: run a future to completion, and the three timer operations.
trait Timers {
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    fn sleep(duration: Duration) -> impl Future<Output = ()>;
    /// `timeout(duration, future)`, `true` when the future won.
    fn timeout<F: Future>(duration: Duration, future: F) -> impl Future<Output = bool>;
    /// `future` outside any cooperative scheduling budget (only tokio has one).
    fn unconstrained<F: Future>(future: F) -> impl Future<Output = F::Output> {
        future
    }
}

struct TokioCt(tokio::runtime::Runtime);

impl Timers for TokioCt {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
    async fn timeout<F: Future>(duration: Duration, future: F) -> bool {
        tokio::time::timeout(duration, future).await.is_ok()
    }
    fn unconstrained<F: Future>(future: F) -> impl Future<Output = F::Output> {
        // Without it, `fire` measures tokio's coop budget, not its timers: once a task has
        // polled 128 budgeted futures, each due Sleep returns Pending and wakes itself, and
        // FuturesUnordered goes round and round (7 s of CPU instead of tens of ms).
        tokio::task::unconstrained(future)
    }
}

/// async-io's timers (what smol uses), driven by `smol::block_on`.
struct AsyncIo;

impl Timers for AsyncIo {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }
    async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }
    fn timeout<F: Future>(duration: Duration, future: F) -> impl Future<Output = bool> {
        // The deadline is fixed now (Timer::after reads the clock), as the course's and
        // tokio's are; `or` polls the future first, as they do.
        let timer = smol::Timer::after(duration);
        async move {
            future.await;
            true
        }
        .or(async move {
            timer.await;
            false
        })
    }
}

/// The course's API (the reference's and the learner's are the same API).
macro_rules! course_timers {
    ($name:ident, $krate:ident) => {
        struct $name($krate::Runtime);

        impl Timers for $name {
            fn block_on<F: Future>(&self, future: F) -> F::Output {
                self.0.block_on(future)
            }
            async fn sleep(duration: Duration) {
                $krate::sleep(duration).await
            }
            async fn timeout<F: Future>(duration: Duration, future: F) -> bool {
                $krate::timeout(duration, future).await.is_ok()
            }
        }
    };
}

course_timers!(Reference, timers_reference);
course_timers!(Learner, timers_learner);

/// Polls `future` once, whatever it returns.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) {
    std::future::poll_fn(|cx| {
        let _ = future.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await
}

/// Returns Pending once (waking itself first), then Ready.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// The CPU time of the whole process (every thread: async-io's timer thread too).
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// The deadline offset of sleep `i` of `n`, spread over `span_ms` (a fixed permutation).
fn spread(i: u64, n: u64, span: Duration) -> Duration {
    let slot = (i.wrapping_mul(7919)) % n;
    span.mul_f64(slot as f64 / n as f64)
}

/// Sleeps until `deadline` (a sleep of the time left), then returns how late it woke: `Err`
/// with how early if it woke before the deadline.
async fn sleep_until<T: Timers>(deadline: Instant) -> Result<Duration, Duration> {
    T::sleep(deadline.saturating_duration_since(Instant::now())).await;
    let now = Instant::now();
    now.checked_duration_since(deadline)
        .ok_or_else(|| deadline - now)
}

/// Runs one sample; returns its time (wall, or CPU for `fire`).
fn run<T: Timers>(rt: &T, workload: Workload) -> Result<Duration, String> {
    match workload {
        Workload::Churn => {
            let start = Instant::now();
            rt.block_on(async {
                for _ in 0..CHURN {
                    let sleep = pin!(T::sleep(Duration::from_secs(1)));
                    poll_once(sleep).await;
                }
            });
            Ok(start.elapsed())
        }
        Workload::Timeouts => {
            let start = Instant::now();
            let won = rt.block_on(async {
                let mut won = 0;
                for i in 0..TIMEOUTS {
                    if T::timeout(Duration::from_secs(1), std::future::ready(i)).await {
                        won += 1;
                    }
                }
                won
            });
            if won != TIMEOUTS {
                return Err(format!("{} ready futures reported Elapsed", TIMEOUTS - won));
            }
            Ok(start.elapsed())
        }
        Workload::Fire => {
            let cpu = process_cpu();
            let start = Instant::now() + Duration::from_millis(1);
            let span = Duration::from_millis(FIRE_SPAN_MS);
            let (done, early) = rt.block_on(T::unconstrained(async {
                let mut all: FuturesUnordered<_> = (0..FIRE)
                    .map(|i| sleep_until::<T>(start + spread(i, FIRE, span)))
                    .collect();
                let (mut done, mut early) = (0, 0);
                while let Some(outcome) = all.next().await {
                    done += 1;
                    if outcome.is_err() {
                        early += 1;
                    }
                }
                (done, early)
            }));
            if done != FIRE || early != 0 {
                return Err(format!("{done} of {FIRE} fired, {early} early"));
            }
            Ok(process_cpu() - cpu)
        }
    }
}

/// The accuracy run: lateness percentiles, or what went wrong.
fn accuracy<T: Timers>(rt: &T) -> Accuracy {
    let start = Instant::now();
    let stop = Rc::new(Cell::new(false));
    let (mut late, early) = rt.block_on(async {
        let sleeps: FuturesUnordered<_> = (0..ACCURACY)
            .map(|i| {
                let offset =
                    Duration::from_millis(10) + spread(i, ACCURACY, Duration::from_millis(90));
                sleep_until::<T>(start + offset)
            })
            .collect();
        let burn = |stop: Rc<Cell<bool>>| async move {
            while !stop.get() {
                let slice = Instant::now();
                while slice.elapsed() < Duration::from_micros(100) {
                    std::hint::spin_loop();
                }
                yield_now().await;
            }
        };
        let measure = async {
            let results: Vec<_> = sleeps.collect().await;
            stop.set(true);
            results
        };
        let (results, (), ()) =
            futures::join!(measure, burn(Rc::clone(&stop)), burn(Rc::clone(&stop)));
        let late: Vec<Duration> = results.iter().filter_map(|r| r.ok()).collect();
        let early = results.iter().filter(|r| r.is_err()).count();
        (late, early)
    });
    if early != 0 || late.len() as u64 != ACCURACY {
        return Err(format!(
            "{} of {ACCURACY} fired, {early} early",
            late.len() + early
        ));
    }
    late.sort();
    let at = |q: f64| late[((late.len() - 1) as f64 * q) as usize];
    Ok((at(0.5), at(0.99), late[late.len() - 1]))
}

/// Runs one sample of a workload on one runtime.
type Runner = Box<dyn FnMut(Workload) -> Result<Duration, String>>;
/// Lateness p50, p99 and max of the accuracy run, or what went wrong.
type Accuracy = Result<(Duration, Duration, Duration), String>;

/// A column: a name, a runner (None once it failed), its samples.
struct Column {
    name: &'static str,
    runner: Option<Runner>,
    accuracy: Box<dyn FnMut() -> Accuracy>,
    samples: Vec<Duration>,
    failure: Option<String>,
}

impl Column {
    fn new<T: Timers + 'static>(name: &'static str, make: impl Fn() -> T) -> Column {
        match panic::catch_unwind(AssertUnwindSafe(|| (make(), make()))) {
            Ok((rt, rt2)) => Column {
                name,
                runner: Some(Box::new(move |workload| run(&rt, workload))),
                accuracy: Box::new(move || accuracy(&rt2)),
                samples: Vec::new(),
                failure: None,
            },
            Err(payload) => Column {
                name,
                runner: None,
                accuracy: Box::new(|| Err("could not start".to_owned())),
                samples: Vec::new(),
                failure: Some(message(&*payload)),
            },
        }
    }

    fn sample(&mut self, workload: Workload) {
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        match panic::catch_unwind(AssertUnwindSafe(|| runner(workload))) {
            Ok(Ok(time)) => self.samples.push(time),
            Ok(Err(wrong)) => {
                self.failure = Some(wrong);
                self.runner = None;
            }
            Err(payload) => {
                self.failure = Some(message(&*payload));
                self.runner = None;
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
        Column::new("tokio-ct", || {
            TokioCt(
                tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .unwrap(),
            )
        }),
        Column::new("async-io", || AsyncIo),
        Column::new("reference", || {
            Reference(timers_reference::Runtime::new().expect("the reference's runtime"))
        }),
    ];
    if learner {
        columns.push(Column::new("learner", || {
            Learner(timers_learner::Runtime::new().expect("the learner's runtime"))
        }));
    }
    columns
}

fn main() {
    let mut samples = 5;
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
                    "timers benchmark: cargo bench -p bench --bench timers -- [--learner] [--samples N]"
                );
                return;
            }
            other => panic!("unknown option {other:?} (try --help)"),
        }
    }
    // A learner's todo!() would print a panic message per sample: keep the table readable.
    panic::set_hook(Box::new(|_| {}));
    println!("timers; median of {samples} samples; tokio-ct in ms, the others as a ratio to it");
    println!();
    let mut header = format!(
        "{:<30} {:>10} {:>10} {:>10}",
        "workload", "tokio-ct", "async-io", "reference"
    );
    if learner {
        header.push_str(&format!(" {:>10}", "learner"));
    }
    println!("{header}");
    let mut notes = Vec::new();
    for (workload, label) in WORKLOADS {
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
        let Some(base) = columns[0].median() else {
            println!("{label:<30} tokio-ct failed: {:?}", columns[0].failure);
            continue;
        };
        let mut row = format!("{label:<30} {:>8.2}ms", base.as_secs_f64() * 1e3);
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
            row.push_str(&format!(" {cell:>10}"));
        }
        println!("{row}");
    }
    println!();
    println!(
        "accuracy: {ACCURACY} sleeps of 10-100 ms beside two tasks burning the CPU in 100 us slices"
    );
    for mut column in columns(learner) {
        match (column.accuracy)() {
            Ok((p50, p99, max)) => println!(
                "  {:<10} lateness p50 {:>6.2} ms, p99 {:>6.2} ms, max {:>6.2} ms; never early, none lost",
                column.name,
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3
            ),
            Err(wrong) => println!("  {:<10} FAILED: {wrong}", column.name),
        }
    }
    for note in notes {
        println!("  {note}");
    }
}
