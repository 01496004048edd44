//! Part 7 — `FramedRead`, `FramedWrite` and `forward`: frames over bytes, backpressure, and a
//! pipeline whose memory stays bounded when its consumer is slow.

mod common;

use std::io::{BufRead, BufReader as StdBufReader, ErrorKind, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use common::{
    Accept, Chunk, Endless, Step, StreamPoller, first_difference, items, peer, reader, script,
    shape, tcp_pair, watchdog, writer,
};
use futures::StreamExt;
use futures::executor::block_on;
use futures_test::io::{AsyncReadTestExt, AsyncWriteTestExt};
use harness::{Poller, Watchdog};
use streams::{
    BACKPRESSURE_BOUNDARY, BufWriter, FramedRead, FramedWrite, LengthCodec, LinesCodec, READ_CHUNK,
    Runtime, TcpStream, forward, map,
};

const PART: &str = "part 7";

fn framed_watchdog(what: &str) -> Watchdog {
    watchdog(PART, what)
        .likely_cause(
            "FramedRead must decode what is already buffered before reading again: frames that \
             arrived in one read are all in the buffer, and the reader may have nothing more",
        )
        .likely_cause(
            "at the end of the reader's stream (Ok(0)), switch to decode_eof: polling the \
             reader again and again returns Ok(0) forever",
        )
        .likely_cause("FramedWrite::flush must write the buffer out AND flush the writer")
}

fn lines_of(text: &[&str]) -> Vec<u8> {
    text.iter()
        .flat_map(|line| format!("{line}\n").into_bytes())
        .collect()
}

fn ok_line(poll: Poll<Option<std::io::Result<String>>>) -> Option<String> {
    match poll {
        Poll::Ready(Some(Ok(line))) => Some(line),
        Poll::Ready(Some(Err(err))) => panic!("an error where a line was expected: {err}"),
        Poll::Ready(None) => panic!("the stream ended where a line was expected"),
        Poll::Pending => None,
    }
}

#[test]
fn frames_split_over_one_byte_reads_and_pending_are_put_together() {
    framed_watchdog("FramedRead<LinesCodec> over limited(1) + interleave_pending").run(|| {
        let expected = ["alpha", "", "beta gamma", "delta"];
        let bytes = lines_of(&expected);
        let source = bytes.as_slice().limited(1).interleave_pending();
        let got: Vec<String> = block_on(
            FramedRead::new(source, LinesCodec::new(100))
                .map(|line| line.expect("a line"))
                .collect(),
        );
        assert_eq!(got, expected, "every line, once, in order");
    });
}

#[test]
fn several_frames_in_one_read_come_out_without_another_read() {
    framed_watchdog("three lines in one read, then a reader with nothing more").run(|| {
        let (source, handle) = reader([Chunk::Bytes(lines_of(&["a", "b", "c"]))]);
        let mut stream = StreamPoller::new(FramedRead::new(source, LinesCodec::new(100)));
        assert_eq!(ok_line(stream.poll()).as_deref(), Some("a"));
        assert_eq!(
            &stream.get().read_buffer()[..],
            b"b\nc\n",
            "read_buffer() shows the bytes read and not decoded yet"
        );
        for expected in ["b", "c"] {
            assert_eq!(
                ok_line(stream.poll()).as_deref(),
                Some(expected),
                "the three lines arrived in one read: each poll_next must decode the next one \
                 from the buffer before reading again"
            );
        }
        assert_eq!(handle.polls(), 1, "three lines from one read need one read");
        assert!(stream.poll().is_pending(), "nothing more: Pending");
        assert!(
            handle.push_and_wake([Chunk::Bytes(b"d\n".to_vec())]),
            "FramedRead returned Pending but the reader holds no waker"
        );
        assert!(stream.wakes() >= 1, "the reader's wake must reach the task");
        assert_eq!(ok_line(stream.poll()).as_deref(), Some("d"));
    });
}

#[test]
fn the_end_of_the_stream_ends_the_frames_and_stays_ended() {
    framed_watchdog("FramedRead at the end of the reader's stream").run(|| {
        let (source, handle) = reader([Chunk::Bytes(b"x\ny".to_vec()), Chunk::Eof]);
        let mut stream = StreamPoller::new(FramedRead::new(source, LinesCodec::new(100)));
        assert_eq!(ok_line(stream.poll()).as_deref(), Some("x"));
        assert_eq!(
            ok_line(stream.poll()).as_deref(),
            Some("y"),
            "at the end of the stream, decode_eof gives the last line without its newline"
        );
        let end = stream.poll();
        assert!(
            matches!(end, Poll::Ready(None)),
            "after the last frame, the stream must end (got {})",
            shape(&end)
        );
        let polls = handle.polls();
        assert!(matches!(stream.poll(), Poll::Ready(None)), "and stay ended");
        assert_eq!(
            handle.polls(),
            polls,
            "an ended FramedRead must not poll its reader again"
        );
    });
}

#[test]
fn the_end_of_the_stream_in_the_middle_of_a_frame_is_an_error() {
    framed_watchdog("FramedRead<LengthCodec> over half a frame, then the end").run(|| {
        let (source, _handle) = reader([Chunk::Bytes(vec![0, 0, 0, 9, b'a', b'b']), Chunk::Eof]);
        let mut stream = StreamPoller::new(FramedRead::new(source, LengthCodec::new(100)));
        match stream.poll() {
            Poll::Ready(Some(Err(err))) => assert_eq!(err.kind(), ErrorKind::UnexpectedEof),
            other => panic!(
                "the stream ended 7 bytes short of a frame: FramedRead must yield an \
                 UnexpectedEof error, not end quietly or wait (got {})",
                shape(&other)
            ),
        }
        assert!(
            matches!(stream.poll(), Poll::Ready(None)),
            "after an error, the stream is over"
        );
    });
}

#[test]
fn an_endless_line_is_an_error_after_a_bounded_number_of_bytes() {
    framed_watchdog("FramedRead<LinesCodec::new(1024)> over endless bytes").run(|| {
        let handed_out = Arc::new(Mutex::new(0));
        let source = Endless {
            byte: b'a',
            handed_out: Arc::clone(&handed_out),
        };
        let mut stream = StreamPoller::new(FramedRead::new(source, LinesCodec::new(1024)));
        match stream.poll() {
            Poll::Ready(Some(Err(err))) => assert_eq!(err.kind(), ErrorKind::InvalidData),
            other => panic!(
                "an endless line must be an InvalidData error (got {})",
                shape(&other)
            ),
        }
        let read = *handed_out.lock().unwrap();
        assert!(
            read <= 1024 + READ_CHUNK,
            "FramedRead read {read} bytes of a line that can never be valid: with a maximum of \
             1 024 and reads of at most READ_CHUNK bytes, it must fail by {} (decode after \
             every read; read at most READ_CHUNK at a time)",
            1024 + READ_CHUNK
        );
        assert!(
            matches!(stream.poll(), Poll::Ready(None)),
            "after an error, the stream is over"
        );
    });
}

#[test]
fn a_reader_error_is_yielded_once_and_ends_the_stream() {
    framed_watchdog("FramedRead over a reader that fails").run(|| {
        let (source, handle) = reader([
            Chunk::Bytes(b"ok\n".to_vec()),
            Chunk::Error(ErrorKind::ConnectionReset),
            Chunk::Bytes(b"never\n".to_vec()),
        ]);
        let mut stream = StreamPoller::new(FramedRead::new(source, LinesCodec::new(100)));
        assert_eq!(ok_line(stream.poll()).as_deref(), Some("ok"));
        match stream.poll() {
            Poll::Ready(Some(Err(err))) => assert_eq!(err.kind(), ErrorKind::ConnectionReset),
            other => panic!("the reader's error must be yielded (got {})", shape(&other)),
        }
        let polls = handle.polls();
        assert!(
            matches!(stream.poll(), Poll::Ready(None)),
            "after an error, the stream is over"
        );
        assert_eq!(handle.polls(), polls, "and the reader is not polled again");
    });
}

#[test]
fn each_read_asks_for_at_most_read_chunk_bytes() {
    framed_watchdog("FramedRead over 100 000 bytes of lines").run(|| {
        assert_eq!(READ_CHUNK, 8 * 1024, "READ_CHUNK is documented as 8 KiB");
        assert_eq!(
            BACKPRESSURE_BOUNDARY,
            8 * 1024,
            "the boundary is documented as 8 KiB"
        );
        let text: Vec<String> = (0..10_000).map(|i| format!("line {i:04}")).collect();
        let bytes = lines_of(&text.iter().map(String::as_str).collect::<Vec<_>>());
        let (source, handle) = reader([Chunk::Bytes(bytes), Chunk::Eof]);
        let got: Vec<String> = block_on(
            FramedRead::new(source, LinesCodec::new(100))
                .map(Result::unwrap)
                .collect(),
        );
        assert_eq!(got, text);
        let most = handle.asked().into_iter().max().unwrap_or(0);
        assert!(
            most <= READ_CHUNK,
            "a read asked for {most} bytes: at most READ_CHUNK ({READ_CHUNK}) per read"
        );
    });
}

#[test]
fn sends_under_the_boundary_do_not_touch_the_writer() {
    framed_watchdog("10 small sends").run(|| {
        let (sink, handle) = writer(Accept::UpTo(usize::MAX));
        let mut framed = FramedWrite::new(sink, LinesCodec::new(100));
        for i in 0..10 {
            block_on(framed.send(format!("line {i}"))).unwrap();
        }
        assert_eq!(
            handle.writes(),
            0,
            "70 bytes are far under BACKPRESSURE_BOUNDARY: send must only buffer them"
        );
        assert_eq!(framed.write_buffer().len(), 70);
        block_on(framed.flush()).unwrap();
        assert_eq!(handle.written_len(), 70);
        assert_eq!(handle.flushes(), 1, "flush must flush the writer too");
        assert!(framed.write_buffer().is_empty());
    });
}

#[test]
fn a_send_that_reaches_the_boundary_writes_to_the_writer() {
    framed_watchdog("sends of 100-byte lines until past 8 KiB").run(|| {
        let (sink, handle) = writer(Accept::UpTo(usize::MAX));
        let mut framed = FramedWrite::new(sink, LinesCodec::new(1000));
        let line = "x".repeat(99);
        let mut sent = 0;
        while sent < 2 * BACKPRESSURE_BOUNDARY {
            block_on(framed.send(line.as_str())).unwrap();
            sent += 100;
            assert!(
                framed.write_buffer().len() <= BACKPRESSURE_BOUNDARY + 100,
                "the write buffer holds {} bytes after a completed send: a send must write to \
                 the writer once the buffer reaches BACKPRESSURE_BOUNDARY",
                framed.write_buffer().len()
            );
        }
        assert!(
            handle.written_len() > 0,
            "past the boundary, bytes must reach the writer"
        );
        assert_eq!(handle.written_len() + framed.write_buffer().len(), sent);
    });
}

#[test]
fn a_stuck_writer_makes_send_wait_and_the_buffer_stays_bounded() {
    framed_watchdog("sends to a writer that accepts nothing").run(|| {
        let (sink, handle) = writer(Accept::Nothing);
        let mut framed = FramedWrite::new(sink, LinesCodec::new(1000));
        let line = "y".repeat(99);
        let mut completed = 0;
        loop {
            let mut send = Poller::new(framed.send(line.as_str()));
            match send.poll() {
                Poll::Ready(Ok(())) => completed += 1,
                Poll::Ready(Err(err)) => panic!("a send failed: {err}"),
                Poll::Pending => break,
            }
            assert!(
                completed <= 1000,
                "1 000 sends of 100 bytes completed although the writer accepts nothing: send \
                 must wait (Pending) once the buffer holds BACKPRESSURE_BOUNDARY bytes, or \
                 memory grows without bound"
            );
        }
        assert!(
            framed.write_buffer().len() <= BACKPRESSURE_BOUNDARY + 100,
            "{} bytes buffered: at most BACKPRESSURE_BOUNDARY plus one item",
            framed.write_buffer().len()
        );
        assert!(completed * 100 < BACKPRESSURE_BOUNDARY + 100);
        // The writer frees up: the waiting send's waker must be the one stored.
        let mut send = Poller::new(framed.send(line.as_str()));
        assert!(send.poll().is_pending());
        assert!(
            handle.set_accept(Accept::UpTo(usize::MAX)),
            "no waker stored in the writer"
        );
        assert!(
            send.wakes() >= 1,
            "the writer's wake must reach the waiting send"
        );
        assert!(matches!(send.poll(), Poll::Ready(Ok(()))));
    });
}

#[test]
fn a_slow_writer_holds_send_back_until_the_buffer_is_under_the_boundary() {
    framed_watchdog("300 sends of 100 bytes to writers that take a few bytes per write").run(
        || {
            // (the writer's bytes per write, every other write Pending?)
            for (per_write, pending) in [(3, false), (3, true), (64, false)] {
                let (sink, handle) = writer(Accept::UpTo(per_write));
                let sink: Pin<Box<dyn futures::AsyncWrite + Send>> = if pending {
                    Box::pin(sink.interleave_pending_write())
                } else {
                    Box::pin(sink)
                };
                let route = format!(
                    "a writer that takes at most {per_write} bytes per write{}",
                    if pending { ", every other write Pending" } else { "" }
                );
                let mut framed = FramedWrite::new(sink, LinesCodec::new(1000));
                let line = "s".repeat(99);
                for sent in 1..=300 {
                    let writes_before = handle.writes();
                    block_on(framed.send(line.as_str())).unwrap();
                    let buffered = framed.write_buffer().len();
                    assert!(
                        buffered < BACKPRESSURE_BOUNDARY + 100,
                        "backpressure, {route}: send #{sent} (of a 100-byte item) completed after \
                         {} write(s) with {buffered} bytes still buffered. A send completes only \
                         once the buffer is back under BACKPRESSURE_BOUNDARY ({BACKPRESSURE_BOUNDARY}) \
                         bytes, not counting the item it has just encoded if it checked the \
                         boundary before encoding. One write may take only a few bytes: keep \
                         writing while the buffer holds BACKPRESSURE_BOUNDARY bytes or more \
                         (a `while`, not an `if`), or the buffer grows by almost one item per \
                         send and a slow reader no longer slows the producer",
                        handle.writes() - writes_before
                    );
                    assert_eq!(
                        handle.written_len() + buffered,
                        sent * 100,
                        "{route}: after send #{sent}, the bytes written plus the bytes \
                         buffered must be every byte sent"
                    );
                }
            }
        },
    );
}

#[test]
fn partial_writes_and_pending_keep_every_frame_intact() {
    framed_watchdog("5 000 frames through limited_write(3) + interleave_pending_write").run(|| {
        let sink = Vec::new().limited_write(3).interleave_pending_write();
        let mut framed = FramedWrite::new(sink, LengthCodec::new(100));
        let frames: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| i.to_be_bytes().repeat(i as usize % 5))
            .collect();
        block_on(async {
            for frame in &frames {
                framed.send(frame.as_slice()).await.unwrap();
            }
            framed.flush().await.unwrap();
        });
        let bytes = framed.get_ref().get_ref().get_ref().clone();
        let decoded: Vec<Vec<u8>> = block_on(
            FramedRead::new(bytes.as_slice(), LengthCodec::new(100))
                .map(Result::unwrap)
                .collect(),
        );
        assert!(
            decoded == frames,
            "the frames written are not the frames sent"
        );
    });
}

