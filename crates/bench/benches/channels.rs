//! Stage 6's channel benchmark: the reference bounded channel (and the learner's, with
//! `--learner`) against `tokio::sync::mpsc`, `async-channel`, `futures::channel::mpsc` and
//! `flume`, in the same run.
//!
//! ```text
//! cargo bench -p bench --bench channels
//! cargo bench -p bench --bench channels -- --learner --samples 31 --messages 50000
//! ```
//!
//! Every row sends the same messages through a bounded channel on tokio's current-thread
//! runtime: one producer (SPSC) or four (MPSC), capacity 1 (every send waits for the receiver:
//! the wake round trip) or 1 024 (mostly buffered: the cost of the queue and the lock). Each
//! producer is a task (`spawn_local` on a `LocalSet`), the consumer is the `block_on` future:
//! nothing but the channel differs between columns. Samples are interleaved (sample i of every channel before sample
//! i + 1 of any, starting channel rotating), a cell is the median, and ratios are to the fastest
//! median of the row. Nothing here passes or fails.

use std::future::Future;
use std::hint::black_box;
use std::panic::{self, AssertUnwindSafe};
use std::process;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use futures::SinkExt;
use futures::StreamExt;

/// A bounded channel, as the workload uses it.
trait Flavor {
    const NAME: &'static str;
    type Tx: Clone;
    type Rx;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &mut Self::Tx, value: u64) -> impl Future<Output = ()>;
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>>;
}

struct Reference;

impl Flavor for Reference {
    const NAME: &'static str = "reference";
    type Tx = channels_reference::mpsc::Sender<u64>;
    type Rx = channels_reference::mpsc::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        channels_reference::mpsc::channel(capacity)
    }
    async fn send(tx: &mut Self::Tx, value: u64) {
        tx.send(value).await.expect("the receiver is alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await
    }
}

struct Learner;

impl Flavor for Learner {
    const NAME: &'static str = "learner";
    type Tx = channels_learner::mpsc::Sender<u64>;
    type Rx = channels_learner::mpsc::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        channels_learner::mpsc::channel(capacity)
    }
    async fn send(tx: &mut Self::Tx, value: u64) {
        tx.send(value).await.expect("the receiver is alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await
    }
}

struct Tokio;

impl Flavor for Tokio {
    const NAME: &'static str = "tokio";
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }
    async fn send(tx: &mut Self::Tx, value: u64) {
        tx.send(value).await.expect("the receiver is alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await
    }
}

struct AsyncChannel;

impl Flavor for AsyncChannel {
    const NAME: &'static str = "async-channel";
    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(capacity)
    }
    async fn send(tx: &mut Self::Tx, value: u64) {
        tx.send(value).await.expect("the receiver is alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

struct Futures;

impl Flavor for Futures {
    const NAME: &'static str = "futures";
    type Tx = futures::channel::mpsc::Sender<u64>;
    type Rx = futures::channel::mpsc::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        // futures' channel holds `buffer` messages plus one per sender: `capacity - 1` gives a
        // single producer the same room as the others.
        futures::channel::mpsc::channel(capacity - 1)
    }
    async fn send(tx: &mut Self::Tx, value: u64) {
        tx.send(value).await.expect("the receiver is alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.next().await
    }
}

struct Flume;

impl Flavor for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(capacity)
    }
    async fn send(tx: &mut Self::Tx, value: u64) {
        tx.send_async(value).await.expect("the receiver is alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_async().await.ok()
    }
}

/// `producers` tasks send `messages` numbers in all through a channel of `capacity`; the
/// `block_on` future is the consumer and receives them until the channel closes. Returns their
/// sum (checked by the caller). Each producer is a task of its own (`spawn_local`), so it is
/// polled only when its waker is woken, as on any executor.
async fn pipeline<F: Flavor + 'static>(producers: usize, capacity: usize, messages: u64) -> u64 {
    let (tx, mut rx) = F::channel(capacity);
    let each = messages / producers as u64;
    for _ in 0..producers {
        let mut tx = tx.clone();
        tokio::task::spawn_local(async move {
            for value in 0..each {
                F::send(&mut tx, value).await;
            }
        });
    }
    drop(tx);
    let mut sum = 0;
    while let Some(value) = F::recv(&mut rx).await {
        sum += value;
    }
    sum
}

