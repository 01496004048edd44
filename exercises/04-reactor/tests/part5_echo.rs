//! Part 5 — the echo server: `serve` accepts and spawns, `echo` sends back every byte.
//!
//! Each test runs your server on a runtime of its own thread and talks to it like any client
//! would: std sockets with read timeouts, and for the load test a tokio client (an independent
//! implementation, so that your code is not checked against itself).

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::{
    connect, echo_check, first_difference, new_runtime, pattern, raise_open_files_limit, read_up_to,
};
use futures::channel::oneshot;
use futures::future::{Either, select};
use harness::Watchdog;
use reactor::{Handle, TcpListener, serve};
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

#[test]
fn a_silent_client_does_not_hold_up_an_active_one() {
    watchdog("client A connects and says nothing; client B sends a message").run(|| {
        let server = Server::start();
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
            writing.join().unwrap().expect("send, then shutdown(Write)");
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
