//! Part 7: framed reading and writing, and a pipeline whose memory stays bounded.
//!
//! ```text
//!   FramedRead:  reader ──poll_read (≤ READ_CHUNK)──► buffer ──decode──► Stream of frames
//!                (decode first: one read may hold several frames; read only on Ok(None))
//!
//!   FramedWrite: send(item) ──encode──► buffer ──(at BACKPRESSURE_BOUNDARY, or flush)──► writer
//!                a send waits while the buffer is over the boundary and the writer is slow
//! ```
//!
//! Backpressure is what keeps a fast producer and a slow consumer from filling memory: the
//! producer's `send` does not complete while the writer accepts nothing, so a pipeline that
//! pulls its next item only after the previous send completed holds a bounded number of bytes
//! whatever the speeds.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::Stream;
use futures::io::{AsyncRead, AsyncWrite};

use crate::codec::{Decoder, Encoder};

/// The most bytes a [`FramedRead`] asks its reader for in one `poll_read`.
pub const READ_CHUNK: usize = 8 * 1024;

/// The write buffer size at which a [`FramedWrite`]'s `send` writes to the writer.
pub const BACKPRESSURE_BOUNDARY: usize = 8 * 1024;

/// Where a [`FramedRead`] is in its byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    /// The reader may have more bytes.
    Reading,
    /// The reader returned `Ok(0)`: only `decode_eof` from now on.
    Eof,
    /// `Ready(None)` was returned, or an error: the stream is over.
    Done,
}

/// A [`Stream`] of the frames that `decoder` finds in the bytes of `reader`.
pub struct FramedRead<R, D> {
    reader: R,
    decoder: D,
    /// Bytes read and not yet decoded.
    buf: BytesMut,
    state: ReadState,
}

impl<R: AsyncRead + Unpin, D: Decoder> FramedRead<R, D> {
    /// Frames from `reader`, split by `decoder`.
    pub fn new(reader: R, decoder: D) -> FramedRead<R, D> {
        FramedRead {
            reader,
            decoder,
            buf: BytesMut::with_capacity(READ_CHUNK),
            state: ReadState::Reading,
        }
    }

    /// The bytes read and not yet decoded.
    pub fn read_buffer(&self) -> &BytesMut {
        &self.buf
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader. Reading from it directly skips what is buffered.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The decoder.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The reader; buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

// Nothing in a FramedRead is ever pinned: the stream is polled through `&mut Self`.
impl<R, D> Unpin for FramedRead<R, D> {}

/// Each `poll_next`:
/// * first decodes from the bytes already buffered: when one read brought several frames,
///   they come out one per `poll_next` without reading again;
/// * reads (at most [`READ_CHUNK`] bytes per `poll_read`) only when `decode` returned
///   `Ok(None)`, and decodes again after each read: a frame split over many reads is put
///   together;
/// * at the end of the reader's stream (`Ok(0)`), calls `decode_eof` instead: each frame it
///   returns is yielded, and its first `Ok(None)` ends the stream;
/// * yields an error (from the reader or the decoder) as `Some(Err(..))`, once; the stream
///   is then over.
///
/// Once it returned `Ready(None)` or an error, every later `poll_next` returns `Ready(None)`
/// without polling the reader or calling the decoder. `Pending` only when the reader returned
/// `Pending` (the reader stored the waker). The buffer never grows by more than
/// `READ_CHUNK` bytes past what the decoder left in it, so its size is bounded by the
/// decoder's own limit (a [`LinesCodec`](crate::LinesCodec)'s `max_length`) plus one chunk.
impl<R: AsyncRead + Unpin, D: Decoder> Stream for FramedRead<R, D> {
    type Item = io::Result<D::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        todo!(
            "loop: decode (decode_eof after the end) what is buffered; only on Ok(None) read up to READ_CHUNK more"
        )
    }
}

/// Writes frames encoded by `encoder` to `writer`, through a write buffer with backpressure.
pub struct FramedWrite<W, E> {
    writer: W,
    encoder: E,
    /// Encoded bytes the writer has not accepted yet.
    buf: BytesMut,
}

impl<W: AsyncWrite + Unpin, E> FramedWrite<W, E> {
    /// Frames to `writer`, encoded by `encoder`.
    pub fn new(writer: W, encoder: E) -> FramedWrite<W, E> {
        FramedWrite {
            writer,
            encoder,
            buf: BytesMut::with_capacity(BACKPRESSURE_BOUNDARY),
        }
    }