#[test]
fn write_zero_is_an_error() {
    framed_watchdog("flush to a writer that accepts 0 bytes").run(|| {
        let (sink, _handle) = writer(Accept::Zero);
        let mut framed = FramedWrite::new(sink, LinesCodec::new(100));
        block_on(framed.send("hello")).unwrap();
        let err = block_on(framed.flush()).expect_err("the writer accepts nothing");
        assert_eq!(err.kind(), ErrorKind::WriteZero, "{err}");
        // The same on the way through send, once the buffer reaches the boundary (whether
        // the send checks it after encoding its item or before, as the next send).
        let (sink, _handle) = writer(Accept::Zero);
        let mut framed = FramedWrite::new(sink, LinesCodec::new(BACKPRESSURE_BOUNDARY));
        let line = "w".repeat(BACKPRESSURE_BOUNDARY);
        let err = block_on(async {
            framed.send(line.as_str()).await?;
            framed.send(line.as_str()).await
        })
        .expect_err("sends over the boundary write, and the writer accepts nothing");
        assert_eq!(err.kind(), ErrorKind::WriteZero, "send: {err}");
    });
}

#[test]
fn an_encoding_error_is_returned_and_buffers_nothing() {
    framed_watchdog("send of a line with a newline in it").run(|| {
        let (sink, _handle) = writer(Accept::UpTo(usize::MAX));
        let mut framed = FramedWrite::new(sink, LinesCodec::new(100));
        block_on(framed.send("first")).unwrap();
        let err = block_on(framed.send("two\nlines")).expect_err("the encoder refuses it");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(framed.write_buffer(), b"first\n");
    });
}

