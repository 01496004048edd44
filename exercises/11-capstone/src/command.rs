//! From a request's arguments to a [`Command`]: the name, matched without regard to case, and
//! the arguments each command takes, checked before anything runs.

use std::time::Duration;

use crate::frame::Frame;

/// What `SET` does when the key exists or not (`NX`, `XX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetCondition {
    /// No option: set in any case.
    Always,
    /// `NX`: set only if the key does not exist.
    IfAbsent,
    /// `XX`: set only if the key exists.
    IfPresent,
}

/// A request the server understands. Keys, values, channels and messages are byte strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `PING [message]`.
    Ping(Option<Vec<u8>>),
    /// `ECHO message`.
    Echo(Vec<u8>),
    /// `GET key`.
    Get(Vec<u8>),
    /// `SET key value [EX seconds | PX milliseconds] [NX | XX]`, options in any order, names
    /// in any case. `expire` is `None` without `EX`/`PX`.
    Set {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
        /// How long from now the key lives, from `EX` or `PX`.
        expire: Option<Duration>,
        /// `NX`, `XX` or neither.
        condition: SetCondition,
    },
    /// `DEL key [key ...]`.
    Del(Vec<Vec<u8>>),
    /// `EXISTS key [key ...]`.
    Exists(Vec<Vec<u8>>),
    /// `INCR key`.
    Incr(Vec<u8>),
    /// `EXPIRE key seconds`; `seconds` may be zero or negative (the key is then deleted).
    Expire {
        /// The key.
        key: Vec<u8>,
        /// Seconds from now.
        seconds: i64,
    },
    /// `TTL key`.
    Ttl(Vec<u8>),
    /// `PUBLISH channel message`.
    Publish {
        /// The channel.
        channel: Vec<u8>,
        /// The message.
        message: Vec<u8>,
    },
    /// `SUBSCRIBE channel [channel ...]`.
    Subscribe(Vec<Vec<u8>>),
    /// `UNSUBSCRIBE [channel ...]`: no channel means every channel of the connection.
    Unsubscribe(Vec<Vec<u8>>),
}

impl Command {
    /// Reads a command from a request's arguments (`args[0]` is the name; `args` is not
    /// empty).
    ///
    /// Errors are the reply to send, an [`Frame::Error`], with Redis's wording:
    /// * an unknown name: `ERR unknown command '<name as sent>'` (Redis adds
    ///   `, with args beginning with: ...`; that is allowed, nothing else before it);
    /// * a wrong number of arguments: `ERR wrong number of arguments for '<name in lower
    ///   case>' command`;
    /// * `SET` with an unknown option, `NX` together with `XX`, `EX` together with `PX`, or
    ///   `EX`/`PX` without a value: `ERR syntax error`;
    /// * an `EX`/`PX`/`EXPIRE` value that is not an integer (an `i64`):
    ///   `ERR value is not an integer or out of range`;
    /// * an `EX`/`PX` value of zero or less: `ERR invalid expire time in 'set' command`.
    pub fn parse(mut args: Vec<Vec<u8>>) -> Result<Command, Frame> {
        todo!()
    }
}