    /// Encodes `item` into the write buffer, then, while the buffer holds
    /// [`BACKPRESSURE_BOUNDARY`] bytes or more, writes it to the writer: the send completes
    /// once the buffer is back under the boundary, and stays `Pending` while the writer is.
    ///
    /// So a send leaves the writer alone while the buffer stays under the boundary (the bytes
    /// wait for a later send or a [`flush`](FramedWrite::flush)), and the buffer never holds
    /// more than `BACKPRESSURE_BOUNDARY` bytes plus one item's encoding. One write is not
    /// enough when it leaves the buffer at or over the boundary (a slow writer takes a few
    /// bytes at a time): the send writes again, or stays `Pending`. (Checking the boundary
    /// *before* encoding, as tokio-util does, is equally right: that send writes until the
    /// buffer is under the boundary and then encodes its item, so it may complete over the
    /// boundary, but by at most the item it has just encoded.) An encoding error is returned
    /// and nothing of the item is buffered; `Ok(0)` from the writer is a `WriteZero` error.
    pub async fn send<I>(&mut self, item: I) -> io::Result<()>
    where
        E: Encoder<I>,
    {
        todo!(
            "encode into the buffer; while it holds BACKPRESSURE_BOUNDARY bytes or more, write to the writer"
        )
    }

    /// Writes every buffered byte to the writer (through partial writes and `Pending`), then
    /// flushes the writer: after it, the bytes of every completed `send` have left this
    /// writer and any buffering writer under it.
    pub async fn flush(&mut self) -> io::Result<()> {
        todo!("write every buffered byte, then flush the writer")
    }

    /// Writes every buffered byte, then closes the writer (no flush of its own is needed:
    /// closing a writer flushes it).
    pub async fn close(&mut self) -> io::Result<()> {
        todo!("write every buffered byte, then close the writer")
    }

    /// The encoded bytes the writer has not accepted yet.
    pub fn write_buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.writer
    }

    /// The writer. Writing to it directly puts bytes before the buffered ones.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// The encoder.
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// The writer; buffered bytes are lost (flush first).
    pub fn into_inner(self) -> W {
        self.writer
    }
}

/// Sends every item of `source` into `sink`, in order, then flushes `sink`, once: between
/// items the bytes wait in the write buffer as for any `send`, so the items are batched.
/// Returns how many items were sent.
///
/// Pulls the next item only once the previous `send` has completed, so while the writer
/// accepts nothing, `forward` stays `Pending` with at most [`BACKPRESSURE_BOUNDARY`] bytes plus
/// one item buffered, and `source` is not polled: memory stays bounded however fast `source`
/// is. Stops at the first error, from `source` (an `Err` item) or from `sink`, and returns it
/// (the items before it were sent, not necessarily flushed).
pub async fn forward<S, T, W, E>(source: S, sink: &mut FramedWrite<W, E>) -> io::Result<u64>
where
    S: Stream<Item = io::Result<T>>,
    W: AsyncWrite + Unpin,
    E: Encoder<T>,
{
    todo!("next item, send it, repeat; then flush")
}

impl<R: fmt::Debug, D: fmt::Debug> fmt::Debug for FramedRead<R, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramedRead")
            .field("reader", &self.reader)
            .field("decoder", &self.decoder)
            .field("buffered", &self.buf.len())
            .field("state", &self.state)
            .finish()
    }
}

impl<W: fmt::Debug, E: fmt::Debug> fmt::Debug for FramedWrite<W, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramedWrite")
            .field("writer", &self.writer)
            .field("encoder", &self.encoder)
            .field("buffered", &self.buf.len())
            .finish()
    }
}
