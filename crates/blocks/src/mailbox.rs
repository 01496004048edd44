//! An unbounded, cancel-safe queue of messages (Stage 5, the cancel-safety exercise).
//!
//! Stage 6 builds real channels; Stage 5 only needs something to receive from inside a
//! `select` loop, whose `recv` is **cancel-safe**: an item leaves the queue only in the poll
//! that returns it as `Ready`. Drop a pending [`Recv`] and nothing is lost; the next `recv`
//! gets the item instead.
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//! use blocks::mailbox::Mailbox;
//!
//! let mailbox = Mailbox::new();
//! let mut cx = Context::from_waker(Waker::noop());
//! {
//!     let mut recv = pin!(mailbox.recv());
//!     assert!(recv.as_mut().poll(&mut cx).is_pending());
//! } // dropped while pending: cancelled, nothing taken
//! mailbox.send(7);
//! assert_eq!(pin!(mailbox.recv()).poll(&mut cx), Poll::Ready(7));
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// A queue of `T`. Clones are handles on the same queue.
pub struct Mailbox<T> {
    shared: Arc<Mutex<State<T>>>,
}

struct State<T> {
    items: VecDeque<T>,
    next_id: u64,
    /// Receivers that returned Pending: id -> the waker of their latest poll.
    waiting: BTreeMap<u64, Waker>,
    /// Items handed out by `recv`, ever.
    received: usize,
}

impl<T> Mailbox<T> {
    /// An empty mailbox.
    pub fn new() -> Mailbox<T> {
        Mailbox {
            shared: Arc::new(Mutex::new(State {
                items: VecDeque::new(),
                next_id: 0,
                waiting: BTreeMap::new(),
                received: 0,
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `item` and wakes every waiting receiver (each then polls; one gets the item).
    pub fn send(&self, item: T) {
        let wakers: Vec<Waker> = {
            let mut state = self.state();
            state.items.push_back(item);
            std::mem::take(&mut state.waiting).into_values().collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// A future for the next item. Cancel-safe: dropping it before it returned `Ready` takes
    /// nothing from the queue.
    pub fn recv(&self) -> Recv<'_, T> {
        let id = {
            let mut state = self.state();
            state.next_id += 1;
            state.next_id
        };
        Recv { mailbox: self, id }
    }

    /// How many items are queued.
    pub fn len(&self) -> usize {
        self.state().items.len()
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many items `recv` futures have returned, ever.
    pub fn received(&self) -> usize {
        self.state().received
    }
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox::new()
    }
}

impl<T> Clone for Mailbox<T> {
    fn clone(&self) -> Self {
        Mailbox {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for Mailbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Mailbox")
            .field("queued", &state.items.len())
            .field("waiting", &state.waiting.len())
            .finish()
    }
}

/// The future returned by [`Mailbox::recv`]. `Unpin`.
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    mailbox: &'a Mailbox<T>,
    id: u64,
}

impl<T> Future for Recv<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.mailbox.state();
        match state.items.pop_front() {
            Some(item) => {
                state.waiting.remove(&self.id);
                state.received += 1;
                Poll::Ready(item)
            }
            None => {
                state.waiting.insert(self.id, cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.mailbox.state().waiting.remove(&self.id);
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").field("id", &self.id).finish()
    }
}
