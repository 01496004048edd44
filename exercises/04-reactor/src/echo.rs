//! An echo server on the runtime: every connection gets back exactly the bytes it sends.

use std::io;

use crate::net::{TcpListener, TcpStream};
use crate::runtime::Handle;

/// Accepts connections forever, spawning an [`echo`] task for each one onto `handle`, so that
/// no connection waits for another. Returns only if accepting fails.
pub async fn serve(listener: TcpListener, handle: Handle) -> io::Result<()> {
    todo!("loop: accept, then handle.spawn(an async block that runs echo(stream))")
}

/// Writes back everything read from `stream` until the end of the stream (a read of `Ok(0)`),
/// then returns how many bytes were echoed. Every byte read is written back, in order, before
/// reading more.
pub async fn echo(stream: TcpStream) -> io::Result<u64> {
    todo!("loop: read into a buffer; 0 means done; else write_all what was read")
}
