//! Part 2 — `Reactor`: a `mio::Poll`, sources in a slab keyed by token, readiness delivered
//! into each source's `IoState`, and a `mio::Waker` to interrupt a blocked turn.
//!
//! The tests drive the reactor step by step with `turn`, on loopback socket pairs: the server
//! end is registered, the test writes from the client end.

mod common;

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use common::{Blocked, KernelThread, mio_pair, never_blocked_message};
use harness::{Watchdog, counting_waker, noop_context};
use reactor::mio::event::Source;
use reactor::mio::net::{TcpStream as MioStream, UdpSocket, UnixStream as MioUnixStream};
use reactor::mio::{Interest, Registry, Token};
use reactor::{Direction, Reactor, Registered};

/// Long enough for an event that is on its way; `turn` returns as soon as it arrives.
const EVENT: Option<Duration> = Some(Duration::from_secs(5));
const NOW: Option<Duration> = Some(Duration::ZERO);

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(format!("part 2: {what}"))
        .likely_cause(
            "`turn` wakes a waker while holding a lock (the poll, the slab, or a source's \
             state), and the waker needs that lock: collect the wakers, release every lock, \
             then wake",
        )
        .likely_cause(
            "an event was lost: `turn` must call `set_ready` on the source whose token the \
             event carries (the slab key), for every direction the event reports",
        )
}

fn both() -> Interest {
    Interest::READABLE | Interest::WRITABLE
}

/// Registers the server end of a fresh pair for reading and writing, and turns the reactor
/// once to take the "writable" event every new connection starts with.
fn registered(reactor: &Reactor) -> (Registered<MioStream>, std::net::TcpStream) {
    let (server, client) = mio_pair();
    let source = reactor
        .register(server, both())
        .expect("register a TCP stream");
    let events = reactor.turn(EVENT).expect("turn");
    assert_eq!(
        events, 1,
        "a newly registered, connected TCP stream reports one event (writable) on the next \
         turn; turn returned {events}. Does `turn` count the events it delivered?"
    );
    (source, client)
}

fn read_some(
    source: &Registered<MioStream>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    source.poll_io(Direction::Read, cx, |mut stream| stream.read(buf))
}

#[test]
fn a_new_reactor_has_nothing_registered_and_no_events() {
    watchdog("a new reactor, turned once with a zero timeout").run(|| {
        let reactor = Reactor::new().expect("Reactor::new");
        assert_eq!(
            reactor.registered_sources(),
            0,
            "a new reactor must report 0 registered sources (its own mio::Waker is not a \
             source)"
        );
        assert_eq!(
            reactor.turn(NOW).expect("turn"),
            0,
            "turn(Some(ZERO)) on a reactor with nothing registered returned events"
        );
    });
}

#[test]
fn dropping_a_registration_deregisters_it() {
    watchdog("register three sockets, drop them one by one").run(|| {
        let reactor = Reactor::new().unwrap();
        let mut sources: Vec<_> = (0..3)
            .map(|_| {
                let (server, client) = mio_pair();
                (reactor.register(server, both()).unwrap(), client)
            })
            .collect();
        assert_eq!(
            reactor.registered_sources(),
            3,
            "three sources were registered"
        );
        sources.remove(1);
        assert_eq!(
            reactor.registered_sources(),
            2,
            "a Registered was dropped and the reactor still counts it. `impl Drop for \
             Registered`: deregister the I/O object from mio's Registry and remove its entry \
             from the slab, or every closed connection leaks a slab entry (and its wakers)."
        );
        sources.clear();
        assert_eq!(
            reactor.registered_sources(),
            0,
            "every Registered was dropped; the reactor is not back to 0 sources"
        );
        // Keys are reused: a new source must start with fresh readiness.
        let (server, _client) = mio_pair();
        let fresh = reactor.register(server, Interest::READABLE).unwrap();
        let (waker, _) = counting_waker();
        assert!(
            fresh
                .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                .is_pending(),
            "a source registered in a reused slab slot was already readable: each registration \
             needs a fresh IoState"
        );
    });
}

#[test]
fn a_peer_write_is_one_readiness_event() {
    watchdog("turn, write one byte, turn").run(|| {
        let reactor = Reactor::new().unwrap();
        let (_source, mut client) = registered(&reactor);
        assert_eq!(
            reactor.turn(NOW).unwrap(),
            0,
            "nothing happened since the last turn, yet turn(Some(ZERO)) returned events"
        );
        client.write_all(b"x").unwrap();
        assert_eq!(
            reactor.turn(EVENT).unwrap(),
            1,
            "the peer wrote one byte: the next turn must deliver exactly one event"
        );
        assert_eq!(
            reactor.turn(NOW).unwrap(),
            0,
            "mio is edge-triggered: the byte is still unread, but it was reported once and is \
             not reported again"
        );
    });
}

