//! Stage 9 — streams and async I/O: combinators, `AsyncRead`/`AsyncWrite` on a TCP stream,
//! buffered I/O, framing codecs and a pipeline whose memory stays bounded.
//!
//! Given (nothing to write): [`Runtime`], [`Reactor`], [`IoState`] (Stage 4's reference) and
//! [`TcpListener`] / [`TcpStream`] without their reads and writes.
//!
//! Yours, part by part:
//! 1. [`next`], [`map`], [`filter`], [`take`] (module [`stream`]);
//! 2. [`buffer_unordered`] (module [`buffered`]);
//! 3. `AsyncRead` and `AsyncWrite` for [`TcpStream`] and `&TcpStream` (`tcp.rs`);
//! 4. [`read_exact`], [`write_all`], [`flush`], [`close`] (module [`io`]);
//! 5. [`BufReader`], [`BufWriter`] (module [`buf`]);
//! 6. [`Decoder`], [`Encoder`], [`LinesCodec`], [`LengthCodec`] (module [`codec`]);
//! 7. [`FramedRead`], [`FramedWrite`], [`forward`] (module [`framed`]).

// The stubs name their parameters and fields so you can see what each function receives and
// what the given code relies on; until you use them the compiler would warn. Delete this line
// when you have finished the stage.
#![allow(unused_variables, dead_code)]

pub mod buf;
pub mod buffered;
pub mod codec;
pub mod framed;
pub mod io;
mod net;
mod reactor;
mod runtime;
mod source;
pub mod stream;
mod tcp;

pub use buf::{BufReader, BufWriter};
pub use buffered::{BufferUnordered, buffer_unordered};
pub use codec::{Decoder, Encoder, LengthCodec, LinesCodec};
pub use framed::{BACKPRESSURE_BOUNDARY, FramedRead, FramedWrite, READ_CHUNK, forward};
pub use io::{close, flush, read_exact, write_all};
pub use net::{TcpListener, TcpStream};
pub use reactor::{Reactor, Registered};
pub use runtime::{Handle, Runtime};
pub use source::{Direction, IoState, Tick};
pub use stream::{Filter, Map, Next, Take, filter, map, next, take};

/// Re-exported so that tests and users name the same crates as this one.
pub use {bytes, futures, mio};
