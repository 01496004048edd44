//! The server: accept loop, one task per connection, the purge task, graceful shutdown.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::io::{AsyncRead, AsyncWriteExt};
use futures::{FutureExt, StreamExt};
use kit::net::TcpStream;
use kit::{JoinHandle, net::TcpListener};

use crate::command::Command;
use crate::db::{Db, IncrError, Message, Ttl};
use crate::frame::{Frame, parse_request};

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
    let mut shutdown = pin!(shutdown);
    let mut purge = pin!(db.purge_task());
    // Each connection's task and the sender whose drop tells it to stop.
    let mut connections: Vec<(JoinHandle<()>, oneshot::Sender<()>)> = Vec::new();
    let open = Rc::new(Cell::new(0_usize));
    let mut next_id = 0_u64;
    loop {
        let accepted = poll_fn(|cx| {
            if shutdown.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            let _ = purge.as_mut().poll(cx); // never finishes
            listener.poll_accept(cx).map(Some)
        })
        .await;
        let Some(accepted) = accepted else { break };
        let Ok((stream, _)) = accepted else { continue };
        connections.retain(|(task, _)| !task.is_finished());
        let (stop, stopped) = oneshot::channel();
        let task = if open.get() >= config.max_connections {
            kit::spawn(async move {
                let mut stream = stream;
                let _ = stream.write_all(TOO_MANY_CLIENTS).await;
            })
        } else {
            let _ = stream.set_nodelay(true);
            let guard = OpenGuard::new(&open);
            let db = db.clone();
            next_id += 1;
            let id = next_id;
            kit::spawn(async move {
                let _guard = guard;
                let _ = Connection::new(stream, db, id).run(stopped).await;
            })
        };
        connections.push((task, stop));
    }
    drop(listener);
    let (tasks, stops): (Vec<_>, Vec<_>) = connections.into_iter().unzip();
    drop(stops);
    for task in tasks {
        task.await;
    }
    Ok(())
}

/// Counts a connection as open for as long as its task holds it.
struct OpenGuard {
    open: Rc<Cell<usize>>,
}

impl OpenGuard {
    fn new(open: &Rc<Cell<usize>>) -> OpenGuard {
        open.set(open.get() + 1);
        OpenGuard {
            open: Rc::clone(open),
        }
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.open.set(self.open.get() - 1);
    }
}

/// What a connection waits for.
enum Event {
    /// The socket's read finished (bytes, end of stream, or an error).
    Read(io::Result<usize>),
    /// A published message arrived.
    Message(Message),
    /// The server is shutting down.
    Stop,
}

/// One client's state.
struct Connection {
    /// The client's socket (read and written through `&TcpStream`).
    stream: TcpStream,
    /// The server's data, shared with every connection.
    db: Db,
    /// Names this connection in the db's subscriber lists.
    id: u64,
    /// Bytes read and not yet parsed.
    input: Vec<u8>,
    /// Replies not yet written.
    output: Vec<u8>,
    /// The channels subscribed to, in subscription order.
    channels: Vec<Vec<u8>>,
    /// Where the db sends published messages (a clone is registered per channel).
    sender: mpsc::UnboundedSender<Message>,
    /// The published messages for this connection, in publish order.
    messages: mpsc::UnboundedReceiver<Message>,
}

impl Connection {
    fn new(stream: TcpStream, db: Db, id: u64) -> Connection {
        let (sender, messages) = mpsc::unbounded();
        Connection {
            stream,
            db,
            id,
            input: Vec::new(),
            output: Vec::new(),
            channels: Vec::new(),
            sender,
            messages,
        }
    }

    async fn run(mut self, mut stopped: oneshot::Receiver<()>) -> io::Result<()> {
        let mut chunk = vec![0_u8; 16 * 1024];
        let result = loop {
            let closing = self.answer();
            if !self.output.is_empty() {
                if let Err(err) = self.stream.write_all(&self.output).await {
                    break Err(err);
                }
                self.output.clear();
            }
            if closing {
                break Ok(());
            }
            let event = poll_fn(|cx| {
                if stopped.poll_unpin(cx).is_ready() {
                    return Poll::Ready(Event::Stop);
                }
                if let Poll::Ready(Some(message)) = self.messages.poll_next_unpin(cx) {
                    return Poll::Ready(Event::Message(message));
                }
                pin!(&self.stream)
                    .poll_read(cx, &mut chunk)
                    .map(Event::Read)
            })
            .await;
            match event {
                Event::Stop => break Ok(()),
                Event::Message((channel, message)) => {
                    message_frame(channel, message).encode(&mut self.output);
                    while let Ok((channel, message)) = self.messages.try_recv() {
                        message_frame(channel, message).encode(&mut self.output);
                    }
                }
                Event::Read(Ok(0)) => break Ok(()),
                Event::Read(Ok(n)) => self.input.extend_from_slice(&chunk[..n]),
                Event::Read(Err(err)) => break Err(err),
            }
        };
        for channel in &self.channels {
            self.db.unsubscribe(channel, self.id);
        }
        result
    }

