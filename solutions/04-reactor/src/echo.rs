//! An echo server on the runtime: every connection gets back exactly the bytes it sends.
//!
//! One task accepts; every connection gets a task of its own, so a client that sends nothing
//! costs nothing and holds up no one.

use std::io;

use crate::net::{TcpListener, TcpStream};
use crate::runtime::Handle;

/// The size of each connection's buffer. Bigger payloads simply take several reads.
const BUFFER: usize = 4096;

/// Accepts connections forever, spawning an [`echo`] task for each one onto `handle`.
/// Returns only if accepting fails.
pub async fn serve(listener: TcpListener, handle: Handle) -> io::Result<()> {
    loop {
        let (stream, _peer) = listener.accept().await?;
        handle.spawn(async move {
            // A connection that fails (reset by the peer, say) ends; the server goes on.
            let _ = echo(stream).await;
        });
    }
}

/// Writes back everything read from `stream` until the peer shuts down its writing side
/// (end of stream), then returns how many bytes were echoed. Dropping the stream closes it.
pub async fn echo(stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; BUFFER];
    let mut echoed = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(echoed);
        }
        stream.write_all(&buf[..n]).await?;
        echoed += n as u64;
    }
}
