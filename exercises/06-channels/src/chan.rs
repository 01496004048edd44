//! The core both multi-producer channels share: a buffer, a count of senders, the receiver's
//! waker and a line of waiting senders, all under one lock. `mpsc.rs` (written for you) wraps
//! it into `Sender`, `Receiver`, the `Send` future and the unbounded handles; each method
//! below says what its caller there expects.
//!
//! ```text
//!  Sender ─┐                 ┌──────────── State (one Mutex) ────────────┐
//!  Sender ─┼─ send ────────▶ │ buffer: [m1 m2 m3]   (≤ capacity)         │ ── recv ──▶ Receiver
//!  Sender ─┘   (full: wait)  │ senders: 3           receiver_alive: true │
//!              └──────────▶  │ waiting: [#4 #7]     (tickets + wakers)   │
//!                            │ receiver_waker: Some(..)                  │
//!                            └───────────────────────────────────────────┘
//!  a message in  → wake the receiver        a message out → wake the first waiting sender
//!  last sender dropped → wake the receiver  receiver dropped → wake every waiting sender
//! ```
//!
//! Every decision ("is there room?", "is it closed?") and the store of the waker that depends
//! on it happen under the one lock; every `wake` happens after the lock is released, on every
//! path that wakes: a message in (`try_send`, `poll_send`), the last sender's drop, a message
//! out (`poll_recv` *and* `try_recv`), the receiver's drop, a cancelled send passing its wake
//! on. Take the lock from `crate::sync`.

use std::marker::PhantomData;
use std::task::{Context, Poll};

use crate::error::{SendError, TryRecvError, TrySendError};

/// A waiting sender's place in line. It identifies the sender's entry, so the entry's waker can
/// be replaced, and the entry removed when the sender gives up. (A number is enough.)
// Until `poll_send` hands out tickets, nothing reads the number.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

#[derive(Debug)]
pub(crate) struct Chan<T> {
    // TODO: one `Mutex` (from `crate::sync`) around the state: the buffer (a `VecDeque<T>`),
    // the capacity (`None`: unbounded), how many senders are alive, whether the receiver is,
    // the receiver's waker, and the line of waiting senders (tickets and their wakers).
    _todo: PhantomData<T>,
}

impl<T> Chan<T> {
    /// A channel holding at most `capacity` messages (`None`: no limit), with one sender and
    /// one receiver alive. The capacity is a limit, not a reservation: allocate nothing up
    /// front for it (`mpsc::channel(usize::MAX)` is a valid channel, and must not panic).
    pub(crate) fn new(capacity: Option<usize>) -> Chan<T> {
        todo!("the state, empty, with one sender and the receiver alive")
    }

    /// Buffers `value` if there is room and the receiver is alive, and wakes the receiver.
    /// Otherwise gives the message back: `Closed` if the receiver is gone, `Full` if there is
    /// no room.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        todo!("under the lock: closed? full? push; then, unlocked, wake the receiver")
    }

    /// One poll of `send`. The message is in `*value`; `*ticket` is the send's place in line
    /// (`None` until it first waits).
    ///
    /// - The receiver is gone: `Ready(Err(SendError(message)))`.
    /// - There is room: take the message out of `*value`, buffer it, wake the receiver,
    ///   `Ready(Ok(()))`.
    /// - Full: leave the message in `*value`; join the line of waiting senders (set `*ticket`)
    ///   or, already in line, replace the waker stored there; `Pending`. Never wake yourself.
    ///
    /// When it returns `Ready`, the send is no longer in line and `*ticket` is `None`: that
    /// holds whether or not it was woken first (a send polled before its wake, by a `join`
    /// polling all its futures, may find room, and its entry must not stay behind).
    pub(crate) fn poll_send(
        &self,
        value: &mut Option<T>,
        ticket: &mut Option<Ticket>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        todo!("closed? room? else wait in line, under the one lock")
    }

    /// A waiting `send` was dropped (cancelled). If it is still in line, it leaves it. If it
    /// had already been woken for a free slot, that wake is passed on to the next sender in
    /// line, or it would be lost. A wake passed on is a wake like a receive's: that sender
    /// leaves the line too, so that if it is cancelled in turn, it passes the wake on again.
    pub(crate) fn cancel_send(&self, ticket: Ticket) {
        todo!("leave the line; or pass the wake on")
    }

    /// The oldest message (and the first waiting sender is woken: there is room now); `None`
    /// once every sender is gone *and* the buffer is empty; otherwise store the receiver's
    /// waker (the latest one) and return `Pending`.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        todo!("a message? closed? else store the waker, under the one lock")
    }

    /// The oldest message (waking the first waiting sender), or why there is none right now:
    /// `Empty` while a sender is alive, `Closed` once every sender is gone.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        todo!("like poll_recv, without a waker")
    }

    /// How many messages are buffered.
    pub(crate) fn len(&self) -> usize {
        todo!()
    }

    /// A sender was cloned.
    pub(crate) fn add_sender(&self) {
        todo!("count it")
    }

    /// A sender was dropped. The last one closes the channel: the receiver is woken to see it.
    pub(crate) fn drop_sender(&self) {
        todo!("count it; the last one wakes the receiver")
    }

    /// The receiver was dropped: every waiting sender is woken (its send now fails and gives
    /// its message back), and the buffered messages are dropped, now (not later, with the
    /// last sender's `Arc`: a message's drop can mean something, a reply channel inside it).
    pub(crate) fn drop_receiver(&self) {
        todo!("mark the receiver gone; wake every waiting sender")
    }
}
