//! The errors the channels return. Each one that can carry a message gives it back: a message
//! that could not be delivered is never silently dropped.

use std::error::Error;
use std::fmt;

/// A oneshot's sender was dropped without sending: no value will ever come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canceled;

impl fmt::Display for Canceled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sender was dropped without sending a value")
    }
}

impl Error for Canceled {}

/// The receiver is gone: the message was not sent, and here it is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the receiver was dropped: the channel is closed")
    }
}

impl<T: fmt::Debug> Error for SendError<T> {}

/// Why [`try_send`](crate::mpsc::Sender::try_send) could not send right now. Both variants
/// give the message back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The buffer holds `capacity` messages already: try again later, or `send().await`.
    Full(T),
    /// The receiver is gone: no message will ever be received again.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the channel is full"),
            TrySendError::Closed(_) => {
                f.write_str("the receiver was dropped: the channel is closed")
            }
        }
    }
}

impl<T: fmt::Debug> Error for TrySendError<T> {}

/// Why [`try_recv`](crate::mpsc::Receiver::try_recv) returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing buffered right now, but a sender is still alive: a message may come.
    Empty,
    /// Nothing buffered, and every sender is gone: no message will ever come.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty"),
            TryRecvError::Closed => f.write_str("the channel is empty and every sender is gone"),
        }
    }
}

impl Error for TryRecvError {}
