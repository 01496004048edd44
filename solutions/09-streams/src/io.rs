//! Part 4: the helpers every protocol needs, over any `AsyncRead`/`AsyncWrite` + `Unpin`.
//!
//! A single `poll_read` or `poll_write` may move fewer bytes than asked (a partial read or
//! write): 1 byte of a 4-byte header, 3 bytes of a 1 MiB reply. These loops are where that is
//! handled once, so that no protocol code ever assumes one call moved everything.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::Poll;

use futures::io::{AsyncRead, AsyncWrite};

/// Reads exactly `buf.len()` bytes into `buf`, however many reads that takes (each continues
/// where the previous one stopped).
///
/// * `Ok(())` once `buf` is full; at once, without polling `reader`, if `buf` is empty.
/// * `Err` of kind `UnexpectedEof` if `reader` reaches the end of its stream (`Ok(0)`) before
///   `buf` is full: a read of 0 bytes is never "nothing yet".
/// * Any other error from `reader` is returned as it is.
///
/// `Pending` only when `reader` returned `Pending` (its waker stored by `reader`); the bytes
/// read so far are kept across polls of the returned future.
pub async fn read_exact<R>(reader: &mut R, buf: &mut [u8]) -> io::Result<()>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut filled = 0;
    poll_fn(|cx| {
        while filled < buf.len() {
            match std::task::ready!(Pin::new(&mut *reader).poll_read(cx, &mut buf[filled..])) {
                Ok(0) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the stream ended after {filled} of {} bytes", buf.len()),
                    )));
                }
                Ok(n) => filled += n,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// Writes all of `buf`, however many partial writes that takes (each continues where the
/// previous one stopped).
///
/// * `Ok(())` once every byte was accepted; at once, without polling `writer`, if `buf` is
///   empty. It does not flush: call [`flush`] when the bytes must leave a buffering writer.
/// * `Err` of kind `WriteZero` if `writer` accepts 0 bytes of a non-empty buffer (it would
///   accept none, ever: looping on it never ends).
/// * Any other error from `writer` is returned as it is.
///
/// `Pending` only when `writer` returned `Pending`.
pub async fn write_all<W>(writer: &mut W, buf: &[u8]) -> io::Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut written = 0;
    poll_fn(|cx| {
        while written < buf.len() {
            match std::task::ready!(Pin::new(&mut *writer).poll_write(cx, &buf[written..])) {
                Ok(0) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        format!(
                            "the writer accepted 0 bytes after {written} of {}",
                            buf.len()
                        ),
                    )));
                }
                Ok(n) => written += n,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// Flushes `writer`: polls its `poll_flush` until it is ready and returns what it returned.
pub async fn flush<W>(writer: &mut W) -> io::Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await
}

/// Closes `writer`: polls its `poll_close` until it is ready and returns what it returned
/// (a buffering writer flushes first; a TCP stream shuts down its writing side).
pub async fn close<W>(writer: &mut W) -> io::Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    poll_fn(|cx| Pin::new(&mut *writer).poll_close(cx)).await
}