/// A Unix socket pair (mio's, non-blocking): `(ours, peer)`. Dropping the peer hangs up ours
/// with `EPOLLHUP` and no error, which a TCP socket cannot do without an `EPOLLERR`.
fn unix_pair() -> (MioUnixStream, MioUnixStream) {
    MioUnixStream::pair().expect("a Unix socket pair")
}

#[test]
fn a_hang_up_wakes_a_reader_even_without_a_readable_flag() {
    watchdog("a source registered for WRITABLE only, a task waiting to read, then a hang-up").run(
        || {
            let reactor = Reactor::new().unwrap();
            let (ours, peer) = unix_pair();
            // Registered for writing only: epoll will not report EPOLLIN for it, but it always
            // reports a hang-up (EPOLLHUP), whatever the interest.
            let source = reactor.register(ours, Interest::WRITABLE).unwrap();
            reactor.turn(NOW).unwrap(); // the "writable" every new socket starts with
            let (waker, reader_wakes) = counting_waker();
            assert!(
                source
                    .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                    .is_pending(),
                "nothing was sent to the socket and nobody hung up, yet poll_ready(Read) said \
                 Ready"
            );
            drop(peer);
            reactor.turn(EVENT).unwrap();
            assert!(
                reader_wakes.get() >= 1
                    && source
                        .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                        .is_ready(),
                "the peer hung up: the event said read-closed (`is_read_closed()`, from \
                 EPOLLHUP) but not readable, and the task waiting to read was {} (woken {} \
                 time(s)). A hang-up is news for a reader: its next read returns the end of the \
                 stream. In `react`, set_ready(Read) when the event is readable OR read-closed \
                 OR an error: any one of the three is enough, not only all of them together.",
                if reader_wakes.get() == 0 {
                    "never woken"
                } else {
                    "woken, but the source is still not ready to read"
                },
                reader_wakes.get()
            );
        },
    );
}

#[test]
fn a_hang_up_wakes_a_writer_even_without_a_writable_flag() {
    watchdog("a source registered for READABLE only, a task waiting to write, then a hang-up").run(
        || {
            let reactor = Reactor::new().unwrap();
            let (ours, peer) = unix_pair();
            // Registered for reading only: epoll will not report EPOLLOUT for it, but it always
            // reports a hang-up (EPOLLHUP), whatever the interest.
            let source = reactor.register(ours, Interest::READABLE).unwrap();
            reactor.turn(NOW).unwrap();
            let (waker, writer_wakes) = counting_waker();
            assert!(
                source
                    .poll_ready(Direction::Write, &mut Context::from_waker(&waker))
                    .is_pending(),
                "a source registered for READABLE only reported Write readiness before anything \
                 happened"
            );
            drop(peer);
            reactor.turn(EVENT).unwrap();
            assert!(
                writer_wakes.get() >= 1
                    && source
                        .poll_ready(Direction::Write, &mut Context::from_waker(&waker))
                        .is_ready(),
                "the peer hung up: the event said write-closed (`is_write_closed()`, from \
                 EPOLLHUP) but neither writable nor error, and the task waiting to write was {} \
                 (woken {} time(s)). A hang-up is news for a writer: its next write fails (the \
                 peer is gone) instead of waiting forever. In `react`, set_ready(Write) when \
                 the event is writable OR write-closed OR an error: any one of the three is \
                 enough.",
                if writer_wakes.get() == 0 {
                    "never woken"
                } else {
                    "woken, but the source is still not ready to write"
                },
                writer_wakes.get()
            );
        },
    );
}

/// Waits (up to 5 s) until the socket has a pending error (`POLLERR`), without taking it: the
/// ICMP "port unreachable" that a send to a closed port brings back is handled by the kernel
/// asynchronously. Then the next `turn` is sure to see it.
fn wait_for_socket_error(socket: &impl AsRawFd) {
    let mut pollfd = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: 0, // POLLERR is reported whatever is asked for
        revents: 0,
    };
    // SAFETY: `pollfd` is one valid, writable pollfd; its fd stays open during the call.
    let n = unsafe { libc::poll(&mut pollfd, 1, 5_000) };
    assert!(
        n == 1 && pollfd.revents & libc::POLLERR != 0,
        "test setup: the socket got no error within 5 s (poll returned {n}, revents {:#x})",
        pollfd.revents
    );
}

/// A std UDP socket bound on loopback, and the address of one that was closed: nobody listens
/// there, so a datagram sent to it comes back as an ICMP "port unreachable".
fn udp_socket_and_a_closed_address() -> (std::net::UdpSocket, std::net::SocketAddr) {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let ours = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    (ours, closed_addr)
}

