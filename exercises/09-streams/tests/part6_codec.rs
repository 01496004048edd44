//! Part 6 — `Decoder::decode_eof`, `LinesCodec` and `LengthCodec`.
//!
//! Codecs are pure functions of a buffer: no I/O, no wakers. The tests feed them bytes all at
//! once, one at a time, and cut off in the middle.

mod common;

use std::io::{self, ErrorKind};

use common::watchdog;
use streams::bytes::BytesMut;
use streams::{Decoder, Encoder, LengthCodec, LinesCodec};

const PART: &str = "part 6";

fn buf(bytes: &[u8]) -> BytesMut {
    BytesMut::from(bytes)
}

fn decode_all<D: Decoder>(decoder: &mut D, bytes: &mut BytesMut) -> Vec<D::Item> {
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(bytes).expect("decode") {
        frames.push(frame);
        assert!(
            frames.len() <= 1000,
            "decode keeps returning frames from a finite buffer"
        );
    }
    frames
}

/// Feeds `bytes` one at a time, decoding after each; returns the frames.
fn decode_byte_by_byte<D: Decoder>(decoder: &mut D, bytes: &[u8]) -> Vec<D::Item> {
    let mut buffer = BytesMut::new();
    let mut frames = Vec::new();
    for &byte in bytes {
        buffer.extend_from_slice(&[byte]);
        while let Some(frame) = decoder.decode(&mut buffer).expect("decode") {
            frames.push(frame);
        }
    }
    frames
}

fn lines(max: usize) -> LinesCodec {
    LinesCodec::new(max)
}

#[test]
fn lines_decode_one_line_at_a_time_and_leave_the_rest() {
    watchdog(PART, "LinesCodec on \"one\\ntwo\\nthr\"").run(|| {
        let mut codec = lines(100);
        let mut buffer = buf(b"one\ntwo\nthr");
        assert_eq!(codec.decode(&mut buffer).unwrap().as_deref(), Some("one"));
        assert_eq!(
            &buffer[..],
            b"two\nthr",
            "decode must remove exactly the line and its newline from the buffer"
        );
        assert_eq!(codec.decode(&mut buffer).unwrap().as_deref(), Some("two"));
        assert_eq!(
            codec.decode(&mut buffer).unwrap(),
            None,
            "\"thr\" has no newline yet: not a whole line"
        );
        assert_eq!(
            &buffer[..],
            b"thr",
            "a partial line must stay in the buffer"
        );
        buffer.extend_from_slice(b"ee\n");
        assert_eq!(codec.decode(&mut buffer).unwrap().as_deref(), Some("three"));
        assert!(buffer.is_empty());
    });
}

#[test]
fn lines_arriving_one_byte_at_a_time_are_found() {
    watchdog(PART, "LinesCodec fed one byte at a time").run(|| {
        let mut codec = lines(100);
        let frames = decode_byte_by_byte(&mut codec, b"hello\nworld\n\nlast\n");
        assert_eq!(
            frames,
            ["hello", "world", "", "last"],
            "each byte was appended and decode called again: every line must be found once \
             (if you remember how far you searched, reset it after each line)"
        );
    });
}

#[test]
fn a_partial_line_then_a_chunk_of_several_lines() {
    watchdog(PART, "LinesCodec on \"ab\", then \"c\\n\\nd\\n\" appended").run(|| {
        let mut codec = lines(100);
        let mut buffer = buf(b"ab");
        assert_eq!(codec.decode(&mut buffer).unwrap(), None);
        buffer.extend_from_slice(b"c\n\nd\n");
        let frames = decode_all(&mut codec, &mut buffer);
        assert_eq!(
            frames,
            ["abc", "", "d"],
            "after a partial line, one read brought the rest of it and two more lines: each \
             must be found. If you remember how far you searched, that offset belongs to the \
             line you were searching, and must go back to 0 once that line is taken out"
        );
    });
}

#[test]
fn a_carriage_return_before_the_newline_is_dropped() {
    watchdog(PART, "LinesCodec on \"a\\r\\nb\\r\\r\\n\"").run(|| {
        let mut codec = lines(100);
        let frames = decode_all(&mut codec, &mut buf(b"a\r\nb\r\r\nc\rd\n"));
        assert_eq!(
            frames,
            ["a", "b\r", "c\rd"],
            "only one \\r right before the \\n is dropped"
        );
    });
}

