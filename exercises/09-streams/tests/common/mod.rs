//! Helpers shared by this stage's tests: scripted streams, readers and writers that the test
//! controls step by step (so every partial read, `Pending` and end of stream happens exactly
//! where the test says), futures finished by hand, socket pairs on loopback, and a way to see
//! (on Linux) that a thread is blocked in the reactor's `epoll_wait`.

// Each test file uses some of these helpers, not all.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures::Stream;
use futures::io::{AsyncRead, AsyncWrite};
use harness::{AwokenCount, Watchdog, counting_waker};

/// How long a std peer waits for data before giving up: it only bounds a failing test.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(4);

/// A watchdog for one test of `part`, with the causes common to every part.
pub fn watchdog(part: &str, what: &str) -> Watchdog {
    Watchdog::new(format!("{part}: {what}"))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Driving a stream by hand.

/// Polls a stream by hand with a counting waker (or one of the test's choosing).
pub struct StreamPoller<S: Stream> {
    stream: Pin<Box<S>>,
    waker: Waker,
    wakes: AwokenCount,
}

impl<S: Stream> StreamPoller<S> {
    pub fn new(stream: S) -> Self {
        let (waker, wakes) = counting_waker();
        StreamPoller {
            stream: Box::pin(stream),
            waker,
            wakes,
        }
    }

    /// One `poll_next` with the poller's counting waker.
    pub fn poll(&mut self) -> Poll<Option<S::Item>> {
        let waker = self.waker.clone();
        self.poll_with(&waker)
    }

    /// One `poll_next` with `waker`.
    pub fn poll_with(&mut self, waker: &Waker) -> Poll<Option<S::Item>> {
        self.stream
            .as_mut()
            .poll_next(&mut Context::from_waker(waker))
    }

    /// How many times the poller's own waker has been woken.
    pub fn wakes(&self) -> usize {
        self.wakes.get()
    }

    pub fn get(&self) -> &S {
        &self.stream
    }
}

/// Renders a poll result in a message without requiring `Debug` on everything.
pub fn shape<T>(poll: &Poll<Option<T>>) -> &'static str {
    match poll {
        Poll::Ready(Some(_)) => "Ready(Some(..))",
        Poll::Ready(None) => "Ready(None)",
        Poll::Pending => "Pending",
    }
}

// ---------------------------------------------------------------------------------------------
// A stream the test scripts step by step.

/// One step of a [`Script`].
pub enum Step<T> {
    Item(T),
    /// Returns `Pending` and keeps the waker; the test wakes it with [`ScriptHandle::wake`]
    /// (or by pushing an item with [`ScriptHandle::push_and_wake`]).
    Pending,
    End,
}

struct ScriptState<T> {
    steps: VecDeque<Step<T>>,
    polls: usize,
    ended: bool,
    waker: Option<Waker>,
}

/// A stream that plays a script of steps, counts its polls, keeps the waker of its latest
/// `Pending`, and panics (with a lesson) if it is polled after it returned `Ready(None)`.
/// With nothing left in the script it returns `Pending` (keeping the waker).
pub struct Script<T> {
    state: Arc<Mutex<ScriptState<T>>>,
}

/// The test's side of a [`Script`].
pub struct ScriptHandle<T> {
    state: Arc<Mutex<ScriptState<T>>>,
}

pub fn script<T>(steps: impl IntoIterator<Item = Step<T>>) -> (Script<T>, ScriptHandle<T>) {
    let state = Arc::new(Mutex::new(ScriptState {
        steps: steps.into_iter().collect(),
        polls: 0,
        ended: false,
        waker: None,
    }));
    (
        Script {
            state: Arc::clone(&state),
        },
        ScriptHandle { state },
    )
}

/// A script of items, then the end.
pub fn items<T>(items: impl IntoIterator<Item = T>) -> (Script<T>, ScriptHandle<T>) {
    script(items.into_iter().map(Step::Item).chain([Step::End]))
}