fn error_only_message(direction: &str, flag: &str, wakes: usize) -> String {
    format!(
        "a socket error arrived (a connected UDP socket's datagram was refused: `is_error()`, \
         from EPOLLERR) in an event without {flag} and without a hang-up, and the task waiting \
         to {direction} was {} (woken {wakes} time(s)). An error is news for both directions: \
         the next operation returns it instead of waiting forever. In `react`, set_ready(Read) \
         when the event is readable OR read-closed OR an error, and set_ready(Write) when it is \
         writable OR write-closed OR an error: `is_error()` alone is enough for each.",
        if wakes == 0 {
            "never woken"
        } else {
            "woken, but the source is still not ready"
        },
    )
}

#[test]
fn an_error_wakes_a_reader_even_without_a_readable_flag() {
    watchdog("a UDP source registered for WRITABLE only, a task waiting to read, then an error")
        .run(|| {
            let reactor = Reactor::new().unwrap();
            let (ours, closed) = udp_socket_and_a_closed_address();
            ours.connect(closed).unwrap();
            ours.set_nonblocking(true).unwrap();
            // Registered for writing only: epoll reports no EPOLLIN for it, but it always
            // reports an error (EPOLLERR), whatever the interest. The event is writable + error.
            let source = reactor
                .register(UdpSocket::from_std(ours), Interest::WRITABLE)
                .unwrap();
            reactor.turn(NOW).unwrap(); // the "writable" every new socket starts with
            let (waker, reader_wakes) = counting_waker();
            assert!(
                source
                    .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                    .is_pending(),
                "nothing was sent to the socket, yet poll_ready(Read) said Ready"
            );
            // Nobody listens there: the kernel answers with "port unreachable", which becomes
            // the connected socket's pending error (ECONNREFUSED).
            source.get_ref().send(b"x").expect("send a datagram");
            wait_for_socket_error(source.get_ref());
            reactor.turn(EVENT).unwrap();
            assert!(
                reader_wakes.get() >= 1
                    && source
                        .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                        .is_ready(),
                "{}",
                error_only_message("read", "a readable or read-closed flag", reader_wakes.get())
            );
        });
}

#[test]
fn an_error_wakes_a_writer_even_without_a_writable_flag() {
    watchdog("a UDP source registered for READABLE only, a task waiting to write, then an error")
        .run(|| {
            let reactor = Reactor::new().unwrap();
            let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let ours = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            ours.connect(peer.local_addr().unwrap()).unwrap();
            // A datagram waits unread, so the error's event is readable + error: not exactly
            // "an error and nothing else" (which mio would also report as write-closed).
            peer.send_to(b"in", ours.local_addr().unwrap()).unwrap();
            ours.set_nonblocking(true).unwrap();
            // Registered for reading only: epoll reports no EPOLLOUT for it, but it always
            // reports an error (EPOLLERR), whatever the interest.
            let source = reactor
                .register(UdpSocket::from_std(ours), Interest::READABLE)
                .unwrap();
            assert_eq!(
                reactor.turn(EVENT).unwrap(),
                1,
                "a datagram was waiting: one readable event"
            );
            let (waker, writer_wakes) = counting_waker();
            assert!(
                source
                    .poll_ready(Direction::Write, &mut Context::from_waker(&waker))
                    .is_pending(),
                "a source registered for READABLE only reported Write readiness before anything \
                 happened"
            );
            drop(peer);
            source.get_ref().send(b"x").expect("send a datagram");
            wait_for_socket_error(source.get_ref());
            reactor.turn(EVENT).unwrap();
            assert!(
                writer_wakes.get() >= 1
                    && source
                        .poll_ready(Direction::Write, &mut Context::from_waker(&waker))
                        .is_ready(),
                "{}",
                error_only_message(
                    "write",
                    "a writable or write-closed flag",
                    writer_wakes.get()
                )
            );
        });
}

#[test]
fn readiness_that_arrives_before_the_first_poll_is_latched() {
    watchdog("an event, then the first poll").run(|| {
        let reactor = Reactor::new().unwrap();
        let (source, mut client) = registered(&reactor);
        client.write_all(b"x").unwrap();
        // The reactor takes the event before any task has polled the source.
        assert_eq!(reactor.turn(EVENT).unwrap(), 1);
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(
            source.poll_ready(Direction::Read, &mut cx).is_ready(),
            "the reactor turned (and took the read event) before the first poll_ready(Read), \
             which then said Pending. No further event will come for this byte (edge-triggered), \
             so the task would wait forever. `turn` must record the readiness in the source's \
             IoState (set_ready) even when no waker is stored."
        );
        let mut buf = [0; 8];
        assert!(matches!(
            read_some(&source, &mut cx, &mut buf),
            Poll::Ready(Ok(1))
        ));
    });
}

