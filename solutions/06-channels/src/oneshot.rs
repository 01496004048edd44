//! A oneshot channel: one value, sent once, from one sender to one receiver.
//!
//! ```text
//!   Sender ──send(v)──▶ ┌───────── Slot (one Mutex) ─────────┐ ◀──poll── Receiver
//!                       │ value: Option<T>                   │
//!   drop(Sender) ─────▶ │ sender_gone: bool  (sent or dropped)│
//!                       │ receiver_gone: bool                │ ◀──drop── Receiver
//!                       │ waker: Option<Waker> (the receiver's)
//!                       └────────────────────────────────────┘
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::error::Canceled;
use crate::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A new oneshot channel: the [`Sender`] sends one value, the [`Receiver`] is a future of it.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        sender_gone: false,
        receiver_gone: false,
        waker: None,
    }));
    (
        Sender {
            slot: Arc::clone(&slot),
        },
        Receiver { slot },
    )
}

/// What the two halves share. Every field is read and written under the one lock.
#[derive(Debug)]
struct Slot<T> {
    /// The value, between `send` and the receiver's poll.
    value: Option<T>,
    /// The sender has sent or was dropped: nothing more will come.
    sender_gone: bool,
    /// The receiver was dropped: a send must hand the value back.
    receiver_gone: bool,
    /// The waker of the receiver's latest Pending poll.
    waker: Option<Waker>,
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends the one value. Dropping it without sending completes the receiver with [`Canceled`].
#[derive(Debug)]
pub struct Sender<T> {
    slot: Arc<Mutex<Slot<T>>>,
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
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, or gives it back as `Err(value)` if the receiver was dropped (never
    /// panics, never drops the value).
    pub fn send(self, value: T) -> Result<(), T> {
        let mut slot = lock(&self.slot);
        if slot.receiver_gone {
            return Err(value);
        }
        slot.value = Some(value);
        Ok(())
        // `self` is dropped here, after the lock: its `Drop` marks the sender gone and wakes the
        // receiver.
    }

    /// Whether the receiver was dropped (a `send` would fail).
    pub fn is_canceled(&self) -> bool {
        lock(&self.slot).receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.slot);
            slot.sender_gone = true;
            slot.waker.take()
        };
        // Wake outside the lock: the woken task may poll the receiver on this very thread.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.slot);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if slot.sender_gone {
            return Poll::Ready(Err(Canceled));
        }
        // Checked and stored under the same lock the sender takes: no send can slip in between.
        match &slot.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let value = {
            let mut slot = lock(&self.slot);
            slot.receiver_gone = true;
            slot.value.take()
        };
        // A value sent but never received is dropped here, outside the lock.
        drop(value);
    }
}