#[test]
fn close_writes_everything_and_closes_the_writer() {
    framed_watchdog("FramedWrite::close").run(|| {
        let sink = Vec::new().limited_write(2).track_closed();
        let mut framed = FramedWrite::new(sink, LinesCodec::new(100));
        block_on(async {
            framed.send("bye").await.unwrap();
            framed.close().await.unwrap();
        });
        assert_eq!(framed.get_ref().get_ref().get_ref(), b"bye\n");
        assert!(framed.get_ref().is_closed());
    });
}

#[test]
fn flush_reaches_through_a_buffering_writer() {
    framed_watchdog("FramedWrite over a BufWriter, flushed").run(|| {
        let (sink, handle) = writer(Accept::UpTo(usize::MAX));
        let mut framed = FramedWrite::new(BufWriter::new(sink), LinesCodec::new(100));
        block_on(async {
            framed.send("GET key").await.unwrap();
            framed.flush().await.unwrap();
        });
        assert_eq!(
            handle.written(),
            b"GET key\n",
            "FramedWrite::flush must flush its writer: here a BufWriter, which holds the \
             request until it is flushed (and the reply never comes)"
        );
    });
}

#[test]
fn forward_sends_every_item_then_flushes() {
    framed_watchdog("forward of 1 000 lines").run(|| {
        let (sink, handle) = writer(Accept::UpTo(7));
        let mut framed = FramedWrite::new(sink, LinesCodec::new(100));
        let source = futures::stream::iter((0..1000).map(|i| Ok(format!("{i}"))));
        let count = block_on(forward(source, &mut framed)).expect("forward");
        assert_eq!(count, 1000, "forward returns how many items it sent");
        let expected: Vec<u8> = (0..1000)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        assert!(
            handle.written() == expected,
            "every item must reach the writer, in order, and the last ones flushed: {}",
            first_difference(&handle.written(), &expected)
        );
        assert!(handle.flushes() >= 1, "forward must flush at the end");
    });
}

