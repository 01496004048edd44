//! Stage 4 — the reactor: the reference solution.
//!
//! * [`IoState`]: latched readiness and the wakers of one I/O source.
//! * [`Reactor`]: a `mio::Poll`, the sources registered with it (a slab keyed by token), and a
//!   `mio::Waker` to interrupt it from other threads.
//! * [`Runtime`]: Stage 2's executor, which blocks in the reactor when nothing is ready.
//! * [`TcpListener`], [`TcpStream`]: async TCP on the reactor.
//! * [`serve`], [`echo`]: an echo server.

mod echo;
mod net;
mod reactor;
mod runtime;
mod source;

pub use echo::{echo, serve};
pub use net::{TcpListener, TcpStream};
pub use reactor::{Reactor, Registered};
pub use runtime::{Handle, QueuePoint, Runtime};
pub use source::{Direction, IoState, Tick};

/// Re-exported so that tests and users name the same `mio` types as this crate.
pub use mio;
