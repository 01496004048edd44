//! Part 3 — `AsyncRead` and `AsyncWrite` for `TcpStream` on the given reactor.
//!
//! Most tests turn the reactor by hand (`reactor.turn(..)`) and poll with counting wakers, so
//! they see exactly when a read is `Pending`, whether its waker was stored, and what woke it.
//! The peers are plain std sockets with timeouts.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{Blocked, KernelThread, pattern, peer, tcp_pair, watchdog};
use futures::io::{AsyncRead, AsyncWrite};
use harness::{Watchdog, counting_waker};
use streams::{Reactor, Runtime, TcpStream};

const PART: &str = "part 3";
/// Long enough for an event that is on its way; a passing test never waits this long.
const EVENT: Option<Duration> = Some(Duration::from_secs(5));
const NOW: Option<Duration> = Some(Duration::ZERO);

const BUSY_LOOP: &str = "a read on an idle socket woke its own waker: that is a busy loop (the \
    task is polled again at once, finds nothing, wakes itself again, and keeps a core at 100% \
    doing nothing). Return Pending with the waker stored in the IoState (clear_ready, then \
    poll_ready again) and let the reactor wake it";

fn tcp_watchdog(what: &str) -> Watchdog {
    watchdog(PART, what)
        .likely_cause(
            "on WouldBlock, clear the readiness (clear_ready with the tick poll_ready gave you) \
             and go round the loop: poll_ready then stores the waker and returns Pending. \
             Returning Pending straight after WouldBlock stores no waker, and no event comes",
        )
        .likely_cause("Ok(0) from a read is the end of the stream: return it, do not wait")
}

/// Our end registered with `reactor`, and the std peer.
fn pair(reactor: &Reactor) -> (TcpStream, std::net::TcpStream) {
    let (ours, theirs) = tcp_pair();
    (
        TcpStream::from_std(reactor, ours).expect("register"),
        theirs,
    )
}

fn poll_read(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<std::io::Result<usize>> {
    Pin::new(&mut &*stream).poll_read(cx, buf)
}

fn poll_write(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<std::io::Result<usize>> {
    Pin::new(&mut &*stream).poll_write(cx, buf)
}

fn ready_len(poll: Poll<std::io::Result<usize>>, what: &str) -> usize {
    match poll {
        Poll::Ready(Ok(n)) => n,
        Poll::Ready(Err(err)) => panic!("{what}: an error: {err}"),
        Poll::Pending => panic!("{what}: Pending, though the reactor delivered readiness"),
    }
}

#[test]
fn a_read_on_an_idle_socket_is_pending_and_wakes_nothing() {
    tcp_watchdog("poll_read on a socket with no data, before and after a message").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, mut theirs) = pair(&reactor);
        let (waker, wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0; 16];
        assert!(
            poll_read(&stream, &mut cx, &mut buf).is_pending(),
            "nothing was sent: the read must be Pending"
        );
        reactor.turn(NOW).unwrap();
        assert!(poll_read(&stream, &mut cx, &mut buf).is_pending());
        assert_eq!(wakes.get(), 0, "{BUSY_LOOP}");
        theirs.write_all(b"hello").unwrap();
        reactor.turn(EVENT).unwrap();
        assert!(
            wakes.get() >= 1,
            "data arrived and the reactor delivered the event, but the read's waker was not \
             woken: was it stored (poll_ready stores it when it returns Pending)?"
        );
        assert_eq!(
            ready_len(poll_read(&stream, &mut cx, &mut buf), "the read"),
            5
        );
        assert_eq!(&buf[..5], b"hello");
        // Drained: the next read gets WouldBlock from the socket.
        let before = wakes.get();
        assert!(
            poll_read(&stream, &mut cx, &mut buf).is_pending(),
            "the socket is drained: the read must be Pending"
        );
        reactor.turn(NOW).unwrap();
        assert_eq!(wakes.get(), before, "after WouldBlock: {BUSY_LOOP}");
    });
}

#[test]
fn a_read_that_hits_would_block_waits_for_the_next_event() {
    tcp_watchdog("two messages, a read in between that finds nothing").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, mut theirs) = pair(&reactor);
        let (waker, wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0; 64];
        theirs.write_all(b"first").unwrap();
        reactor.turn(EVENT).unwrap();
        assert_eq!(
            ready_len(poll_read(&stream, &mut cx, &mut buf), "the first read"),
            5
        );
        assert!(
            poll_read(&stream, &mut cx, &mut buf).is_pending(),
            "the socket is drained: the next read must be Pending"
        );
        let before = wakes.get();
        theirs.write_all(b"second").unwrap();
        reactor.turn(EVENT).unwrap();
        assert!(
            wakes.get() > before,
            "the read found the socket drained (WouldBlock) and returned Pending, but its waker \
             was not woken when more data arrived. After WouldBlock, clear_ready and poll_ready \
             again, so that the waker is stored; a Pending with the readiness still set leaves \
             no waker anywhere"
        );
        assert_eq!(
            ready_len(poll_read(&stream, &mut cx, &mut buf), "the second read"),
            6
        );
        assert_eq!(&buf[..6], b"second");
    });
}

