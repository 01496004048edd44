//! Part 5: clients that do not play by the rules. A protocol error, a line that never ends, a
//! gigabyte promised in a header, garbage, a client that vanishes or resets mid-request, a
//! thousand idle connections: none of them may crash the server, make it allocate what was
//! only promised, or cost another client its data or its replies.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Client, Reply, TestServer, command};
use harness::Watchdog;

/// Records the largest single allocation made by this test process, so a test can check that
/// the server did not allocate on a length a client only declared.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; we only record sizes.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout, which meets `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout (every alloc goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` and `layout` come from `System` as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

fn watched(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(format!("part 5: {what}"))
        .likely_cause("does a read error or end of stream end only that connection's task (return from it, never `?` out of serve)?")
        .likely_cause("does parse_request refuse a line longer than MAX_INLINE instead of waiting for its end?")
        .run(body)
}

/// A client with a key of its own, to check after each attack that it lost nothing.
fn bystander(server: &TestServer) -> Client {
    let mut c = server.client();
    assert_eq!(c.call(&["SET", "bystander", "still here"]), Reply::ok());
    c
}

fn check_bystander(c: &mut Client, after: &str) {
    assert_eq!(
        c.call(&["GET", "bystander"]),
        Reply::bulk("still here"),
        "after {after}, another client's connection and data must be unharmed"
    );
}

#[test]
fn a_protocol_error_closes_only_that_connection() {
    watched("a protocol error", || {
        let server = TestServer::start();
        let mut other = bystander(&server);
        let mut bad = server.client();
        bad.send(b"PING\r\n*2\r\n$3\r\nGET\r\n:1\r\nPING\r\n");
        let rest = bad.read_to_close("a protocol error");
        assert_eq!(
            String::from_utf8_lossy(&rest),
            "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n",
            "the requests before a protocol error are answered, then -ERR <the error's \
             Display>, then the connection is closed (nothing after the error is read)"
        );
        check_bystander(&mut other, "another client's protocol error");
        drop(other);
        server.finish();
    });
}

#[test]
fn a_line_that_never_ends_is_refused_and_closed() {
    watched("a line that never ends", || {
        let server = TestServer::start();
        let mut other = bystander(&server);
        let mut endless = server.client();
        // One byte past MAX_INLINE without a newline (and no more: bytes left unread when the
        // server closes would turn its close into a reset that could hide the reply).
        endless.send(&vec![b'a'; capstone::frame::MAX_INLINE + 1]);
        let rest = endless.read_to_close("an inline request longer than MAX_INLINE");
        assert_eq!(
            String::from_utf8_lossy(&rest),
            "-ERR Protocol error: too big inline request\r\n",
            "a line without its end past MAX_INLINE bytes is refused and the connection closed"
        );
        check_bystander(&mut other, "an endless line");
        drop(other);
        server.finish();
    });
}

#[test]
fn a_huge_bulk_length_is_refused_before_its_bytes() {
    watched("a 1 GiB bulk length", || {
        let server = TestServer::start();
        let mut other = bystander(&server);
        let mut greedy = server.client();
        greedy.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1073741824\r\n");
        let rest = greedy.read_to_close("a bulk length of 1 GiB, with no body sent");
        assert_eq!(
            String::from_utf8_lossy(&rest),
            "-ERR Protocol error: invalid bulk length\r\n",
            "a bulk length above MAX_BULK is refused from its header line, without waiting \
             for (or allocating) the body"
        );
        check_bystander(&mut other, "a 1 GiB bulk length");
        drop(other);
        server.finish();
    });
}

#[test]
fn a_declared_length_is_not_allocated_before_its_bytes_arrive() {
    watched("declared lengths and counts", || {
        let server = TestServer::start();
        let mut other = bystander(&server);
        const LIMIT: usize = 16 << 20;
        for (header, what) in [
            (
                format!("*1\r\n${}\r\nonly a few bytes", capstone::frame::MAX_BULK),
                "a $ length of MAX_BULK",
            ),
            (
                format!("*{}\r\n$1\r\na\r\n", capstone::frame::MAX_ARGS),
                "a * count of MAX_ARGS",
            ),
        ] {
            LARGEST.store(0, Ordering::Relaxed);
            let mut c = server.client();
            c.send(header.as_bytes());
            c.stream().shutdown(Shutdown::Write).unwrap();
            c.read_to_close(&format!("{what}, then the end of the stream"));
            let largest = LARGEST.load(Ordering::Relaxed);
            assert!(
                largest < LIMIT,
                "after {what} and a few bytes, the process made a {} MiB allocation: nothing \
                 may be reserved on a length or count the client only declared (no \
                 with_capacity/reserve on it): memory grows with the bytes received",
                largest >> 20
            );
        }
        check_bystander(&mut other, "declared lengths");
        drop(other);
        server.finish();
    });
}