#[derive(Clone, Copy)]
struct Row {
    name: &'static str,
    producers: usize,
    capacity: usize,
}

const ROWS: [Row; 4] = [
    Row {
        name: "SPSC cap 1",
        producers: 1,
        capacity: 1,
    },
    Row {
        name: "SPSC cap 1024",
        producers: 1,
        capacity: 1024,
    },
    Row {
        name: "MPSC×4 cap 1",
        producers: 4,
        capacity: 1,
    },
    Row {
        name: "MPSC×4 cap 1024",
        producers: 4,
        capacity: 1024,
    },
];

/// One column: a channel and its samples for the current row.
struct Lane {
    name: &'static str,
    run: fn(&tokio::runtime::Runtime, Row, u64) -> Duration,
    samples: Vec<Duration>,
    failed: Option<String>,
}

fn timed<F: Flavor + 'static>(rt: &tokio::runtime::Runtime, row: Row, messages: u64) -> Duration {
    let each = messages / row.producers as u64;
    let expected = row.producers as u64 * each * (each.saturating_sub(1)) / 2;
    *lock(&RUNNING) = Some((Instant::now(), F::NAME, row.name));
    let start = Instant::now();
    let tasks = tokio::task::LocalSet::new();
    let sum = tasks.block_on(rt, pipeline::<F>(row.producers, row.capacity, messages));
    let took = start.elapsed();
    *lock(&RUNNING) = None;
    assert_eq!(
        black_box(sum),
        expected,
        "{} lost or duplicated messages on {}",
        F::NAME,
        row.name
    );
    took
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The sample running now, for the watchdog.
static RUNNING: Mutex<Option<(Instant, &'static str, &'static str)>> = Mutex::new(None);
const STUCK_AFTER: Duration = Duration::from_secs(30);

/// A channel that loses a wake-up hangs instead of panicking: report it and exit.
fn start_watchdog() {
    thread::spawn(|| {
        loop {
            thread::sleep(Duration::from_secs(1));
            if let Some((since, channel, row)) = *lock(&RUNNING)
                && since.elapsed() > STUCK_AFTER
            {
                eprintln!(
                    "error: {channel} did not finish `{row}` within {} s: a sender or the \
                     receiver was never woken again (a lost wakeup).",
                    STUCK_AFTER.as_secs()
                );
                process::exit(3);
            }
        }
    });
}

struct Options {
    samples: usize,
    messages: u64,
    learner: bool,
    only: Vec<String>,
    /// Report each cell's fastest sample instead of its median.
    min: bool,
}

const USAGE: &str = "\
usage: cargo bench -p bench --bench channels -- [--learner] [--samples N] [--messages N]
  --learner      also run the learner's channel (exercises/06-channels)
  --samples N    timed samples per channel and row (default 15)
  --messages N   messages per sample (default 100000)
  --only C[,C..] only these channels (tokio, async-channel, futures, flume, reference, learner)
  --min          report each channel's fastest sample instead of its median (steadier on a
                 busy machine: other processes only ever add time)";