#[test]
fn a_read_drains_the_socket_before_waiting_again() {
    tcp_watchdog("200 bytes, one event, two reads of 100").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, mut theirs) = pair(&reactor);
        let (waker, _wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let sent = pattern(200, 1);
        theirs.write_all(&sent).unwrap();
        // Wait until the whole 200 bytes are in our socket: one event for all of them.
        let mut got = Vec::new();
        reactor.turn(EVENT).unwrap();
        let mut buf = [0; 100];
        while got.len() < 200 {
            match poll_read(&stream, &mut cx, &mut buf) {
                Poll::Ready(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                Poll::Ready(other) => panic!("the read returned {other:?} before 200 bytes"),
                Poll::Pending => {
                    // Only allowed if the bytes truly are not there yet.
                    assert!(
                        reactor.turn(Some(Duration::from_secs(1))).unwrap() > 0,
                        "the read returned Pending after {} of the 200 bytes, and no new event \
                         came: with edge-triggered events the OS reports data once. Clear the \
                         readiness only on WouldBlock, never after a read that returned data",
                        got.len()
                    );
                }
            }
        }
        assert_eq!(got, sent);
    });
}

#[test]
fn a_short_read_does_not_clear_the_readiness() {
    tcp_watchdog("5 bytes read into 64, then 5 more bytes, no reactor turn in between").run(|| {
        let reactor = Reactor::new().unwrap();
        let (ours, mut theirs) = tcp_pair();
        // A second handle on our socket, only to see (peek) when the bytes have arrived.
        let watch = ours.try_clone().unwrap();
        let stream = TcpStream::from_std(&reactor, ours).expect("register");
        let (waker, _wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let wait_for_bytes = |len: usize| {
            let mut peeked = vec![0; len];
            // Bounded by the watchdog; this waits for the bytes, it decides nothing.
            while !matches!(watch.peek(&mut peeked), Ok(n) if n >= len) {
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        let mut buf = [0; 64];
        for round in 1..=3 {
            theirs.write_all(b"12345").unwrap();
            wait_for_bytes(5);
            if round == 1 {
                reactor.turn(EVENT).unwrap();
            }
            match poll_read(&stream, &mut cx, &mut buf) {
                Poll::Ready(Ok(5)) => {}
                other => panic!(
                    "read {round}: the socket holds 5 bytes and the reactor delivered its \
                     readiness, and no read since has returned WouldBlock, but a read into 64 \
                     bytes returned {other:?}, not Ready(Ok(5)). A read that returned fewer \
                     bytes than asked does not prove the socket drained (more may arrive \
                     before the next read, and with edge-triggered events the reactor may \
                     not turn first): clear the readiness only on WouldBlock"
                ),
            }
        }
    });
}

#[test]
fn ok_zero_is_the_end_of_the_stream() {
    tcp_watchdog("the peer shuts down its writing side").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, theirs) = pair(&reactor);
        let (waker, _wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        theirs.shutdown(Shutdown::Write).unwrap();
        reactor.turn(EVENT).unwrap();
        let mut buf = [0; 16];
        match poll_read(&stream, &mut cx, &mut buf) {
            Poll::Ready(Ok(0)) => {}
            other => panic!(
                "the peer closed its writing side: a read must return Ready(Ok(0)), the end of \
                 the stream (got {other:?})"
            ),
        }
        assert!(
            matches!(poll_read(&stream, &mut cx, &mut buf), Poll::Ready(Ok(0))),
            "and keep returning it"
        );
    });
}

#[test]
fn a_read_error_is_returned() {
    tcp_watchdog("the peer resets the connection").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, theirs) = pair(&reactor);
        // Closing with a zero linger time sends a reset instead of the end of the stream.
        socket2::SockRef::from(&theirs)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(theirs);
        reactor.turn(EVENT).unwrap();
        let (waker, _wakes) = counting_waker();
        let mut buf = [0; 16];
        match poll_read(&stream, &mut Context::from_waker(&waker), &mut buf) {
            Poll::Ready(Err(err)) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset),
            other => panic!(
                "the peer reset the connection: the read must return the socket's error \
                 (ConnectionReset), not wait or report the end of the stream (got {other:?}). \
                 Only WouldBlock means \"try again later\""
            ),
        }
    });
}

