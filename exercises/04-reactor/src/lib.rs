//! Stage 4 — the reactor. Read `README.md` in this directory first.
//!
//! Five pieces, each in its own file, in this order (`cargo test -p reactor` runs the parts in
//! order and stops at the first that fails):
//!
//! 1. `source.rs`: [`IoState`], one source's readiness (latched) and the wakers to wake.
//! 2. `reactor.rs`: [`Reactor`], a `mio::Poll` and its sources in a slab; [`Registered`], an I/O
//!    object registered with it (`poll_io`: try, and on `WouldBlock` wait for readiness).
//! 3. `runtime.rs`: [`Runtime`], Stage 2's executor (given) whose idle path blocks in the
//!    reactor, woken from other threads through the reactor's `mio::Waker`.
//! 4. `net.rs`: [`TcpListener`] and [`TcpStream`] on the reactor.
//! 5. `echo.rs`: [`serve`] and [`echo`], an echo server.

// The stubs name their parameters and fields so you can see what each function receives and
// what the given code relies on; until you use them the compiler (and clippy, for the
// `&mut Vec<Waker>` nothing pushes onto yet) would warn. Delete this line when you have
// finished the stage.
#![allow(unused_variables, dead_code, clippy::ptr_arg)]

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
