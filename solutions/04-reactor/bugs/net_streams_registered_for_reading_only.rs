//! bug: streams are registered with READABLE interest only, so a write that gets WouldBlock (or the very first write) waits for a writable event that never comes
//! replaces: src/net.rs
//! caught-by: part4_tcp::write_all_survives_partial_writes_through_a_small_send_buffer
//! caught-by: part5_echo::echo_sends_back_what_it_receives

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{Context, Poll};

use mio::Interest;

use crate::reactor::{Reactor, Registered};
use crate::source::Direction;

/// A TCP socket listening for connections, registered with a [`Reactor`].
pub struct TcpListener {
    io: Registered<mio::net::TcpListener>,
}

/// A TCP connection registered with a [`Reactor`]. Reads and writes take `&self`, so one task
/// can read while another writes.
pub struct TcpStream {
    io: Registered<mio::net::TcpStream>,
}

impl TcpListener {
    /// Binds a non-blocking listener to `addr` and registers it with `reactor`.
    pub fn bind(reactor: &Reactor, addr: SocketAddr) -> io::Result<TcpListener> {
        let listener = mio::net::TcpListener::bind(addr)?;
        Ok(TcpListener {
            io: reactor.register(listener, Interest::READABLE)?,
        })
    }

    /// The address the listener is bound to (with the port the OS chose for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Accepts one connection, registered with the same reactor as the listener.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = std::task::ready!(self.io.poll_io(Direction::Read, cx, |l| l.accept()));
        Poll::Ready(accepted.and_then(|(stream, addr)| {
            // mio's accept returns a socket that is already non-blocking.
            Ok((TcpStream::register(self.io.reactor(), stream)?, addr))
        }))
    }

    /// Waits for a connection and accepts it.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }
}

impl TcpStream {
    fn register(reactor: &Reactor, stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            // BUG: no write interest.
            io: reactor.register(stream, Interest::READABLE)?,
        })
    }

    /// Connects to `addr` without blocking the thread: waits for the handshake to finish.
    pub async fn connect(reactor: &Reactor, addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::register(reactor, mio::net::TcpStream::connect(addr)?)?;
        // Writable means the handshake is over, one way or the other, or it was a spurious
        // event: ask the socket which.
        poll_fn(|cx| {
            stream.io.poll_io(Direction::Write, cx, |s| {
                if let Some(err) = s.take_error()? {
                    return Err(err);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(()),
                    // Not connected yet: treat it as WouldBlock and wait for the next event.
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

    /// Wraps a connected std stream: makes it non-blocking and registers it with `reactor`.
    pub fn from_std(reactor: &Reactor, stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::register(reactor, mio::net::TcpStream::from_std(stream))
    }

    /// Reads into `buf`: `Ok(n)` with `n > 0` bytes read, or `Ok(0)` at the end of the stream
    /// (the peer shut down its writing side), or `Pending` until there is data.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(Direction::Read, cx, |mut stream| stream.read(buf))
    }

    /// Writes some of `buf`: `Ok(n)`, where `n` may be less than `buf.len()`, or `Pending`
    /// until there is room in the send buffer.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(Direction::Write, cx, |mut stream| stream.write(buf))
    }

    /// Reads into `buf`; `Ok(0)` means the end of the stream.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes some of `buf` and returns how much.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`, however many partial writes that takes.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Shuts down the reading side, the writing side, or both (no more data will be sent: the
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