#[test]
fn an_empty_buffer_reads_and_writes_zero_bytes_at_once() {
    tcp_watchdog("poll_read into an empty buffer on an idle socket").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, _theirs) = pair(&reactor);
        let (waker, _wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(
            matches!(poll_read(&stream, &mut cx, &mut []), Poll::Ready(Ok(0))),
            "a read into an empty buffer must return Ready(Ok(0)) at once, even on a socket \
             with no data (there is nothing to wait for)"
        );
        assert!(
            matches!(poll_write(&stream, &mut cx, &[]), Poll::Ready(Ok(0))),
            "a write of an empty buffer must return Ready(Ok(0)) at once"
        );
    });
}

#[test]
fn the_waker_of_the_latest_poll_is_woken() {
    tcp_watchdog("poll_read with waker A, then B, then data").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, mut theirs) = pair(&reactor);
        let (a, a_wakes) = counting_waker();
        let (b, b_wakes) = counting_waker();
        let mut buf = [0; 16];
        assert!(poll_read(&stream, &mut Context::from_waker(&a), &mut buf).is_pending());
        assert!(poll_read(&stream, &mut Context::from_waker(&b), &mut buf).is_pending());
        theirs.write_all(b"x").unwrap();
        reactor.turn(EVENT).unwrap();
        assert_eq!(
            (a_wakes.get(), b_wakes.get()),
            (0, 1),
            "polled with waker A and then waker B, the read must have B woken: pass each poll's \
             Context to poll_ready"
        );
    });
}

#[test]
fn a_write_may_be_partial_and_waits_for_room() {
    tcp_watchdog("writing into a 4 KiB send buffer nobody reads").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, mut theirs) = pair(&reactor);
        socket2::SockRef::from(&stream)
            .set_send_buffer_size(4096)
            .unwrap();
        let (waker, wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let data = pattern(1 << 20, 2);
        let mut sent = 0;
        reactor.turn(NOW).unwrap();
        loop {
            match poll_write(&stream, &mut cx, &data[sent..]) {
                Poll::Ready(Ok(n)) => {
                    sent += n;
                    assert!(
                        sent < data.len(),
                        "1 MiB cannot fit in the socket's buffers"
                    );
                }
                Poll::Ready(Err(err)) => panic!("the write failed: {err}"),
                Poll::Pending => break,
            }
        }
        assert!(
            sent > 0,
            "the first write must accept part of the buffer, not wait"
        );
        assert_eq!(
            wakes.get(),
            0,
            "the write returned Pending and woke its own waker: a busy loop. Return Pending \
             with the waker stored and let the reactor wake it when there is room"
        );
        // The peer reads everything; room comes back and the writer's waker is woken.
        let reading = peer(move || {
            let mut got = vec![0; 1 << 20];
            let mut n = 0;
            while n < got.len() {
                match theirs.read(&mut got[n..]) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
            }
            got.truncate(n);
            got
        });
        while sent < data.len() {
            match poll_write(&stream, &mut cx, &data[sent..]) {
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(err)) => panic!("the write failed: {err}"),
                Poll::Pending => {
                    let before = wakes.get();
                    while wakes.get() == before {
                        reactor.turn(EVENT).unwrap();
                    }
                }
            }
        }
        let got = reading.join().unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the bytes arrived out of order or changed");
    });
}

