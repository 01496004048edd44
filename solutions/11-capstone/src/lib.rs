//! Stage 11, the capstone: a Redis-compatible server on the course's own runtime (`kit`).
//!
//! | Module      | What                                                   |
//! |-------------|--------------------------------------------------------|
//! | [`frame`]   | RESP2: replies ([`Frame`]) and requests ([`parse_request`]) |
//! | [`command`] | a request's arguments to a [`Command`]                 |
//! | [`db`]      | keys with deadlines, pub/sub channels, the purge task  |
//! | [`server`]  | the accept loop, connections, shutdown                 |

pub mod command;
pub mod db;
pub mod frame;
pub mod server;

pub use command::{Command, SetCondition};
pub use db::Db;
pub use frame::{Frame, ProtocolError, parse_request};
pub use server::{Config, run, serve};