impl<T> Stream for Script<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.state);
        assert!(
            !state.ended,
            "the source stream was polled again after it returned Ready(None). A stream that \
             has ended must not be polled again (many panic, as this one does): remember that \
             it ended and answer Ready(None) yourself"
        );
        state.polls += 1;
        match state.steps.pop_front() {
            Some(Step::Item(item)) => Poll::Ready(Some(item)),
            Some(Step::End) => {
                state.ended = true;
                Poll::Ready(None)
            }
            Some(Step::Pending) | None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> ScriptHandle<T> {
    /// How many times the stream has been polled.
    pub fn polls(&self) -> usize {
        lock(&self.state).polls
    }

    /// Appends steps to the script.
    pub fn push(&self, steps: impl IntoIterator<Item = Step<T>>) {
        lock(&self.state).steps.extend(steps);
    }

    /// Appends steps and wakes the waker of the latest `Pending`. Returns whether there was one.
    pub fn push_and_wake(&self, steps: impl IntoIterator<Item = Step<T>>) -> bool {
        let waker = {
            let mut state = lock(&self.state);
            state.steps.extend(steps);
            state.waker.take()
        };
        waker.map(Waker::wake).is_some()
    }

    /// Whether a waker is stored (the stream returned `Pending` at least once since the last
    /// wake).
    pub fn has_waker(&self) -> bool {
        lock(&self.state).waker.is_some()
    }
}

// ---------------------------------------------------------------------------------------------
// Futures finished by hand.

#[derive(Default)]
struct JobState<T> {
    output: Option<T>,
    polls: usize,
    done: bool,
    dropped: bool,
    waker: Option<Waker>,
}

/// A future the test finishes by hand with [`JobHandle::finish`]. It counts its polls and
/// records whether it has been dropped.
pub struct Job<T> {
    state: Arc<Mutex<JobState<T>>>,
}

pub struct JobHandle<T> {
    state: Arc<Mutex<JobState<T>>>,
}

pub fn job<T>() -> (Job<T>, JobHandle<T>) {
    let state = Arc::new(Mutex::new(JobState {
        output: None,
        polls: 0,
        done: false,
        dropped: false,
        waker: None,
    }));
    (
        Job {
            state: Arc::clone(&state),
        },
        JobHandle { state },
    )
}

impl<T> Future for Job<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = lock(&self.state);
        assert!(
            !state.done,
            "a future was polled again after it returned Ready"
        );
        state.polls += 1;
        match state.output.take() {
            Some(output) => {
                state.done = true;
                Poll::Ready(output)
            }
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        lock(&self.state).dropped = true;
    }
}

impl<T> JobHandle<T> {
    /// Gives the future its output and wakes the waker of its latest poll, if any. Returns
    /// whether a waker was woken.
    pub fn finish(&self, output: T) -> bool {
        let waker = {
            let mut state = lock(&self.state);
            state.output = Some(output);
            state.waker.take()
        };
        waker.map(Waker::wake).is_some()
    }

    pub fn polls(&self) -> usize {
        lock(&self.state).polls
    }

    pub fn is_dropped(&self) -> bool {
        lock(&self.state).dropped
    }

    pub fn is_done(&self) -> bool {
        lock(&self.state).done
    }
}

// ---------------------------------------------------------------------------------------------
// Readers and writers the test controls.

/// One step of a [`ScriptedReader`].
pub enum Chunk {
    Bytes(Vec<u8>),
    /// `Pending`, waker kept; the test wakes it with [`ReaderHandle::push_and_wake`].
    Pending,
    Eof,
    Error(io::ErrorKind),
}

struct ReaderState {
    chunks: VecDeque<Chunk>,
    polls: usize,
    /// The length of the buffer of each `poll_read`.
    asked: Vec<usize>,
    bytes_read: usize,
    eof_seen: bool,
    waker: Option<Waker>,
}

/// A reader that plays a script: each `Bytes` chunk is returned by one read (split over
/// several if the buffer is smaller), `Pending` keeps the waker, `Eof` is `Ok(0)` (and so is
/// every later read), with nothing left it is `Pending`. It counts polls and bytes.
pub struct ScriptedReader {
    state: Arc<Mutex<ReaderState>>,
}

pub struct ReaderHandle {
    state: Arc<Mutex<ReaderState>>,
}

