//! A oneshot channel: one value, sent once, from one sender to one receiver.
//!
//! ```text
//!   Sender ──send(v)──▶ ┌──────── shared state (one Mutex) ────────┐ ◀──poll── Receiver
//!   drop(Sender) ─────▶ │ the value, until the receiver takes it    │
//!                       │ has the sender sent or been dropped?      │
//!                       │ has the receiver been dropped?            │ ◀──drop── Receiver
//!                       │ the receiver's waker                      │
//!                       └───────────────────────────────────────────┘
//! ```

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::Canceled;

/// A new oneshot channel: the [`Sender`] sends one value, the [`Receiver`] is a future of it.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    todo!("one shared state (an `Arc` of a `crate::sync::Mutex`), a handle to each side")
}

/// Sends the one value. Dropping it without sending completes the receiver with [`Canceled`].
#[derive(Debug)]
pub struct Sender<T> {
    // TODO: the state shared with the receiver.
    _todo: PhantomData<T>,
}

/// A future of the value: `Ok(value)`, or `Err(Canceled)` if the sender was dropped without
/// sending.
///
/// - Pending: it keeps the waker of its *latest* poll, and the sender (its `send`, or its
///   drop) wakes that one, after releasing the lock.
/// - The value, or the sender's drop, is checked and the waker stored under one lock.
/// - Dropped: a later `send` gives its value back; a value already sent and not received is
///   dropped with it (so `send` decides "receiver gone?" and stores under the same lock).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Receiver<T> {
    // TODO: the state shared with the sender.
    _todo: PhantomData<T>,
}

impl<T> Sender<T> {
    /// Sends `value`, or gives it back as `Err(value)` if the receiver was dropped (never
    /// panics, never drops the value).
    pub fn send(self, value: T) -> Result<(), T> {
        todo!("receiver gone? give it back; else store it (the sender's drop will wake)")
    }

    /// Whether the receiver was dropped (a `send` would fail).
    pub fn is_canceled(&self) -> bool {
        todo!()
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // TODO: mark the sender gone (sent or not) and wake the receiver's stored waker.
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("a value? Ok. sender gone? Canceled. else store the waker: Pending")
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // TODO: mark the receiver gone, so that a later `send` gives its value back.
    }
}