#[test]
fn binary_garbage_costs_no_one_their_data() {
    watched("binary garbage", || {
        let server = TestServer::start();
        let mut other = bystander(&server);
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut noise = |len: usize| -> Vec<u8> {
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect()
        };
        let mut attacks: Vec<Vec<u8>> = vec![
            b"*\xff\xfe\r\n".to_vec(),
            b"$$$$\r\n".to_vec(),
            b"*2\r\n$-0\r\n\r\n".to_vec(),
            b"*1\r\n$3\r\n\x00\x01\x02\r\n".to_vec(),
            b"\x00\x00\x00\x00\r\n".to_vec(),
        ];
        for len in [1, 7, 100, 5000] {
            let mut bytes = noise(len);
            bytes[0] = b'*';
            attacks.push(bytes);
            attacks.push(noise(len));
        }
        for (i, attack) in attacks.iter().enumerate() {
            let mut c = server.client();
            c.send(attack);
            c.stream().shutdown(Shutdown::Write).unwrap();
            let rest = c.read_to_close(&format!("garbage #{i} then the end of the stream"));
            let mut reader = std::io::BufReader::new(&rest[..]);
            while !reader.buffer().is_empty()
                || std::io::BufRead::fill_buf(&mut reader).is_ok_and(|b| !b.is_empty())
            {
                if let Err(err) = common::read_reply(&mut reader) {
                    panic!(
                        "garbage #{i}: the server's answer is not RESP ({err}): {:?}",
                        String::from_utf8_lossy(&rest)
                    );
                }
            }
            check_bystander(&mut other, &format!("garbage #{i}"));
        }
        assert_eq!(other.call(&["PING"]), Reply::Simple("PONG".into()));
        drop(other);
        server.finish();
    });
}

#[test]
fn a_client_that_vanishes_mid_frame_harms_no_one() {
    watched("a client that vanishes mid-request", || {
        let server = TestServer::start();
        let mut other = bystander(&server);
        for cut in [1, 5, 12, 20] {
            let mut c = server.client();
            let req = command(&["SET", "bystander", "overwritten!"]);
            c.send(&req[..cut]);
            drop(c); // a clean close, half-way through a request
        }
        check_bystander(
            &mut other,
            "clients that closed mid-request (a half request must never run)",
        );
        drop(other);
        server.finish();
    });
}

#[test]
fn a_client_that_resets_mid_frame_harms_no_one() {
    watched("a client that resets mid-request", || {
        let server = TestServer::start();
        let mut other = bystander(&server);
        for _ in 0..5 {
            let mut c = server.client();
            c.send(b"*3\r\n$3\r\nSET\r\n$9\r\nbystander\r\n$5\r\nov");
            let Client { reader } = c;
            common::reset(reader.into_inner()); // ECONNRESET on the server's side
        }
        check_bystander(
            &mut other,
            "clients that reset their connection (ECONNRESET is a normal close)",
        );
        drop(other);
        server.finish();
    });
}

#[test]
fn a_thousand_idle_connections_cost_no_one_their_replies() {
    Watchdog::new("part 5: a thousand idle connections")
        .limit(std::time::Duration::from_secs(30))
        .likely_cause("does the server spawn a task per connection instead of serving them one after another?")
        .run(|| {
            const IDLE: usize = 1000;
            let limit = common::raise_fd_limit(3 * IDLE as u64);
            assert!(limit >= 2 * IDLE as u64 + 64, "this test needs {} open files; the limit is {limit}", 2 * IDLE + 64);
            let server = TestServer::start();
            let mut idle: Vec<Client> = (0..IDLE).map(|_| server.client()).collect();
            let mut active = bystander(&server);
            for i in 0..50 {
                assert_eq!(active.call(&["INCR", "n"]), Reply::Integer(i + 1));
            }
            for (i, c) in idle.iter_mut().enumerate() {
                assert_eq!(
                    c.call(&["ECHO", &i.to_string()]),
                    Reply::bulk(&i.to_string()),
                    "idle connection {i} of {IDLE} must still be served"
                );
            }
            check_bystander(&mut active, "a thousand idle connections");
            drop((idle, active));
            server.finish();
        });
}
