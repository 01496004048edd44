//! Stage 9's framing benchmark: lines over loopback TCP, read as frames. The reference (its
//! runtime, its `TcpStream`, `FramedRead<_, LinesCodec>`) against tokio's current-thread
//! runtime with tokio-util's `FramedRead<_, LinesCodec>`, in the same run (and the learner's
//! code, with `--learner`).
//!
//! ```text
//! cargo bench -p bench --features framing --bench framing                 # tokio-ct, reference
//! cargo bench -p bench --features framing --bench framing -- --learner    # ... and the learner's
//! cargo bench -p bench --features framing --bench framing -- --samples 51
//! ```
//!
//! Workloads (each sample is one fresh loopback connection):
//! * `read_lines`: a std client thread writes 100 000 lines of 16 to 80 bytes (pre-encoded,
//!   in 64 KiB writes) and closes; the server reads them as frames and adds up their lengths.
//! * `relay_lines`: the same lines go through the server and back: `FramedRead` → uppercase →
//!   `FramedWrite` (tokio-util: `SinkExt::send` then `flush`; the reference: `forward`), while
//!   a second client thread reads the echo to the end.
//!
//! The client threads do the same work for every runtime, so the ratio measures the server:
//! its runtime, its reads and writes, its codec. Samples are interleaved (the starting runtime
//! rotates each round); a cell is the median sample, shown as a ratio to tokio-ct's median
//! from the same run. Nothing here passes or fails; a reference cell above its target (1.3x
//! tokio-ct) is marked `!`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::{Duration, Instant};

const LINES: usize = 100_000;
const MAX_LINE: usize = 1024;
const TARGET: f64 = 1.3;

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    ReadLines,
    RelayLines,
}

const WORKLOADS: [(Workload, &str); 2] = [
    (Workload::ReadLines, "read_lines (100 000 lines)"),
    (Workload::RelayLines, "relay_lines (100 000 lines)"),
];

/// The lines, encoded once: lengths 16..=80, printable ASCII.
fn payload() -> Vec<u8> {
    let mut out = Vec::new();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..LINES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = 16 + (state % 65) as usize;
        out.extend((0..len).map(|i| b'a' + ((state >> (i % 56)) as u8 % 26)));
        out.push(b'\n');
    }
    out
}

/// What the server must report: the sum of the line lengths (without newlines).
fn expected_sum(payload: &[u8]) -> u64 {
    (payload.len() - LINES) as u64
}

/// A fresh loopback connection: (the server's end, the client's end).
fn connection() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nodelay(true).unwrap();
    client.set_nodelay(true).unwrap();
    (server, client)
}

/// Starts the client: writes `payload` in 64 KiB writes and closes its writing side; for the
/// relay, also reads the echo to the end on a second thread and returns its length.
fn client(client: TcpStream, payload: &'static [u8], relay: bool) -> thread::JoinHandle<usize> {
    let reader = relay.then(|| {
        let mut reader = client.try_clone().unwrap();
        thread::spawn(move || {
            let mut buf = vec![0; 64 * 1024];
            let mut total = 0;
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break total,
                    Ok(n) => total += n,
                }
            }
        })
    });
    let mut writer = client;
    thread::spawn(move || {
        for chunk in payload.chunks(64 * 1024) {
            writer.write_all(chunk).unwrap();
        }
        writer.shutdown(Shutdown::Write).unwrap();
        match reader {
            Some(reader) => reader.join().unwrap(),
            None => 0,
        }
    })
}

/// One runtime: serves one connection for a workload, returns the sum of the line lengths.
trait Lane {
    fn serve(&mut self, server: TcpStream, workload: Workload) -> u64;
}

struct TokioCt(tokio::runtime::Runtime);

