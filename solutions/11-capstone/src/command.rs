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
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let arity = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(Frame::error(format_args!(
                    "wrong number of arguments for '{name}' command"
                )))
            }
        };
        let n = args.len();
        let command = match name.as_str() {
            "ping" => {
                arity(n <= 2)?;
                Command::Ping(args.pop().filter(|_| n == 2))
            }
            "echo" => {
                arity(n == 2)?;
                Command::Echo(args.swap_remove(1))
            }
            "get" => {
                arity(n == 2)?;
                Command::Get(args.swap_remove(1))
            }
            "set" => {
                arity(n >= 3)?;
                return parse_set(args);
            }
            "del" => {
                arity(n >= 2)?;
                Command::Del(args.split_off(1))
            }
            "exists" => {
                arity(n >= 2)?;
                Command::Exists(args.split_off(1))
            }
            "incr" => {
                arity(n == 2)?;
                Command::Incr(args.swap_remove(1))
            }
            "expire" => {
                arity(n == 3)?;
                let seconds = integer(&args[2])?;
                Command::Expire {
                    key: args.swap_remove(1),
                    seconds,
                }
            }
            "ttl" => {
                arity(n == 2)?;
                Command::Ttl(args.swap_remove(1))
            }
            "publish" => {
                arity(n == 3)?;
                let message = args.pop().expect("three arguments");
                let channel = args.pop().expect("three arguments");
                Command::Publish { channel, message }
            }
            "subscribe" => {
                arity(n >= 2)?;
                Command::Subscribe(args.split_off(1))
            }
            "unsubscribe" => Command::Unsubscribe(args.split_off(1)),
            _ => {
                let sent = String::from_utf8_lossy(&args[0]);
                return Err(Frame::error(format_args!("unknown command '{sent}'")));
            }
        };
        Ok(command)
    }
}

fn integer(arg: &[u8]) -> Result<i64, Frame> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| Frame::error("value is not an integer or out of range"))
}

fn parse_set(args: Vec<Vec<u8>>) -> Result<Command, Frame> {
    let mut args = args.into_iter().skip(1);
    let key = args.next().expect("checked: at least three");
    let value = args.next().expect("checked: at least three");
    let mut expire = None;
    let mut condition = SetCondition::Always;
    let syntax = || Frame::error("syntax error");
    while let Some(option) = args.next() {
        match option.to_ascii_uppercase().as_slice() {
            b"NX" if condition != SetCondition::IfPresent => condition = SetCondition::IfAbsent,
            b"XX" if condition != SetCondition::IfAbsent => condition = SetCondition::IfPresent,
            unit @ (b"EX" | b"PX") if expire.is_none() => {
                let amount = integer(&args.next().ok_or_else(syntax)?)?;
                let Ok(amount @ 1..) = u64::try_from(amount) else {
                    return Err(Frame::error("invalid expire time in 'set' command"));
                };
                expire = Some(if unit == b"EX" {
                    Duration::from_secs(amount)
                } else {
                    Duration::from_millis(amount)
                });
            }
            _ => return Err(syntax()),
        }
    }
    Ok(Command::Set {
        key,
        value,
        expire,
        condition,
    })
}