fn parse_options() -> Options {
    let mut options = Options {
        samples: 15,
        messages: 100_000,
        learner: false,
        only: Vec::new(),
        min: false,
    };
    let mut args = std::env::args().skip(1);
    let number = |flag: &str, value: Option<String>| -> u64 {
        match value.as_deref().map(str::parse::<u64>) {
            Some(Ok(n)) if n >= 4 => n,
            _ => {
                eprintln!("error: {flag} needs a whole number >= 4\n{USAGE}");
                process::exit(2);
            }
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--learner" => options.learner = true,
            "--min" => options.min = true,
            "--samples" => options.samples = number("--samples", args.next()) as usize,
            "--messages" => options.messages = number("--messages", args.next()),
            "--only" => match args.next() {
                Some(names) => options.only.extend(names.split(',').map(str::to_owned)),
                None => {
                    eprintln!("error: --only needs channel names\n{USAGE}");
                    process::exit(2);
                }
            },
            // `cargo bench` passes `--bench` to every bench target.
            "--bench" => {}
            "-h" | "--help" => {
                println!("{USAGE}");
                process::exit(0);
            }
            other => {
                eprintln!("error: unknown argument `{other}`\n{USAGE}");
                process::exit(2);
            }
        }
    }
    options
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    let options = parse_options();
    start_watchdog();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build tokio's current-thread runtime");
    let mut lanes = vec![
        lane("tokio", timed::<Tokio>),
        lane("async-channel", timed::<AsyncChannel>),
        lane("futures", timed::<Futures>),
        lane("flume", timed::<Flume>),
        lane("reference", timed::<Reference>),
    ];
    if options.learner || options.only.iter().any(|name| name == "learner") {
        lanes.push(lane("learner", timed::<Learner>));
    }
    if !options.only.is_empty() {
        lanes.retain(|lane| options.only.iter().any(|name| name == lane.name));
        if lanes.is_empty() {
            eprintln!("error: --only named no known channel\n{USAGE}");
            process::exit(2);
        }
    }
    let mut header = format!("{:<16} {:>10}", "row", "fastest µs");
    for lane in &lanes {
        header.push_str(&format!(" {:>13}", lane.name));
    }
    println!(
        "{} messages per sample, {} samples, tokio current-thread, {} per cell; ratios to the \
         row's fastest (lower is better; `!` = reference above 1.5×)",
        options.messages,
        options.samples,
        if options.min {
            "fastest sample"
        } else {
            "median"
        }
    );
    println!("{header}");
    let mut notes = Vec::new();
    for row in ROWS {
        for lane in &mut lanes {
            lane.samples.clear();
            lane.failed = None;
            // Warm up (and find out whether the channel works at all).
            let run = lane.run;
            if let Err(payload) =
                panic::catch_unwind(AssertUnwindSafe(|| run(&rt, row, options.messages / 10)))
            {
                lane.failed = Some(panic_text(&*payload));
            }
        }
        for sample in 0..options.samples {
            let count = lanes.len();
            for k in 0..count {
                let lane = &mut lanes[(sample + k) % count];
                if lane.failed.is_none() {
                    lane.samples.push((lane.run)(&rt, row, options.messages));
                }
            }
        }
        let medians: Vec<Option<Duration>> = lanes
            .iter_mut()
            .map(|lane| {
                lane.failed.is_none().then(|| {
                    if options.min {
                        lane.samples
                            .iter()
                            .min()
                            .copied()
                            .expect("at least one sample")
                    } else {
                        median(&mut lane.samples)
                    }
                })
            })
            .collect();
        let fastest = medians
            .iter()
            .flatten()
            .min()
            .copied()
            .expect("at least one channel ran");
        let mut line = format!("{:<16} {:>10.1}", row.name, fastest.as_secs_f64() * 1e6);
        for (lane, median) in lanes.iter().zip(&medians) {
            let cell = match median {
                Some(median) => {
                    let ratio = median.as_secs_f64() / fastest.as_secs_f64();
                    let mark = if lane.name == "reference" && ratio > 1.5 {
                        "!"
                    } else {
                        ""
                    };
                    format!("{ratio:.2}×{mark}")
                }
                None => {
                    notes.push(format!(
                        "{} on {}: {}",
                        lane.name,
                        row.name,
                        lane.failed.as_deref().unwrap_or("")
                    ));
                    "failed".to_owned()
                }
            };
            line.push_str(&format!(" {cell:>13}"));
        }
        println!("{line}");
    }
    for note in notes {
        println!("  {note}");
    }
}

fn lane(name: &'static str, run: fn(&tokio::runtime::Runtime, Row, u64) -> Duration) -> Lane {
    Lane {
        name,
        run,
        samples: Vec::new(),
        failed: None,
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panicked".to_owned()
    }
}