#[test]
fn forward_batches_the_items_and_flushes_once_at_the_end() {
    framed_watchdog("forward of 1 000 short lines, then of 1 000 100-byte lines").run(|| {
        for (what, line_len) in [("short", 0), ("100-byte", 99)] {
            let lines: Vec<String> = (0..1000).map(|i| format!("{i:0>line_len$}")).collect();
            let total: usize = lines.iter().map(|l| l.len() + 1).sum();
            let (sink, handle) = writer(Accept::UpTo(usize::MAX));
            let mut framed = FramedWrite::new(sink, LinesCodec::new(1000));
            let source = futures::stream::iter(lines.into_iter().map(Ok));
            let count = block_on(forward(source, &mut framed)).expect("forward");
            assert_eq!(count, 1000);
            assert_eq!(
                handle.written_len(),
                total,
                "every byte must reach the writer"
            );
            assert_eq!(
                handle.flushes(),
                1,
                "forward of 1 000 {what} lines ({total} bytes) from a source that never waits \
                 flushed the writer {} times: forward sends every item and THEN flushes, once. \
                 A flush per item writes every item on its own (one system call per line), \
                 which is what the write buffer is there to avoid",
                handle.flushes()
            );
            let most = total / BACKPRESSURE_BOUNDARY + 2;
            assert!(
                handle.writes() <= most,
                "forward of 1 000 {what} lines ({total} bytes) made {} writes to a writer that \
                 takes everything: sends must batch the items, writing only once the buffer \
                 reaches BACKPRESSURE_BOUNDARY ({BACKPRESSURE_BOUNDARY} bytes), and the final \
                 flush writes the rest (at most {most} writes here)",
                handle.writes()
            );
        }
    });
}

