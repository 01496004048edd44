//! Part 4 — `TcpListener` and `TcpStream`: accept, connect, read and write on the reactor.
//!
//! The peers are plain std sockets on threads of their own (with read timeouts, so a broken
//! server makes them give up instead of hanging).

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener as StdListener};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use common::{connect, first_difference, pattern, read_up_to, tcp_pair};
use harness::{Watchdog, counting_waker};
use reactor::{Reactor, Runtime, TcpListener, TcpStream};

const EVENT: Option<Duration> = Some(Duration::from_secs(5));
const NOW: Option<Duration> = Some(Duration::ZERO);

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(format!("part 4: {what}"))
        .likely_cause(
            "an operation returned Pending without a way to be woken: on WouldBlock, clear the \
             readiness and poll it again (which stores the waker) before returning Pending",
        )
        .likely_cause(
            "the stream was registered without the interest the operation waits for (a \
             TcpStream needs READABLE | WRITABLE)",
        )
}

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Reads until `buf` is full (or the end of the stream); returns how much was read.
async fn read_full(stream: &TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[test]
fn accept_returns_a_connection_from_a_std_client() {
    watchdog("accept a std client, read its greeting, answer").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let listener = TcpListener::bind(runtime.reactor(), localhost()).expect("bind");
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            let mut client = connect(addr);
            client.write_all(b"hello").unwrap();
            let (reply, error) = read_up_to(&mut client, 5);
            (client.local_addr().unwrap(), reply, error)
        });
        let (peer, greeting) = runtime.block_on(async {
            let (stream, peer) = listener.accept().await.expect("accept");
            let mut buf = [0; 5];
            let n = read_full(&stream, &mut buf).await.expect("read");
            stream.write_all(b"world").await.expect("write_all");
            (peer, buf[..n].to_vec())
        });
        let (client_addr, reply, error) = client.join().unwrap();
        assert_eq!(peer, client_addr, "accept must return the client's address");
        assert_eq!(
            greeting, b"hello",
            "the server did not read what the client sent"
        );
        assert_eq!(
            reply, b"world",
            "the client did not get the server's answer ({error:?})"
        );
    });
}

#[test]
fn connect_reaches_a_std_listener() {
    watchdog("TcpStream::connect to a std listener, then a round trip").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let listener = StdListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(common::CLIENT_TIMEOUT))
                .unwrap();
            let mut ping = [0; 4];
            stream.read_exact(&mut ping).unwrap();
            stream.write_all(b"pong").unwrap();
            ping
        });
        let reactor = runtime.reactor().clone();
        let reply = runtime.block_on(async move {
            let stream = TcpStream::connect(&reactor, addr).await.expect("connect");
            assert_eq!(
                stream.peer_addr().expect("peer_addr after connect"),
                addr,
                "connect must not finish before the connection is established"
            );
            stream.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            let n = read_full(&stream, &mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        assert_eq!(&server.join().unwrap(), b"ping");
        assert_eq!(reply, b"pong");
    });
}

#[test]
fn connect_to_a_closed_port_fails_with_connection_refused() {
    watchdog("TcpStream::connect to a port nobody listens on").run(|| {
        let mut runtime = Runtime::new().unwrap();
        // A port that was just free: bind it, note it, close it.
        let addr = StdListener::bind(localhost())
            .unwrap()
            .local_addr()
            .unwrap();
        let reactor = runtime.reactor().clone();
        let result = runtime.block_on(async move { TcpStream::connect(&reactor, addr).await });
        match result {
            Err(err) => assert_eq!(
                err.kind(),
                std::io::ErrorKind::ConnectionRefused,
                "connect to a closed port failed, but with {err} ({:?}), not ConnectionRefused. \
                 When the socket turns writable, ask it how the handshake ended \
                 (`take_error()`) and return that error.",
                err.kind()
            ),
            Ok(stream) => panic!(
                "connect to a closed port returned Ok({stream:?}). Writable after a connect \
                 means the handshake is over, successfully or not: check `take_error()` (and \
                 `peer_addr()`) before calling it connected."
            ),
        }
        assert_eq!(
            runtime.reactor().registered_sources(),
            0,
            "the failed connect's socket is still registered: drop it (which deregisters it) \
             when connect fails"
        );
    });
}

