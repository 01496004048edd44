//! Part 5 — the echo server: `serve` accepts and spawns, `echo` sends back every byte.
//!
//! Each test runs your server on a runtime of its own thread and talks to it like any client
//! would: std sockets with read timeouts, and for the load test a tokio client (an independent
//! implementation, so that your code is not checked against itself).

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::pin;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::{
    ZERO_LENGTH_BUFFER, connect, echo_check, first_difference, new_runtime, pattern,
    raise_open_files_limit, read_up_to, tcp_pair,
};
use futures::channel::oneshot;
use futures::future::{Either, select};
use harness::Watchdog;
use reactor::{Handle, TcpListener, TcpStream, echo, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(format!("part 5: {what}"))
        .likely_cause(
            "`serve` waits for one connection's `echo` to finish before accepting the next: \
             spawn a task per connection",
        )
        .likely_cause(
            "`echo` stops early or waits forever: read until Ok(0), and write every byte read \
             with write_all",
        )
}

/// Your server, running `serve` on a runtime of its own thread until stopped.
struct Server {
    addr: SocketAddr,
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Server {
    fn start() -> Server {
        Server::start_with(|_| {})
    }

    /// Starts a server whose listener is first handed to `configure`.
    fn start_with(configure: impl FnOnce(&TcpListener)) -> Server {
        let mut runtime = new_runtime();
        let listener = TcpListener::bind(runtime.reactor(), "127.0.0.1:0".parse().unwrap())
            .expect("bind the echo server's listener");
        configure(&listener);
        let addr = listener.local_addr().unwrap();
        let handle = runtime.handle();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let handle = runtime.handle();
            runtime.block_on(async move {
                let serving = pin!(serve(listener, handle));
                match select(serving, stopped).await {
                    Either::Left((result, _)) => result,
                    Either::Right(_) => Ok(()),
                }
            })
        });
        Server {
            addr,
            handle,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server and checks that `serve` had not failed.
    fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let result = self
            .thread
            .take()
            .unwrap()
            .join()
            .expect("the server thread panicked");
        if let Err(err) = result {
            panic!("serve returned an error: {err}");
        }
    }