#[test]
fn forward_sends_each_item_before_it_pulls_the_next() {
    framed_watchdog("forward of a source that waits after 1 or 3 items").run(|| {
        let big = "B".repeat(BACKPRESSURE_BOUNDARY);
        let routes: [(&str, Vec<String>); 3] = [
            ("one short item", vec!["a".to_string()]),
            (
                "three short items",
                vec!["a".to_string(), "b".to_string(), "c".to_string()],
            ),
            ("one item over the boundary", vec![big]),
        ];
        for (route, sent) in routes {
            let expected: usize = sent.iter().map(|l| l.len() + 1).sum();
            let (source, source_handle) = script(
                sent.into_iter()
                    .map(|line| Step::Item(Ok(line)))
                    .chain([Step::Pending]),
            );
            let (sink, handle) = writer(Accept::UpTo(usize::MAX));
            let mut framed = FramedWrite::new(sink, LinesCodec::new(2 * BACKPRESSURE_BOUNDARY));
            {
                let mut pipeline = Poller::new(forward(source, &mut framed));
                assert!(
                    pipeline.poll().is_pending(),
                    "{route}: the source is Pending, so forward is"
                );
                assert!(
                    source_handle.has_waker(),
                    "{route}: forward waits for the source, which must hold its waker"
                );
            }
            let got = handle.written_len() + framed.write_buffer().len();
            assert_eq!(
                got, expected,
                "{route}, then a source that is Pending: forward pulled every item but only \
                 {got} of their {expected} bytes were sent (written or in the write buffer). \
                 forward pulls the next item only once the previous send has completed: an \
                 item held back while forward waits for the next one (a look-ahead) waits as \
                 long as the source does, outside the bounded buffer"
            );
        }
    });
}

