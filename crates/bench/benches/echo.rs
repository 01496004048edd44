//! Stage 4's echo benchmark: the reference reactor's echo server (and the learner's, with
//! `--learner`) against the same server on tokio's current-thread runtime and on smol, with
//! the same client, in the same run.
//!
//! ```text
//! taskset -c 0 cargo bench -p bench --bench echo              # shared-core layout (use this)
//! taskset -c 0 cargo bench -p bench --bench echo -- --learner
//! cargo bench -p bench --bench echo -- --connections 100 --rounds 5
//! ```
//!
//! How it measures (see `README.md` for why):
//! * Each server runs on one thread: accept, and a task per connection that reads into a 4 KiB
//!   buffer and writes back what it read (`write_all`), TCP_NODELAY on.
//! * The client is this binary again, in a child process (`--client`), so that the server's
//!   process holds only the server's file descriptors: 10 000 connections need 10 000 descriptors
//!   on each side, and RLIMIT_NOFILE (raised to its hard limit at start) is per process. The
//!   client is one tokio current-thread thread; each connection loops: write 64 B, read them back.
//!   It connects 64 connections at a time (each does one checked round trip before the next
//!   connects), so that no listener's accept backlog overflows.
//! * A cell: connect everyone, warm up, then count the round trips completed during the window.
//!   The server thread's CPU time over the window (CLOCK_THREAD_CPUTIME_ID) gives CPU ns per
//!   request, which does not depend on how fast the client is.
//! * Cells are interleaved: round i of every server runs before round i + 1 of any, and each
//!   cell's figures are the medians over rounds. Ratios are to tokio-ct's medians.

use std::fmt::Write as _;
use std::future::Future;
use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::process::{self, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures::future::{Either, select};

/// Bytes per request (and per response).
const MESSAGE: usize = 64;
/// Each server connection's read buffer, the same for every server.
const BUFFER: usize = 4096;
/// Connections that may be connecting at once.
const CONNECTING: usize = 64;
/// How long the client may take to connect everyone before the cell counts as failed.
const CONNECT_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// The Stage 4 echo server (`serve`'s loop, plus TCP_NODELAY like the others) on one of the
/// course's runtimes: the reference or the learner's (same API).
macro_rules! reactor_server {
    ($krate:ident, $addr:expr, $ready:expr, $stop:expr) => {{
        let mut runtime = $krate::Runtime::new().expect("Runtime::new");
        let listener = $krate::TcpListener::bind(runtime.reactor(), $addr).expect("bind");
        $ready.send(listener.local_addr().unwrap()).unwrap();
        let handle = runtime.handle();
        runtime.block_on(until_stopped(
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    handle.spawn(async move {
                        let _ = $krate::echo(stream).await;
                    });
                }
            },
            $stop,
        ));
    }};
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    TokioCt,
    SmolLocal,
    Reference,
    Learner,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::TokioCt => "tokio-ct",
            Server::SmolLocal => "smol",
            Server::Reference => "reference",
            Server::Learner => "learner",
        }
    }

    /// Runs the echo server on this thread until `stop` fires; its address goes to `ready`.
    fn run(self, ready: mpsc::Sender<SocketAddr>, stop: oneshot::Receiver<()>) {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        match self {
            Server::TokioCt => tokio_server(addr, ready, stop),
            Server::SmolLocal => smol_server(addr, ready, stop),
            Server::Reference => reactor_server!(reactor_reference, addr, ready, stop),
            Server::Learner => reactor_server!(reactor_learner, addr, ready, stop),
        }
    }
}

/// Runs `serving` until `stop` fires.
async fn until_stopped(serving: impl Future<Output = ()>, stop: oneshot::Receiver<()>) {
    let serving = pin!(serving);
    match select(serving, stop).await {
        Either::Left(((), _)) | Either::Right(_) => {}
    }
}

fn tokio_server(addr: SocketAddr, ready: mpsc::Sender<SocketAddr>, stop: oneshot::Receiver<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        ready.send(listener.local_addr().unwrap()).unwrap();
        until_stopped(
            async {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let mut buf = vec![0; BUFFER];
                        while let Ok(n @ 1..) = stream.read(&mut buf).await {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            },
            stop,
        )
        .await;
    });
}

