//! Helpers shared by this stage's tests: a server under test on its own thread (paused clock,
//! loopback port 0, always shut down), std clients that speak raw RESP, and a small RESP
//! reader for the replies.

// Each test file uses some of these helpers, not all.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use capstone::{Config, Db};
use futures::channel::oneshot;
use kit::time::Clock;

/// How long a client waits for a reply before giving up. It only bounds a failing test: a
/// passing one never waits this long.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(4);

/// What `serve` left behind: its result and the runtime's unfinished tasks after it returned.
pub type Outcome = (io::Result<()>, usize);

/// A server under test: `serve` on a `kit` runtime with a paused clock, on its own thread.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The runtime's clock: `advance` it to move time for the server.
    pub clock: Clock,
    /// A clone of the server's data.
    pub db: Db,
    stop: Option<oneshot::Sender<()>>,
    done: Option<mpsc::Receiver<Outcome>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let db = Db::new();
        let server_db = db.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let (clock_tx, clock_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("server under test".into())
            .spawn(move || {
                let mut runtime = kit::Runtime::with_clock(Clock::paused()).expect("a runtime");
                clock_tx.send(runtime.clock()).unwrap();
                let outcome = runtime.block_on(async move {
                    let listener = kit::net::TcpListener::from_std(listener).expect("register");
                    let result = capstone::serve(listener, server_db, config, async {
                        let _ = stopped.await;
                    })
                    .await;
                    (result, kit::runtime::live_tasks())
                });
                let _ = done_tx.send(outcome);
            })
            .expect("spawn the server's thread");
        TestServer {
            addr,
            clock: clock_rx.recv().expect("the server thread starts"),
            db,
            stop: Some(stop),
            done: Some(done),
            thread: Some(thread),
        }
    }

    /// A raw client connected to the server.
    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Completes the shutdown future and waits (at most `CLIENT_TIMEOUT`) for `serve` to
    /// return; `None` if it did not.
    pub fn shutdown(&mut self) -> Option<Outcome> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let outcome = self.done.take()?.recv_timeout(CLIENT_TIMEOUT).ok();
        if outcome.is_some()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
        outcome
    }

    /// Shuts down and checks that `serve` returned `Ok(())` with nothing left running.
    pub fn finish(mut self) {
        let (result, live) = self.shutdown().expect(
            "serve did not return within 4 s after the shutdown future completed: does your \
             accept loop poll `shutdown`, do connections stop when told, and does serve stop \
             waiting for the purge task?",
        );
        result.expect("serve returned an error after a clean shutdown");
        assert_eq!(
            live, 0,
            "{live} task(s) still running after serve returned: every connection task must \
             have ended (serve awaits them), and the purge task must stop with serve"
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Always shut the server down; a stuck one is left to the process's end (the test has
        // already failed then).
        let _ = self.shutdown();
    }
}

/// A std client speaking raw RESP.
pub struct Client {
    pub reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the server under test");
        stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .expect("write to the server");
    }

    /// Sends one command as an array of bulk strings.
    pub fn send_command(&mut self, args: &[&str]) {
        self.send(&command(args));
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&str]) -> Reply {
        self.send_command(args);
        self.reply(&format!("the reply to {args:?}"))
    }

    /// Reads one reply; panics with `what` if none comes or the connection closes.
    pub fn reply(&mut self, what: &str) -> Reply {
        match read_reply(&mut self.reader) {
            Ok(reply) => reply,
            Err(err)
                if err.kind() == io::ErrorKind::WouldBlock
                    || err.kind() == io::ErrorKind::TimedOut =>
            {
                panic!(
                    "waited {CLIENT_TIMEOUT:?} for {what} and none came: does the server answer \
                     every complete request it has read before waiting for more bytes?"
                )
            }
            Err(err) => panic!("reading {what}: {err} (did the server close the connection?)"),
        }
    }

    /// Reads until the server closes; returns what came before the end. Panics if the
    /// connection stays open for `CLIENT_TIMEOUT`.
    pub fn read_to_close(&mut self, what: &str) -> Vec<u8> {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => rest,
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => rest,
            Err(err) => panic!(
                "expected the server to close the connection ({what}), but after \
                 {CLIENT_TIMEOUT:?} it was still open ({err}); got {:?} meanwhile",
                String::from_utf8_lossy(&rest)
            ),
        }
    }

    /// Checks that nothing arrives within `wait` (a short real wait: used only to check
    /// that an unwanted reply did not come, never to decide that a wanted one did).
    pub fn expect_silence(&mut self, wait: Duration, what: &str) {
        self.stream().set_read_timeout(Some(wait)).unwrap();
        let mut byte = [0_u8; 1];
        let got = self.reader.read(&mut byte);
        self.stream()
            .set_read_timeout(Some(CLIENT_TIMEOUT))
            .unwrap();
        match got {
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Ok(0) => panic!("{what}: the server closed the connection"),
            Ok(_) => panic!("{what}: but the server sent {:?}", byte[0] as char),
            Err(err) => panic!("{what}: {err}"),
        }
    }
}