    fn registered_sources(&self) -> usize {
        self.handle.reactor().registered_sources()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // After a failed assertion: ask the server to stop, but never wait for it here.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[test]
fn echo_sends_back_what_it_receives() {
    watchdog("one client, one message").run(|| {
        let server = Server::start();
        if let Some(problem) = echo_check(server.addr, b"hello, reactor".to_vec(), false) {
            panic!("the echo of \"hello, reactor\" was wrong: {problem}");
        }
        server.stop();
    });
}

/// Runs `echo` on the server's end of a fresh connection (a runtime on a thread of its own)
/// while `client` talks through the other end on this thread; returns what `echo` returned, or
/// `None` if it had not returned within the client's time-out after the client finished.
fn run_echo(client: impl FnOnce(std::net::TcpStream)) -> Option<io::Result<u64>> {
    let (server_end, client_end) = tcp_pair();
    let (done, result) = std::sync::mpsc::channel();
    let server = thread::spawn(move || {
        let mut runtime = new_runtime();
        let stream =
            TcpStream::from_std(runtime.reactor(), server_end).expect("register the stream");
        let _ = done.send(runtime.block_on(echo(stream)));
    });
    client(client_end);
    let result = result.recv_timeout(common::CLIENT_TIMEOUT).ok();
    if result.is_some() {
        server.join().expect("the echo thread panicked");
    }
    result
}

/// Sends `chunks` one write at a time from a writer thread (then shuts down the writing side)
/// while reading everything back on this thread; returns what came back.
fn send_chunks_and_read_back(client: std::net::TcpStream, chunks: Vec<Vec<u8>>) -> Vec<u8> {
    let mut writer = client.try_clone().unwrap();
    let writing = thread::spawn(move || {
        for chunk in &chunks {
            writer.write_all(chunk)?;
        }
        writer.shutdown(Shutdown::Write)
    });
    let mut reader = client;
    let mut got = Vec::new();
    let _ = reader.read_to_end(&mut got);
    // A server that closed early makes the writes fail; what came back tells the story.
    let _ = writing.join().unwrap();
    got
}

#[test]
fn echo_returns_the_number_of_bytes_it_echoed() {
    watchdog("echo of 3 chunks (10 000, 1 and 20 000 bytes), then the end of the stream").run(
        || {
            let chunks = vec![pattern(10_000, 1), pattern(1, 2), pattern(20_000, 3)];
            let sent: Vec<u8> = chunks.concat();
            let mut got = Vec::new();
            let result = run_echo(|client| got = send_chunks_and_read_back(client, chunks));
            assert!(!got.is_empty(), "{ZERO_LENGTH_BUFFER}");
            assert!(
                got == sent,
                "the echo of 30 001 bytes sent in 3 chunks was wrong: {}",
                first_difference(&got, &sent)
            );
            match result {
                Some(Ok(n)) => assert_eq!(
                    n, 30_001,
                    "echo wrote back all 30 001 bytes, then returned Ok({n}). It must return \
                     the total number of bytes echoed over the whole connection (add up every \
                     read), not the size of one read: the reads came in chunks of at most your \
                     buffer's size."
                ),
                Some(Err(err)) => panic!(
                    "echo returned Err({err}) after the client sent 30 001 bytes and shut down \
                     its writing side; the end of the stream is a read of Ok(0), not an error: \
                     return Ok(total)"
                ),
                None => panic!(
                    "echo had not returned after the client shut down its writing side: a \
                     read of Ok(0) is the end of the stream; echo must then return Ok(total)"
                ),
            }
        },
    );
}

#[test]
fn echo_of_an_empty_stream_returns_zero() {
    watchdog("echo of a client that shuts down its writing side at once").run(|| {
        let mut got = Vec::new();
        let result = run_echo(|client| got = send_chunks_and_read_back(client, Vec::new()));
        assert!(
            got.is_empty(),
            "the client sent nothing, and got {} bytes back",
            got.len()
        );
        match result {
            Some(Ok(0)) => {}
            Some(Ok(n)) => panic!("the client sent nothing, and echo returned Ok({n}), not Ok(0)"),
            Some(Err(err)) => panic!(
                "the client sent nothing and shut down its writing side; echo returned \
                 Err({err}), but an empty stream is not an error: its first read is Ok(0), \
                 and echo returns Ok(0)"
            ),
            None => panic!(
                "the client sent nothing and shut down its writing side, and echo had not \
                 returned: its first read returns Ok(0), the end of the stream"
            ),
        }
    });
}

#[test]
fn echo_reads_into_a_buffer_with_room() {
    watchdog("echo of 5 bytes on a connection the client keeps open").run(|| {
        let mut got = Vec::new();
        let mut early = false;
        let result = run_echo(|mut client| {
            client.write_all(b"hello").unwrap();
            let (back, _) = read_up_to(&mut client, 5);
            got = back;
            // The client has not closed: a zero-length read buffer makes echo stop at once.
            let mut probe = [0u8; 1];
            early = got.is_empty() && matches!(client.read(&mut probe), Ok(0));
            let _ = client.shutdown(Shutdown::Write);
            let _ = client.read_to_end(&mut Vec::new());
        });
        assert!(!early, "{ZERO_LENGTH_BUFFER}");
        assert_eq!(
            got, b"hello",
            "the client sent \"hello\" and kept the connection open; echo must write it back \
             at once (read, then write_all what was read), not wait for more"
        );
        assert!(
            matches!(result, Some(Ok(5))),
            "after echoing \"hello\" and reading the end of the stream, echo returned \
             {result:?}; expected Some(Ok(5))"
        );
    });
}

#[test]
fn a_silent_client_does_not_hold_up_an_active_one() {
    watchdog("client A connects and says nothing; client B sends a message").run(|| {
        let server = Server::start();
        if let Some(problem) = echo_check(server.addr, b"first, alone".to_vec(), false) {
            panic!(
                "even with a single client (no silent one yet), the echo failed: {problem}. \
                 Make echo_sends_back_what_it_receives pass first."
            );
        }
        let silent = connect(server.addr);
        if let Some(problem) = echo_check(server.addr, b"anyone there?".to_vec(), false) {
            panic!(
                "with client A connected and silent, client B's echo failed: {problem}. Each \
                 connection must get a task of its own (spawn it), so that a connection \
                 waiting for data holds up no one; never read a connection inline in the \
                 accept loop."
            );
        }
        drop(silent);
        server.stop();
    });
}

#[test]
fn a_1_mib_payload_comes_back_intact() {
    watchdog("a 1 MiB echo through 4 KiB socket buffers").run(|| {
        // Small send buffers on the server's connections (they inherit the listener's) and a
        // small receive window on the client: most of the server's writes are partial.
        let server = Server::start_with(|listener| {
            socket2::SockRef::from(listener)
                .set_send_buffer_size(4096)
                .unwrap();
        });
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(&server.addr.into()).unwrap();
        let mut client: std::net::TcpStream = socket.into();
        client
            .set_read_timeout(Some(common::CLIENT_TIMEOUT))
            .unwrap();
        let payload = pattern(1024 * 1024, 5);
        let mut writer = client.try_clone().unwrap();
        let sent = payload.clone();
        let writing = thread::spawn(move || writer.write_all(&sent));
        let (got, error) = read_up_to(&mut client, payload.len());
        assert!(!(got.is_empty() && error.is_none()), "{ZERO_LENGTH_BUFFER}");
        assert!(
            got == payload,
            "the 1 MiB echo was not intact: {}{}. Writes to a slow reader are partial: \
             write_all must write the rest, waiting for writability in between, and every \
             read must be written back before reading more.",
            first_difference(&got, &payload),
            error.map(|e| format!(" ({e})")).unwrap_or_default()
        );
        writing
            .join()
            .unwrap()
            .expect("the client could not send the payload");
        server.stop();
    });
}

#[test]
fn half_close_gets_every_byte_then_the_end_of_the_stream() {
    watchdog("a client that sends 100 KiB, shuts down its writing side, reads to the end").run(
        || {
            let server = Server::start();
            let mut client = connect(server.addr);
            let payload = pattern(100 * 1024, 6);
            let mut writer = client.try_clone().unwrap();
            let sent = payload.clone();
            let writing = thread::spawn(move || {
                writer.write_all(&sent)?;
                writer.shutdown(Shutdown::Write)
            });
            let mut got = Vec::new();
            let result = client.read_to_end(&mut got);
            let sent = writing.join().unwrap();
            assert!(!(got.is_empty() && result.is_ok()), "{ZERO_LENGTH_BUFFER}");
            sent.expect("send, then shutdown(Write)");
            assert!(
                got == payload && result.is_ok(),
                "after sending 100 KiB and shutting down its writing side, the client got \
                 {} ({result:?}). At the end of the stream (read returns Ok(0)) echo must have \
                 written back every byte, then return, so that the connection is closed.",
                first_difference(&got, &payload)
            );
            server.stop();
        },
    );
}

#[test]
fn closed_connections_leave_no_registrations_behind() {
    watchdog("20 connections, one after the other, each closed by its client").run(|| {
        let server = Server::start();
        let baseline = server.registered_sources();
        for n in 0..20 {
            if let Some(problem) = echo_check(server.addr, pattern(100, n), true) {
                panic!("connection #{n}: the echo failed: {problem}");
            }
        }
        // The server notices each close on its own time; wait (bounded) for the count.
        let deadline = Instant::now() + Duration::from_secs(3);
        while server.registered_sources() > baseline && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            server.registered_sources(),
            baseline,
            "20 connections were opened and closed by their clients, and the server's reactor \
             still has {} more sources registered than before them. When a client closes, \
             echo reads Ok(0) and returns, its task ends and drops the stream, and dropping \
             it must deregister it (and free its slab entry).",
            server.registered_sources() - baseline
        );
        server.stop();
    });
}

#[test]
fn two_runtimes_each_serve_their_own_clients() {
    watchdog("two echo servers on two runtimes in one process").run(|| {
        let first = Server::start();
        let second = Server::start();
        for (name, server) in [("first", &first), ("second", &second)] {
            if let Some(problem) = echo_check(server.addr, name.as_bytes().to_vec(), false) {
                panic!("the {name} server's echo failed: {problem}");
            }
        }
        first.stop();
        second.stop();
    });
}

const CONNECTIONS: usize = 1000;
const ROUNDS: usize = 4;
const MESSAGE: usize = 1024;

/// One message: sent, read back, compared byte for byte.
async fn round_trip(
    stream: &mut tokio::net::TcpStream,
    id: usize,
    round: usize,
) -> Result<(), String> {
    let fail = |what: String| format!("connection {id}, message {round}: {what}");
    let message = pattern(MESSAGE, (id * ROUNDS + round) as u64);
    stream
        .write_all(&message)
        .await
        .map_err(|e| fail(format!("write failed: {e}")))?;
    let mut reply = vec![0; MESSAGE];
    stream
        .read_exact(&mut reply)
        .await
        .map_err(|e| fail(format!("read failed: {e}")))?;
    if reply != message {
        return Err(fail(first_difference(&reply, &message)));
    }
    Ok(())
}

/// One client connection: `ROUNDS` messages. The first round trip happens while connecting
/// (so that the server has surely accepted the connection), the others once every client is
/// connected and the test has counted the server's sources.
async fn client(
    addr: SocketAddr,
    id: usize,
    connecting: Arc<tokio::sync::Semaphore>,
    all_open: Arc<tokio::sync::Barrier>,
    go: Arc<tokio::sync::Barrier>,
) -> Result<(), String> {
    let opened = async {
        let _permit = connecting.acquire().await.unwrap();
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connection {id}: connect failed: {e}"))?;
        stream.set_nodelay(true).unwrap();
        round_trip(&mut stream, id, 0).await?;
        Ok::<_, String>(stream)
    }
    .await;
    // Everyone meets here, failed or not, so that nobody waits for a client that gave up;
    // then the test counts the server's sources, and lets everyone go on.
    all_open.wait().await;
    go.wait().await;
    let mut stream = opened?;
    for round in 1..ROUNDS {
        round_trip(&mut stream, id, round).await?;
    }
    Ok(())
}

#[test]
fn serve_returns_when_accepting_fails() {
    let result = watchdog("serve on a listener that was shut down, so that every accept fails")
        .likely_cause(
            "`serve` goes on after an accept error (skips it, or retries): on a listener that \
             fails every accept it spins forever. Return the error (`accept().await?`)",
        )
        .run(|| {
            let mut runtime = new_runtime();
            let listener = TcpListener::bind(runtime.reactor(), "127.0.0.1:0".parse().unwrap())
                .expect("bind a listener");
            // On Linux, shutting down a listening socket wakes its waiters (a hang-up event)
            // and makes every later accept fail with EINVAL: an accept error on demand.
            // SAFETY: the fd is the listener's, open for the whole call.
            let shut = unsafe { libc::shutdown(listener.as_fd().as_raw_fd(), libc::SHUT_RDWR) };
            assert_eq!(shut, 0, "test setup: shutdown of the listener failed");
            let handle = runtime.handle();
            runtime.block_on(serve(listener, handle))
        });
    assert!(
        result.is_err(),
        "every accept failed, and `serve` returned {result:?}: it must return the error"
    );
}

#[test]
fn a_thousand_concurrent_connections_on_one_thread() {
    let limit = raise_open_files_limit(2 * CONNECTIONS as u64 + 200);
    assert!(
        limit >= 2 * CONNECTIONS as u64 + 100,
        "this test needs about {} open files (both ends of {CONNECTIONS} connections) and the \
         limit is {limit}: raise it with `ulimit -n 4096` in this shell",
        2 * CONNECTIONS + 100
    );
    watchdog("1 000 clients connected at once, 4 messages each")
        .limit(Duration::from_secs(30))
        .likely_cause(
            "a connection's event was lost, or a read stopped before WouldBlock: with many \
             connections, events arrive in batches, and each must wake its own task",
        )
        .run(|| {
            let server = Server::start();
            let clients = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .unwrap();
            let (results, open_at_peak) = clients.block_on(async {
                // Connect 50 at a time (the listener's backlog is short); hold them all open.
                let connecting = Arc::new(tokio::sync::Semaphore::new(50));
                let all_open = Arc::new(tokio::sync::Barrier::new(CONNECTIONS + 1));
                let go = Arc::new(tokio::sync::Barrier::new(CONNECTIONS + 1));
                let tasks: Vec<_> = (0..CONNECTIONS)
                    .map(|id| {
                        tokio::spawn(client(
                            server.addr,
                            id,
                            Arc::clone(&connecting),
                            Arc::clone(&all_open),
                            Arc::clone(&go),
                        ))
                    })
                    .collect();
                all_open.wait().await;
                let open_at_peak = server.registered_sources();
                go.wait().await;
                let mut results = Vec::new();
                for task in tasks {
                    results.push(task.await.unwrap());
                }
                (results, open_at_peak)
            });
            let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
            assert!(
                failures.is_empty(),
                "{} of {CONNECTIONS} connections failed; the first: {}",
                failures.len(),
                failures[0]
            );
            assert!(
                open_at_peak > CONNECTIONS,
                "with {CONNECTIONS} clients connected (each had one round trip), the server's \
                 reactor counted only {open_at_peak} registered sources"
            );
            server.stop();
        });
}
