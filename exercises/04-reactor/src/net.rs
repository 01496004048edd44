//! Async TCP on the reactor: a listener that accepts and a stream that reads and writes.
//!
//! Every operation is [`Registered::poll_io`] with the right non-blocking system call. What
//! differs is what counts as done:
//! * `read` is done with `Ok(n)`, including `Ok(0)`, which means the end of the stream;
//! * `write` may write fewer bytes than asked (a partial write): `write_all` loops;
//! * `connect` is done when the socket is writable *and* connected.

use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{Context, Poll};

use crate::reactor::{Reactor, Registered};

/// A TCP socket listening for connections, registered with a [`Reactor`] for reading.
#[derive(Debug)]
pub struct TcpListener {
    io: Registered<mio::net::TcpListener>,
}

/// A TCP connection registered with a [`Reactor`] for reading and writing. Reads and writes
/// take `&self`, so one task can read while another writes.
#[derive(Debug)]
pub struct TcpStream {
    io: Registered<mio::net::TcpStream>,
}

impl TcpListener {
    /// Binds a non-blocking listener to `addr` and registers it with `reactor` (READABLE).
    pub fn bind(reactor: &Reactor, addr: SocketAddr) -> io::Result<TcpListener> {
        todo!("mio::net::TcpListener::bind, then reactor.register(.., Interest::READABLE)")
    }

    /// The address the listener is bound to (with the port the OS chose for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Accepts one connection, registered with the same reactor as the listener.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        todo!("poll_io(Read, ..) around mio's accept, then register the new stream")
    }

    /// Waits for a connection and accepts it.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }
}

impl TcpStream {
    /// Connects to `addr` without blocking the thread: waits until the socket is writable and
    /// connected. Fails with the connection's error (refused, say).
    pub async fn connect(reactor: &Reactor, addr: SocketAddr) -> io::Result<TcpStream> {
        todo!("mio's connect, register, then poll_io(Write) until take_error/peer_addr say so")
    }

    /// Wraps a connected std stream: makes it non-blocking and registers it with `reactor`
    /// (READABLE | WRITABLE).
    pub fn from_std(reactor: &Reactor, stream: std::net::TcpStream) -> io::Result<TcpStream> {
        todo!("set_nonblocking(true), mio::net::TcpStream::from_std, register for both")
    }

    /// Reads into `buf`: `Ready(Ok(n))` with `n > 0` bytes read, `Ready(Ok(0))` at the end of
    /// the stream (the peer shut down its writing side), or `Pending` until there is data.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        todo!("poll_io(Read, ..) around a read of the mio stream")
    }

    /// Writes some of `buf`: `Ready(Ok(n))`, where `n` may be less than `buf.len()`, or
    /// `Pending` until there is room in the send buffer.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        todo!("poll_io(Write, ..) around a write to the mio stream")
    }

    /// Reads into `buf`; `Ok(0)` means the end of the stream.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes some of `buf` and returns how much.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`, however many partial writes that takes. A write of 0 bytes is an
    /// error (`ErrorKind::WriteZero`).
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        todo!("write until nothing is left, going on from where each write stopped")
    }

    /// Shuts down the reading side, the writing side, or both (after `Shutdown::Write` the
    /// peer reads the end of the stream).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

/// The socket itself, for socket options the type does not wrap (`socket2::SockRef::from`).
#[cfg(unix)]
impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

/// The socket itself, for socket options the type does not wrap (`socket2::SockRef::from`).
#[cfg(unix)]
impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
