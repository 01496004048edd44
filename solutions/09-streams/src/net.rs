//! Given (Stage 4's reference, trimmed): a TCP listener and a TCP stream registered with a
//! [`Reactor`]. Reading and writing are yours: `TcpStream`'s `AsyncRead` and `AsyncWrite`
//! impls live in `tcp.rs` (part 3), and reach the socket through the `io` field.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{Context, Poll, ready};

use mio::Interest;

use crate::reactor::{Reactor, Registered};
use crate::source::Direction;

/// A TCP socket listening for connections, registered with a [`Reactor`].
pub struct TcpListener {
    io: Registered<mio::net::TcpListener>,
}

/// A TCP connection registered with a [`Reactor`] for reading and writing. `TcpStream` and
/// `&TcpStream` implement `futures::io::AsyncRead` and `AsyncWrite` (part 3, `tcp.rs`), so one
/// task can read through a `&TcpStream` while another writes through another.
pub struct TcpStream {
    /// The socket and its readiness (`poll_ready`, `clear_ready`): what part 3 works with.
    pub(crate) io: Registered<mio::net::TcpStream>,
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
        loop {
            let tick = ready!(self.io.poll_ready(Direction::Read, cx));
            match self.io.get_ref().accept() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.io.clear_ready(Direction::Read, tick);
                }
                Err(err) => return Poll::Ready(Err(err)),
                Ok((stream, addr)) => {
                    let stream = TcpStream::register(self.io.reactor(), stream);
                    return Poll::Ready(stream.map(|stream| (stream, addr)));
                }
            }
        }
    }

    /// Waits for a connection and accepts it.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }
}

impl TcpStream {
    fn register(reactor: &Reactor, stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: reactor.register(stream, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Connects to `addr` without blocking the thread: waits for the handshake to finish.
    pub async fn connect(reactor: &Reactor, addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::register(reactor, mio::net::TcpStream::connect(addr)?)?;
        poll_fn(|cx| {
            loop {
                let tick = ready!(stream.io.poll_ready(Direction::Write, cx));
                let socket = stream.io.get_ref();
                if let Some(err) = socket.take_error()? {
                    return Poll::Ready(Err(err));
                }
                match socket.peer_addr() {
                    Ok(_) => return Poll::Ready(Ok(())),
                    // Writable, but the handshake is not over: wait for the next event.
                    Err(err) if err.kind() == io::ErrorKind::NotConnected => {
                        stream.io.clear_ready(Direction::Write, tick);
                    }
                    Err(err) => return Poll::Ready(Err(err)),
                }
            }
        })
        .await?;
        Ok(stream)
    }

    /// Wraps a connected std stream: makes it non-blocking and registers it with `reactor`.
    pub fn from_std(reactor: &Reactor, stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::register(reactor, mio::net::TcpStream::from_std(stream))
    }

    /// Shuts down the reading side, the writing side, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
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
