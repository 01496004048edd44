//! Part 3: `futures::io::AsyncRead` and `AsyncWrite` for [`TcpStream`] (and `&TcpStream`).
//!
//! Every operation is the same loop over the socket's readiness (`self.io`, a
//! [`Registered`](crate::Registered)):
//!
//! ```text
//!   loop:
//!     poll_ready(dir, cx) ── Pending ─► return Pending (the waker is stored: the reactor
//!        │ Ready(tick)                  wakes it on the next event; nothing else does)
//!        v
//!     the system call (read / write on the non-blocking socket)
//!        ├─ Err(WouldBlock) ─► clear_ready(dir, tick), go round (poll_ready stores the waker)
//!        └─ anything else   ─► return Ready(it): Ok(n), Ok(0) (end of stream), an error
//! ```
//!
//! Never return `Pending` straight after `WouldBlock`: readiness is still set, so no waker was
//! stored and no event will come (a hang); and never wake yourself to try again (a busy loop
//! that keeps a core at 100% on an idle connection).

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::io::{AsyncRead, AsyncWrite};

use crate::net::TcpStream;
use crate::source::Direction;

/// One non-blocking operation, retried until it does not say `WouldBlock`.
fn poll_op<R>(
    stream: &TcpStream,
    direction: Direction,
    cx: &mut Context<'_>,
    mut op: impl FnMut(&mio::net::TcpStream) -> io::Result<R>,
) -> Poll<io::Result<R>> {
    loop {
        let tick = ready!(stream.io.poll_ready(direction, cx));
        match op(stream.io.get_ref()) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                stream.io.clear_ready(direction, tick);
            }
            result => return Poll::Ready(result),
        }
    }
}

/// Reads from the socket.
///
/// `Ready(Ok(n))` with `0 < n <= buf.len()` bytes read; `Ready(Ok(0))` at the end of the
/// stream (the peer shut down its writing side), or at once for an empty `buf`; an error as
/// the socket reported it. `Pending` only after the socket said `WouldBlock` and its
/// readiness was cleared, with the waker of this poll stored, so the reactor wakes the task
/// when data arrives; an idle socket's `Pending` wakes nothing by itself. The readiness is
/// cleared only on `WouldBlock`, never after a read that returned data.
impl AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        poll_op(self.get_mut(), Direction::Read, cx, |mut socket| {
            socket.read(buf)
        })
    }
}

/// Writes to the socket, and closes its writing side.
///
/// * `poll_write`: `Ready(Ok(n))` with `0 < n <= buf.len()` (a partial write when the send
///   buffer has room for only part of `buf`), `Ready(Ok(0))` at once for an empty `buf`, or
///   an error. `Pending` only after `WouldBlock`, as for reads: the waker of this poll is
///   stored and woken when the send buffer has room again.
/// * `poll_flush`: `Ready(Ok(()))` at once: a TCP stream keeps nothing in user space (the
///   kernel sends what was written).
/// * `poll_close`: shuts down the writing side (`Shutdown::Write`), so the peer reads the end
///   of the stream; the reading side stays open.
impl AsyncWrite for &TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        poll_op(self.get_mut(), Direction::Write, cx, |mut socket| {
            socket.write(buf)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

/// The same as for `&TcpStream`.
impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }
}

/// The same as for `&TcpStream`.
impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}