#[test]
fn the_waker_of_the_latest_poll_is_woken() {
    watchdog("poll with waker A, then B, then an event").run(|| {
        let reactor = Reactor::new().unwrap();
        let (source, mut client) = registered(&reactor);
        let (a, a_wakes) = counting_waker();
        let (b, b_wakes) = counting_waker();
        assert!(
            source
                .poll_ready(Direction::Read, &mut Context::from_waker(&a))
                .is_pending()
        );
        assert!(
            source
                .poll_ready(Direction::Read, &mut Context::from_waker(&b))
                .is_pending()
        );
        client.write_all(b"x").unwrap();
        assert_eq!(reactor.turn(EVENT).unwrap(), 1);
        assert_eq!(
            b_wakes.get(),
            1,
            "the read future was polled with waker A, then with B (it moved to another task); \
             the event woke A {} time(s) and B {} time(s). The source must keep the latest \
             waker.",
            a_wakes.get(),
            b_wakes.get()
        );
    });
}

#[test]
fn readiness_stays_latched_until_an_operation_would_block() {
    watchdog("two reads of 100 bytes after one event").run(|| {
        let reactor = Reactor::new().unwrap();
        let (source, mut client) = registered(&reactor);
        client.write_all(&[7; 200]).unwrap();
        assert_eq!(
            reactor.turn(EVENT).unwrap(),
            1,
            "200 bytes in one write: one event"
        );
        let (waker, wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0; 100];
        for read in 1..=2 {
            match read_some(&source, &mut cx, &mut buf) {
                Poll::Ready(Ok(100)) => {}
                Poll::Pending => panic!(
                    "read #{read} of 100 bytes returned Pending, with {} bytes still in the \
                     socket and no event to come: with edge-triggered readiness the OS reports \
                     new data once, so the readiness must stay set until an operation returns \
                     WouldBlock. Clear it there (in poll_io), never after a successful read.",
                    200 - 100 * (read - 1)
                ),
                other => panic!("read #{read} returned {other:?}, expected Ready(Ok(100))"),
            }
        }
        assert!(
            read_some(&source, &mut cx, &mut buf).is_pending(),
            "the socket is drained: the next read must get WouldBlock, clear the readiness and \
             return Pending"
        );
        assert_eq!(reactor.turn(NOW).unwrap(), 0);
        assert_eq!(wakes.get(), 0, "no new data came, yet the reader was woken");
        client.write_all(b"more").unwrap();
        assert_eq!(reactor.turn(EVENT).unwrap(), 1);
        assert_eq!(
            wakes.get(),
            1,
            "after WouldBlock the read stored its waker; new data must wake it"
        );
        assert!(matches!(
            read_some(&source, &mut cx, &mut buf),
            Poll::Ready(Ok(4))
        ));
    });
}

#[test]
fn an_event_between_would_block_and_clear_is_not_lost() {
    watchdog("an event that lands between WouldBlock and clear_ready").run(|| {
        let reactor = Reactor::new().unwrap();
        let (source, mut client) = registered(&reactor);
        client.write_all(b"a").unwrap();
        assert_eq!(reactor.turn(EVENT).unwrap(), 1);
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut calls = 0;
        let mut buf = [0; 8];
        // The first attempt pretends the socket was empty; while it "returns WouldBlock", a new
        // byte arrives and the reactor turns (as another thread could, at that moment).
        let result = source.poll_io(Direction::Read, &mut cx, |mut stream| {
            calls += 1;
            if calls == 1 {
                client.write_all(b"b").unwrap();
                assert_eq!(reactor.turn(EVENT).unwrap(), 1);
                return Err(io::ErrorKind::WouldBlock.into());
            }
            stream.read(&mut buf)
        });
        assert!(
            matches!(result, Poll::Ready(Ok(2))),
            "poll_io returned {result:?} (expected Ready(Ok(2)), both bytes): an event that \
             came after poll_ready returned its tick, and before the WouldBlock was handled, \
             was cleared away. Pass the tick poll_ready returned to clear_ready, and retry \
             (loop) when the readiness is still set."
        );
    });
}

/// A waker that, when woken, calls straight back into the reactor: counts its sources,
/// registers and deregisters a socket, and polls the source it was woken for.
struct CallsBack {
    reactor: Reactor,
    source: Arc<Registered<MioStream>>,
    done: mpsc::Sender<usize>,
}

impl Wake for CallsBack {
    fn wake(self: Arc<Self>) {
        let count = self.reactor.registered_sources();
        let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        drop(self.reactor.register(socket, Interest::READABLE).unwrap());
        let _ = self.source.poll_ready(Direction::Read, &mut noop_context());
        let _ = self.done.send(count);
    }
}

