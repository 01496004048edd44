//! RESP2 framing: the replies the server writes ([`Frame`]) and the requests it reads
//! ([`parse_request`]).
//!
//! A request is either an **array of bulk strings** (what `redis-cli`, `redis-benchmark` and
//! client libraries send: `*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an **inline command**: one line
//! of words separated by spaces or tabs (`PING\r\n`, what `telnet` users and
//! `redis-benchmark -t ping` send). Both give the same thing: the request's arguments as byte
//! strings, the command name first.

use std::fmt;

/// The longest inline request, and the longest `*<count>` or `$<length>` line, in bytes
/// (without its line ending). Redis's `PROTO_INLINE_MAX_SIZE`.
pub const MAX_INLINE: usize = 64 * 1024;
/// The largest bulk string length a request may declare (Redis's `proto-max-bulk-len`).
pub const MAX_BULK: usize = 512 * 1024 * 1024;
/// The most arguments an array request may declare.
pub const MAX_ARGS: usize = 1024 * 1024;

/// A request's arguments, the command name first.
pub type Request = Vec<Vec<u8>>;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `+<text>\r\n`, e.g. `+OK`.
    Simple(String),
    /// `-<text>\r\n`; by convention the text starts with an error code such as `ERR`.
    Error(String),
    /// `:<n>\r\n`.
    Integer(i64),
    /// `$<length>\r\n<bytes>\r\n`: any bytes, CR and LF included.
    Bulk(Vec<u8>),
    /// `$-1\r\n`: "no value" (`GET` of a missing key).
    Null,
    /// `*<count>\r\n` followed by each element's encoding.
    Array(Vec<Frame>),
}

impl Frame {
    /// An `Error` frame with the text `ERR <message>`.
    pub fn error(message: impl fmt::Display) -> Frame {
        Frame::Error(format!("ERR {message}"))
    }

    /// Appends this frame's RESP2 encoding to `out`.
    ///
    /// A `Simple` or `Error` text is one line: each CR or LF byte in it is written as a space,
    /// so a reply can never be split into two (a command name sent with a CRLF inside it is
    /// echoed in an error message).
    pub fn encode(&self, out: &mut Vec<u8>) {
        todo!()
    }
}

/// Why a request could not be read. After one, the bytes that follow cannot be trusted to
/// start a request, so the server replies `-ERR <Display>` and closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// An inline request is longer than [`MAX_INLINE`] bytes (its line ending not counted),
    /// whether or not its ending has arrived.
    TooBigInline,
    /// A `*<count>` line is longer than [`MAX_INLINE`] bytes (its line ending not counted),
    /// whether or not its ending has arrived.
    TooBigCount,
    /// The count after `*` is not an integer, or is above [`MAX_ARGS`].
    InvalidMultibulkLength,
    /// An array element does not start with `$` (the byte it starts with).
    ExpectedBulk(u8),
    /// A `$<length>` line is longer than [`MAX_INLINE`] bytes (its line ending not counted),
    /// whether or not its ending has arrived.
    TooBigBulkCount,
    /// The length after `$` is not an integer, is negative, or is above [`MAX_BULK`].
    InvalidBulkLength,
    /// A bulk string's bytes are not followed by `\r\n`.
    UnterminatedBulk,
}

impl fmt::Display for ProtocolError {
    /// Redis's own wording: `Protocol error: too big inline request`,
    /// `Protocol error: too big mbulk count string`, `Protocol error: invalid multibulk
    /// length`, `Protocol error: expected '$', got 'X'` (X the byte as a character),
    /// `Protocol error: too big bulk count string`, `Protocol error: invalid bulk length`,
    /// and ours for the last: `Protocol error: bulk string not terminated by CRLF`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Protocol error: ")?;
        match self {
            ProtocolError::TooBigInline => f.write_str("too big inline request"),
            ProtocolError::TooBigCount => f.write_str("too big mbulk count string"),
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::ExpectedBulk(got) => write!(f, "expected '$', got '{}'", *got as char),
            ProtocolError::TooBigBulkCount => f.write_str("too big bulk count string"),
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::UnterminatedBulk => f.write_str("bulk string not terminated by CRLF"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Reads the first request at the start of `buf`.
///
/// * `Ok(Some((args, used)))`: a whole request, whose encoding is `buf[..used]`. `args` is
///   empty for a request with no arguments (an empty or blank inline line, `*0\r\n`, or a
///   negative count such as `*-1\r\n`), which the server skips without a reply.
/// * `Ok(None)`: `buf` holds only the beginning of a request (or nothing); call again when
///   more bytes arrived. Nothing of `buf` is consumed.
/// * `Err(_)`: `buf` does not start with a valid request; see [`ProtocolError`].
///
/// Arrays: `*<count>\r\n` then `count` bulk strings `$<length>\r\n<length bytes>\r\n`.
/// Inline: everything up to the first `\n` (a `\r` before it is dropped), split on runs of
/// spaces and tabs; quotes have no special meaning. Any byte other than `*` at the start
/// begins an inline request.
///
/// Limits are checked as soon as the bytes that break them are in `buf`: a `$` length above
/// [`MAX_BULK`] is refused when its line is complete, before any of its bytes arrive, and a
/// line still without its ending after [`MAX_INLINE`] bytes is refused then, not when the
/// ending comes. Nothing is allocated for a declared length or count: memory grows only with
/// the bytes actually received.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, ProtocolError> {
    todo!()
}
