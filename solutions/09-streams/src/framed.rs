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
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};

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

    /// Appends at most [`READ_CHUNK`] bytes from the reader to the buffer: the number read
    /// (0 at the end of the stream).
    fn poll_read_chunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        let result = Pin::new(&mut self.reader).poll_read(cx, &mut self.buf[start..]);
        let n = match &result {
            Poll::Ready(Ok(n)) => (*n).min(READ_CHUNK),
            _ => 0,
        };
        self.buf.truncate(start + n);
        result
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

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let decoded = match this.state {
                ReadState::Done => return Poll::Ready(None),
                ReadState::Reading => this.decoder.decode(&mut this.buf),
                ReadState::Eof => this.decoder.decode_eof(&mut this.buf),
            };
            match decoded {
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(None) if this.state == ReadState::Eof => {
                    this.state = ReadState::Done;
                    return Poll::Ready(None);
                }
                Ok(None) => {}
                Err(err) => {
                    this.state = ReadState::Done;
                    return Poll::Ready(Some(Err(err)));
                }
            }
            match ready!(this.poll_read_chunk(cx)) {
                Ok(0) => this.state = ReadState::Eof,
                Ok(_) => {}
                Err(err) => {
                    this.state = ReadState::Done;
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
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
        self.encoder.encode(item, &mut self.buf)?;
        std::future::poll_fn(|cx| self.poll_write_until(cx, BACKPRESSURE_BOUNDARY)).await
    }

    /// Writes every buffered byte to the writer (through partial writes and `Pending`), then
    /// flushes the writer: after it, the bytes of every completed `send` have left this
    /// writer and any buffering writer under it.
    pub async fn flush(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            ready!(self.poll_write_until(cx, 1))?;
            Pin::new(&mut self.writer).poll_flush(cx)
        })
        .await
    }

    /// Writes every buffered byte, then closes the writer (no flush of its own is needed:
    /// closing a writer flushes it).
    pub async fn close(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            ready!(self.poll_write_until(cx, 1))?;
            Pin::new(&mut self.writer).poll_close(cx)
        })
        .await
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

    /// Writes from the front of the buffer until it holds fewer than `limit` bytes.
    fn poll_write_until(&mut self, cx: &mut Context<'_>, limit: usize) -> Poll<io::Result<()>> {
        while self.buf.len() >= limit {
            match ready!(Pin::new(&mut self.writer).poll_write(cx, &self.buf)) {
                Ok(0) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the writer accepted 0 bytes of a frame",
                    )));
                }
                Ok(n) => {
                    let _ = self.buf.split_to(n);
                }
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        Poll::Ready(Ok(()))
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
    let mut source = pin!(source);
    let mut sent = 0;
    while let Some(item) = crate::stream::next(&mut source).await {
        sink.send(item?).await?;
        sent += 1;
    }
    sink.flush().await?;
    Ok(sent)
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
