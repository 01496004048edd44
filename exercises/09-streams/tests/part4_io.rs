//! Part 4 — `read_exact`, `write_all`, `flush`, `close`.
//!
//! The readers and writers misbehave on purpose: `futures-test`'s `limited(1)` and
//! `limited_write(3)` move at most 1 or 3 bytes per call, `interleave_pending()` returns
//! `Pending` on every other call, and the scripted ones end, fail or refuse where the test
//! says.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use common::{
    Accept, Chunk, NeverPoll, first_difference, pattern, peer, reader, tcp_pair, watchdog, writer,
};
use futures::executor::block_on;
use futures_test::io::{AsyncReadTestExt, AsyncWriteTestExt};
use harness::{Poller, Watchdog};
use streams::{Runtime, TcpStream, close, flush, read_exact, write_all};

const PART: &str = "part 4";

fn io_watchdog(what: &str) -> Watchdog {
    watchdog(PART, what)
        .likely_cause(
            "a loop that treats Ok(0) as \"nothing yet\" and polls again never ends: from a \
             read, Ok(0) is the end of the stream (UnexpectedEof); from a write, WriteZero",
        )
        .likely_cause("a Pending from the reader or writer must be returned, not retried in a loop")
}

#[test]
fn read_exact_fills_the_buffer_through_one_byte_reads_and_pending() {
    io_watchdog("read_exact of 1 000 bytes, 1 byte per read, Pending in between").run(|| {
        let data = pattern(1000, 1);
        let mut source = data.as_slice().limited(1).interleave_pending();
        let mut buf = vec![0; 1000];
        block_on(read_exact(&mut source, &mut buf)).expect("read_exact");
        assert!(
            buf == data,
            "read_exact must continue each read where the last one stopped, across Pending: {}",
            first_difference(&buf, &data)
        );
    });
}

#[test]
fn read_exact_leaves_the_rest_for_the_next_read() {
    io_watchdog("two read_exacts of 3 bytes from 8").run(|| {
        let mut source = &b"abcdefgh"[..];
        let mut first = [0; 3];
        let mut second = [0; 3];
        block_on(read_exact(&mut source, &mut first)).unwrap();
        block_on(read_exact(&mut source, &mut second)).unwrap();
        assert_eq!((&first, &second), (b"abc", b"def"));
        assert_eq!(
            source, b"gh",
            "read_exact must not read past the end of its buffer"
        );
    });
}

#[test]
fn read_exact_at_the_end_of_the_stream_is_unexpected_eof() {
    io_watchdog("read_exact of 10 bytes from a stream of 5").run(|| {
        let (mut source, _handle) = reader([Chunk::Bytes(b"12345".to_vec()), Chunk::Eof]);
        let mut buf = [0; 10];
        let err = block_on(read_exact(&mut source, &mut buf))
            .expect_err("the stream ended after 5 of 10 bytes: read_exact must fail");
        assert_eq!(
            err.kind(),
            ErrorKind::UnexpectedEof,
            "the end of the stream before the buffer was full is an UnexpectedEof error: {err}"
        );
    });
}

#[test]
fn read_exact_of_an_empty_buffer_completes_without_reading() {
    io_watchdog("read_exact into an empty buffer").run(|| {
        let mut source = NeverPoll;
        let mut future = Poller::new(read_exact(&mut source, &mut []));
        assert!(
            matches!(future.poll(), std::task::Poll::Ready(Ok(()))),
            "an empty buffer is already full: read_exact must complete on its first poll"
        );
    });
}

#[test]
fn read_exact_returns_the_readers_error() {
    io_watchdog("read_exact from a reader that fails").run(|| {
        let (mut source, _handle) = reader([
            Chunk::Bytes(b"ab".to_vec()),
            Chunk::Error(ErrorKind::ConnectionReset),
        ]);
        let mut buf = [0; 4];
        let err = block_on(read_exact(&mut source, &mut buf)).expect_err("the reader failed");
        assert_eq!(
            err.kind(),
            ErrorKind::ConnectionReset,
            "the reader's error, as it is"
        );
    });
}

#[test]
fn read_exact_is_pending_only_while_the_reader_is() {
    io_watchdog("read_exact from a reader that is Pending, then has data").run(|| {
        let (mut source, handle) = reader([Chunk::Bytes(b"ab".to_vec()), Chunk::Pending]);
        let mut buf = [0; 4];
        let mut future = Poller::new(read_exact(&mut source, &mut buf));
        assert!(future.poll().is_pending());
        assert!(future.poll().is_pending());
        assert!(handle.push_and_wake([Chunk::Bytes(b"cd".to_vec())]));
        assert!(future.wakes() >= 1, "the reader's wake must reach the task");
        assert!(matches!(future.poll(), std::task::Poll::Ready(Ok(()))));
        drop(future);
        assert_eq!(
            &buf, b"abcd",
            "the 2 bytes read before the Pending must be kept"
        );
    });
}

