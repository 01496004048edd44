//! The capstone's benchmark (Stage 11): `redis-benchmark` against the reference server and
//! against `redis-server`, in the same run.
//!
//! ```text
//! cargo bench -p bench --bench redis
//! cargo bench -p bench --bench redis -- --learner      # ... and your server
//! cargo bench -p bench --bench redis -- -n 1000000      # more requests per run
//! cargo bench -p bench --bench redis -- --idle 10000     # with 10 000 idle clients connected
//! ```
//!
//! With `--idle N`, a child process (this program again, `--hold N PORT`, so each side has its
//! own file limit) opens N connections to each server, checks each with a PING, and keeps them
//! open while redis-benchmark runs (against our servers only: redis-server, the baseline row,
//! runs without them).
//!
//! For each server and for `-P 1` and `-P 16` it runs
//! `redis-benchmark -t set,get -n N -c 50 -q --csv [-P 16]` with the client pinned to CPU 1 and
//! the server to CPU 0 (`taskset` for `redis-server`, `sched_setaffinity` for our servers,
//! which run on a thread of this process), and prints requests/s and the ratio to
//! `redis-server` (target: >= 0.8x without pipelining). It needs `redis-benchmark`,
//! `redis-server` and `taskset` on PATH, and two CPUs.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// One server under test: a name and how to start it on a port.
struct Server {
    name: &'static str,
    port: u16,
    stop: Box<dyn FnOnce()>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut requests = 100_000_u32;
    let mut learner = false;
    let mut idle = 0_usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--hold" => {
                let count = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--hold N PORT");
                let port = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--hold N PORT");
                return hold(count, port);
            }
            "--idle" => idle = args.next().and_then(|n| n.parse().ok()).expect("--idle N"),
            "-n" => requests = args.next().and_then(|n| n.parse().ok()).expect("-n COUNT"),
            "--learner" => learner = true,
            "--bench" => {}
            other => {
                panic!("unknown argument {other}; see the header of crates/bench/benches/redis.rs")
            }
        }
    }
    for tool in ["redis-benchmark", "redis-server", "taskset"] {
        if Command::new(tool).arg("--version").output().is_err() {
            println!(
                "{tool} is not installed: the redis benchmark needs it (apt-get install redis-tools redis-server util-linux)"
            );
            return;
        }
    }
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "redis-benchmark -t set,get -n {requests} -c 50 -q --csv; server on CPU 0, client on CPU 1 ({cpus} CPUs here); {idle} idle clients"
    );
    let mut servers = vec![
        start_redis_server(),
        start_kit_server("reference", reference::run),
    ];
    if learner {
        servers.push(start_kit_server("learner", learner_server::run));
    }
    let mut table: Vec<(&str, [f64; 4])> = Vec::new();
    for server in &servers {
        // redis-server refuses clients past about 10 000 here whatever --maxclients says, so
        // the idle connections are held against our servers only (its row stays the baseline).
        let holder =
            (idle > 0 && server.name != "redis-server").then(|| start_holder(idle, server.port));
        let mut row = [0.0; 4];
        for (i, pipeline) in [1, 16].into_iter().enumerate() {
            let (set, get) = run_benchmark(server.port, requests, pipeline);
            row[2 * i] = set;
            row[2 * i + 1] = get;
        }
        if let Some(mut holder) = holder {
            let _ = holder.kill();
            let _ = holder.wait();
        }
        table.push((server.name, row));
    }
    let base = table[0].1;
    println!();
    println!(
        "{:<14} {:>12} {:>12} {:>14} {:>14}",
        "server", "SET req/s", "GET req/s", "SET -P16", "GET -P16"
    );
    for (name, row) in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(base)
            .map(|(v, b)| {
                if *name == "redis-server" {
                    format!("{v:.0}")
                } else {
                    format!("{v:.0} ({:.2}x)", v / b)
                }
            })
            .collect();
        println!(
            "{:<14} {:>12} {:>12} {:>14} {:>14}",
            name, cells[0], cells[1], cells[2], cells[3]
        );
    }
    println!("(ratios are to redis-server in the same run; the target is >= 0.80x without -P)");
    for server in servers {
        (server.stop)();
    }
}

/// A free loopback port (bound and released; the server binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until_up(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server on {port} did not start"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