#[test]
fn a_waker_that_calls_back_into_the_reactor_does_not_deadlock() {
    watchdog("a waker that calls back into the reactor").run(|| {
        let reactor = Reactor::new().unwrap();
        let (source, mut client) = registered(&reactor);
        let source = Arc::new(source);
        let (done_tx, done) = mpsc::channel();
        let waker = Waker::from(Arc::new(CallsBack {
            reactor: reactor.clone(),
            source: Arc::clone(&source),
            done: done_tx,
        }));
        assert!(
            source
                .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                .is_pending()
        );
        drop(waker);
        client.write_all(b"x").unwrap();
        // Deadlocks here if the reactor wakes while holding a lock the waker needs.
        reactor.turn(EVENT).unwrap();
        assert_eq!(
            done.try_recv(),
            Ok(1),
            "the waker ran and counted the reactor's sources (1 expected)"
        );
    });
}

/// A waker that, when woken, turns the very reactor that is delivering its wake (both `turn`
/// and `react`), registers a socket, then reports on `done`.
struct TurnsAgain {
    reactor: Reactor,
    done: mpsc::Sender<&'static str>,
}

impl Wake for TurnsAgain {
    fn wake(self: Arc<Self>) {
        let _ = self.reactor.turn(NOW);
        let _ = self.reactor.react(NOW, &mut Vec::new());
        let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        drop(self.reactor.register(socket, Interest::READABLE).unwrap());
        let _ = self.done.send("turned the reactor from inside a wake");
    }
}

#[test]
fn a_waker_that_turns_the_reactor_again_does_not_deadlock() {
    watchdog("a waker that calls turn and react on the reactor that is waking it")
        .likely_cause(
            "`turn` wakes the wakers while it still holds the poll's lock (the mio::Poll and \
             its Events): releasing only the slab's lock is not enough, since a waker may turn \
             the reactor itself (a task that runs a runtime, a test). Let `react` return, \
             which releases every lock, and only then wake",
        )
        .run(|| {
            let reactor = Reactor::new().unwrap();
            let (source, mut client) = registered(&reactor);
            let (done_tx, done) = mpsc::channel();
            let waker = Waker::from(Arc::new(TurnsAgain {
                reactor: reactor.clone(),
                done: done_tx.clone(),
            }));
            // Route 1: this thread's turn delivers the wake.
            assert!(
                source
                    .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                    .is_pending()
            );
            client.write_all(b"x").unwrap();
            // Deadlocks here if `turn` wakes while it holds the poll's (or the slab's) lock.
            reactor.turn(EVENT).unwrap();
            assert_eq!(
                done.try_recv().ok(),
                Some("turned the reactor from inside a wake"),
                "the peer wrote, the turn delivered the event, and the waiting waker was not \
                 woken"
            );
            // Route 2: a turn blocked in epoll_wait on another thread delivers it.
            let mut buf = [0; 8];
            let (drain, _) = counting_waker();
            assert!(matches!(
                read_some(&source, &mut Context::from_waker(&drain), &mut buf),
                Poll::Ready(Ok(1))
            ));
            assert!(read_some(&source, &mut Context::from_waker(&waker), &mut buf).is_pending());
            let turning = turn_blocked_in_poll(&reactor);
            client.write_all(b"y").unwrap();
            turning.join().unwrap().expect("turn");
            assert_eq!(
                done.try_recv().ok(),
                Some("turned the reactor from inside a wake"),
                "a turn blocked on another thread took the event, and the waiting waker was not \
                 woken"
            );
        });
}

/// A socket whose deregistration gives another thread the chance to register a new source and
/// turn the reactor at the worst moment: inside `Registry::deregister`, before the OS has
/// forgotten this socket, with data for it on the way. mio calls `Source::deregister`, so
/// every reactor goes through this seam.
struct RegisterDuringDeregister {
    inner: MioStream,
    /// The peer of `inner`: it writes, so that the OS has an event to report for `inner`.
    client: std::net::TcpStream,
    reactor: Reactor,
    /// The new source registered meanwhile, and its peer.
    newcomer: mpsc::Sender<thread::JoinHandle<(Registered<MioStream>, std::net::TcpStream)>>,
}

impl Source for RegisterDuringDeregister {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.inner.register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.inner.reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        // Data for the old socket: the OS will report it under the old token.
        self.client.write_all(b"old").unwrap();
        let mut pollfd = libc::pollfd {
            fd: self.inner.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid, writable pollfd; the fd stays open during the call.
        unsafe { libc::poll(&mut pollfd, 1, 5_000) };
        let reactor = self.reactor.clone();
        let (started_tx, started) = mpsc::channel();
        let newcomer = thread::spawn(move || {
            started_tx.send(KernelThread::current()).unwrap();
            let (server, client) = mio_pair();
            // READABLE only and no data: this source has no event of its own.
            let source = reactor.register(server, Interest::READABLE).unwrap();
            // Takes the old socket's event, if the OS still reports it.
            let _ = reactor.turn(EVENT);
            (source, client)
        });
        let registering = started.recv().unwrap();
        // Wait until the new source is registered and the turn is over, or until that thread
        // waits for a lock this one holds (then the reactor's lock orders the two: go on).
        let mut locked_for = 0;
        for _ in 0..20_000 {
            if newcomer.is_finished() {
                break;
            }
            match registering.blocked_on_a_lock() {
                Some(true) => locked_for += 1,
                Some(false) => locked_for = 0,
                None => {}
            }
            if locked_for >= 50 {
                break;
            }
            thread::sleep(Duration::from_micros(200));
        }
        let _ = self.newcomer.send(newcomer);
        self.inner.deregister(registry)
    }
}