#[test]
fn forward_stops_at_the_first_error() {
    framed_watchdog("forward of [a, an error, b]").run(|| {
        let (sink, _handle) = writer(Accept::UpTo(usize::MAX));
        let mut framed = FramedWrite::new(sink, LinesCodec::new(100));
        let (source, source_handle) = script([
            Step::Item(Ok("a".to_string())),
            Step::Item(Err(std::io::Error::new(
                ErrorKind::BrokenPipe,
                "upstream failed",
            ))),
            Step::Item(Ok("b".to_string())),
            Step::End,
        ]);
        let err = block_on(forward(source, &mut framed)).expect_err("the source failed");
        assert_eq!(
            err.kind(),
            ErrorKind::BrokenPipe,
            "the source's error, as it is"
        );
        assert_eq!(
            source_handle.polls(),
            2,
            "nothing may be pulled after the error"
        );
    });
}

#[test]
fn forward_stops_at_a_sink_error() {
    framed_watchdog("forward of 10 000 lines to a writer that fails").run(|| {
        let (sink, _handle) = writer(Accept::Fail);
        let mut framed = FramedWrite::new(sink, LinesCodec::new(100));
        let (source, source_handle) = items((0..10_000).map(|i| Ok(format!("line {i}"))));
        let err = block_on(forward(source, &mut framed)).expect_err("the writer failed");
        assert_eq!(
            err.kind(),
            ErrorKind::BrokenPipe,
            "the writer's error, as it is"
        );
        assert!(
            source_handle.polls() < 10_000,
            "forward must stop at the sink's first error, not pull the whole source"
        );
    });
}

