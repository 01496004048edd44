//! Part 5 — `BufReader` and `BufWriter`.
//!
//! The inner readers and writers count every call, so a test can tell a buffered read from a
//! read that went to the inner reader, and a buffered write from one that was written out.

mod common;

use std::io::{BufRead, BufReader as StdBufReader, ErrorKind, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{Accept, Chunk, first_difference, pattern, peer, reader, tcp_pair, watchdog, writer};
use futures::executor::block_on;
use futures::io::{AsyncBufRead, AsyncRead, AsyncWrite};
use futures_test::io::{AsyncReadTestExt, AsyncWriteTestExt};
use harness::{Watchdog, catch_panic, counting_waker};
use streams::{BufReader, BufWriter, Runtime, TcpStream, flush, read_exact, write_all};

const PART: &str = "part 5";

fn buf_watchdog(what: &str) -> Watchdog {
    watchdog(PART, what)
        .likely_cause(
            "a read that polls the inner reader while the buffer still holds bytes waits for \
             data that may never come: serve buffered bytes first",
        )
        .likely_cause(
            "bytes left in a BufWriter are never sent: poll_flush must write every buffered \
             byte to the inner writer, then flush it",
        )
}

fn read_once<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
    let (waker, _) = counting_waker();
    Pin::new(reader).poll_read(&mut Context::from_waker(&waker), buf)
}

fn write_once<W: AsyncWrite + Unpin>(writer: &mut W, buf: &[u8]) -> Poll<std::io::Result<usize>> {
    let (waker, _) = counting_waker();
    Pin::new(writer).poll_write(&mut Context::from_waker(&waker), buf)
}

#[test]
fn small_reads_are_served_from_one_big_read() {
    buf_watchdog("100 one-byte reads through a 64-byte BufReader").run(|| {
        let data = pattern(100, 1);
        let (inner, handle) = reader([Chunk::Bytes(data.clone()), Chunk::Eof]);
        let mut buffered = BufReader::with_capacity(64, inner);
        let mut got = Vec::new();
        for _ in 0..100 {
            let mut byte = [0];
            match read_once(&mut buffered, &mut byte) {
                Poll::Ready(Ok(1)) => got.push(byte[0]),
                other => panic!("a one-byte read returned {other:?}"),
            }
        }
        assert_eq!(got, data);
        assert_eq!(
            handle.polls(),
            2,
            "100 one-byte reads through a 64-byte buffer need 2 reads of the inner reader \
             (64 + 36 bytes), not one per byte: fill the whole buffer in one read"
        );
        assert!(
            matches!(read_once(&mut buffered, &mut [0; 4]), Poll::Ready(Ok(0))),
            "at the end of the inner stream, the BufReader must return Ok(0)"
        );
    });
}

#[test]
fn buffered_bytes_are_returned_without_polling_the_inner_reader() {
    buf_watchdog("10 bytes buffered, the inner reader Pending after them").run(|| {
        let (inner, handle) = reader([Chunk::Bytes(b"0123456789".to_vec()), Chunk::Pending]);
        let mut buffered = BufReader::new(inner);
        let mut buf = [0; 4];
        assert!(matches!(
            read_once(&mut buffered, &mut buf),
            Poll::Ready(Ok(4))
        ));
        assert_eq!(&buf, b"0123");
        assert_eq!(
            buffered.buffer(),
            b"456789",
            "buffer() shows the bytes read from the inner reader and not returned yet"
        );
        for (expected, what) in [(&b"4567"[..], "second"), (&b"89"[..], "third")] {
            match read_once(&mut buffered, &mut buf) {
                Poll::Ready(Ok(n)) => assert_eq!(&buf[..n], expected),
                other => panic!(
                    "the {what} read returned {other:?}, though the buffer still held bytes: \
                     serve them without polling the inner reader, which has nothing more now"
                ),
            }
        }
        assert_eq!(
            handle.polls(),
            1,
            "the buffered bytes must not cost another inner read"
        );
        assert!(read_once(&mut buffered, &mut buf).is_pending());
        assert!(buffered.buffer().is_empty());
    });
}

#[test]
fn a_large_read_with_an_empty_buffer_goes_straight_to_the_inner_reader() {
    buf_watchdog("a 64-byte read through a 16-byte BufReader").run(|| {
        let data = pattern(64, 2);
        let (inner, handle) = reader([Chunk::Bytes(data.clone())]);
        let mut buffered = BufReader::with_capacity(16, inner);
        let mut buf = [0; 64];
        assert!(matches!(
            read_once(&mut buffered, &mut buf),
            Poll::Ready(Ok(64))
        ));
        assert_eq!(buf.as_slice(), data.as_slice());
        assert_eq!(
            handle.asked(),
            [64],
            "a read at least as large as the capacity, with nothing buffered, must go straight \
             to the inner reader with the caller's buffer"
        );
    });
}