#[test]
fn a_new_source_never_gets_the_events_of_a_dropped_one() {
    watchdog("drop a source; during its deregistration another thread registers and turns")
        .likely_cause(
            "the new source's thread waits for a lock that the dropping thread holds, and the \
             dropping thread waits for it: do not hold a reactor lock while calling \
             `Registry::deregister`",
        )
        .run(|| {
            let reactor = Reactor::new().unwrap();
            let (server, client) = mio_pair();
            let (newcomer_tx, newcomer) = mpsc::channel();
            let old = reactor
                .register(
                    RegisterDuringDeregister {
                        inner: server,
                        client,
                        reactor: reactor.clone(),
                        newcomer: newcomer_tx,
                    },
                    both(),
                )
                .unwrap();
            reactor.turn(EVENT).unwrap(); // the "writable" every new connection starts with
            drop(old);
            // End the newcomer's turn if it is still waiting (it found no event).
            reactor.wake().unwrap();
            let (fresh, _fresh_client) = newcomer
                .recv()
                .expect("Registered::drop never called Source::deregister on its I/O object")
                .join()
                .expect("the thread registering a new source panicked");
            let (waker, _) = counting_waker();
            assert!(
                fresh
                    .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                    .is_pending(),
                "a new source, to which nothing was ever sent, is ready to read. It was \
                 registered while an old source was being dropped: the old one's slab key was \
                 already free, the new one got it, and the OS, which still had the old socket \
                 registered under that token, reported the old socket's data, which `react` \
                 delivered to the new source. In `Drop for Registered`, deregister from mio's \
                 Registry first and remove the slab entry second, so that a key is never handed \
                 out while the OS may still report events under it."
            );
        });
}

#[test]
fn wake_ends_a_turn_blocked_in_poll() {
    watchdog("reactor.wake() from another thread while turn(None) is blocked")
        .likely_cause(
            "`wake` does not reach a thread blocked in epoll_wait: it must use the \
             `mio::Waker` created with the reactor's registry (an eventfd on Linux)",
        )
        .run(|| {
            let reactor = Reactor::new().unwrap();
            let turning = turn_blocked_in_poll(&reactor);
            reactor.wake().expect("wake");
            let events = turning.join().unwrap().expect("turn");
            assert_eq!(
                events, 0,
                "a wake is not a readiness event and must not be counted"
            );
        });
}

/// How many times [`count_signal`] ran, in any thread of this test binary.
static SIGNALS_HANDLED: AtomicUsize = AtomicUsize::new(0);

/// A signal handler that only counts. Installing it (instead of the default action, which ends
/// the process) lets a test deliver a signal to a thread blocked in `epoll_wait`: the kernel
/// runs the handler and `epoll_wait` returns `EINTR` (it is never restarted, whatever
/// `SA_RESTART` says: `man 7 signal`).
extern "C" fn count_signal(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SIGNALS_HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// The signal [`an_interrupted_turn_is_not_an_error`] sends; nothing else in this binary uses it.
const INTERRUPT: libc::c_int = libc::SIGUSR2;

fn install_counting_handler() {
    // SAFETY: `action` is zeroed (a valid `sigaction`: empty mask, no flags) before the
    // handler is set; `count_signal` is an `extern "C" fn(c_int)` that only touches an atomic,
    // so it is safe to run at any point of any thread. The old action is not needed (null).
    let installed = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(INTERRUPT, &action, std::ptr::null_mut())
    };
    assert_eq!(installed, 0, "test setup: sigaction failed");
}