fn smol_server(addr: SocketAddr, ready: mpsc::Sender<SocketAddr>, stop: oneshot::Receiver<()>) {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let ex = smol::LocalExecutor::new();
    // `smol::block_on` drives smol's reactor on this thread while the executor is idle.
    smol::block_on(ex.run(async {
        let listener = smol::Async::<std::net::TcpListener>::bind(addr).expect("bind");
        ready
            .send(listener.get_ref().local_addr().unwrap())
            .unwrap();
        until_stopped(
            async {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let _ = stream.get_ref().set_nodelay(true);
                    ex.spawn(async move {
                        let mut buf = vec![0; BUFFER];
                        while let Ok(n @ 1..) = stream.read(&mut buf).await {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    })
                    .detach();
                }
            },
            stop,
        )
        .await;
    }));
}

// ---------------------------------------------------------------------------------------------
// The client (a child process)
// ---------------------------------------------------------------------------------------------

/// `--client ADDR CONNECTIONS WARMUP_MS WINDOW_MS`: connects, prints `connected`, warms up,
/// prints `start`, counts round trips for the window, prints `end N`, exits.
fn client_main(args: &[String]) -> ! {
    let parse = |i: usize| -> u64 {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| fail_usage("--client ADDR CONNECTIONS WARMUP_MS WINDOW_MS"))
    };
    let addr: SocketAddr = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| fail_usage("--client needs an address"));
    let connections = parse(1) as usize;
    let (warmup, window) = (
        Duration::from_millis(parse(2)),
        Duration::from_millis(parse(3)),
    );
    raise_open_files_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let requests = Arc::new(AtomicU64::new(0));
        let connecting = Arc::new(tokio::sync::Semaphore::new(CONNECTING));
        let all_open = Arc::new(tokio::sync::Barrier::new(connections + 1));
        for id in 0..connections {
            let (requests, connecting, all_open) = (
                Arc::clone(&requests),
                Arc::clone(&connecting),
                Arc::clone(&all_open),
            );
            tokio::spawn(async move {
                let stream = open(addr, id, &connecting).await;
                all_open.wait().await;
                match stream {
                    Ok(stream) => ping_pong(stream, &requests).await,
                    Err(err) => {
                        eprintln!("client: {err}");
                        process::exit(4);
                    }
                }
            });
        }
        all_open.wait().await;
        say("connected");
        tokio::time::sleep(warmup).await;
        let before = requests.load(Ordering::Relaxed);
        say("start");
        tokio::time::sleep(window).await;
        let after = requests.load(Ordering::Relaxed);
        say(&format!("end {}", after - before));
        process::exit(0);
    })
}

/// Connects (at most `CONNECTING` at a time) and checks one round trip.
async fn open(
    addr: SocketAddr,
    id: usize,
    connecting: &tokio::sync::Semaphore,
) -> Result<tokio::net::TcpStream, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _permit = connecting.acquire().await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connection {id}: connect: {e}"))?;
    stream.set_nodelay(true).unwrap();
    let message = [id as u8; MESSAGE];
    let mut reply = [0; MESSAGE];
    stream
        .write_all(&message)
        .await
        .map_err(|e| format!("connection {id}: write: {e}"))?;
    stream
        .read_exact(&mut reply)
        .await
        .map_err(|e| format!("connection {id}: read: {e}"))?;
    if reply != message {
        return Err(format!("connection {id}: the echo was wrong"));
    }
    Ok(stream)
}

