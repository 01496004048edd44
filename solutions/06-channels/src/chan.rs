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

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use crate::error::{SendError, TryRecvError, TrySendError};
use crate::sync::{Mutex, MutexGuard, PoisonError};

/// A waiting sender's place in line. It identifies the sender's entry, so the entry's waker can
/// be replaced, and the entry removed when the sender gives up. (A number is enough.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

#[derive(Debug)]
pub(crate) struct Chan<T> {
    state: Mutex<State<T>>,
}

#[derive(Debug)]
struct State<T> {
    buffer: VecDeque<T>,
    /// `None`: unbounded.
    capacity: Option<usize>,
    /// Live senders (every clone counts). At zero, the channel is closed for the receiver.
    senders: usize,
    receiver_alive: bool,
    /// The waker of the receiver's latest Pending poll.
    receiver_waker: Option<Waker>,
    /// Senders waiting for room, first come first served.
    waiting: VecDeque<(Ticket, Waker)>,
    next_ticket: u64,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        self.capacity
            .is_none_or(|capacity| self.buffer.len() < capacity)
    }

    /// Takes the oldest message out, and the waker of the sender first in line (a slot just
    /// freed up for it).
    fn take(&mut self) -> Option<(T, Option<Waker>)> {
        let value = self.buffer.pop_front()?;
        let sender = self.waiting.pop_front().map(|(_, waker)| waker);
        Some((value, sender))
    }

    /// Removes `ticket`'s entry from the line; whether it was still there.
    fn leave_line(&mut self, ticket: Ticket) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|(waiting, _)| *waiting != ticket);
        self.waiting.len() != before
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl<T> Chan<T> {
    /// A channel holding at most `capacity` messages (`None`: no limit), with one sender and
    /// one receiver alive. The capacity is a limit, not a reservation: allocate nothing up
    /// front for it (`mpsc::channel(usize::MAX)` is a valid channel, and must not panic).
    pub(crate) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                buffer: VecDeque::with_capacity(capacity.unwrap_or(0).min(1024)),
                capacity,
                senders: 1,
                receiver_alive: true,
                receiver_waker: None,
                waiting: VecDeque::new(),
                next_ticket: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buffers `value` if there is room and the receiver is alive, and wakes the receiver.
    /// Otherwise gives the message back: `Closed` if the receiver is gone, `Full` if there is
    /// no room.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.lock();
        if !state.receiver_alive {
            return Err(TrySendError::Closed(value));
        }
        if !state.has_room() {
            return Err(TrySendError::Full(value));
        }
        state.buffer.push_back(value);
        let receiver = state.receiver_waker.take();
        drop(state);
        wake(receiver);
        Ok(())
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
        let message = value.take().expect("`send` polled after it completed");
        let mut state = self.lock();
        if !state.receiver_alive || state.has_room() {
            // Done, one way or the other: leave the line if still in it.
            if let Some(ticket) = ticket.take() {
                state.leave_line(ticket);
            }
            if !state.receiver_alive {
                return Poll::Ready(Err(SendError(message)));
            }
            state.buffer.push_back(message);
            let receiver = state.receiver_waker.take();
            drop(state);
            wake(receiver);
            return Poll::Ready(Ok(()));
        }
        *value = Some(message);
        let in_line = ticket.and_then(|ticket| {
            state
                .waiting
                .iter_mut()
                .find(|(waiting, _)| *waiting == ticket)
        });
        match in_line {
            Some((_, waker)) => {
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
            }
            None => {
                let entry = (Ticket(state.next_ticket), cx.waker().clone());
                state.next_ticket += 1;
                if ticket.replace(entry.0).is_some() {
                    // Woken for a slot that a sender who never waited took first: it has waited
                    // longest, so it goes back to the front of the line.
                    state.waiting.push_front(entry);
                } else {
                    state.waiting.push_back(entry);
                }
            }
        }
        Poll::Pending
    }

    /// A waiting `send` was dropped (cancelled). If it is still in line, it leaves it. If it
    /// had already been woken for a free slot, that wake is passed on to the next sender in
    /// line, or it would be lost. A wake passed on is a wake like a receive's: that sender
    /// leaves the line too, so that if it is cancelled in turn, it passes the wake on again.
    pub(crate) fn cancel_send(&self, ticket: Ticket) {
        let mut state = self.lock();
        let next = if !state.leave_line(ticket) && state.has_room() {
            state.waiting.pop_front().map(|(_, waker)| waker)
        } else {
            None
        };
        drop(state);
        wake(next);
    }

    /// The oldest message (and the first waiting sender is woken: there is room now); `None`
    /// once every sender is gone *and* the buffer is empty; otherwise store the receiver's
    /// waker (the latest one) and return `Pending`.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.lock();
        if let Some((value, sender)) = state.take() {
            drop(state);
            wake(sender);
            return Poll::Ready(Some(value));
        }
        if state.senders == 0 {
            return Poll::Ready(None);
        }
        match &state.receiver_waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            _ => state.receiver_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The oldest message (waking the first waiting sender), or why there is none right now:
    /// `Empty` while a sender is alive, `Closed` once every sender is gone.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut state = self.lock();
        if let Some((value, sender)) = state.take() {
            drop(state);
            wake(sender);
            return Ok(value);
        }
        if state.senders == 0 {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// How many messages are buffered.
    pub(crate) fn len(&self) -> usize {
        self.lock().buffer.len()
    }

    /// A sender was cloned.
    pub(crate) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// A sender was dropped. The last one closes the channel: the receiver is woken to see it.
    pub(crate) fn drop_sender(&self) {
        let mut state = self.lock();
        state.senders -= 1;
        let receiver = if state.senders == 0 {
            state.receiver_waker.take()
        } else {
            None
        };
        drop(state);
        wake(receiver);
    }

    /// The receiver was dropped: every waiting sender is woken (its send now fails and gives
    /// its message back), and the buffered messages are dropped, now (not later, with the
    /// last sender's `Arc`: a message's drop can mean something, a reply channel inside it).
    pub(crate) fn drop_receiver(&self) {
        let mut state = self.lock();
        state.receiver_alive = false;
        let waiting = std::mem::take(&mut state.waiting);
        let buffered = std::mem::take(&mut state.buffer);
        drop(state);
        for (_, waker) in waiting {
            waker.wake();
        }
        drop(buffered);
    }
}