#[test]
fn a_large_read_takes_the_buffered_bytes_first() {
    buf_watchdog("a 4-byte read, then a 64-byte read, through a 16-byte BufReader").run(|| {
        let data = pattern(40, 6);
        let (inner, _handle) = reader([Chunk::Bytes(data.clone())]);
        let mut buffered = BufReader::with_capacity(16, inner);
        let mut small = [0; 4];
        assert!(matches!(
            read_once(&mut buffered, &mut small),
            Poll::Ready(Ok(4))
        ));
        let mut big = [0; 64];
        let n = match read_once(&mut buffered, &mut big) {
            Poll::Ready(Ok(n)) => n,
            other => panic!("the second read returned {other:?}"),
        };
        assert_eq!(
            &big[..n],
            &data[4..16],
            "12 bytes were still buffered: a read, however large, must return them first (only \
             a read that finds the buffer empty may go straight to the inner reader)"
        );
    });
}

#[test]
fn fill_buf_shows_the_unread_bytes_and_consume_marks_them_read() {
    buf_watchdog("poll_fill_buf and consume").run(|| {
        let (inner, handle) = reader([Chunk::Bytes(b"hello world".to_vec()), Chunk::Eof]);
        let mut buffered = BufReader::new(inner);
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        match Pin::new(&mut buffered).poll_fill_buf(&mut cx) {
            Poll::Ready(Ok(bytes)) => assert_eq!(bytes, b"hello world"),
            other => panic!(
                "poll_fill_buf returned {:?}",
                other.map(|r| r.map(<[u8]>::to_vec))
            ),
        }
        Pin::new(&mut buffered).consume(6);
        match Pin::new(&mut buffered).poll_fill_buf(&mut cx) {
            Poll::Ready(Ok(bytes)) => assert_eq!(
                bytes, b"world",
                "after consume(6), poll_fill_buf must show the rest, without reading again"
            ),
            other => panic!(
                "poll_fill_buf returned {:?}",
                other.map(|r| r.map(<[u8]>::to_vec))
            ),
        }
        assert_eq!(handle.polls(), 1);
        Pin::new(&mut buffered).consume(100);
        assert!(
            buffered.buffer().is_empty(),
            "consume past the end consumes what is there"
        );
        match Pin::new(&mut buffered).poll_fill_buf(&mut cx) {
            Poll::Ready(Ok(bytes)) => assert!(bytes.is_empty(), "the end of the stream: empty"),
            other => panic!(
                "poll_fill_buf returned {:?}",
                other.map(|r| r.map(<[u8]>::to_vec))
            ),
        }
    });
}

#[test]
fn a_buffered_reader_survives_one_byte_reads_and_pending() {
    buf_watchdog("read_exact of 5 000 bytes through a BufReader over limited(1)").run(|| {
        let data = pattern(5000, 3);
        let inner = data.as_slice().limited(1).interleave_pending();
        let mut buffered = BufReader::with_capacity(100, inner);
        let mut got = vec![0; 5000];
        block_on(read_exact(&mut buffered, &mut got)).expect("read_exact");
        assert!(got == data, "{}", first_difference(&got, &data));
    });
}

#[test]
fn the_default_capacity_is_8_kib() {
    buf_watchdog("BufReader::new and BufWriter::new").run(|| {
        assert_eq!(streams::buf::DEFAULT_CAPACITY, 8 * 1024);
        assert_eq!(BufReader::new(&b""[..]).capacity(), 8 * 1024);
        assert_eq!(BufReader::with_capacity(100, &b""[..]).capacity(), 100);
        let (inner, _handle) = writer(Accept::UpTo(usize::MAX));
        assert_eq!(BufWriter::new(inner).capacity(), 8 * 1024);
        let (inner, _handle) = writer(Accept::UpTo(usize::MAX));
        assert_eq!(BufWriter::with_capacity(100, inner).capacity(), 100);
    });
}

#[test]
fn a_reader_capacity_of_zero_panics() {
    let result = catch_panic(|| BufReader::with_capacity(0, &b""[..]));
    let Err(message) = result else {
        panic!(
            "BufReader::with_capacity(0, _) must panic: a read into an empty buffer returns 0 \
             bytes, which reads as the end of the stream"
        );
    };
    assert!(
        !message.contains("not yet implemented"),
        "not written yet: {message}"
    );
}

