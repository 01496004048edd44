//! Helpers shared by this stage's tests: socket pairs on loopback, byte patterns, std clients,
//! the file-descriptor limit, and a way to see (on Linux) that a thread is blocked in the
//! reactor's `epoll_wait`, so that no test has to guess with a sleep.

// Each test file uses some of these helpers, not all.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

/// How long a std client waits for a reply before giving up. It only bounds a failing test: a
/// passing one never waits this long.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(4);

/// A connected pair of std TCP streams on loopback: (the server's end, the client's end). Both
/// are blocking; the client's has read and write timeouts.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect on loopback");
    let (server, _) = listener.accept().expect("accept on loopback");
    with_timeouts(&client);
    (server, client)
}

/// A connected pair whose server end is a non-blocking `mio` stream, ready to register.
pub fn mio_pair() -> (reactor::mio::net::TcpStream, TcpStream) {
    let (server, client) = tcp_pair();
    server.set_nonblocking(true).unwrap();
    (reactor::mio::net::TcpStream::from_std(server), client)
}

/// A std client connected to `addr`, with read and write timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let client = TcpStream::connect(addr).expect("connect to the server under test");
    with_timeouts(&client);
    client
}

fn with_timeouts(stream: &TcpStream) {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
}

/// `len` bytes that differ from connection to connection (`seed`) and along the stream, so a
/// lost, repeated or reordered chunk shows up as a mismatch.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Reads until `want` bytes have arrived, the peer closes, or the read times out. Returns what
/// arrived; the caller compares it with what it expected.
pub fn read_up_to(stream: &mut TcpStream, want: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut got = Vec::with_capacity(want);
    let mut buf = vec![0; 64 * 1024];
    while got.len() < want {
        let room = (want - got.len()).min(buf.len());
        match stream.read(&mut buf[..room]) {
            Ok(0) => return (got, None),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return (got, Some(err)),
        }
    }
    (got, None)
}

/// Describes where two byte strings first differ, for assertion messages.
pub fn first_difference(got: &[u8], expected: &[u8]) -> String {
    match got.iter().zip(expected).position(|(a, b)| a != b) {
        Some(at) => format!("byte {at} differs"),
        None if got.len() < expected.len() => {
            format!("only {} of {} bytes arrived", got.len(), expected.len())
        }
        None => format!("{} bytes arrived, {} expected", got.len(), expected.len()),
    }
}

/// The diagnosis for a server that closed a connection without echoing a single byte.
pub const ZERO_LENGTH_BUFFER: &str = "the server closed the connection without sending back a \
    single byte, as if it had read the end of the stream at once. Is `echo`'s read buffer of \
    length 0? `Vec::with_capacity(n)` has room for n bytes but a length of 0, and a read into an \
    empty slice returns Ok(0), which means \"end of stream\". Make the buffer with \
    `vec![0; n]` (or an array `[0; n]`).";

/// Sends `payload` from a std client and checks that exactly it comes back, on a thread of its
/// own so that writing and reading overlap. Returns an error message, or `None` if every byte
/// came back in order.
pub fn echo_check(addr: SocketAddr, payload: Vec<u8>, half_close: bool) -> Option<String> {
    let mut client = connect(addr);
    let mut writer = client.try_clone().unwrap();
    let sent = payload.clone();
    let writing = thread::spawn(move || {
        let result = writer.write_all(&sent);
        if half_close {
            let _ = writer.shutdown(Shutdown::Write);
        }
        result
    });
    let (got, error) = read_up_to(&mut client, payload.len());
    let written = writing.join().unwrap();
    if got.is_empty() && error.is_none() && !payload.is_empty() {
        return Some(ZERO_LENGTH_BUFFER.to_owned());
    }
    if got != payload {
        return Some(format!(
            "{}{}",
            first_difference(&got, &payload),
            match error {
                Some(err) => format!(" (the client's read ended with: {err})"),
                None => String::new(),
            }
        ));
    }
    if let Err(err) = written {
        return Some(format!("the client could not send everything: {err}"));
    }
    None
}

