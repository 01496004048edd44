//! The keyspace and the pub/sub channels, shared by every connection of a server.
//!
//! Every method that reads or writes a key takes `now`, the runtime clock's time
//! (`kit::time::now()` in the server): a key whose deadline is at or before `now` is expired,
//! and every method treats it exactly as a missing key (**lazy expiry**), whether or not the
//! purge task has removed it yet. The purge task ([`Db::purge_task`]) removes expired keys
//! from memory without anyone asking for them (**active expiry**).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::mpsc::UnboundedSender;

use crate::command::SetCondition;

/// A published message as a subscriber receives it: `(channel, message)`.
pub type Message = (Vec<u8>, Vec<u8>);

/// Why `INCR` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrError {
    /// The value is not the decimal form of an `i64`: `ERR value is not an integer or out of
    /// range`.
    NotAnInteger,
    /// The value is `i64::MAX`: `ERR increment or decrement would overflow`.
    Overflow,
}

/// What `TTL` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// No such key (or it expired): `TTL` replies `-2`.
    Missing,
    /// The key has no deadline: `-1`.
    Persistent,
    /// Time left until the deadline (more than zero).
    Remaining(Duration),
}

/// The shared database. Cloning shares it (an `Arc` inside); it is `Send + Sync`, so a test
/// may keep a clone on its own thread.
#[derive(Clone, Default)]
pub struct Db {
    // Your fields. Everything a clone must share (the keys and their deadlines, the channels'
    // subscribers, the purge task's wake-up) goes behind this `Arc`.
    _shared: Arc<()>,
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// The value of `key`, or `None` if it is missing or expired at `now`.
    pub fn get(&self, key: &[u8], now: Instant) -> Option<Vec<u8>> {
        todo!()
    }

    /// Sets `key` to `value` with the deadline `expires_at` (`None`: no deadline, which also
    /// clears a previous one), if `condition` allows: `IfAbsent` only when the key is missing
    /// or expired at `now`, `IfPresent` only when it is live. Returns whether it was set.
    ///
    /// A deadline earlier than every other stored deadline wakes the purge task, so that it
    /// sleeps until the new earliest one.
    pub fn set(
        &self,
        key: Vec<u8>,
        value: Vec<u8>,
        expires_at: Option<Instant>,
        condition: SetCondition,
        now: Instant,
    ) -> bool {
        todo!()
    }

    /// Removes `key`; returns whether a live key was removed.
    pub fn del(&self, key: &[u8], now: Instant) -> bool {
        todo!()
    }

    /// Whether `key` exists and is live at `now`.
    pub fn exists(&self, key: &[u8], now: Instant) -> bool {
        todo!()
    }

    /// Adds one to the integer stored at `key` (a missing or expired key counts as `0`) and
    /// returns the new value. The key keeps its deadline. On error nothing changes.
    pub fn incr(&self, key: &[u8], now: Instant) -> Result<i64, IncrError> {
        todo!()
    }

    /// Gives a live `key` the deadline `at`; returns false (and does nothing) if the key is
    /// missing or expired at `now`. A deadline at or before `now` deletes the key at once
    /// (and still returns true). Wakes the purge task as [`Db::set`] does.
    pub fn expire(&self, key: &[u8], at: Instant, now: Instant) -> bool {
        todo!()
    }

    /// The time `key` has left at `now`.
    pub fn ttl(&self, key: &[u8], now: Instant) -> Ttl {
        todo!()
    }

    /// How many keys are held in memory, **expired ones not yet removed included**: what the
    /// purge task and lazy expiry have not freed yet.
    pub fn stored_keys(&self) -> usize {
        todo!()
    }

    /// Removes every key expired at `now`; returns the earliest deadline still stored.
    pub fn purge(&self, now: Instant) -> Option<Instant> {
        todo!()
    }

    /// Active expiry, run as one task per server until the server stops it: forever, removes
    /// the expired keys ([`Db::purge`] at `kit::time::now()`), then sleeps until the earliest
    /// remaining deadline, or until woken by a [`Db::set`] or [`Db::expire`] that stored an
    /// earlier one. It holds no lock while it sleeps.
    pub async fn purge_task(&self) {
        todo!()
    }

    /// Subscribes connection `id` to `channel`: each later [`Db::publish`] to it sends the
    /// message to `sender`. Subscribing twice to the same channel changes nothing.
    pub fn subscribe(&self, channel: &[u8], id: u64, sender: &UnboundedSender<Message>) {
        todo!()
    }

    /// Removes connection `id`'s subscription to `channel`, if any.
    pub fn unsubscribe(&self, channel: &[u8], id: u64) {
        todo!()
    }

    /// Sends `message` to every subscriber of `channel`; returns how many received it.
    /// Subscribers whose connection is gone are removed and not counted.
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        todo!()
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}