#[test]
fn an_interrupted_turn_is_not_an_error() {
    watchdog("turn(None) interrupted by a signal, then woken")
        .likely_cause(
            "after the signal, `turn` neither returned nor went back to waiting for the wake: \
             an interrupted poll must end the turn (Ok(0)) or be retried, never spin or block \
             elsewhere",
        )
        .run(|| {
            install_counting_handler();
            let reactor = Reactor::new().unwrap();
            let turning = turn_blocked_in_poll(&reactor);
            // The thread is inside epoll_wait (or, off Linux, about to be): a signal now makes
            // the wait return EINTR once the handler has run.
            let handled_before = SIGNALS_HANDLED.load(Ordering::SeqCst);
            // SAFETY: the thread has not been joined, so its pthread_t is still valid, and a
            // handler for INTERRUPT is installed, so the signal does not end the process.
            let sent = unsafe { libc::pthread_kill(turning.as_pthread_t(), INTERRUPT) };
            assert_eq!(sent, 0, "test setup: pthread_kill failed");
            while SIGNALS_HANDLED.load(Ordering::SeqCst) == handled_before {
                // Bounded by the watchdog; the handler runs within microseconds.
                thread::yield_now();
            }
            // Wake only now: had the wake landed first, epoll_wait could have returned the
            // waker's event instead of EINTR. A turn that already returned ignores this wake;
            // a turn that retried after EINTR is ended by it.
            reactor.wake().expect("wake");
            match turning.join().unwrap() {
                Ok(events) => assert_eq!(
                    events, 0,
                    "an interrupted (or interrupted, then woken) turn delivered no readiness \
                     event, yet turn returned {events}"
                ),
                Err(err) => panic!(
                    "a signal interrupted turn(None) and turn returned Err({err:?}). A signal \
                     handler running on the reactor's thread makes epoll_wait fail with EINTR \
                     (`io::ErrorKind::Interrupted`): nothing went wrong and nothing happened. \
                     Treat it as a turn that delivered 0 events (return Ok(0)); only other \
                     poll errors are real errors. Check the error kind in `react`."
                ),
            }
        });
}

#[test]
fn a_blocked_turn_returns_when_data_arrives() {
    watchdog("turn(None) blocked until the peer writes").run(|| {
        let reactor = Reactor::new().unwrap();
        let (server, mut client) = mio_pair();
        let source = reactor.register(server, Interest::READABLE).unwrap();
        let turning = turn_blocked_in_poll(&reactor);
        client.write_all(b"x").unwrap();
        assert_eq!(turning.join().unwrap().unwrap(), 1);
        let (waker, _) = counting_waker();
        assert!(
            source
                .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                .is_ready()
        );
    });
}

#[test]
fn two_reactors_do_not_share_sources() {
    watchdog("two reactors side by side").run(|| {
        let first = Reactor::new().unwrap();
        let second = Reactor::new().unwrap();
        let (source, mut client) = registered(&first);
        let (_other, _other_client) = registered(&second);
        assert_eq!(
            (first.registered_sources(), second.registered_sources()),
            (1, 1),
            "each reactor must count only its own sources"
        );
        client.write_all(b"x").unwrap();
        assert_eq!(first.turn(EVENT).unwrap(), 1);
        assert_eq!(
            second.turn(NOW).unwrap(),
            0,
            "an event of one reactor showed up in another"
        );
        let (waker, _) = counting_waker();
        assert!(
            source
                .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
                .is_ready()
        );
    });
}

/// A socket whose registration gives another thread the chance to turn the reactor at the
/// worst moment: inside `Registry::register`, right after the OS learned about the socket
/// (`epoll_ctl`) and before `Reactor::register` has returned. mio calls `Source::register`, so
/// this is a seam every reactor goes through; the schedule it forces is the one that a race
/// would need luck to hit.
struct TurnDuringRegister {
    inner: MioStream,
    reactor: Reactor,
    /// What the turn on the other thread returned, if it finished while `register` waited.
    turned: Arc<Mutex<Option<io::Result<usize>>>>,
}

impl Source for TurnDuringRegister {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.inner.register(registry, token, interests)?;
        let reactor = self.reactor.clone();
        let (started_tx, started) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        thread::spawn(move || {
            started_tx.send(KernelThread::current()).unwrap();
            let _ = done_tx.send(reactor.turn(Some(Duration::from_secs(5))));
        });
        let turner = started.recv().unwrap();
        // Wait until that turn has finished, or until it waits for a lock that this thread
        // holds (then the reactor's lock orders the two, and no event can slip by: go on).
        let mut locked_for = 0;
        for _ in 0..20_000 {
            match done.recv_timeout(Duration::from_micros(200)) {
                Ok(result) => {
                    *self.turned.lock().unwrap() = Some(result);
                    return Ok(());
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            match turner.blocked_on_a_lock() {
                Some(true) => locked_for += 1,
                Some(false) => locked_for = 0,
                None => {}
            }
            if locked_for >= 50 {
                return Ok(());
            }
        }
        Ok(())
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.inner.reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.inner.deregister(registry)
    }
}

#[test]
fn an_event_during_registration_is_not_lost() {
    watchdog("data already waiting; another thread turns the reactor in the middle of register")
        .run(|| {
            let reactor = Reactor::new().unwrap();
            let (server, mut client) = mio_pair();
            client.write_all(b"early").unwrap();
            let turned = Arc::new(Mutex::new(None));
            let source = reactor
                .register(
                    TurnDuringRegister {
                        inner: server,
                        reactor: reactor.clone(),
                        turned: Arc::clone(&turned),
                    },
                    both(),
                )
                .expect("register a TCP stream");
            if let Some(Err(err)) = turned.lock().unwrap().take() {
                panic!("the other thread's turn failed: {err}");
            }
            // Collect anything still on its way (the turn may have waited for a lock).
            let _ = reactor.turn(NOW).unwrap();
            let (waker, _) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            let mut buf = [0u8; 16];
            let read = source.poll_io(Direction::Read, &mut cx, |s| (&s.inner).read(&mut buf));
            assert!(
                matches!(read, Poll::Ready(Ok(5))),
                "5 bytes were waiting when the socket was registered. Another thread turned the \
                 reactor after mio had registered the socket but before `register` returned: \
                 that turn took the socket's one readiness event, and now a read is {read:?} \
                 (with edge-triggered events, no second one will come). The event's token must \
                 already lead to the source's IoState when the OS can report it: insert the \
                 IoState into the slab first, then register with mio under that key (or hold \
                 the slab's lock across both)."
            );
        });
}

/// A source the OS refuses: its registration always fails.
struct Unregistrable;

impl Source for Unregistrable {
    fn register(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
        Err(io::Error::other("registration refused by the test"))
    }