#[test]
fn a_stuck_consumer_stops_the_producer() {
    framed_watchdog("forward of 100 000 items to a writer that accepts nothing").run(|| {
        let pulled = Arc::new(Mutex::new(0usize));
        let counter = Arc::clone(&pulled);
        // 100 000 items (10 MB): a forward that collects them all before sending shows.
        let source = futures::stream::repeat_with(move || {
            *counter.lock().unwrap() += 1;
            Ok("z".repeat(99))
        })
        .take(100_000);
        let (sink, _handle) = writer(Accept::Nothing);
        let mut framed = FramedWrite::new(sink, LinesCodec::new(1000));
        {
            let mut pipeline = Poller::new(forward(source, &mut framed));
            for _ in 0..100 {
                assert!(
                    pipeline.poll().is_pending(),
                    "the writer accepts nothing: Pending"
                );
            }
        }
        let pulled = *pulled.lock().unwrap();
        assert!(
            pulled <= BACKPRESSURE_BOUNDARY / 100 + 2,
            "the producer made {pulled} items while the consumer took nothing: forward must \
             pull the next item only after the previous send completed, so a stuck writer stops \
             the producer (at most BACKPRESSURE_BOUNDARY bytes plus one item in memory)"
        );
        assert!(framed.write_buffer().len() <= BACKPRESSURE_BOUNDARY + 100);
    });
}

#[test]
fn a_pipeline_over_tcp_transforms_every_line() {
    framed_watchdog("lines from a TCP peer, uppercased, sent back").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let (ours, theirs) = tcp_pair();
        let stream = TcpStream::from_std(runtime.reactor(), ours).unwrap();
        let lines: Vec<String> = (0..20_000).map(|i| format!("line number {i}")).collect();
        let expected: Vec<String> = lines.iter().map(|l| l.to_uppercase()).collect();
        let mut writer_side = theirs.try_clone().unwrap();
        let writing = peer(move || {
            let mut out = std::io::BufWriter::new(&mut writer_side);
            for line in &lines {
                writeln!(out, "{line}").unwrap();
            }
            out.flush().unwrap();
            drop(out);
            writer_side.shutdown(std::net::Shutdown::Write).unwrap();
        });
        let reading = peer(move || {
            StdBufReader::new(theirs)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        let sent = runtime.block_on(async {
            let frames = FramedRead::new(&stream, LinesCodec::new(1000));
            let mut sink = FramedWrite::new(&stream, LinesCodec::new(1000));
            let shouted = map(frames, |line| line.map(|l| l.to_uppercase()));
            let sent = forward(shouted, &mut sink).await.expect("forward");
            sink.close().await.expect("close");
            sent
        });
        writing.join().unwrap();
        let got = reading.join().unwrap();
        assert_eq!(sent, 20_000);
        assert_eq!(got.len(), expected.len(), "every line must come back");
        assert!(
            got == expected,
            "the lines came back changed or out of order"
        );
    });
}