#[test]
fn small_writes_are_buffered_without_touching_the_writer() {
    buf_watchdog("10 writes of 10 bytes into a 1 KiB BufWriter").run(|| {
        let (inner, handle) = writer(Accept::UpTo(usize::MAX));
        let mut buffered = BufWriter::with_capacity(1024, inner);
        for i in 0..10u8 {
            assert!(matches!(
                write_once(&mut buffered, &[i; 10]),
                Poll::Ready(Ok(10))
            ));
        }
        assert_eq!(
            handle.writes(),
            0,
            "writes that fit in the buffer must not touch the inner writer"
        );
        assert_eq!(buffered.buffer().len(), 100);
    });
}

#[test]
fn a_write_that_exactly_fills_the_buffer_is_buffered() {
    buf_watchdog("two writes of 4 bytes into an 8-byte BufWriter").run(|| {
        let (inner, handle) = writer(Accept::UpTo(usize::MAX));
        let mut buffered = BufWriter::with_capacity(8, inner);
        assert!(matches!(
            write_once(&mut buffered, b"abcd"),
            Poll::Ready(Ok(4))
        ));
        assert!(matches!(
            write_once(&mut buffered, b"efgh"),
            Poll::Ready(Ok(4))
        ));
        assert_eq!(
            handle.writes(),
            0,
            "4 + 4 bytes fit exactly in a capacity of 8: the second write must be buffered too"
        );
        assert_eq!(buffered.buffer(), b"abcdefgh");
        assert!(matches!(
            write_once(&mut buffered, b"i"),
            Poll::Ready(Ok(1))
        ));
        assert_eq!(
            handle.written(),
            b"abcdefgh",
            "a full buffer is written out first"
        );
        assert_eq!(buffered.buffer(), b"i");
    });
}

#[test]
fn flush_writes_everything_through_partial_writes_and_pending() {
    buf_watchdog("flush of 1 000 buffered bytes, 3 bytes per write, Pending in between").run(
        || {
            let data = pattern(1000, 4);
            let inner = Vec::new().limited_write(3).interleave_pending_write();
            let mut buffered = BufWriter::with_capacity(4096, inner);
            block_on(write_all(&mut buffered, &data)).unwrap();
            block_on(flush(&mut buffered)).expect("flush");
            let written = buffered.get_ref().get_ref().get_ref();
            assert!(
                *written == data,
                "after flush every byte must have reached the inner writer, in order: {}",
                first_difference(written, &data)
            );
            assert!(buffered.buffer().is_empty());
        },
    );
}

#[test]
fn flush_flushes_the_inner_writer_too() {
    buf_watchdog("a BufWriter over a BufWriter, flushed once").run(|| {
        let (inner, handle) = writer(Accept::UpTo(usize::MAX));
        let mut outer = BufWriter::new(BufWriter::new(inner));
        block_on(write_all(&mut outer, b"request\n")).unwrap();
        block_on(flush(&mut outer)).unwrap();
        assert_eq!(
            handle.written(),
            b"request\n",
            "flush must write the buffer out AND flush the inner writer: here the inner writer \
             is another BufWriter, which holds the bytes until it is flushed"
        );
        assert_eq!(handle.flushes(), 1);
    });
}

#[test]
fn close_writes_out_then_closes() {
    buf_watchdog("close of a BufWriter with bytes buffered").run(|| {
        let inner = Vec::new().limited_write(2).track_closed();
        let mut buffered = BufWriter::new(inner);
        block_on(write_all(&mut buffered, b"last words")).unwrap();
        block_on(streams::close(&mut buffered)).expect("close");
        assert_eq!(
            buffered.get_ref().get_ref().get_ref(),
            b"last words",
            "close must write every buffered byte before closing"
        );
        assert!(
            buffered.get_ref().is_closed(),
            "close must close the inner writer"
        );
    });
}

#[test]
fn the_buffer_never_holds_more_than_its_capacity() {
    buf_watchdog("writes into a 32-byte BufWriter whose writer accepts nothing").run(|| {
        let (inner, handle) = writer(Accept::Nothing);
        let mut buffered = BufWriter::with_capacity(32, inner);
        let mut accepted = 0;
        for _ in 0..10 {
            match write_once(&mut buffered, &[7; 10]) {
                Poll::Ready(Ok(n)) => accepted += n,
                Poll::Ready(Err(err)) => panic!("the write failed: {err}"),
                Poll::Pending => break,
            }
            assert!(
                buffered.buffer().len() <= 32,
                "the buffer holds {} bytes, over its capacity of 32: a write that does not fit \
                 must write the buffer out first (and be Pending while the writer is)",
                buffered.buffer().len()
            );
        }
        assert_eq!(
            accepted, 30,
            "three writes of 10 fit in 32 bytes, the fourth does not"
        );
        assert!(
            handle.set_accept(Accept::UpTo(usize::MAX)),
            "the writer's waker was stored"
        );
        assert!(matches!(
            write_once(&mut buffered, &[7; 10]),
            Poll::Ready(Ok(10))
        ));
        assert_eq!(handle.written_len(), 30);
    });
}