#[test]
fn a_line_of_exactly_max_length_is_accepted() {
    watchdog(PART, "LinesCodec::new(5) on a 5-byte line").run(|| {
        let mut codec = lines(5);
        assert_eq!(codec.max_length(), 5);
        assert_eq!(LengthCodec::new(7).max_frame(), 7);
        assert_eq!(
            codec.decode(&mut buf(b"12345\n")).unwrap().as_deref(),
            Some("12345")
        );
        let mut codec = lines(0);
        assert_eq!(
            codec.decode(&mut buf(b"\n")).unwrap().as_deref(),
            Some(""),
            "max_length 0 still allows empty lines"
        );
    });
}

#[test]
fn a_line_one_byte_over_max_length_is_invalid_data() {
    watchdog(PART, "LinesCodec::new(5) on a 6-byte line").run(|| {
        let mut codec = lines(5);
        let err = codec
            .decode(&mut buf(b"123456\n"))
            .expect_err("a 6-byte line with a maximum of 5 must be refused");
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    });
}

#[test]
fn an_endless_line_is_refused_before_its_newline_comes() {
    watchdog(PART, "LinesCodec::new(8) on 9 bytes with no newline").run(|| {
        let mut codec = lines(8);
        let mut buffer = buf(b"12345678");
        assert_eq!(
            codec.decode(&mut buffer).unwrap(),
            None,
            "8 bytes without a newline may still become a valid line"
        );
        buffer.extend_from_slice(b"9");
        let err = codec.decode(&mut buffer).expect_err(
            "9 bytes without a newline can never be a line of at most 8 bytes: decode must \
             refuse it now, not wait for the newline (a peer that never sends one would make \
             you buffer without end)",
        );
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    });
}

#[test]
fn a_line_that_is_not_utf8_is_invalid_data() {
    watchdog(PART, "LinesCodec on invalid UTF-8").run(|| {
        let err = lines(100)
            .decode(&mut buf(b"\xff\xfe\n"))
            .expect_err("lines are UTF-8 text");
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    });
}

#[test]
fn decode_eof_returns_a_last_line_without_newline() {
    watchdog(PART, "LinesCodec::decode_eof on \"a\\nb\"").run(|| {
        let mut codec = lines(100);
        let mut buffer = buf(b"a\nb");
        assert_eq!(codec.decode_eof(&mut buffer).unwrap().as_deref(), Some("a"));
        assert_eq!(
            codec.decode_eof(&mut buffer).unwrap().as_deref(),
            Some("b"),
            "at the end of the stream, what is left is the last line, newline or not"
        );
        assert_eq!(codec.decode_eof(&mut buffer).unwrap(), None, "then nothing");
        assert_eq!(
            codec.decode_eof(&mut buf(b"c\r")).unwrap().as_deref(),
            Some("c"),
            "a last line loses a trailing \\r like any other line"
        );
    });
}

#[test]
fn lines_encode_appends_the_line_and_a_newline() {
    watchdog(PART, "LinesCodec::encode").run(|| {
        let mut codec = lines(10);
        let mut out = BytesMut::new();
        codec.encode("hi".to_string(), &mut out).unwrap();
        codec.encode("there", &mut out).unwrap();
        codec.encode(String::new(), &mut out).unwrap();
        assert_eq!(&out[..], b"hi\nthere\n\n");
    });
}

#[test]
fn lines_encode_refuses_what_could_not_be_decoded_and_writes_nothing() {
    watchdog(PART, "LinesCodec::encode of a newline and of a long line").run(|| {
        let mut codec = lines(4);
        let mut out = buf(b"x\n");
        for bad in ["a\nb", "12345"] {
            let err = codec
                .encode(bad, &mut out)
                .expect_err("the other side could not decode this line");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
            assert_eq!(&out[..], b"x\n", "a refused line must append nothing");
        }
        codec.encode("1234", &mut out).unwrap();
        assert_eq!(&out[..], b"x\n1234\n");
    });
}

#[test]
fn length_frames_split_anywhere_are_put_together() {
    watchdog(PART, "LengthCodec fed one byte at a time").run(|| {
        let mut codec = LengthCodec::new(1024);
        let mut wire = BytesMut::new();
        for frame in [&b"first"[..], b"", b"a somewhat longer third frame"] {
            codec.encode(frame, &mut wire).unwrap();
        }
        let frames = decode_byte_by_byte(&mut codec, &wire);
        assert_eq!(
            frames,
            [
                b"first".to_vec(),
                Vec::new(),
                b"a somewhat longer third frame".to_vec()
            ],
            "a frame must come out once all its bytes are there, wherever the reads cut it"
        );
    });
}

