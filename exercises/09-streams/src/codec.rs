//! Part 6: codecs, which turn bytes into frames and frames into bytes, knowing nothing of
//! where the bytes come from.
//!
//! ```text
//!   read buffer: [ "GET a\nGET b\nGE" ]  decode ─► Some("GET a")  buffer: [ "GET b\nGE" ]
//!                                       decode ─► Some("GET b")  buffer: [ "GE" ]
//!                                       decode ─► None: a partial frame, read more bytes
//!   at the end of the stream:           decode_eof ─► Err(UnexpectedEof): "GE" is half a frame
//! ```
//!
//! A decoder takes a frame's bytes out of the buffer (and only those) when the frame is
//! complete, and leaves the buffer alone otherwise. It must also refuse frames larger than a
//! maximum as soon as it can tell: a peer that sends a line with no end, or a length prefix of
//! 4 GiB, must cost an error, not all the memory it asks for.

use std::io;

use bytes::BytesMut;

/// Splits a byte stream into frames.
pub trait Decoder {
    /// One frame.
    type Item;

    /// Takes one frame out of the front of `buf`:
    /// * `Ok(Some(frame))`: a whole frame was there; its bytes were removed from `buf` (and
    ///   only its bytes: what follows stays for the next call);
    /// * `Ok(None)`: not a whole frame yet; call again once more bytes were appended. `buf`
    ///   still holds everything it held (the decoder may remember how far it has looked);
    /// * `Err`: the bytes can never be a valid frame (too long, malformed).
    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Self::Item>>;

    /// Called instead of [`decode`](Decoder::decode) once the byte stream has ended: no byte
    /// will be appended to `buf` again.
    ///
    /// The provided version calls `decode`; when that finds no whole frame, it returns
    /// `Ok(None)` ("no more frames") if `buf` is empty, and an `UnexpectedEof` error if bytes
    /// are left (a frame cut off by the end of the stream).
    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Self::Item>> {
        todo!("decode; no whole frame: Ok(None) if buf is empty, else an UnexpectedEof error")
    }
}

/// Turns frames into bytes.
pub trait Encoder<Item> {
    /// Appends `item`'s encoding to `dst`. On error, appends nothing.
    fn encode(&mut self, item: Item, dst: &mut BytesMut) -> io::Result<()>;
}

/// Lines of UTF-8 text ending in `\n`, each at most `max_length` bytes long.
///
/// A line's length is the number of bytes before its `\n`. Decoded lines come without the
/// `\n` and without one `\r` right before it (`"a\r\n"` decodes to `"a"`).
#[derive(Debug, Clone)]
pub struct LinesCodec {
    max_length: usize,
    /// How much of the buffer's front is already known to hold no `\n`: the next `decode`
    /// searches from there, so a long line arriving in small pieces is scanned once, not
    /// once per piece.
    next_index: usize,
}

impl LinesCodec {
    /// A codec for lines of at most `max_length` bytes (0 allows only empty lines).
    pub fn new(max_length: usize) -> LinesCodec {
        LinesCodec {
            max_length,
            next_index: 0,
        }
    }

    /// The longest line this codec accepts, in bytes.
    pub fn max_length(&self) -> usize {
        self.max_length
    }
}

/// * `decode`: the first line in `buf`, or `Ok(None)` if `buf` holds no `\n` yet. An error of
///   kind `InvalidData` if the line is longer than `max_length` bytes, returned as soon as the
///   buffer shows it: a `\n` more than `max_length` bytes in, or *more than `max_length` bytes
///   buffered with no `\n` among them* (so an endless line is refused after `max_length + 1`
///   bytes instead of being buffered forever); also `InvalidData` if the line is not UTF-8.
/// * `decode_eof`: as `decode`, then a last line without `\n` is a line too (`"a\nb"` at the
///   end of the stream decodes to `"a"`, then `"b"`), and it loses one trailing `\r` like any
///   other line (`"c\r"` decodes to `"c"`); then `Ok(None)` once `buf` is empty.
impl Decoder for LinesCodec {
    type Item = String;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<String>> {
        todo!(
            "find the first newline (never looking past max_length + 1 bytes); no newline and too many bytes: InvalidData"
        )
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<String>> {
        todo!("decode; then what is left (if anything) is the last line")
    }
}

/// Writes `line` and a `\n`. An error of kind `InvalidInput` (and nothing written) if `line`
/// holds a `\n` or is longer than `max_length` bytes: the other side could not decode it.
impl Encoder<String> for LinesCodec {
    fn encode(&mut self, line: String, dst: &mut BytesMut) -> io::Result<()> {
        todo!("encode it as a &str")
    }
}

/// As for `String`.
impl Encoder<&str> for LinesCodec {
    fn encode(&mut self, line: &str, dst: &mut BytesMut) -> io::Result<()> {
        todo!(
            "refuse a newline or a line over max_length (InvalidInput, nothing written); else the line and a newline"
        )
    }
}

/// Frames of bytes, each sent as a 4-byte big-endian length (`u32`) and then that many bytes.
#[derive(Debug, Clone)]
pub struct LengthCodec {
    max_frame: usize,
}

/// The size of a [`LengthCodec`] frame's length prefix.
pub const LENGTH_PREFIX: usize = 4;

impl LengthCodec {
    /// A codec for frames of at most `max_frame` bytes (the prefix not counted).
    pub fn new(max_frame: usize) -> LengthCodec {
        LengthCodec { max_frame }
    }

    /// The largest frame this codec accepts, in bytes.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

/// `decode`: `Ok(None)` until the 4-byte prefix is there; then an `InvalidData` error at once
/// if the length is over `max_frame` (before any of the frame's bytes arrive: nothing is
/// buffered for it); then `Ok(None)` until the whole frame is there (it may reserve room for
/// it), and finally the frame's bytes, prefix removed. `decode_eof` is the provided one: a
/// prefix or frame cut off by the end of the stream is an `UnexpectedEof` error.
impl Decoder for LengthCodec {
    type Item = Vec<u8>;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
        todo!("the 4-byte prefix, its length checked at once, then the whole frame")
    }
}

/// Writes the 4-byte big-endian length, then the bytes. An error of kind `InvalidInput` (and
/// nothing written) if the frame is longer than `max_frame` bytes.
impl Encoder<&[u8]> for LengthCodec {
    fn encode(&mut self, frame: &[u8], dst: &mut BytesMut) -> io::Result<()> {
        todo!("refuse a frame over max_frame; else the u32 big-endian length, then the bytes")
    }
}

/// As for `&[u8]`.
impl Encoder<Vec<u8>> for LengthCodec {
    fn encode(&mut self, frame: Vec<u8>, dst: &mut BytesMut) -> io::Result<()> {
        todo!("encode it as a &[u8]")
    }
}