#[test]
fn read_drains_the_socket_before_waiting_again() {
    watchdog("two reads of 100 bytes after one event, with no turn in between").run(|| {
        let reactor = Reactor::new().unwrap();
        let (server, mut client) = tcp_pair();
        let stream = TcpStream::from_std(&reactor, server).expect("from_std");
        assert_eq!(
            reactor.turn(EVENT).unwrap(),
            1,
            "a new stream starts writable"
        );
        client.write_all(&pattern(200, 1)).unwrap();
        assert_eq!(reactor.turn(EVENT).unwrap(), 1);
        let (waker, wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0; 100];
        for read in 1..=2 {
            match stream.poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(100)) => {}
                Poll::Pending => panic!(
                    "read #{read} of 100 bytes was Pending with {} bytes still waiting in the \
                     socket: edge-triggered readiness is reported once per arrival, so a read \
                     must keep the readiness set until the OS says WouldBlock (drain to \
                     WouldBlock).",
                    300 - 100 * read
                ),
                other => panic!("read #{read} returned {other:?}, expected Ready(Ok(100))"),
            }
        }
        assert!(stream.poll_read(&mut cx, &mut buf).is_pending());
        assert_eq!(reactor.turn(NOW).unwrap(), 0);
        assert_eq!(wakes.get(), 0);
    });
}

#[test]
fn a_256_kib_burst_is_read_to_the_last_byte() {
    watchdog("a 256 KiB burst, read 1 KiB at a time").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let listener = TcpListener::bind(runtime.reactor(), localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let burst = pattern(256 * 1024, 2);
        let sent = burst.clone();
        let client = thread::spawn(move || {
            let mut client = connect(addr);
            client.write_all(&sent).unwrap();
            // No shutdown: the end of the stream must not be what gets the reader going.
            read_up_to(&mut client, 2)
        });
        let received = runtime.block_on(async {
            let (stream, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let mut buf = [0; 1024];
            while received.len() < 256 * 1024 {
                match stream.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => received.extend_from_slice(&buf[..n]),
                }
            }
            stream.write_all(b"ok").await.unwrap();
            received
        });
        assert!(
            received == burst,
            "the reader did not get the burst intact: {}",
            first_difference(&received, &burst)
        );
        assert_eq!(client.join().unwrap().0, b"ok");
    });
}

#[test]
fn two_round_trips_on_one_connection() {
    watchdog("two request/response round trips on one connection").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let listener = TcpListener::bind(runtime.reactor(), localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            let mut client = connect(addr);
            let mut replies = Vec::new();
            for round in 0..2 {
                client.write_all(format!("ping{round}").as_bytes()).unwrap();
                let (reply, error) = read_up_to(&mut client, 5);
                replies.push(String::from_utf8_lossy(&reply).into_owned());
                if let Some(error) = error {
                    replies.push(format!("(then the client gave up: {error})"));
                    break;
                }
            }
            replies
        });
        runtime.block_on(async {
            let (stream, _) = listener.accept().await.unwrap();
            for round in 0..2 {
                let mut buf = [0; 5];
                if read_full(&stream, &mut buf).await.unwrap() < 5 {
                    return;
                }
                stream
                    .write_all(format!("pong{round}").as_bytes())
                    .await
                    .unwrap();
            }
        });
        assert_eq!(
            client.join().unwrap(),
            ["pong0", "pong1"],
            "the second round trip on the same connection did not complete: after the first \
             read got WouldBlock, the next event for the socket must set its readiness and wake \
             the reader again (every event counts, nothing needs re-arming by hand)"
        );
    });
}