#[test]
fn flush_is_ready_at_once_and_close_shuts_down_only_the_writing_side() {
    tcp_watchdog("poll_flush, poll_close, then a read").run(|| {
        let reactor = Reactor::new().unwrap();
        let (stream, mut theirs) = pair(&reactor);
        let (waker, _wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(
            matches!(
                Pin::new(&mut &stream).poll_flush(&mut cx),
                Poll::Ready(Ok(()))
            ),
            "a TCP stream keeps nothing in user space: poll_flush must be Ready(Ok(())) at once"
        );
        assert!(
            matches!(
                Pin::new(&mut &stream).poll_close(&mut cx),
                Poll::Ready(Ok(()))
            ),
            "poll_close must shut down the writing side and return Ready(Ok(()))"
        );
        let mut buf = [0; 8];
        assert_eq!(
            theirs.read(&mut buf).expect("the peer's read"),
            0,
            "after poll_close the peer must read the end of the stream"
        );
        theirs.write_all(b"bye").unwrap();
        reactor.turn(EVENT).unwrap();
        let n = ready_len(poll_read(&stream, &mut cx, &mut buf), "a read after close");
        assert_eq!(
            &buf[..n],
            b"bye",
            "poll_close must shut down only the writing side: the stream can still read"
        );
    });
}

#[test]
fn the_owned_stream_reads_and_writes_like_a_reference() {
    tcp_watchdog("AsyncRead/AsyncWrite for TcpStream itself").run(|| {
        let reactor = Reactor::new().unwrap();
        let (mut stream, mut theirs) = pair(&reactor);
        let (waker, _wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        // The socket's first event: writable.
        reactor.turn(EVENT).unwrap();
        let n = ready_len(
            Pin::new(&mut stream).poll_write(&mut cx, b"ping"),
            "poll_write",
        );
        assert_eq!(n, 4);
        let mut buf = [0; 4];
        theirs.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        theirs.write_all(b"pong").unwrap();
        let mut got = [0; 4];
        loop {
            match Pin::new(&mut stream).poll_read(&mut cx, &mut got) {
                Poll::Ready(Ok(n)) => {
                    assert_eq!(&got[..n], &b"pong"[..n]);
                    break;
                }
                Poll::Ready(Err(err)) => panic!("the read failed: {err}"),
                Poll::Pending => {
                    reactor.turn(EVENT).unwrap();
                }
            }
        }
        assert!(matches!(
            Pin::new(&mut stream).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert!(matches!(
            Pin::new(&mut stream).poll_close(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(
            theirs.read(&mut buf).unwrap(),
            0,
            "poll_close on TcpStream closes writing"
        );
    });
}

#[test]
fn a_waiting_read_lets_the_runtime_sleep_in_epoll_wait() {
    tcp_watchdog("a runtime whose only task waits for a second message").run(|| {
        let (ours, mut theirs) = tcp_pair();
        let (sender, receiver) = mpsc::channel();
        let runtime_thread = std::thread::spawn(move || {
            let mut runtime = Runtime::new().unwrap();
            let stream = TcpStream::from_std(runtime.reactor(), ours).unwrap();
            let kernel = KernelThread::current();
            let mut polls = 0;
            let mut buf = [0; 16];
            let got = runtime.block_on(async {
                let first = std::future::poll_fn(|cx| poll_read(&stream, cx, &mut buf)).await;
                // The first message is in: from here on, the read finds the socket drained.
                sender.send(kernel).unwrap();
                let second = std::future::poll_fn(|cx| {
                    polls += 1;
                    poll_read(&stream, cx, &mut buf)
                })
                .await;
                (first.unwrap(), second.unwrap())
            });
            (got, polls)
        });
        theirs.write_all(b"first").unwrap();
        let kernel = receiver.recv().expect("the runtime read the first message");
        match kernel.wait_until_blocked_in_poll(Duration::from_secs(2)) {
            Blocked::InPoll | Blocked::Unknown => {}
            Blocked::Never(last) => panic!(
                "while its only task waited for a read on a drained socket, the runtime's \
                 thread was never seen asleep in epoll_wait (last seen: {last}). A read that \
                 wakes its own waker before returning Pending keeps the runtime polling it \
                 forever: a busy loop"
            ),
        }
        theirs.write_all(b"wake up").unwrap();
        let ((first, second), polls) = runtime_thread.join().unwrap();
        assert_eq!((first, second), (5, 7));
        assert!(
            polls <= 3,
            "the read was polled {polls} times for one message: it should be polled once, \
             then once more after the reactor's wake"
        );
    });
}

#[test]
fn one_task_reads_while_another_writes_through_shared_references() {
    tcp_watchdog("a reader and a writer on one stream, with an echoing peer").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let (ours, theirs) = tcp_pair();
        let stream = Arc::new(TcpStream::from_std(runtime.reactor(), ours).unwrap());
        let echo = peer(move || {
            let mut theirs = theirs;
            let mut buf = vec![0; 64 * 1024];
            loop {
                match theirs.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if theirs.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let data = pattern(300_000, 3);
        let expected = data.clone();
        let writer_stream = Arc::clone(&stream);
        let got = runtime.block_on(async move {
            let write = async {
                let mut sent = 0;
                while sent < data.len() {
                    let n =
                        std::future::poll_fn(|cx| poll_write(&writer_stream, cx, &data[sent..]))
                            .await
                            .unwrap();
                    sent += n;
                }
                std::future::poll_fn(|cx| Pin::new(&mut &*writer_stream).poll_close(cx))
                    .await
                    .unwrap();
            };
            let read = async {
                let mut got = Vec::new();
                let mut buf = vec![0; 16 * 1024];
                loop {
                    let n = std::future::poll_fn(|cx| poll_read(&stream, cx, &mut buf))
                        .await
                        .unwrap();
                    if n == 0 {
                        break got;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
            };
            futures::join!(write, read).1
        });
        echo.join().unwrap();
        assert_eq!(
            got.len(),
            expected.len(),
            "every echoed byte must come back"
        );
        assert!(
            got == expected,
            "the echoed bytes changed or came out of order"
        );
    });
}