#[test]
fn write_all_survives_partial_writes_and_pending() {
    io_watchdog("write_all of 1 000 bytes, 3 bytes per write, Pending in between").run(|| {
        let data = pattern(1000, 2);
        let mut sink = Vec::new().limited_write(3).interleave_pending_write();
        block_on(write_all(&mut sink, &data)).expect("write_all");
        let written = sink.get_ref().get_ref();
        assert!(
            *written == data,
            "write_all must continue each write where the last one stopped: {}",
            first_difference(written, &data)
        );
    });
}

#[test]
fn write_all_turns_ok_zero_into_write_zero() {
    io_watchdog("write_all to a writer that accepts 0 bytes").run(|| {
        let (mut sink, _handle) = writer(Accept::Zero);
        let err = block_on(write_all(&mut sink, b"data"))
            .expect_err("a writer that accepts nothing can never take the buffer");
        assert_eq!(
            err.kind(),
            ErrorKind::WriteZero,
            "Ok(0) from a write of a non-empty buffer must end write_all with WriteZero: {err}"
        );
    });
}

#[test]
fn write_all_returns_the_writers_error() {
    io_watchdog("write_all to a writer that fails").run(|| {
        let (mut sink, _handle) = writer(Accept::Fail);
        let err = block_on(write_all(&mut sink, b"data")).expect_err("the writer failed");
        assert_eq!(
            err.kind(),
            ErrorKind::BrokenPipe,
            "the writer's error, as it is"
        );
    });
}

#[test]
fn write_all_of_an_empty_buffer_completes_without_writing() {
    io_watchdog("write_all of nothing").run(|| {
        let mut sink = NeverPoll;
        let mut future = Poller::new(write_all(&mut sink, &[]));
        assert!(
            matches!(future.poll(), std::task::Poll::Ready(Ok(()))),
            "there is nothing to write: write_all must complete on its first poll"
        );
    });
}

#[test]
fn write_all_does_not_flush_and_flush_does() {
    io_watchdog("write_all, then flush, then close").run(|| {
        let (mut sink, handle) = writer(Accept::UpTo(2));
        block_on(write_all(&mut sink, b"hello")).unwrap();
        assert_eq!(handle.written(), b"hello");
        assert_eq!(
            handle.flushes(),
            0,
            "write_all must not flush: that is flush's job"
        );
        block_on(flush(&mut sink)).unwrap();
        assert_eq!(
            handle.flushes(),
            1,
            "flush must call the writer's poll_flush"
        );
        assert!(!handle.is_closed());
        block_on(close(&mut sink)).unwrap();
        assert!(
            handle.is_closed(),
            "close must call the writer's poll_close"
        );
    });
}

#[test]
fn close_waits_for_a_pending_close() {
    io_watchdog("close on a writer whose poll_close is Pending once").run(|| {
        let mut sink = Vec::new().interleave_pending_write().track_closed();
        block_on(close(&mut sink)).expect("close");
        assert!(
            sink.is_closed(),
            "close must poll poll_close until it is ready"
        );
    });
}

#[test]
fn a_megabyte_each_way_over_tcp() {
    io_watchdog("write_all then read_exact of 1 MiB over a 4 KiB send buffer").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let (ours, mut theirs) = tcp_pair();
        let mut stream = TcpStream::from_std(runtime.reactor(), ours).unwrap();
        socket2::SockRef::from(&stream)
            .set_send_buffer_size(4096)
            .unwrap();
        let data = pattern(1 << 20, 3);
        let expected = data.clone();
        let echo = peer(move || {
            theirs
                .set_read_timeout(Some(Duration::from_secs(4)))
                .unwrap();
            let mut got = vec![0; 1 << 20];
            theirs.read_exact(&mut got).map(|()| {
                theirs.write_all(&got).unwrap();
                got
            })
        });
        let back = runtime.block_on(async {
            write_all(&mut stream, &data).await.expect("write_all");
            let mut back = vec![0; 1 << 20];
            read_exact(&mut stream, &mut back)
                .await
                .expect("read_exact");
            back
        });
        let got = echo.join().unwrap().expect("the peer's read");
        assert!(
            got == expected,
            "the peer got: {}",
            first_difference(&got, &expected)
        );
        assert!(
            back == expected,
            "we got back: {}",
            first_difference(&back, &expected)
        );
    });
}
