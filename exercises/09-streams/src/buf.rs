//! Part 5: buffered reading and writing.
//!
//! ```text
//!   BufReader:  inner ──(one big read)──► [ . . . pos ═══ unread ═══ filled . . . ] ──► small reads
//!   BufWriter:  small writes ──► [ ═══ buffered ═══ . . . capacity ] ──(flush: write all)──► inner
//! ```
//!
//! Both trade a copy for fewer calls into the inner reader or writer. The writer's side has a
//! rule that is easy to forget: bytes in a `BufWriter` are *not sent* until it is flushed (or
//! fills up). A request written into a `BufWriter` and never flushed waits there while the
//! program waits for the reply: neither ever comes.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncBufRead, AsyncRead, AsyncWrite};

/// The capacity of [`BufReader::new`] and [`BufWriter::new`].
pub const DEFAULT_CAPACITY: usize = 8 * 1024;

/// Adds a read buffer to `R`: many small reads cost one read of `R`.
///
/// Invariant: `pos <= filled <= buf.len()`; `buf[pos..filled]` is the unread data.
pub struct BufReader<R> {
    inner: R,
    /// The buffer, `capacity` bytes, allocated once.
    buf: Box<[u8]>,
    /// The first unread byte.
    pos: usize,
    /// The end of the data read from `inner`.
    filled: usize,
}

impl<R: AsyncRead + Unpin> BufReader<R> {
    /// A reader with a [`DEFAULT_CAPACITY`] (8 KiB) buffer.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A reader with a buffer of `capacity` bytes.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 (a read into an empty buffer returns 0 bytes, which would read as
    /// the end of the stream).
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        todo!("refuse a capacity of 0; allocate the buffer once")
    }

    /// The bytes read from the inner reader and not yet returned.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader. Reading from it directly skips what is buffered.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader; what was buffered is lost.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// * With unread bytes in the buffer: copies as many as fit into `out` and returns at once,
///   without polling the inner reader (it may have nothing more for a long time).
/// * With an empty buffer: reads from the inner reader once: straight into `out` if `out` is
///   at least as large as the capacity (nothing to gain from a copy), otherwise into the
///   buffer (one `poll_read` of up to `capacity` bytes), then copies. `Ok(0)` from the inner
///   reader (the end of the stream) is returned as `Ok(0)`.
impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        todo!(
            "buffered bytes? copy them. Empty buffer: a big `out` reads straight through, else fill the buffer once, then copy"
        )
    }
}

/// `poll_fill_buf` returns the unread bytes, reading from the inner reader (once, up to the
/// capacity) only when there are none; an empty slice means the end of the stream.
/// `consume(n)` marks `n` of them read (at most as many as there are).
impl<R: AsyncRead + Unpin> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        todo!(
            "read from the inner reader only when nothing unread is left; return the unread bytes"
        )
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        todo!("mark amt bytes as read (never past what was filled)")
    }
}

/// Adds a write buffer to `W`: many small writes cost one write of `W`, at the price of
/// holding bytes back until the buffer fills up or is flushed.
///
/// Invariants: `written <= buf.len() <= capacity`; `buf[written..]` has not been accepted by
/// the inner writer yet (`written` is how far an interrupted flush got).
pub struct BufWriter<W> {
    inner: W,
    /// Bytes accepted by `poll_write`; never more than `capacity`.
    buf: Vec<u8>,
    /// How many bytes at the front of `buf` the inner writer has already accepted.
    written: usize,
    capacity: usize,
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    /// A writer with a [`DEFAULT_CAPACITY`] (8 KiB) buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A writer with a buffer of `capacity` bytes (0 is allowed: every write then goes
    /// straight through).
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            written: 0,
            capacity,
        }
    }

    /// The bytes accepted by `poll_write` that the inner writer has not accepted yet.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer. Writing to it directly puts bytes before the buffered ones.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner writer; buffered bytes are lost (flush first).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// * `poll_write(data)`: if `data` fits in the free part of the buffer, copies it there and
///   returns `Ok(data.len())` without touching the inner writer. Otherwise writes the buffer
///   out first (all of it; `Pending` while the inner writer is), then either buffers `data`
///   or, if it is at least as large as the capacity, writes it straight to the inner writer
///   (one `poll_write`, which may be partial). The buffer never holds more than `capacity`
///   bytes.
/// * `poll_flush`: writes every buffered byte out (through partial writes and `Pending`),
///   *then* flushes the inner writer. `Ready(Ok(()))` means the bytes left this writer and
///   the inner one was flushed too.
/// * `poll_close`: the same write-out, then closes the inner writer.
///
/// In all three, `Ok(0)` from the inner writer while bytes are buffered is a `WriteZero`
/// error, and an error leaves the unwritten bytes in the buffer.
impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        todo!(
            "fits? copy it in. Else write the whole buffer out first, then buffer `data` or write it straight through"
        )
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        todo!(
            "write every buffered byte out (keep progress across Pending), THEN flush the inner writer"
        )
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        todo!("write every buffered byte out, then close the inner writer")
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("inner", &self.inner)
            .field("buffered", &(self.filled - self.pos))
            .field("capacity", &self.buf.len())
            .finish()
    }
}

impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("inner", &self.inner)
            .field("buffered", &(self.buf.len() - self.written))
            .field("capacity", &self.capacity)
            .finish()
    }
}