#[test]
fn a_write_larger_than_the_capacity_keeps_the_order() {
    buf_watchdog("a buffered write, then one larger than the capacity").run(|| {
        let (inner, handle) = writer(Accept::UpTo(usize::MAX));
        let mut buffered = BufWriter::with_capacity(16, inner);
        block_on(write_all(&mut buffered, b"ab")).unwrap();
        let big = pattern(100, 5);
        block_on(write_all(&mut buffered, &big)).unwrap();
        block_on(flush(&mut buffered)).unwrap();
        let mut expected = b"ab".to_vec();
        expected.extend_from_slice(&big);
        assert!(
            handle.written() == expected,
            "the buffered \"ab\" must reach the writer before the large write: {}",
            first_difference(&handle.written(), &expected)
        );
    });
}

#[test]
fn write_zero_while_writing_out_is_an_error() {
    buf_watchdog("flush to a writer that accepts 0 bytes").run(|| {
        let (inner, _handle) = writer(Accept::Zero);
        let mut buffered = BufWriter::new(inner);
        block_on(write_all(&mut buffered, b"data")).unwrap();
        let err = block_on(flush(&mut buffered)).expect_err("the writer accepts nothing");
        assert_eq!(
            err.kind(),
            ErrorKind::WriteZero,
            "Ok(0) while writing the buffer out must be a WriteZero error: {err}"
        );
    });
}

#[test]
fn a_failed_write_out_keeps_the_bytes_in_the_buffer() {
    buf_watchdog("flush to a writer that fails, then to one that works").run(|| {
        let (inner, handle) = writer(Accept::Fail);
        let mut buffered = BufWriter::new(inner);
        block_on(write_all(&mut buffered, b"keep me")).unwrap();
        let err = block_on(flush(&mut buffered)).expect_err("the writer failed");
        assert_eq!(
            err.kind(),
            ErrorKind::BrokenPipe,
            "the writer's error, as it is"
        );
        assert_eq!(
            buffered.buffer(),
            b"keep me",
            "an error must leave the unwritten bytes in the buffer"
        );
        handle.set_accept(Accept::UpTo(3));
        block_on(flush(&mut buffered)).expect("the second flush");
        assert_eq!(handle.written(), b"keep me");
    });
}

#[test]
fn a_writer_capacity_of_zero_writes_straight_through() {
    buf_watchdog("a write into a BufWriter of capacity 0").run(|| {
        let (inner, handle) = writer(Accept::UpTo(usize::MAX));
        let mut buffered = BufWriter::with_capacity(0, inner);
        assert!(matches!(
            write_once(&mut buffered, b"abc"),
            Poll::Ready(Ok(3))
        ));
        assert_eq!(
            handle.written(),
            b"abc",
            "with a capacity of 0 nothing fits in the buffer: every write goes straight to the \
             inner writer"
        );
        assert!(buffered.buffer().is_empty());
    });
}

#[test]
fn a_request_over_a_buf_writer_gets_its_reply() {
    buf_watchdog("PING over a BufWriter on TCP, then wait for PONG")
        .likely_cause("the request sat in the BufWriter: was it flushed?")
        .run(|| {
            let mut runtime = Runtime::new().unwrap();
            let (ours, theirs) = tcp_pair();
            let stream = TcpStream::from_std(runtime.reactor(), ours).unwrap();
            let server = peer(move || {
                let mut lines = StdBufReader::new(theirs.try_clone().unwrap());
                let mut request = String::new();
                lines.read_line(&mut request).ok();
                let mut theirs = theirs;
                if request == "PING\n" {
                    theirs.write_all(b"PONG\n").unwrap();
                }
                request
            });
            let reply = runtime.block_on(async {
                let mut out = BufWriter::new(&stream);
                write_all(&mut out, b"PING\n").await.unwrap();
                flush(&mut out).await.expect("flush");
                let mut reply = [0; 5];
                read_exact(&mut &stream, &mut reply).await.map(|()| reply)
            });
            let request = server.join().unwrap();
            assert_eq!(
                request, "PING\n",
                "the server never got the request: flush must write the BufWriter's buffer out"
            );
            assert_eq!(&reply.expect("the reply"), b"PONG\n");
        });
}