    /// Answers every complete request in `input` into `output`; true if the connection must
    /// close (a protocol error).
    fn answer(&mut self) -> bool {
        let mut used = 0;
        let closing = loop {
            match parse_request(&self.input[used..]) {
                Ok(Some((args, n))) => {
                    used += n;
                    if !args.is_empty() {
                        self.execute(args);
                    }
                }
                Ok(None) => break false,
                Err(err) => {
                    Frame::error(err).encode(&mut self.output);
                    break true;
                }
            }
        };
        self.input.drain(..used);
        closing
    }

    fn execute(&mut self, args: Vec<Vec<u8>>) {
        if !self.channels.is_empty() {
            let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
            if !matches!(name.as_str(), "subscribe" | "unsubscribe" | "ping") {
                Frame::error(format_args!(
                    "Can't execute '{name}': only SUBSCRIBE / UNSUBSCRIBE / PING are allowed in this context"
                ))
                .encode(&mut self.output);
                return;
            }
        }
        match Command::parse(args) {
            Ok(Command::Subscribe(channels)) => self.subscribe(channels),
            Ok(Command::Unsubscribe(channels)) => self.unsubscribe(channels),
            Ok(command) => self.apply(command).encode(&mut self.output),
            Err(error) => error.encode(&mut self.output),
        }
    }

    /// The reply to any command but `SUBSCRIBE` and `UNSUBSCRIBE`.
    fn apply(&mut self, command: Command) -> Frame {
        let now = kit::time::now();
        let db = &self.db;
        match command {
            Command::Ping(message) if !self.channels.is_empty() => Frame::Array(vec![
                Frame::Bulk(b"pong".to_vec()),
                Frame::Bulk(message.unwrap_or_default()),
            ]),
            Command::Ping(None) => Frame::Simple("PONG".into()),
            Command::Ping(Some(message)) | Command::Echo(message) => Frame::Bulk(message),
            Command::Get(key) => db.get(&key, now).map_or(Frame::Null, Frame::Bulk),
            Command::Set {
                key,
                value,
                expire,
                condition,
            } => {
                let expires_at = match expire.map(|after| now.checked_add(after)) {
                    Some(None) => return Frame::error("invalid expire time in 'set' command"),
                    Some(at) => at,
                    None => None,
                };
                if db.set(key, value, expires_at, condition, now) {
                    Frame::Simple("OK".into())
                } else {
                    Frame::Null
                }
            }
            Command::Del(keys) => count(keys.iter().filter(|key| db.del(key, now))),
            Command::Exists(keys) => count(keys.iter().filter(|key| db.exists(key, now))),
            Command::Incr(key) => match db.incr(&key, now) {
                Ok(n) => Frame::Integer(n),
                Err(IncrError::NotAnInteger) => {
                    Frame::error("value is not an integer or out of range")
                }
                Err(IncrError::Overflow) => Frame::error("increment or decrement would overflow"),
            },
            Command::Expire { key, seconds } => {
                let at = match u64::try_from(seconds) {
                    Ok(seconds) => now.checked_add(Duration::from_secs(seconds)),
                    Err(_) => Some(now),
                };
                let Some(at) = at else {
                    return Frame::error("invalid expire time in 'expire' command");
                };
                Frame::Integer(db.expire(&key, at, now).into())
            }
            Command::Ttl(key) => Frame::Integer(match db.ttl(&key, now) {
                Ttl::Missing => -2,
                Ttl::Persistent => -1,
                Ttl::Remaining(left) => {
                    i64::try_from(left.as_millis().saturating_add(500) / 1000).unwrap_or(i64::MAX)
                }
            }),
            Command::Publish { channel, message } => {
                Frame::Integer(db.publish(&channel, &message) as i64)
            }
            Command::Subscribe(_) | Command::Unsubscribe(_) => {
                unreachable!("answered by `subscribe` and `unsubscribe`")
            }
        }
    }

    fn subscribe(&mut self, channels: Vec<Vec<u8>>) {
        for channel in channels {
            if !self.channels.contains(&channel) {
                self.db.subscribe(&channel, self.id, &self.sender);
                self.channels.push(channel.clone());
            }
            subscription("subscribe", Some(channel), self.channels.len()).encode(&mut self.output);
        }
    }

    fn unsubscribe(&mut self, channels: Vec<Vec<u8>>) {
        let channels = if channels.is_empty() {
            self.channels.clone()
        } else {
            channels
        };
        if channels.is_empty() {
            subscription("unsubscribe", None, 0).encode(&mut self.output);
        }
        for channel in channels {
            if let Some(i) = self.channels.iter().position(|c| *c == channel) {
                self.channels.remove(i);
                self.db.unsubscribe(&channel, self.id);
            }
            subscription("unsubscribe", Some(channel), self.channels.len())
                .encode(&mut self.output);
        }
    }
}

/// `*3` kind, channel (or `$-1`), count.
fn subscription(kind: &str, channel: Option<Vec<u8>>, count: usize) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(kind.as_bytes().to_vec()),
        channel.map_or(Frame::Null, Frame::Bulk),
        Frame::Integer(count as i64),
    ])
}

/// A published message as a subscriber receives it.
fn message_frame(channel: Vec<u8>, message: Vec<u8>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(b"message".to_vec()),
        Frame::Bulk(channel),
        Frame::Bulk(message),
    ])
}

/// The number of items as an integer reply.
fn count<T>(items: impl Iterator<Item = T>) -> Frame {
    Frame::Integer(items.count() as i64)
}
