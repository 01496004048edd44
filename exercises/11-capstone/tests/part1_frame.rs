//! Part 1: RESP2 framing. `Frame::encode` writes replies; `parse_request` finds one request at
//! the start of a buffer, says "not yet" for a partial one, and refuses what breaks a limit as
//! soon as the breaking bytes are there.

use capstone::frame::{MAX_ARGS, MAX_BULK, MAX_INLINE};
use capstone::{Frame, ProtocolError, parse_request};
use harness::Watchdog;

type Parsed = Result<Option<(Vec<Vec<u8>>, usize)>, ProtocolError>;

fn watched<T: Send + 'static>(what: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    Watchdog::new(format!("part 1: {what}"))
        .likely_cause("does a loop in parse_request stop when it runs out of bytes?")
        .run(body)
}

fn parse(buf: &[u8]) -> Parsed {
    parse_request(buf)
}

fn args(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn encoded(frame: &Frame) -> String {
    let mut out = Vec::new();
    frame.encode(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn encode_writes_each_reply_kind() {
    watched("Frame::encode", || {
        let cases = [
            (Frame::Simple("OK".into()), "+OK\r\n"),
            (Frame::Error("ERR nope".into()), "-ERR nope\r\n"),
            (Frame::Integer(0), ":0\r\n"),
            (Frame::Integer(-42), ":-42\r\n"),
            (Frame::Integer(i64::MAX), ":9223372036854775807\r\n"),
            (Frame::Bulk(b"hello".to_vec()), "$5\r\nhello\r\n"),
            (Frame::Bulk(Vec::new()), "$0\r\n\r\n"),
            (Frame::Bulk(b"a\r\nb".to_vec()), "$4\r\na\r\nb\r\n"),
            (Frame::Null, "$-1\r\n"),
            (Frame::Array(Vec::new()), "*0\r\n"),
            (
                Frame::Array(vec![
                    Frame::Bulk(b"message".to_vec()),
                    Frame::Array(vec![Frame::Integer(1), Frame::Null]),
                ]),
                "*2\r\n$7\r\nmessage\r\n*2\r\n:1\r\n$-1\r\n",
            ),
        ];
        for (frame, want) in cases {
            assert_eq!(
                encoded(&frame),
                want,
                "Frame::encode({frame:?}): RESP2 is a tag byte, the text or length, CRLF, and \
                 for bulk strings the bytes and a CRLF; arrays give their count then each item"
            );
        }
        let mut out = b"already here".to_vec();
        Frame::Integer(1).encode(&mut out);
        assert_eq!(
            out, b"already here:1\r\n",
            "encode must append to `out`, keeping what is already in it (the replies before)"
        );
    });
}

#[test]
fn encode_turns_line_breaks_in_simple_and_error_into_spaces() {
    watched("Frame::encode with CR and LF", || {
        assert_eq!(
            encoded(&Frame::Error("ERR unknown command 'a\r\nb'".into())),
            "-ERR unknown command 'a  b'\r\n",
            "an error text is one line: each CR or LF in it must be written as a space, or a \
             client reads the rest as a second reply"
        );
        assert_eq!(encoded(&Frame::Simple("x\ny".into())), "+x y\r\n");
    });
}

#[test]
fn an_array_request_is_parsed_with_its_length() {
    watched("parse_request of an array", || {
        let req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        assert_eq!(
            parse(req),
            Ok(Some((args(&["SET", "k", "hello"]), req.len()))),
            "an array of bulk strings gives its elements and the number of bytes it used"
        );
    });
}

#[test]
fn only_the_first_of_two_requests_is_consumed() {
    watched("parse_request of two requests", || {
        let first = b"*1\r\n$4\r\nPING\r\n";
        let mut buf = first.to_vec();
        buf.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
        assert_eq!(
            parse(&buf),
            Ok(Some((args(&["PING"]), first.len()))),
            "with two pipelined requests in the buffer, parse_request returns the first and \
             the bytes it used, leaving the second for the next call"
        );
        let inline = b"PING\r\nPING\r\n";
        assert_eq!(parse(inline), Ok(Some((args(&["PING"]), 6))));
    });
}

#[test]
fn an_incomplete_request_at_every_split_point_is_none() {
    watched("parse_request of every prefix", || {
        for req in [
            &b"*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n"[..],
            b"*1\r\n$0\r\n\r\n",
            b"SET k v\r\n",
        ] {
            for cut in 0..req.len() {
                assert_eq!(
                    parse(&req[..cut]),
                    Ok(None),
                    "the first {cut} bytes of {:?} are only the beginning of a request: \
                     parse_request must say Ok(None) (not yet), not guess",
                    String::from_utf8_lossy(req)
                );
            }
            assert!(
                matches!(parse(req), Ok(Some((_, n))) if n == req.len()),
                "the whole request {:?} must parse",
                String::from_utf8_lossy(req)
            );
        }
    });
}

#[test]
fn binary_bytes_in_a_bulk_string_are_kept() {
    watched("parse_request of binary bulk strings", || {
        let value: Vec<u8> = (0..=255).collect();
        let mut req = format!("*2\r\n$3\r\nset\r\n${}\r\n", value.len()).into_bytes();
        req.extend_from_slice(&value);
        req.extend_from_slice(b"\r\n");
        assert_eq!(
            parse(&req),
            Ok(Some((vec![b"set".to_vec(), value], req.len()))),
            "a bulk string is its length in bytes, whatever they are (CR, LF and NUL \
             included): read exactly that many, do not look for a line end inside"
        );
    });
}

#[test]
fn an_inline_request_is_split_on_spaces_and_tabs() {
    watched("parse_request of inline commands", || {
        assert_eq!(parse(b"PING\r\n"), Ok(Some((args(&["PING"]), 6))));
        assert_eq!(
            parse(b"  set \t key   \"va lue\"\r\n"),
            Ok(Some((args(&["set", "key", "\"va", "lue\""]), 24))),
            "an inline request is split on runs of spaces and tabs; quotes are ordinary bytes"
        );
        assert_eq!(
            parse(b"GET k\nrest"),
            Ok(Some((args(&["GET", "k"]), 6))),
            "an inline line may end with a bare \\n"
        );
    });
}

#[test]
fn a_request_with_no_arguments_is_empty() {
    watched("parse_request of empty requests", || {
        for (req, used) in [
            (&b"\r\n"[..], 2),
            (b"\n", 1),
            (b"   \t \r\n", 7),
            (b"*0\r\n", 4),
            (b"*-1\r\n", 5),
        ] {
            assert_eq!(
                parse(req),
                Ok(Some((Vec::new(), used))),
                "{:?} is a request with no arguments: Some of an empty list and its length \
                 (the server skips it without a reply)",
                String::from_utf8_lossy(req)
            );
        }
    });
}

#[test]
fn a_line_without_its_end_is_refused_at_the_limit() {
    watched("parse_request of endless lines", || {
        let long = vec![b'a'; MAX_INLINE + 1];
        assert_eq!(
            parse(&long),
            Err(ProtocolError::TooBigInline),
            "an inline request still without its line end after MAX_INLINE bytes must be \
             refused then: otherwise the input buffer grows without bound"
        );
        let mut count = b"*".to_vec();
        count.extend(vec![b'1'; MAX_INLINE + 1]);
        assert_eq!(parse(&count), Err(ProtocolError::TooBigCount));
        let mut len = b"*1\r\n$".to_vec();
        len.extend(vec![b'1'; MAX_INLINE + 1]);
        assert_eq!(parse(&len), Err(ProtocolError::TooBigBulkCount));
        assert_eq!(
            (MAX_INLINE, MAX_BULK, MAX_ARGS),
            (64 * 1024, 512 * 1024 * 1024, 1024 * 1024),
            "the limits are Redis's own (64 KiB lines, 512 MiB bulk strings, 1 048 576 \
             arguments): keep the constants frame.rs gives"
        );
    });
}

#[test]
fn limits_are_accepted_at_exactly_the_limit() {
    watched("parse_request at the limits", || {
        let mut line = vec![b'a'; MAX_INLINE];
        assert_eq!(
            parse(&line),
            Ok(None),
            "MAX_INLINE bytes without a line end are still allowed (only more are refused)"
        );
        line.push(b'\r');
        assert_eq!(
            parse(&line),
            Ok(None),
            "MAX_INLINE bytes and a \\r are still allowed: the \\r may start the line's end"
        );
        line.push(b'\n');
        assert!(
            matches!(parse(&line), Ok(Some((ref a, n))) if a.len() == 1 && n == line.len()),
            "an inline request of exactly MAX_INLINE bytes plus its CRLF is a request"
        );
        let at_max = format!("*1\r\n${MAX_BULK}\r\nabc");
        assert_eq!(
            parse(at_max.as_bytes()),
            Ok(None),
            "a bulk length of exactly MAX_BULK is allowed: the request is just incomplete"
        );
        let most_args = format!("*{MAX_ARGS}\r\n$1\r\na\r\n");
        assert_eq!(parse(most_args.as_bytes()), Ok(None));
    });
}

#[test]
fn a_bulk_length_above_the_limit_is_refused_from_its_header() {
    watched("parse_request of bad bulk lengths", || {
        for header in [
            format!("*1\r\n${}\r\n", MAX_BULK + 1),
            "*2\r\n$3\r\nSET\r\n$1073741824\r\n".to_string(),
            "*1\r\n$-5\r\n".to_string(),
            "*1\r\n$abc\r\n".to_string(),
            "*1\r\n$\r\n".to_string(),
            "*1\r\n$99999999999999999999999\r\n".to_string(),
        ] {
            assert_eq!(
                parse(header.as_bytes()),
                Err(ProtocolError::InvalidBulkLength),
                "{header:?}: a bulk length that is negative, not a number, or above MAX_BULK \
                 must be refused as soon as its line is complete, before any body bytes come"
            );
        }
    });
}

#[test]
fn an_array_count_above_the_limit_or_not_a_number_is_refused() {
    watched("parse_request of bad counts", || {
        for header in [
            format!("*{}\r\n", MAX_ARGS + 1),
            "*x\r\n".to_string(),
            "*\r\n".to_string(),
            "*1 \r\n".to_string(),
        ] {
            assert_eq!(
                parse(header.as_bytes()),
                Err(ProtocolError::InvalidMultibulkLength),
                "{header:?}: the count after * must be an integer no larger than MAX_ARGS"
            );
        }
    });
}

#[test]
fn an_element_that_is_not_a_bulk_string_is_refused() {
    watched("parse_request of a non-bulk element", || {
        assert_eq!(
            parse(b"*2\r\n$3\r\nGET\r\n:1\r\n"),
            Err(ProtocolError::ExpectedBulk(b':')),
            "every element of a request array must be a bulk string ($)"
        );
    });
}

#[test]
fn a_bulk_string_without_its_crlf_is_refused() {
    watched("parse_request of an unterminated bulk string", || {
        assert_eq!(
            parse(b"*1\r\n$3\r\nGETxx*1\r\n"),
            Err(ProtocolError::UnterminatedBulk),
            "a bulk string's bytes must be followed by CRLF; anything else means the length \
             was a lie and nothing after it can be trusted"
        );
    });
}

#[test]
fn a_header_line_longer_than_the_limit_is_refused_even_when_it_ends() {
    watched("parse_request of long header lines", || {
        // A count of 1 written with MAX_INLINE leading zeros: a valid number on a line one
        // byte too long.
        let zeros = "0".repeat(MAX_INLINE);
        let count = format!("*{zeros}1\r\n$4\r\nPING\r\n");
        assert_eq!(
            parse(count.as_bytes()),
            Err(ProtocolError::TooBigCount),
            "a * line longer than MAX_INLINE bytes is refused even when its CRLF is there"
        );
        let len = format!("*1\r\n${zeros}4\r\nPING\r\n");
        assert_eq!(
            parse(len.as_bytes()),
            Err(ProtocolError::TooBigBulkCount),
            "a $ line longer than MAX_INLINE bytes is refused even when its CRLF is there"
        );
        let line = format!("{}\r\n", "a".repeat(MAX_INLINE + 1));
        assert_eq!(parse(line.as_bytes()), Err(ProtocolError::TooBigInline));
        // A line of MAX_INLINE bytes, its * or $ included, is allowed, ended or not. (Whether
        // the tag byte counts is left open: one byte more is not checked.)
        let count = format!("*{}1", &zeros[2..]);
        assert_eq!(
            parse(count.as_bytes()),
            Ok(None),
            "a * line of MAX_INLINE bytes may still end"
        );
        // Such a line needs leading zeros, and whether "0001" is an integer is left open
        // (Redis refuses it): InvalidMultibulkLength is accepted, a refusal as too big is not.
        let count = format!("*{}1\r\n$4\r\nPING\r\n", &zeros[2..]);
        let got = parse(count.as_bytes());
        assert!(
            matches!(got, Ok(Some((ref a, _))) if a.len() == 1)
                || got == Err(ProtocolError::InvalidMultibulkLength),
            "a * line of exactly MAX_INLINE bytes (the * included) is not too big: want the \
             request (or InvalidMultibulkLength for its leading zeros), got {got:?}"
        );
        let len = format!("*1\r\n${}4", &zeros[2..]);
        assert_eq!(
            parse(len.as_bytes()),
            Ok(None),
            "a $ line of MAX_INLINE bytes may still end"
        );
        let len = format!("*1\r\n${}4\r\nPING\r\n", &zeros[2..]);
        let got = parse(len.as_bytes());
        assert!(
            matches!(got, Ok(Some((ref a, _))) if a == &vec![b"PING".to_vec()])
                || got == Err(ProtocolError::InvalidBulkLength),
            "a $ line of exactly MAX_INLINE bytes (the $ included) is not too big: want the \
             request (or InvalidBulkLength for its leading zeros), got {got:?}"
        );
    });
}