async fn ping_pong(mut stream: tokio::net::TcpStream, requests: &AtomicU64) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let message = [7; MESSAGE];
    let mut reply = [0; MESSAGE];
    loop {
        if stream.write_all(&message).await.is_err() || stream.read_exact(&mut reply).await.is_err()
        {
            return;
        }
        requests.fetch_add(1, Ordering::Relaxed);
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

/// One cell's figures.
#[derive(Clone, Copy, Debug)]
struct Sample {
    requests_per_sec: f64,
    server_cpu_ns_per_request: f64,
}

/// Starts `server` on a thread of its own, runs the client against it, stops it.
fn measure(server: Server, connections: usize, options: &Options) -> Result<Sample, String> {
    let (ready_tx, ready) = mpsc::channel();
    let (stop, stopped) = oneshot::channel();
    let thread = thread::Builder::new()
        .name(format!("{}-server", server.name()))
        .spawn(move || {
            panic::catch_unwind(AssertUnwindSafe(|| server.run(ready_tx, stopped)))
                .map_err(|payload| panic_text(&*payload))
        })
        .expect("start the server thread");
    let addr = match ready.recv_timeout(Duration::from_secs(30)) {
        Ok(addr) => addr,
        Err(_) => {
            return Err(match thread.join() {
                Ok(Err(text)) => text,
                _ => "the server did not start".to_owned(),
            });
        }
    };
    let clock = ThreadClock::of(&thread);
    let result = run_client(addr, connections, options, &clock);
    let _ = stop.send(());
    if result.is_ok() || thread.is_finished() {
        match thread.join() {
            Ok(Err(text)) => return Err(text),
            Ok(Ok(())) => {}
            Err(_) => return Err("the server thread panicked".to_owned()),
        }
    }
    // Otherwise the server is stuck: leave its thread behind rather than wait forever.
    result
}

fn run_client(
    addr: SocketAddr,
    connections: usize,
    options: &Options,
    clock: &ThreadClock,
) -> Result<Sample, String> {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let mut child = Command::new(exe)
        .args([
            "--client".to_owned(),
            addr.to_string(),
            connections.to_string(),
            options.warmup.as_millis().to_string(),
            options.window.as_millis().to_string(),
        ])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start the client: {e}"))?;
    let (lines_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let expect = |what: &str, limit: Duration| -> Result<(Instant, String), String> {
        match lines.recv_timeout(limit) {
            Ok((at, line)) if line.starts_with(what) => Ok((at, line)),
            Ok((_, line)) => Err(format!("the client said `{line}`, expected `{what}`")),
            Err(_) => Err(format!("no `{what}` from the client in {limit:?}")),
        }
    };
    let phase = options.warmup + options.window + Duration::from_secs(10);
    let outcome = (|| {
        expect("connected", CONNECT_LIMIT)?;
        let (start_at, _) = expect("start", phase)?;
        let cpu_start = clock.now();
        let (end_at, end) = expect("end", phase)?;
        let cpu_end = clock.now();
        let requests: u64 = end["end ".len()..]
            .trim()
            .parse()
            .map_err(|_| format!("bad line from the client: {end}"))?;
        if requests == 0 {
            return Err("no request completed in the window".to_owned());
        }
        let seconds = (end_at - start_at).as_secs_f64();
        let cpu = cpu_start.zip(cpu_end).map(|(start, end)| end - start);
        Ok(Sample {
            requests_per_sec: requests as f64 / seconds,
            // NaN where the platform has no per-thread CPU clock: printed as "n/a".
            server_cpu_ns_per_request: cpu
                .map_or(f64::NAN, |cpu| cpu.as_nanos() as f64 / requests as f64),
        })
    })();
    if outcome.is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
    outcome
}

/// The CPU time a running thread has used (Linux: `pthread_getcpuclockid`; elsewhere none).
struct ThreadClock {
    clock: Option<libc::clockid_t>,
}

impl ThreadClock {
    #[cfg(target_os = "linux")]
    fn of<T>(thread: &JoinHandle<T>) -> ThreadClock {
        use std::os::unix::thread::JoinHandleExt;
        let mut clock: libc::clockid_t = 0;
        // SAFETY: the pthread_t comes from a live JoinHandle (the thread has not been joined),
        // and `clock` is a valid place for the result.
        let rc = unsafe { libc::pthread_getcpuclockid(thread.as_pthread_t(), &mut clock) };
        ThreadClock {
            clock: (rc == 0).then_some(clock),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn of<T>(_thread: &JoinHandle<T>) -> ThreadClock {
        ThreadClock { clock: None }
    }

    fn now(&self) -> Option<Duration> {
        let clock = self.clock?;
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `time` is a valid timespec to fill in; the clock id came from
        // pthread_getcpuclockid for a thread that is still running.
        let rc = unsafe { libc::clock_gettime(clock, &mut time) };
        (rc == 0).then(|| Duration::new(time.tv_sec as u64, time.tv_nsec as u32))
    }
}

/// Raises the soft limit on open files to the hard limit; returns the limit in force.
fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; setrlimit only reads it.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    limit.rlim_cur
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    if text.contains("not yet implemented") {
        format!("not implemented yet ({text})")
    } else {
        format!("panicked: {text}")
    }
}

/// A CPU time per request in ns, or "n/a" where this platform cannot measure it.
fn per_request(ns: f64) -> String {
    if ns.is_nan() {
        "n/a".to_owned()
    } else {
        format!("{ns:.0}")
    }
}

fn ratio(r: f64) -> String {
    if r.is_nan() {
        "n/a".to_owned()
    } else {
        format!("{r:.2}×")
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

// ---------------------------------------------------------------------------------------------
// Command line and output
// ---------------------------------------------------------------------------------------------

struct Options {
    learner: bool,
    connections: Vec<usize>,
    rounds: usize,
    warmup: Duration,
    window: Duration,
}

const USAGE: &str = "\
usage: cargo bench -p bench --bench echo -- [--learner] [--connections N[,N..]] [--rounds N]
                                            [--warmup-ms N] [--window-ms N]
  --learner          also run the learner's echo server (exercises/04-reactor)
  --connections N    concurrent connections per cell (default 100,10000)
  --rounds N         interleaved rounds per cell; figures are medians (default 3)
  --warmup-ms N      untimed time after everyone is connected (default 300)
  --window-ms N      measured time (default 1000)
Run it under `taskset -c 0` (server and client share one core; see README.md).";

fn fail_usage(message: &str) -> ! {
    eprintln!("error: {message}\n{USAGE}");
    process::exit(2);
}

fn parse_options(args: &[String]) -> Options {
    let mut options = Options {
        learner: false,
        connections: vec![100, 10_000],
        rounds: 3,
        warmup: Duration::from_millis(300),
        window: Duration::from_millis(1000),
    };
    let mut args = args.iter();
    let number = |flag: &str, value: Option<&String>| -> u64 {
        match value.map(|v| v.parse::<u64>()) {
            Some(Ok(n)) if n >= 1 => n,
            _ => fail_usage(&format!("{flag} needs a whole number >= 1")),
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo passes --bench to every bench target.
            "--bench" => {}
            "--learner" => options.learner = true,
            "--connections" => {
                let value = args.next().map(String::as_str).unwrap_or("");
                options.connections = value
                    .split(',')
                    .map(|n| match n.parse() {
                        Ok(n) if n >= 1 => n,
                        _ => fail_usage("--connections needs numbers >= 1, comma-separated"),
                    })
                    .collect();
            }
            "--rounds" => options.rounds = number("--rounds", args.next()) as usize,
            "--warmup-ms" => {
                options.warmup = Duration::from_millis(number("--warmup-ms", args.next()))
            }
            "--window-ms" => {
                options.window = Duration::from_millis(number("--window-ms", args.next()))
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                process::exit(0);
            }
            // `cargo bench -p bench -- ...` hands the same arguments to the executors
            // benchmark: skip its options (and its bare workload names) here.
            "--samples" | "--warmup" | "--only" => {
                args.next();
            }
            name if !name.starts_with('-') => {}
            other => fail_usage(&format!("unknown option {other}")),
        }
    }
    options
}

/// The CPU this process may run on, as `taskset` set it ("0", "0-1"...).
fn affinity() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|cpus| cpus.trim().to_owned())
        })
        .unwrap_or_else(|| "?".to_owned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--client") {
        client_main(&args[1..]);
    }
    let options = parse_options(&args);
    if cfg!(debug_assertions) {
        eprintln!("warning: built without optimisations; run it with `cargo bench -p bench`");
    }
    let limit = raise_open_files_limit();
    // The server's process holds its connections, a listener, and a few descriptors of its own.
    let fits = (limit as usize).saturating_sub(64);
    let mut connections = options.connections.clone();
    for n in &mut connections {
        if *n > fits {
            eprintln!(
                "note: {n} connections do not fit under RLIMIT_NOFILE = {limit} (the client \
                 process has its own limit); using {fits}"
            );
            *n = fits;
        }
    }
    let mut servers = vec![Server::TokioCt, Server::SmolLocal, Server::Reference];
    if options.learner {
        servers.push(Server::Learner);
    }
    // Quiet the default panic message of a learner's todo!(): it is reported in the table.
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if thread::current().name() != Some("learner-server") {
            default_hook(info);
        }
    }));

    println!(
        "echo: {MESSAGE} B request/response per connection, server on one thread; CPU set \
         {}; RLIMIT_NOFILE {limit}",
        affinity()
    );
    let mut rows = Vec::new();
    for &n in &connections {
        // samples[server] over rounds; failures[server].
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); servers.len()];
        let mut failures: Vec<Option<String>> = vec![None; servers.len()];
        for round in 0..options.rounds {
            for k in 0..servers.len() {
                let index = (round + k) % servers.len();
                if failures[index].is_some() {
                    continue;
                }
                match measure(servers[index], n, &options) {
                    Ok(sample) => samples[index].push(sample),
                    Err(err) => failures[index] = Some(err),
                }
            }
        }
        rows.push((n, samples, failures));
    }

    let mut throughput = format!("{:<12}{:>14}", "connections", "tokio-ct req/s");
    let mut cpu = format!("{:<12}{:>14}", "connections", "tokio-ct ns/req");
    for server in &servers[1..] {
        let _ = write!(throughput, "{:>12}", server.name());
        let _ = write!(cpu, "{:>12}", server.name());
    }
    let mut notes = Vec::new();
    for (n, samples, failures) in &rows {
        let medians: Vec<Option<(f64, f64)>> = samples
            .iter()
            .map(|s| {
                let mut rps: Vec<f64> = s.iter().map(|s| s.requests_per_sec).collect();
                let mut ns: Vec<f64> = s.iter().map(|s| s.server_cpu_ns_per_request).collect();
                Some((median(&mut rps)?, median(&mut ns)?))
            })
            .collect();
        let Some((tokio_rps, tokio_ns)) = medians[0] else {
            notes.push(format!(
                "{n} connections: tokio-ct failed: {}",
                failures[0].as_deref().unwrap_or("?")
            ));
            continue;
        };
        let _ = write!(throughput, "\n{n:<12}{tokio_rps:>14.0}");
        let _ = write!(cpu, "\n{n:<12}{:>14}", per_request(tokio_ns));
        for (i, server) in servers.iter().enumerate().skip(1) {
            match (medians[i], &failures[i]) {
                (Some((rps, ns)), None) => {
                    let _ = write!(throughput, "{:>12}", format!("{:.2}×", rps / tokio_rps));
                    let _ = write!(cpu, "{:>12}", ratio(ns / tokio_ns));
                }
                (_, failure) => {
                    let todo = failure
                        .as_deref()
                        .is_some_and(|f| f.starts_with("not implemented"));
                    let cell = if todo { "todo!()" } else { "failed" };
                    let _ = write!(throughput, "{cell:>12}");
                    let _ = write!(cpu, "{cell:>12}");
                    notes.push(format!(
                        "{n} connections, {}: {}",
                        server.name(),
                        failure.as_deref().unwrap_or("no samples")
                    ));
                }
            }
        }
    }
    println!("\nthroughput (round trips per second; ratios: higher is better)\n{throughput}");
    println!("\nserver CPU per request (ratios: lower is better)\n{cpu}");
    let sizes: Vec<String> = connections.iter().map(ToString::to_string).collect();
    println!(
        "\ncommand: cargo bench -p bench --bench echo --{} --connections {} --rounds {} \
         --warmup-ms {} --window-ms {}",
        if options.learner { " --learner" } else { "" },
        sizes.join(","),
        options.rounds,
        options.warmup.as_millis(),
        options.window.as_millis()
    );
    println!(
        "cells are medians of {} interleaved rounds; reference target: >= 0.9x tokio-ct \
         throughput. Informational only.",
        options.rounds
    );
    for note in notes {
        println!("\n{note}");
    }
}
