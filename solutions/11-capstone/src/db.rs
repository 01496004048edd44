//! The keyspace and the pub/sub channels, shared by every connection of a server.
//!
//! Every method that reads or writes a key takes `now`, the runtime clock's time
//! (`kit::time::now()` in the server): a key whose deadline is at or before `now` is expired,
//! and every method treats it exactly as a missing key (**lazy expiry**), whether or not the
//! purge task has removed it yet. The purge task ([`Db::purge_task`]) removes expired keys
//! from memory without anyone asking for them (**active expiry**).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::channel::mpsc::UnboundedSender;
use kit::sync::Notify;

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
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Everything below, under one lock (never held across an `.await`).
    state: Mutex<State>,
    /// Wakes the purge task when a deadline earlier than every stored one appears.
    purge: Notify,
}

#[derive(Default)]
struct State {
    /// Every stored key, expired ones not yet removed included.
    entries: HashMap<Vec<u8>, Entry>,
    /// Every key with a deadline, earliest first: the purge task's work list. Invariant: holds
    /// `(deadline, key)` exactly when `entries[key].expires_at == Some(deadline)`.
    expiries: BTreeSet<(Instant, Vec<u8>)>,
    /// Subscribers by channel: (connection id, where its messages go).
    channels: HashMap<Vec<u8>, Vec<(u64, UnboundedSender<Message>)>>,
}