pub fn reader(chunks: impl IntoIterator<Item = Chunk>) -> (ScriptedReader, ReaderHandle) {
    let state = Arc::new(Mutex::new(ReaderState {
        chunks: chunks.into_iter().collect(),
        polls: 0,
        asked: Vec::new(),
        bytes_read: 0,
        eof_seen: false,
        waker: None,
    }));
    (
        ScriptedReader {
            state: Arc::clone(&state),
        },
        ReaderHandle { state },
    )
}

impl AsyncRead for ScriptedReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = lock(&self.state);
        state.polls += 1;
        state.asked.push(buf.len());
        if state.eof_seen {
            return Poll::Ready(Ok(0));
        }
        match state.chunks.pop_front() {
            Some(Chunk::Bytes(mut bytes)) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                if n < bytes.len() {
                    state.chunks.push_front(Chunk::Bytes(bytes.split_off(n)));
                }
                state.bytes_read += n;
                Poll::Ready(Ok(n))
            }
            Some(Chunk::Eof) => {
                state.eof_seen = true;
                Poll::Ready(Ok(0))
            }
            Some(Chunk::Error(kind)) => Poll::Ready(Err(io::Error::new(kind, "scripted error"))),
            Some(Chunk::Pending) | None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl ReaderHandle {
    pub fn polls(&self) -> usize {
        lock(&self.state).polls
    }

    pub fn bytes_read(&self) -> usize {
        lock(&self.state).bytes_read
    }

    /// The buffer length of every `poll_read` so far.
    pub fn asked(&self) -> Vec<usize> {
        lock(&self.state).asked.clone()
    }

    pub fn push_and_wake(&self, chunks: impl IntoIterator<Item = Chunk>) -> bool {
        let waker = {
            let mut state = lock(&self.state);
            state.chunks.extend(chunks);
            state.waker.take()
        };
        waker.map(Waker::wake).is_some()
    }
}

/// A reader of endless `byte`s, counting what it handed out.
pub struct Endless {
    pub byte: u8,
    pub handed_out: Arc<Mutex<usize>>,
}

impl AsyncRead for Endless {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        buf.fill(self.byte);
        *lock(&self.handed_out) += buf.len();
        Poll::Ready(Ok(buf.len()))
    }
}

/// What a [`TestWriter`] does with each write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// Takes up to this many bytes per write.
    UpTo(usize),
    /// Returns `Pending` (keeping the waker) until the test changes the mode.
    Nothing,
    /// Returns `Ok(0)`: a writer that will never take a byte.
    Zero,
    /// Fails with `BrokenPipe`.
    Fail,
}

struct WriterState {
    accept: Accept,
    written: Vec<u8>,
    writes: usize,
    flushes: usize,
    closed: bool,
    waker: Option<Waker>,
}

/// A writer that records every byte, write, flush and close, and accepts what the test says.
pub struct TestWriter {
    state: Arc<Mutex<WriterState>>,
}

pub struct WriterHandle {
    state: Arc<Mutex<WriterState>>,
}

pub fn writer(accept: Accept) -> (TestWriter, WriterHandle) {
    let state = Arc::new(Mutex::new(WriterState {
        accept,
        written: Vec::new(),
        writes: 0,
        flushes: 0,
        closed: false,
        waker: None,
    }));
    (
        TestWriter {
            state: Arc::clone(&state),
        },
        WriterHandle { state },
    )
}

impl AsyncWrite for TestWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = lock(&self.state);
        assert!(!state.closed, "a write after the writer was closed");
        state.writes += 1;
        match state.accept {
            Accept::UpTo(limit) => {
                let n = limit.min(buf.len());
                state.written.extend_from_slice(&buf[..n]);
                Poll::Ready(Ok(n))
            }
            Accept::Nothing => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Accept::Zero => Poll::Ready(Ok(0)),
            Accept::Fail => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "scripted write error",
            ))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.state).flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.state).closed = true;
        Poll::Ready(Ok(()))
    }
}

impl WriterHandle {
    pub fn written(&self) -> Vec<u8> {
        lock(&self.state).written.clone()
    }

    pub fn written_len(&self) -> usize {
        lock(&self.state).written.len()
    }

    pub fn writes(&self) -> usize {
        lock(&self.state).writes
    }