impl Lane for TokioCt {
    fn serve(&mut self, server: TcpStream, workload: Workload) -> u64 {
        use futures::{SinkExt, StreamExt};
        use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec};
        self.0.block_on(async move {
            server.set_nonblocking(true).unwrap();
            let stream = tokio::net::TcpStream::from_std(server).unwrap();
            let (read, write) = stream.into_split();
            let mut lines = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE));
            let mut sum = 0;
            match workload {
                Workload::ReadLines => {
                    while let Some(line) = lines.next().await {
                        sum += line.unwrap().len() as u64;
                    }
                }
                Workload::RelayLines => {
                    let mut out =
                        FramedWrite::new(write, LinesCodec::new_with_max_length(MAX_LINE));
                    while let Some(line) = lines.next().await {
                        let line = line.unwrap().to_ascii_uppercase();
                        sum += line.len() as u64;
                        out.feed(line).await.unwrap();
                    }
                    SinkExt::<String>::close(&mut out).await.unwrap();
                }
            }
            sum
        })
    }
}

/// The course's stream API (the reference's and the learner's are the same API).
macro_rules! course_lane {
    ($name:ident, $krate:ident) => {
        struct $name($krate::Runtime);

        impl Lane for $name {
            fn serve(&mut self, server: TcpStream, workload: Workload) -> u64 {
                let stream = $krate::TcpStream::from_std(self.0.reactor(), server).unwrap();
                self.0.block_on(async {
                    let mut lines =
                        $krate::FramedRead::new(&stream, $krate::LinesCodec::new(MAX_LINE));
                    let mut sum = 0;
                    match workload {
                        Workload::ReadLines => {
                            while let Some(line) = $krate::next(&mut lines).await {
                                sum += line.unwrap().len() as u64;
                            }
                        }
                        Workload::RelayLines => {
                            let mut out = $krate::FramedWrite::new(
                                &stream,
                                $krate::LinesCodec::new(MAX_LINE),
                            );
                            let shouted = $krate::map(lines, |line| {
                                line.map(|line: String| {
                                    let line = line.to_ascii_uppercase();
                                    sum += line.len() as u64;
                                    line
                                })
                            });
                            $krate::forward(shouted, &mut out).await.unwrap();
                            out.close().await.unwrap();
                        }
                    }
                    sum
                })
            }
        }
    };
}

course_lane!(Reference, streams_reference);
course_lane!(Learner, streams_learner);

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

    fn sample(&mut self, workload: Workload, payload: &'static [u8]) {
        let Some(lane) = self.lane.as_mut() else {
            return;
        };
        let relay = workload == Workload::RelayLines;
        let (server, client_end) = connection();
        let start = Instant::now();
        let client = client(client_end, payload, relay);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| lane.serve(server, workload)));
        let echoed = client.join().unwrap_or(usize::MAX);
        let elapsed = start.elapsed();
        let expected = expected_sum(payload);
        match outcome {
            Ok(sum) if sum == expected && (!relay || echoed == payload.len()) => {
                self.samples.push(elapsed)
            }
            Ok(sum) => {
                self.failure = Some(format!(
                    "wrong result: {sum} bytes of lines (expected {expected}), {echoed} echoed"
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
                    "framing benchmark: cargo bench -p bench --features framing --bench framing -- [--learner] [--samples N]"
                );
                return;
            }
            other => panic!("unknown option {other:?} (try --help)"),
        }
    }
    // A learner's todo!() would print a panic message per sample: keep the table readable.
    panic::set_hook(Box::new(|_| {}));
    let payload: &'static [u8] = Box::leak(payload().into_boxed_slice());
    println!(
        "lines over loopback TCP, {} MB per sample; median of {samples} samples; tokio-ct in ms, the others as a ratio to it",
        payload.len() / 1_000_000
    );
    println!();
    let mut header = format!("{:<28} {:>10} {:>11}", "workload", "tokio-ct", "reference");
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
                        .enable_io()
                        .build()
                        .unwrap(),
                ))
            }),
            Column::new("reference", || {
                Box::new(Reference(streams_reference::Runtime::new().unwrap()))
            }),
        ];
        if learner {
            columns.push(Column::new("learner", || {
                Box::new(Learner(streams_learner::Runtime::new().unwrap()))
            }));
        }
        for column in &mut columns {
            column.sample(workload, payload); // warm-up, not recorded
            column.samples.clear();
        }
        for round in 0..samples {
            let n = columns.len();
            for k in 0..n {
                columns[(round + k) % n].sample(workload, payload);
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