/// One key's value and deadline.
struct Entry {
    /// The value, any bytes.
    value: Vec<u8>,
    /// Expired when the clock reads this or later; `None`: never.
    expires_at: Option<Instant>,
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`, or `None` if it is missing or expired at `now`.
    pub fn get(&self, key: &[u8], now: Instant) -> Option<Vec<u8>> {
        let mut state = self.lock();
        state.live(key, now).map(|entry| entry.value.clone())
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
        let mut state = self.lock();
        let present = state.live(&key, now).is_some();
        let allowed = match condition {
            SetCondition::Always => true,
            SetCondition::IfAbsent => !present,
            SetCondition::IfPresent => present,
        };
        if !allowed {
            return false;
        }
        state.remove(&key);
        let notify = expires_at.is_some_and(|at| state.is_earliest(at));
        if let Some(at) = expires_at {
            state.expiries.insert((at, key.clone()));
        }
        state.entries.insert(key, Entry { value, expires_at });
        drop(state);
        if notify {
            self.shared.purge.notify_one();
        }
        true
    }

    /// Removes `key`; returns whether a live key was removed.
    pub fn del(&self, key: &[u8], now: Instant) -> bool {
        let mut state = self.lock();
        let live = state.live(key, now).is_some();
        state.remove(key);
        live
    }

    /// Whether `key` exists and is live at `now`.
    pub fn exists(&self, key: &[u8], now: Instant) -> bool {
        self.lock().live(key, now).is_some()
    }

    /// Adds one to the integer stored at `key` (a missing or expired key counts as `0`) and
    /// returns the new value. The key keeps its deadline. On error nothing changes.
    pub fn incr(&self, key: &[u8], now: Instant) -> Result<i64, IncrError> {
        let mut state = self.lock();
        let Some(entry) = state.live(key, now) else {
            state.remove(key);
            state.entries.insert(
                key.to_vec(),
                Entry {
                    value: b"1".to_vec(),
                    expires_at: None,
                },
            );
            return Ok(1);
        };
        let current: i64 = std::str::from_utf8(&entry.value)
            .ok()
            .filter(|text| !text.starts_with('+'))
            .and_then(|text| text.parse().ok())
            .ok_or(IncrError::NotAnInteger)?;
        let next = current.checked_add(1).ok_or(IncrError::Overflow)?;
        entry.value = next.to_string().into_bytes();
        Ok(next)
    }

    /// Gives a live `key` the deadline `at`; returns false (and does nothing) if the key is
    /// missing or expired at `now`. A deadline at or before `now` deletes the key at once
    /// (and still returns true). Wakes the purge task as [`Db::set`] does.
    pub fn expire(&self, key: &[u8], at: Instant, now: Instant) -> bool {
        let mut state = self.lock();
        if state.live(key, now).is_none() {
            return false;
        }
        if at <= now {
            state.remove(key);
            return true;
        }
        let notify = state.is_earliest(at);
        let entry = state.entries.get_mut(key).expect("live");
        let old = entry.expires_at.replace(at);
        if let Some(old) = old {
            state.expiries.remove(&(old, key.to_vec()));
        }
        state.expiries.insert((at, key.to_vec()));
        drop(state);
        if notify {
            self.shared.purge.notify_one();
        }
        true
    }

    /// The time `key` has left at `now`.
    pub fn ttl(&self, key: &[u8], now: Instant) -> Ttl {
        let mut state = self.lock();
        match state.live(key, now) {
            None => Ttl::Missing,
            Some(Entry {
                expires_at: None, ..
            }) => Ttl::Persistent,
            Some(Entry {
                expires_at: Some(at),
                ..
            }) => Ttl::Remaining(*at - now),
        }
    }

    /// How many keys are held in memory, **expired ones not yet removed included**: what the
    /// purge task and lazy expiry have not freed yet.
    pub fn stored_keys(&self) -> usize {
        self.lock().entries.len()
    }

    /// Removes every key expired at `now`; returns the earliest deadline still stored.
    pub fn purge(&self, now: Instant) -> Option<Instant> {
        let mut state = self.lock();
        while let Some((at, key)) = state.expiries.first().cloned() {
            if at > now {
                return Some(at);
            }
            state.remove(&key);
        }
        None
    }

    /// Active expiry, run as one task per server until the server stops it: forever, removes
    /// the expired keys ([`Db::purge`] at `kit::time::now()`), then sleeps until the earliest
    /// remaining deadline, or until woken by a [`Db::set`] or [`Db::expire`] that stored an
    /// earlier one. It holds no lock while it sleeps.
    pub async fn purge_task(&self) {
        loop {
            let next = self.purge(kit::time::now());
            match next {
                Some(at) => {
                    let sleep = std::pin::pin!(kit::time::sleep_until(at));
                    let woken = std::pin::pin!(self.shared.purge.notified());
                    futures::future::select(sleep, woken).await;
                }
                None => self.shared.purge.notified().await,
            }
        }
    }

    /// Subscribes connection `id` to `channel`: each later [`Db::publish`] to it sends the
    /// message to `sender`. Subscribing twice to the same channel changes nothing.
    pub fn subscribe(&self, channel: &[u8], id: u64, sender: &UnboundedSender<Message>) {
        let mut state = self.lock();
        let subscribers = state.channels.entry(channel.to_vec()).or_default();
        if !subscribers.iter().any(|(sid, _)| *sid == id) {
            subscribers.push((id, sender.clone()));
        }
    }

    /// Removes connection `id`'s subscription to `channel`, if any.
    pub fn unsubscribe(&self, channel: &[u8], id: u64) {
        let mut state = self.lock();
        if let Some(subscribers) = state.channels.get_mut(channel) {
            subscribers.retain(|(sid, _)| *sid != id);
            if subscribers.is_empty() {
                state.channels.remove(channel);
            }
        }
    }

    /// Sends `message` to every subscriber of `channel`; returns how many received it.
    /// Subscribers whose connection is gone are removed and not counted.
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        let mut state = self.lock();
        let Some(subscribers) = state.channels.get_mut(channel) else {
            return 0;
        };
        subscribers.retain(|(_, sender)| {
            sender
                .unbounded_send((channel.to_vec(), message.to_vec()))
                .is_ok()
        });
        let received = subscribers.len();
        if received == 0 {
            state.channels.remove(channel);
        }
        received
    }
}

impl State {
    /// The entry of `key` if live at `now`; an expired one is removed (lazy expiry).
    fn live(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        let expired = self
            .entries
            .get(key)?
            .expires_at
            .is_some_and(|at| at <= now);
        if expired {
            self.remove(key);
            return None;
        }
        self.entries.get_mut(key)
    }

    /// Removes `key` and its deadline, keeping the invariant.
    fn remove(&mut self, key: &[u8]) {
        if let Some(entry) = self.entries.remove(key)
            && let Some(at) = entry.expires_at
        {
            self.expiries.remove(&(at, key.to_vec()));
        }
    }

    /// Whether `at` is earlier than every stored deadline (so the purge task must be told).
    fn is_earliest(&self, at: Instant) -> bool {
        self.expiries.first().is_none_or(|(first, _)| at < *first)
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Db")
            .field("stored_keys", &state.entries.len())
            .field("deadlines", &state.expiries.len())
            .field("channels", &state.channels.len())
            .finish()
    }
}