#[test]
fn several_length_frames_in_one_buffer() {
    watchdog(PART, "LengthCodec on three frames and half a fourth").run(|| {
        let mut codec = LengthCodec::new(1024);
        let mut buffer = buf(&[
            0, 0, 0, 1, b'a', 0, 0, 0, 2, b'b', b'c', 0, 0, 0, 0, 0, 0, 0, 9, b'x',
        ]);
        let frames = decode_all(&mut codec, &mut buffer);
        assert_eq!(frames, [b"a".to_vec(), b"bc".to_vec(), Vec::new()]);
        assert_eq!(
            &buffer[..],
            &[0, 0, 0, 9, b'x'],
            "half a frame stays buffered"
        );
    });
}

#[test]
fn an_oversized_length_is_refused_as_soon_as_the_prefix_arrives() {
    watchdog(PART, "LengthCodec::new(16) on a prefix of 17").run(|| {
        let mut codec = LengthCodec::new(16);
        let mut buffer = buf(&[0, 0]);
        assert_eq!(
            codec.decode(&mut buffer).unwrap(),
            None,
            "half a prefix: not a frame yet"
        );
        buffer.extend_from_slice(&[0, 17]);
        let err = codec.decode(&mut buffer).expect_err(
            "the prefix says 17 bytes, over the maximum of 16: refuse it now, before any of \
             the frame's bytes are buffered (a prefix of 4 GiB would otherwise reserve 4 GiB)",
        );
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
        let mut codec = LengthCodec::new(16);
        let mut exact = buf(&[0, 0, 0, 16]);
        exact.extend_from_slice(&[7; 16]);
        assert_eq!(
            codec.decode(&mut exact).unwrap(),
            Some(vec![7; 16]),
            "16 is allowed"
        );
    });
}

#[test]
fn a_frame_cut_off_by_the_end_of_the_stream_is_unexpected_eof() {
    watchdog(
        PART,
        "LengthCodec::decode_eof on half a frame, half a prefix, nothing",
    )
    .run(|| {
        let mut codec = LengthCodec::new(1024);
        for (bytes, what) in [
            (&[0, 0, 0, 5, b'a', b'b'][..], "half a frame"),
            (&[0, 0][..], "half a prefix"),
        ] {
            let err = codec
                .decode_eof(&mut buf(bytes))
                .expect_err("the stream ended in the middle of a frame");
            assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{what}: {err}");
        }
        assert_eq!(
            codec.decode_eof(&mut BytesMut::new()).unwrap(),
            None,
            "an end of stream with nothing left is a clean end: Ok(None)"
        );
        let mut last = buf(&[0, 0, 0, 1, b'z']);
        assert_eq!(codec.decode_eof(&mut last).unwrap(), Some(b"z".to_vec()));
    });
}

#[test]
fn length_encode_writes_a_big_endian_prefix() {
    watchdog(PART, "LengthCodec::encode of 258 bytes").run(|| {
        let mut codec = LengthCodec::new(1000);
        let mut out = BytesMut::new();
        codec.encode(vec![1; 258], &mut out).unwrap();
        assert_eq!(&out[..4], &[0, 0, 1, 2], "258 as a big-endian u32");
        assert_eq!(out.len(), 262);
        let err = LengthCodec::new(3)
            .encode(&b"four"[..], &mut out)
            .expect_err("a frame over max_frame cannot be sent");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(out.len(), 262, "a refused frame must append nothing");
        LengthCodec::new(4)
            .encode(&b"four"[..], &mut out)
            .expect("a frame of exactly max_frame bytes can be sent");
        assert_eq!(&out[262..], &[0, 0, 0, 4, b'f', b'o', b'u', b'r']);
    });
}

/// A decoder with only `decode` written: it takes fixed 3-byte frames.
struct Triples;

impl Decoder for Triples {
    type Item = Vec<u8>;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
        if buf.len() < 3 {
            return Ok(None);
        }
        Ok(Some(buf.split_to(3).to_vec()))
    }
}

#[test]
fn the_provided_decode_eof_tells_a_clean_end_from_a_cut_frame() {
    watchdog(
        PART,
        "Decoder::decode_eof (the provided method) on a custom decoder",
    )
    .run(|| {
        let mut codec = Triples;
        let mut buffer = buf(b"abcdefg");
        assert_eq!(
            codec.decode_eof(&mut buffer).unwrap(),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            codec.decode_eof(&mut buffer).unwrap(),
            Some(b"def".to_vec()),
            "decode_eof must first return every whole frame"
        );
        let err = codec
            .decode_eof(&mut buffer)
            .expect_err("\"g\" is a cut-off frame: the provided decode_eof must report it");
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
        assert_eq!(
            codec.decode_eof(&mut BytesMut::new()).unwrap(),
            None,
            "with nothing left, the provided decode_eof must return Ok(None): a clean end"
        );
    });
}