fn start_redis_server() -> Server {
    let port = free_port();
    let mut child: Child = Command::new("taskset")
        .args(["-c", "0", "redis-server", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start redis-server");
    wait_until_up(port);
    Server {
        name: "redis-server",
        port,
        stop: Box::new(move || {
            let _ = child.kill();
            let _ = child.wait();
        }),
    }
}

type RunFn = fn(
    kit::net::TcpListener,
    futures::channel::oneshot::Receiver<()>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>>>>;

/// Our servers' connection limit here: room for `--idle 10000` plus redis-benchmark's 50.
const MAX_CONNECTIONS: usize = 12_000;

mod reference {
    use super::MAX_CONNECTIONS;

    pub fn run(
        listener: kit::net::TcpListener,
        stop: futures::channel::oneshot::Receiver<()>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>>>> {
        let config = capstone_reference::Config {
            max_connections: MAX_CONNECTIONS,
        };
        let db = capstone_reference::Db::new();
        Box::pin(capstone_reference::serve(listener, db, config, async {
            let _ = stop.await;
        }))
    }
}

mod learner_server {
    use super::MAX_CONNECTIONS;

    pub fn run(
        listener: kit::net::TcpListener,
        stop: futures::channel::oneshot::Receiver<()>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>>>> {
        let config = capstone_learner::Config {
            max_connections: MAX_CONNECTIONS,
        };
        let db = capstone_learner::Db::new();
        Box::pin(capstone_learner::serve(listener, db, config, async {
            let _ = stop.await;
        }))
    }
}

fn start_kit_server(name: &'static str, run: RunFn) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = futures::channel::oneshot::channel();
    let thread = thread::spawn(move || {
        pin_to_cpu(0);
        let mut runtime = kit::Runtime::new().expect("a kit runtime");
        runtime.block_on(async move {
            let listener = kit::net::TcpListener::from_std(listener).expect("register");
            run(listener, stopped).await
        })
    });
    wait_until_up(port);
    Server {
        name,
        port,
        stop: Box::new(move || {
            let _ = stop.send(());
            let _ = thread.join();
        }),
    }
}

/// Pins the calling thread to one CPU.
fn pin_to_cpu(cpu: usize) {
    // SAFETY: `set` is a zeroed cpu_set_t that CPU_SET fills in; sched_setaffinity(0, ..)
    // applies to the calling thread and only reads `set`.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Runs redis-benchmark on CPU 1; returns (SET, GET) requests per second.
fn run_benchmark(port: u16, requests: u32, pipeline: u32) -> (f64, f64) {
    let out = Command::new("taskset")
        .args([
            "-c",
            "1",
            "redis-benchmark",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .args([
            "-t",
            "set,get",
            "-n",
            &requests.to_string(),
            "-c",
            "50",
            "-q",
            "--csv",
        ])
        .args(["-P", &pipeline.to_string()])
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    let rps = |test: &str| -> f64 {
        text.lines()
            .find(|line| line.starts_with(&format!("\"{test}\"")))
            .and_then(|line| line.split(',').nth(1))
            .and_then(|field| field.trim_matches('"').parse().ok())
            .unwrap_or_else(|| panic!("redis-benchmark printed no {test} line:\n{text}\n{errors}"))
    };
    (rps("SET"), rps("GET"))
}

/// Starts the `--hold` child for `count` idle connections to `port`; returns once they are all
/// connected and answered a PING.
fn start_holder(count: usize, port: u16) -> Child {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--hold", &count.to_string(), &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the idle-connection holder");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim(),
        "ready",
        "the idle-connection holder failed: {line}"
    );
    child
}

/// The `--hold` child: opens `count` connections, PINGs each, says "ready", waits for stdin.
fn hold(count: usize, port: u16) {
    use std::io::{Read, Write};
    let mut streams = Vec::with_capacity(count);
    for i in 0..count {
        let mut stream = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port)))
            .unwrap_or_else(|err| panic!("idle connection {i}: {err}"));
        stream.write_all(b"PING\r\n").unwrap();
        let mut pong = [0_u8; 7];
        stream.read_exact(&mut pong).unwrap();
        assert_eq!(&pong, b"+PONG\r\n", "idle connection {i} was not served");
        streams.push(stream);
    }
    println!("ready");
    let _ = std::io::stdin().read(&mut [0]);
}