/// The encoding of a command as an array of bulk strings.
pub fn command(args: &[&str]) -> Vec<u8> {
    command_bytes(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
}

/// The encoding of a command whose arguments are any bytes.
pub fn command_bytes(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A RESP2 reply, as read by the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
}

impl Reply {
    pub fn bulk(text: &str) -> Reply {
        Reply::Bulk(text.as_bytes().to_vec())
    }

    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    /// The text of an error reply; panics (naming `what`) for anything else.
    pub fn error_text(&self, what: &str) -> &str {
        match self {
            Reply::Error(text) => text,
            other => panic!("expected an -ERR reply to {what}, got {other:?}"),
        }
    }
}

/// `*3 message channel payload`.
pub fn message(channel: &str, payload: &str) -> Reply {
    Reply::Array(vec![
        Reply::bulk("message"),
        Reply::bulk(channel),
        Reply::bulk(payload),
    ])
}

/// `*3 kind channel count`.
pub fn subscription(kind: &str, channel: Option<&str>, count: i64) -> Reply {
    Reply::Array(vec![
        Reply::bulk(kind),
        channel.map_or(Reply::Nil, Reply::bulk),
        Reply::Integer(count),
    ])
}

/// Reads one RESP2 reply.
pub fn read_reply(reader: &mut impl BufRead) -> io::Result<Reply> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if !line.ends_with(b"\r\n") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "a reply line not ended by CRLF: {:?}",
                String::from_utf8_lossy(&line)
            ),
        ));
    }
    let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {text:?}"));
    Ok(match line[0] {
        b'+' => Reply::Simple(text),
        b'-' => Reply::Error(text),
        b':' => Reply::Integer(text.parse().map_err(|_| bad("not an integer"))?),
        b'$' => {
            let len: i64 = text.parse().map_err(|_| bad("not a bulk length"))?;
            if len < 0 {
                Reply::Nil
            } else {
                let mut body = vec![0; len as usize + 2];
                reader.read_exact(&mut body)?;
                if !body.ends_with(b"\r\n") {
                    return Err(bad("a bulk string not ended by CRLF"));
                }
                body.truncate(len as usize);
                Reply::Bulk(body)
            }
        }
        b'*' => {
            let len: i64 = text.parse().map_err(|_| bad("not an array length"))?;
            let mut items = Vec::new();
            for _ in 0..len.clamp(0, 10_000) {
                items.push(read_reply(reader)?);
            }
            Reply::Array(items)
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a reply starting with {:?}: {:?}",
                    other as char,
                    String::from_utf8_lossy(&line)
                ),
            ));
        }
    })
}

/// Waits (up to `CLIENT_TIMEOUT`, polling every millisecond) until `done` is true; panics
/// with `what` otherwise. The sleep only paces the polling: the outcome is decided by `done`.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < CLIENT_TIMEOUT, "{what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Raises this process's soft limit on open files to at least `needed` if the hard limit
/// allows; returns the limit now in force (0 if it could not be read).
// `rlim_t` is `u64` here, but not on every platform: the casts are not always no-ops.
#[allow(clippy::unnecessary_cast)]
pub fn raise_fd_limit(needed: u64) -> u64 {
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

/// Closes `stream` with a reset (RST) instead of a clean close: `SO_LINGER` with a zero
/// timeout, then drop. The server then reads `ECONNRESET`.
pub fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is open (we own `stream`) and `linger` is a valid `struct linger` whose
    // size is passed; setsockopt only reads it.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt(SO_LINGER) failed");
    drop(stream);
}