#[test]
fn a_short_read_leaves_the_end_of_the_stream_ready() {
    watchdog("3 bytes and the end of the stream in one event; a 16-byte read, then another").run(
        || {
            let reactor = Reactor::new().unwrap();
            let (server, mut client) = tcp_pair();
            client.write_all(b"bye").unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            // Wait until the bytes and the FIN have both arrived (POLLRDHUP: the peer shut
            // down its writing side), so that the OS reports them as one event.
            let mut pollfd = libc::pollfd {
                fd: server.as_raw_fd(),
                events: libc::POLLRDHUP,
                revents: 0,
            };
            // SAFETY: one valid, writable pollfd; the fd stays open during the call.
            let n = unsafe { libc::poll(&mut pollfd, 1, 5_000) };
            assert_eq!(n, 1, "test setup: the peer's FIN did not arrive within 5 s");
            let stream = TcpStream::from_std(&reactor, server).expect("from_std");
            reactor.turn(EVENT).unwrap();
            let (waker, _) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            let mut buf = [0; 16];
            assert!(
                matches!(stream.poll_read(&mut cx, &mut buf), Poll::Ready(Ok(3))),
                "3 bytes were waiting and a 16-byte read did not return them"
            );
            let next = stream.poll_read(&mut cx, &mut buf);
            assert!(
                matches!(next, Poll::Ready(Ok(0))),
                "the peer sent 3 bytes and shut down its writing side; both came in one event. \
                 A read of up to 16 bytes got the 3, and the next read returned {next:?} instead \
                 of Ready(Ok(0)), the end of the stream: no new event will come for it (edge-\
                 triggered), so the task would wait forever. A short read does not mean the \
                 socket is drained: the end of the stream (or more data that just arrived) may \
                 be behind it. Clear the readiness only when an operation returns WouldBlock \
                 (`poll_io` does), never after a successful read."
            );
        },
    );
}

#[test]
fn read_returns_zero_at_end_of_stream() {
    watchdog("a client that sends 3 bytes and shuts down its writing side").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let listener = TcpListener::bind(runtime.reactor(), localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            let mut client = connect(addr);
            client.write_all(b"bye").unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut reply = Vec::new();
            let result = client.read_to_end(&mut reply);
            (reply, result.err())
        });
        let got = runtime.block_on(async {
            let (stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0; 16];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(err) => panic!(
                        "read returned an error at the end of the stream ({err}); it must \
                         return Ok(0)"
                    ),
                }
            }
            stream
                .write_all(b"read 3 bytes, then the end")
                .await
                .unwrap();
            got
            // `stream` is dropped here: the client reads the end of the stream.
        });
        assert_eq!(got, b"bye");
        let (reply, error) = client.join().unwrap();
        assert_eq!(
            (
                String::from_utf8_lossy(&reply).as_ref(),
                error.map(|e| e.kind())
            ),
            ("read 3 bytes, then the end", None),
            "the client did not get the reply followed by the end of the stream"
        );
    });
}

#[test]
fn write_all_survives_partial_writes_through_a_small_send_buffer() {
    watchdog("write_all of 1 MiB through a 4 KiB send buffer").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let (server, mut client) = tcp_pair();
        socket2::SockRef::from(&server)
            .set_send_buffer_size(4096)
            .unwrap();
        let stream = TcpStream::from_std(runtime.reactor(), server).unwrap();
        let payload = pattern(1024 * 1024, 3);
        let expected = payload.clone();
        let reader = thread::spawn(move || read_up_to(&mut client, 1024 * 1024 + 1));
        runtime.block_on(async move {
            stream.write_all(&payload).await.expect("write_all");
            // Dropping the stream closes it: the reader sees the end of the stream.
        });
        let (got, error) = reader.join().unwrap();
        assert!(
            got == expected,
            "the peer did not receive the 1 MiB intact: {}{}. With a small send buffer most \
             writes are partial (write returns fewer bytes than asked, or WouldBlock): \
             write_all must go on from where the last write stopped, waiting for writability \
             in between.",
            first_difference(&got, &expected),
            error.map(|e| format!(" ({e})")).unwrap_or_default()
        );
    });
}