    pub fn flushes(&self) -> usize {
        lock(&self.state).flushes
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Changes what the writer accepts and wakes the waker of its latest `Pending`, if any.
    /// Returns whether one was woken.
    pub fn set_accept(&self, accept: Accept) -> bool {
        let waker = {
            let mut state = lock(&self.state);
            state.accept = accept;
            state.waker.take()
        };
        waker.map(Waker::wake).is_some()
    }
}

/// A reader that must never be polled.
pub struct NeverPoll;

impl AsyncRead for NeverPoll {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        panic!("the reader was polled although there was nothing to read into")
    }
}

impl AsyncWrite for NeverPoll {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        panic!("the writer was polled although there was nothing to write")
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        panic!("the writer was flushed by a write")
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        panic!("the writer was closed by a write")
    }
}

// ---------------------------------------------------------------------------------------------
// Bytes and sockets.

/// `len` bytes that differ along the stream (`seed` picks the sequence), so a lost, repeated
/// or reordered chunk shows up as a mismatch.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Describes where two byte strings first differ, for assertion messages.
pub fn first_difference(got: &[u8], expected: &[u8]) -> String {
    match got.iter().zip(expected).position(|(a, b)| a != b) {
        Some(at) => format!("byte {at} differs"),
        None if got.len() < expected.len() => {
            format!("only {} of {} bytes arrived", got.len(), expected.len())
        }
        None if got.len() > expected.len() => {
            format!("{} bytes arrived, {} expected", got.len(), expected.len())
        }
        None => "they are equal".to_owned(),
    }
}

/// A connected pair of std TCP streams on loopback: (ours, the peer's). The peer's end is
/// blocking, with read and write timeouts.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener");
    let peer = TcpStream::connect(listener.local_addr().unwrap()).expect("connect on loopback");
    let (ours, _) = listener.accept().expect("accept on loopback");
    peer.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
    peer.set_write_timeout(Some(PEER_TIMEOUT)).unwrap();
    peer.set_nodelay(true).unwrap();
    ours.set_nodelay(true).unwrap();
    (ours, peer)
}

/// Runs `body` on a thread and returns its handle (for a std peer).
pub fn peer<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> thread::JoinHandle<T> {
    thread::spawn(body)
}

// ---------------------------------------------------------------------------------------------
// Is a thread asleep in epoll_wait? (Linux: /proc/<pid>/task/<tid>/syscall)

/// The kernel's view of one thread of this process (Linux only).
#[derive(Debug, Clone)]
pub struct KernelThread {
    syscall_file: Option<PathBuf>,
}

/// What [`KernelThread::wait_until_blocked_in_poll`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// Blocked in `epoll_wait` with no timeout.
    InPoll,
    /// This system cannot tell (not Linux).
    Unknown,
    /// Not seen blocked in `epoll_wait` before the deadline; the last thing seen.
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
            match describe(&text) {
                None => return Blocked::InPoll,
                Some(last) if Instant::now() >= deadline => return Blocked::Never(last),
                Some(_) => {}
            }
            // Not a guess about timing: only how often to look again.
            thread::sleep(Duration::from_micros(200));
        }
    }
}

/// `None` if the thread is blocked in `epoll_wait` with no timeout; else what it is doing.
fn describe(text: &str) -> Option<String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let Some(number) = fields.first().and_then(|n| n.parse::<i64>().ok()) else {
        return Some("running (busy in user code, not in a system call)".to_owned());
    };
    let epoll = if cfg!(target_arch = "x86_64") {
        [232, 281]
    } else if cfg!(target_arch = "aarch64") {
        [22, 22]
    } else {
        [-2, -2]
    };
    if epoll.contains(&number) {
        let timeout = fields
            .get(4)
            .and_then(|hex| u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
            .map(|t| t as u32 as i32);
        return match timeout {
            Some(t) if t < 0 => None,
            Some(t) => Some(format!("in epoll_wait with a {t} ms timeout")),
            None => Some("in epoll_wait".to_owned()),
        };
    }
    Some(match number {
        -1 => "runnable (busy in user code, not in a system call)".to_owned(),
        n => format!("in system call {n}"),
    })
}
