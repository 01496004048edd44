//! TCP on the reactor (Stage 4), with `futures::io`'s `AsyncRead` and `AsyncWrite` (Stage 9).
//!
//! Both traits are implemented for `TcpStream` and for `&TcpStream`, so one task can read and
//! write the same stream from two places (a reader and a writer joined or selected), as Stage
//! 9's `split` would allow. A read of `Ok(0)` is the end of the stream; a peer that reset the
//! connection reads as `Err(ConnectionReset)`.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use mio::Interest;

use crate::reactor::{Direction, Registered};
use crate::runtime;

/// A listening socket on the current runtime's reactor.
pub struct TcpListener {
    io: Registered<mio::net::TcpListener>,
}

/// A connected socket on the current runtime's reactor.
pub struct TcpStream {
    io: Registered<mio::net::TcpStream>,
}

impl TcpListener {
    /// Binds `addr` (`127.0.0.1:0` picks a free port: see [`local_addr`](Self::local_addr)).
    ///
    /// # Panics
    ///
    /// Outside a runtime's `block_on`.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let listener = mio::net::TcpListener::bind(addr)?;
        Ok(TcpListener {
            io: runtime::reactor().register(listener, Interest::READABLE)?,
        })
    }

    /// Takes over a listener bound elsewhere (a test binds it on its own thread to learn the
    /// port first). It is put in non-blocking mode.
    ///
    /// # Panics
    ///
    /// Outside a runtime's `block_on`.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        let listener = mio::net::TcpListener::from_std(listener);
        Ok(TcpListener {
            io: runtime::reactor().register(listener, Interest::READABLE)?,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Accepts one connection, waiting for it if none is queued.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = std::task::ready!(self.io.poll_io(Direction::Read, cx, |l| l.accept()));
        Poll::Ready(accepted.and_then(|(stream, addr)| Ok((TcpStream::register(stream)?, addr))))
    }

    /// Accepts one connection, waiting for it if none is queued.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }
}

impl TcpStream {
    fn register(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: runtime::reactor().register(stream, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Connects to `addr`.
    ///
    /// # Panics
    ///
    /// Outside a runtime's `block_on`.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::register(mio::net::TcpStream::connect(addr)?)?;
        poll_fn(|cx| {
            stream.io.poll_io(Direction::Write, cx, |s| {
                if let Some(err) = s.take_error()? {
                    return Err(err);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(err) if err.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(err) => Err(err),
                }
            })
        })
        .await?;
        Ok(stream)
    }

    /// Takes over a connected std stream (put in non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a runtime's `block_on`.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::register(mio::net::TcpStream::from_std(stream))
    }

    /// Shuts down one or both directions (the peer reads the end of the stream).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sets `TCP_NODELAY` (send small replies at once instead of waiting to batch them).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    fn read_ready(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(Direction::Read, cx, |mut s| s.read(buf))
    }

    fn write_ready(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(Direction::Write, cx, |mut s| s.write(buf))
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.read_ready(cx, buf)
    }
}

impl AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.read_ready(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_ready(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // a socket has no user-space buffer
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl AsyncWrite for &TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_ready(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener").field("io", &self.io).finish()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream").field("io", &self.io).finish()
    }
}
