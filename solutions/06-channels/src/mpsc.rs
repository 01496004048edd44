//! Multi-producer, single-consumer channels: [`channel`] (bounded: `send` waits while the buffer
//! is full) and [`unbounded_channel`] (`send` never waits, and the buffer never stops growing).
//!
//! Both are thin handles on the same core, [`Chan`](crate::chan): a sender and the receiver each
//! hold an `Arc` of it.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::chan::{Chan, Ticket};
use crate::error::{SendError, TryRecvError, TrySendError};
use crate::sync::Arc;

/// A bounded channel: at most `capacity` messages wait in the buffer; a `send` to a full
/// channel waits (backpressure) until the receiver takes one out.
///
/// # Panics
///
/// If `capacity` is 0.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel(0): a bounded channel needs room for at least one message"
    );
    let chan = Arc::new(Chan::new(Some(capacity)));
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// An unbounded channel: `send` never waits. Nothing stops a producer faster than its consumer
/// from filling memory (README, "Unbounded: a memory leak waiting to happen").
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender {
            chan: Arc::clone(&chan),
        },
        UnboundedReceiver { chan },
    )
}

/// Sends into a bounded channel. Clone it for more producers: the channel closes when the last
/// clone is dropped.
#[derive(Debug)]
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from a bounded channel.
#[derive(Debug)]
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// The future of [`Sender::send`]. Dropping it before it completes cancels the send: the
/// message is dropped, and the sender's place in line goes to the next one.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled: `.await` the send"]
pub struct Send<'a, T> {
    chan: &'a Chan<T>,
    /// The message, until it is buffered (or handed back).
    value: Option<T>,
    /// This send's place in the line of waiting senders, while it waits.
    ticket: Option<Ticket>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full. `Err(SendError(value))` gives the
    /// message back if the receiver is gone.
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            chan: &self.chan,
            value: Some(value),
            ticket: None,
        }
    }

    /// Sends `value` if there is room right now; never waits.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

// `Send` never pins its message (it moves it into the buffer): it is `Unpin` whatever `T` is.
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.chan.poll_send(&mut this.value, &mut this.ticket, cx)
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.chan.cancel_send(ticket);
        }
    }
}

impl<T> Receiver<T> {
    /// The next message, in the order they were sent; `None` once every sender is gone and
    /// every buffered message has been received.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// One poll of [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// The next message if one is buffered; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// How many messages are buffered right now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is buffered right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

/// Sends into an unbounded channel. Clone it for more producers.
#[derive(Debug)]
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from an unbounded channel.
#[derive(Debug)]
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once (never waits), or gives it back if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.try_send(value).map_err(|error| match error {
            TrySendError::Full(value) | TrySendError::Closed(value) => SendError(value),
        })
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> UnboundedReceiver<T> {
    /// The next message; `None` once every sender is gone and the buffer is empty.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// One poll of [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// The next message if one is buffered; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// How many messages are buffered right now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is buffered right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}
