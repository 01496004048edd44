//! The server: accept loop, one task per connection, the purge task, graceful shutdown.

use std::future::Future;
use std::io;

use kit::net::TcpListener;

use crate::db::Db;

/// The reply to a connection over the limit, written before it is closed.
pub const TOO_MANY_CLIENTS: &[u8] = b"-ERR max number of clients reached\r\n";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The most connections served at once. A connection accepted while this many are open
    /// gets [`TOO_MANY_CLIENTS`] and is closed; the open ones are not affected. A connection
    /// stops counting once its task has ended (its client left, or it was refused).
    pub max_connections: usize,
}

impl Default for Config {
    /// `max_connections: 10_000`.
    fn default() -> Config {
        Config {
            max_connections: 10_000,
        }
    }
}

/// [`serve`] with an empty [`Db`] and the default [`Config`].
pub async fn run(listener: TcpListener, shutdown: impl Future) -> io::Result<()> {
    serve(listener, Db::new(), Config::default(), shutdown).await
}

/// Serves RESP2 clients on `listener`, each connection in its own task (`kit::spawn`), with
/// `db` as the data, until `shutdown` completes. Runs [`Db::purge_task`] meanwhile.
///
/// **Each connection**: reads requests ([`parse_request`]) and answers each one, in the order
/// received, with exactly one reply (a request with no arguments gets none). Every complete
/// request already read is answered before the connection waits for more bytes, so requests
/// sent together (pipelined) or a request split across many writes are answered the same as
/// requests sent one by one. A command error (an unknown command, wrong arguments, a value
/// that is not an integer...) is an `-ERR` reply and the connection goes on; a
/// [`ProtocolError`](crate::frame::ProtocolError) is answered with `-ERR <its Display>` after
/// the replies to the requests before it, and then the connection is closed. A client that
/// closes, resets or vanishes mid-request ends only its own connection. Nothing one client
/// sends can end the server or change what another client reads, except through the data
/// (and `PUBLISH`).
///
/// **Replies**: `PING` `+PONG`, or its argument as a bulk string; `ECHO` its argument; `GET`
/// the value or `$-1`; `SET` `+OK`, or `$-1` when `NX`/`XX` prevented it (an `EX`/`PX`
/// deadline the clock cannot represent: `ERR invalid expire time in 'set' command`); `DEL`
/// and `EXISTS` the number of listed keys that were removed / that exist (a key listed twice
/// counts twice for `EXISTS`); `INCR` the new value or the [`IncrError`]'s message; `EXPIRE`
/// `:1` or `:0` as [`Db::expire`] returns (zero or negative seconds delete the key; a
/// deadline the clock cannot represent: `ERR invalid expire time in 'expire' command`);
/// `TTL` `:-2` missing, `:-1` no deadline, else the seconds left rounded to the nearest
/// (half up: 1.5 s is `2`, 0.4 s is `0`); `PUBLISH` the number of subscribers that received
/// the message.
///
/// **Pub/sub**: `SUBSCRIBE` replies, per channel, `*3` `subscribe`, the channel, the number of
/// channels the connection is now subscribed to. While subscribed to at least one channel,
/// the connection receives `*3` `message`, channel, message for each publish, in publish
/// order, and accepts only `SUBSCRIBE`, `UNSUBSCRIBE` and `PING` (which then replies `*2`
/// `pong` and its argument or an empty bulk string); any other command gets
/// `-ERR Can't execute '<name in lower case>': only SUBSCRIBE / UNSUBSCRIBE / PING are
/// allowed in this context`. `UNSUBSCRIBE` replies, per channel (all of them, in
/// subscription order, if none is named), `*3` `unsubscribe`, the channel, the number left;
/// with nothing to unsubscribe from, one reply with a `$-1` channel and `:0`.
///
/// **Expiry**: keys expire on the runtime's clock (`kit::time`), lazily on every read and
/// actively through the purge task, so an expired key leaves memory
/// ([`Db::stored_keys`]) once the clock passes its deadline even if no client asks for it.
///
/// **Shutdown**: when `shutdown` completes, the listener is closed at once (new connections
/// are refused), every connection answers the complete requests it has already read and is
/// then closed (subscribers too), and `serve` returns `Ok(())` once every connection task
/// has ended. Nothing it started is left running: not the purge task, not a connection.
///
/// # Errors
///
/// None in practice: an `accept` error (the process ran out of file descriptors, a connection
/// reset before it was accepted) is skipped and the loop goes on.
pub async fn serve(
    listener: TcpListener,
    db: Db,
    config: Config,
    shutdown: impl Future,
) -> io::Result<()> {
    todo!()
}