    fn reregister(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
        Err(io::Error::other("registration refused by the test"))
    }

    fn deregister(&mut self, _: &Registry) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failed_registration_returns_the_error_and_leaves_nothing_behind() {
    watchdog("register a source whose registration fails").run(|| {
        let reactor = Reactor::new().unwrap();
        let result = reactor.register(Unregistrable, Interest::READABLE);
        match &result {
            Err(err) => assert!(
                err.to_string().contains("refused by the test"),
                "register returned an error, but not mio's: {err}. Hand the error from \
                 `Registry::register` back to the caller (`?`)."
            ),
            Ok(_) => {
                panic!("mio refused the registration, and `register` returned Ok: return the error")
            }
        }
        assert_eq!(
            reactor.registered_sources(),
            0,
            "a registration failed, and the reactor still counts a source: when \
             `Registry::register` fails, remove the slab entry you made for it before returning \
             the error, or every failed registration leaks one"
        );
        let (server, _client) = mio_pair();
        let _ok = reactor
            .register(server, both())
            .expect("register a TCP stream");
        assert_eq!(reactor.registered_sources(), 1, "one source is registered");
    });
}

#[test]
fn register_does_not_wait_for_a_turn_blocked_in_poll() {
    watchdog("register a socket while another thread is blocked in turn(None)")
        .likely_cause(
            "`register` waits for the lock that `turn` holds while it blocks in epoll_wait: \
             register through a clone of the registry (`poll.registry().try_clone()`), kept \
             outside the poll's lock",
        )
        .run(|| {
            let reactor = Reactor::new().unwrap();
            let turning = turn_blocked_in_poll(&reactor);
            // A runtime registers new connections while its own thread, or another, is asleep
            // in the reactor; this must not wait for an event that may never come.
            let (server, _client) = mio_pair();
            let source = reactor.register(server, both()).expect("register");
            assert_eq!(reactor.registered_sources(), 1, "one source is registered");
            drop(source);
            reactor.wake().expect("wake");
            turning.join().unwrap().expect("turn");
        });
}

#[test]
fn clear_ready_on_a_registration_makes_it_wait_again() {
    watchdog("Registered::poll_ready, clear_ready with its tick, poll_ready again").run(|| {
        let reactor = Reactor::new().unwrap();
        // `registered` took the "writable" event every new connection starts with.
        let (source, _client) = registered(&reactor);
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let Poll::Ready(tick) = source.poll_ready(Direction::Write, &mut cx) else {
            panic!(
                "a new connection is writable, and the turn delivered that event, yet \
                 poll_ready(Write) on its Registered is Pending"
            );
        };
        source.clear_ready(Direction::Write, tick);
        assert!(
            source.poll_ready(Direction::Write, &mut cx).is_pending(),
            "after clear_ready(Write, tick) with the tick poll_ready just returned, the \
             registration must wait again: Registered::clear_ready must clear its IoState"
        );
    });
}

/// Starts `reactor.turn(None)` on a new thread and returns once that thread is blocked in
/// `epoll_wait` (a test failure, with the reason, if it never gets there).
fn turn_blocked_in_poll(reactor: &Reactor) -> thread::JoinHandle<io::Result<usize>> {
    let (started_tx, started) = mpsc::channel();
    let turning = {
        let reactor = reactor.clone();
        thread::spawn(move || {
            started_tx.send(KernelThread::current()).unwrap();
            reactor.turn(None)
        })
    };
    let kernel_thread = started.recv().unwrap();
    if let Blocked::Never(last) = kernel_thread.wait_until_blocked_in_poll(Duration::from_secs(3)) {
        panic!(
            "{}",
            never_blocked_message("the thread calling turn(None)", &last)
        );
    }
    turning
}