/// Raises this process's soft limit on open files to at least `needed` (up to the hard
/// limit). Returns the limit in force afterwards.
// `rlim_t` is `u64` here, but not on every platform: the casts are not always no-ops.
#[allow(clippy::unnecessary_cast)]
pub fn raise_open_files_limit(needed: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for getrlimit to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur < needed as libc::rlim_t {
        let raised = libc::rlimit {
            rlim_cur: (needed as libc::rlim_t).min(limit.rlim_max),
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; setrlimit only reads it.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    limit.rlim_cur as u64
}

/// The kernel's view of one thread of this process (Linux only), to check what it is blocked
/// in without sleeping and hoping.
#[derive(Debug, Clone)]
pub struct KernelThread {
    /// `/proc/<pid>/task/<tid>/syscall`, if this system has it.
    syscall_file: Option<PathBuf>,
}

/// What [`KernelThread::wait_until_blocked_in_poll`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// Blocked in `epoll_wait` with no timeout: asleep until an event or a wake.
    InPoll,
    /// This system cannot tell (not Linux): the test goes on without the check.
    Unknown,
    /// Not seen blocked in `epoll_wait` without a timeout before the deadline; the last thing
    /// seen, in words.
    Never(String),
}

impl KernelThread {
    /// The thread that calls this.
    pub fn current() -> KernelThread {
        let syscall_file = std::fs::read_link("/proc/thread-self")
            .ok()
            .map(|task| PathBuf::from("/proc").join(task).join("syscall"))
            .filter(|path| std::fs::read_to_string(path).is_ok());
        KernelThread { syscall_file }
    }

    /// Waits (up to `limit`) until the thread is blocked in `epoll_wait` with no timeout.
    pub fn wait_until_blocked_in_poll(&self, limit: Duration) -> Blocked {
        let Some(path) = &self.syscall_file else {
            return Blocked::Unknown;
        };
        let deadline = Instant::now() + limit;
        loop {
            let Ok(text) = std::fs::read_to_string(path) else {
                return Blocked::Never("the thread ended".to_owned());
            };
            let last = match describe(&text) {
                Seen::BlockedInPoll => return Blocked::InPoll,
                Seen::Other(what) => what,
            };
            if Instant::now() >= deadline {
                return Blocked::Never(last);
            }
            // Not a guess about timing: only how often to look again.
            thread::sleep(Duration::from_micros(200));
        }
    }
}

impl KernelThread {
    /// Whether the thread is blocked on a lock (a futex) right now. `None` if this system
    /// cannot tell (not Linux) or the thread has ended.
    pub fn blocked_on_a_lock(&self) -> Option<bool> {
        let text = std::fs::read_to_string(self.syscall_file.as_ref()?).ok()?;
        Some(matches!(describe(&text), Seen::Other(what) if what.contains("futex")))
    }
}

enum Seen {
    BlockedInPoll,
    Other(String),
}

/// Reads `/proc/<pid>/task/<tid>/syscall`: "running", or the system call number and its
/// arguments in hex.
fn describe(text: &str) -> Seen {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let Some(number) = fields.first().and_then(|n| n.parse::<i64>().ok()) else {
        return Seen::Other("running (busy in user code, not in a system call)".to_owned());
    };
    let arg = |i: usize| {
        fields
            .get(1 + i)
            .and_then(|hex| u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
    };
    // epoll_wait(epfd, events, maxevents, timeout) / epoll_pwait(..., timeout, sigmask)
    let epoll = if cfg!(target_arch = "x86_64") {
        [232, 281]
    } else if cfg!(target_arch = "aarch64") {
        [22, 22]
    } else {
        [-2, -2]
    };
    if epoll.contains(&number) {
        // The timeout is a C int: -1 means "until an event".
        let timeout = arg(3).map(|t| t as u32 as i32);
        return match timeout {
            Some(t) if t < 0 => Seen::BlockedInPoll,
            Some(t) => Seen::Other(format!("in epoll_wait with a {t} ms timeout")),
            None => Seen::Other("in epoll_wait".to_owned()),
        };
    }
    let futex = if cfg!(target_arch = "x86_64") {
        202
    } else {
        98
    };
    Seen::Other(match number {
        -1 => "runnable (busy in user code, not in a system call)".to_owned(),
        n if n == futex => "blocked on a lock or condition variable (futex)".to_owned(),
        n => format!("in system call {n}"),
    })
}

/// The message for a runtime (or reactor) thread that was never seen blocked in its poll.
pub fn never_blocked_message(who: &str, last: &str) -> String {
    format!(
        "{who} was never seen blocked in the reactor's poll (epoll_wait with no timeout); last \
         seen: {last}. With nothing ready and no timers, an idle runtime must block in \
         `reactor.turn(None)` (react with timeout None): polling with a zero or short timeout \
         in a loop spins and burns a core, and sleeping on a condition variable instead never \
         sees I/O events."
    )
}

/// `Runtime::new()`, with a lesson attached if it panics for a reason other than a `todo!()`.
pub fn new_runtime() -> reactor::Runtime {
    match std::panic::catch_unwind(reactor::Runtime::new) {
        Ok(runtime) => runtime.expect("Runtime::new"),
        Err(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if text.contains("not yet implemented") {
                std::panic::resume_unwind(payload);
            }
            panic!(
                "Runtime::new() panicked ({text}) while another runtime exists in this process. \
                 Is the reactor a global (a `static`, a `OnceLock`)? Each Runtime must own its \
                 own Reactor, so that several runtimes (the tests of one test binary, say) can \
                 live side by side."
            )
        }
    }
}