#[test]
fn a_spurious_readiness_is_not_an_error() {
    watchdog("a read woken with no data to read").run(|| {
        let reactor = Reactor::new().unwrap();
        let (server, mut client) = tcp_pair();
        // A second handle on the same socket, to take the data behind the reactor's back.
        let mut thief = server.try_clone().unwrap();
        let stream = TcpStream::from_std(&reactor, server).unwrap();
        assert_eq!(reactor.turn(EVENT).unwrap(), 1);
        client.write_all(b"x").unwrap();
        assert_eq!(
            reactor.turn(EVENT).unwrap(),
            1,
            "the read event for one byte"
        );
        assert_eq!(thief.read(&mut [0; 1]).unwrap(), 1);
        // The source is marked readable, but there is nothing to read: a spurious readiness.
        let (waker, wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0; 8];
        let first = stream.poll_read(&mut cx, &mut buf);
        assert!(
            first.is_pending(),
            "poll_read on a socket marked readable but empty returned {first:?}. Readiness is \
             a hint, not a promise of data (events can be spurious): WouldBlock means \"clear \
             the readiness and wait\", never an error and never Ok(0)."
        );
        // A spurious wake: the task is polled again with still nothing to read.
        waker.wake_by_ref();
        let second = stream.poll_read(&mut cx, &mut buf);
        assert!(
            second.is_pending(),
            "after a spurious wake, poll_read returned {second:?}"
        );
        client.write_all(b"y").unwrap();
        assert_eq!(reactor.turn(EVENT).unwrap(), 1);
        assert_eq!(
            wakes.get(),
            2,
            "the waker stored after WouldBlock was not woken by new data (1 wake was the \
             test's own)"
        );
        match stream.poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(1)) => assert_eq!(buf[0], b'y'),
            other => panic!("reading the new byte returned {other:?}"),
        }
    });
}

#[test]
fn dropping_streams_and_listeners_deregisters_them() {
    watchdog("accept three connections, then drop everything").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let reactor = runtime.reactor().clone();
        let listener = TcpListener::bind(&reactor, localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..3).map(|_| connect(addr)).collect();
        let streams = runtime.block_on(async {
            let mut streams = Vec::new();
            for _ in 0..3 {
                streams.push(listener.accept().await.unwrap().0);
            }
            streams
        });
        assert_eq!(reactor.registered_sources(), 4, "a listener and 3 streams");
        drop(streams);
        assert_eq!(
            reactor.registered_sources(),
            1,
            "three streams were dropped but are still registered: dropping a TcpStream must \
             deregister it (the Registered inside it does that when it is dropped)"
        );
        drop(listener);
        assert_eq!(reactor.registered_sources(), 0);
        drop(clients);
    });
}

#[test]
fn shutdown_and_nodelay_reach_the_socket() {
    watchdog("TcpStream::shutdown(Write) and set_nodelay(true)").run(|| {
        let reactor = Reactor::new().unwrap();
        let (server, mut client) = tcp_pair();
        let stream = TcpStream::from_std(&reactor, server).expect("from_std");
        stream.set_nodelay(true).expect("set_nodelay");
        assert!(
            socket2::SockRef::from(&stream).tcp_nodelay().unwrap(),
            "set_nodelay(true) returned Ok, but the socket still has Nagle's algorithm on"
        );
        stream.shutdown(Shutdown::Write).expect("shutdown(Write)");
        let mut rest = Vec::new();
        let read = client.read_to_end(&mut rest);
        assert!(
            matches!(read, Ok(0)),
            "after shutdown(Write) on the server's end, the client must read the end of the \
             stream at once; it got {read:?}"
        );
    });
}
