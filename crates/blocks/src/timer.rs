//! A timer whose clock only moves when you move it (Stage 5, `timeout`; the cancel-safety loop).
//!
//! Stage 2 taught how a timer wakes a task from elsewhere; Stage 5 needs one to build
//! `timeout(duration, future)` on, and its tests need time to be a fact they control rather
//! than a race against the machine. So this timer has no thread and reads no real clock: its
//! time starts at zero and moves only when someone calls [`Timer::advance`], which wakes every
//! [`Sleep`] whose deadline has been reached, exactly the way a real timer's driver would.
//!
//! ```text
//!   timer.sleep(10ms) ──poll──> Pending, waker stored under the sleep's id
//!   timer.advance(10ms) ──────> now = 10ms; wakes every stored waker whose deadline <= now
//!   poll again ───────────────> Ready(())
//!   drop(sleep) ──────────────> its stored waker (if any) is forgotten
//! ```
//!
//! Handles are cheap clones of one shared timer.
//!
//! ```
//! use std::time::Duration;
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//! use blocks::timer::Timer;
//!
//! let timer = Timer::new();
//! let mut sleep = pin!(timer.sleep(Duration::from_millis(10)));
//! let mut cx = Context::from_waker(Waker::noop());
//! assert!(sleep.as_mut().poll(&mut cx).is_pending());
//! assert_eq!(timer.registered(), 1);
//! timer.advance(Duration::from_millis(10));
//! assert_eq!(timer.registered(), 0, "advance wakes (and forgets) the wakers it fired");
//! assert_eq!(sleep.as_mut().poll(&mut cx), Poll::Ready(()));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A manually driven timer. Clones share one clock and one list of waiting sleeps.
#[derive(Clone, Default)]
pub struct Timer {
    shared: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    now: Duration,
    next_id: u64,
    /// The sleeps that returned Pending and have not been woken since: id -> (deadline, waker).
    waiting: BTreeMap<u64, (Duration, Waker)>,
    /// How many wakes `advance` has delivered, ever.
    fired: usize,
}

impl Timer {
    /// A timer reading zero, with nothing waiting.
    pub fn new() -> Timer {
        Timer::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The time since the timer was created, as far as it knows.
    pub fn now(&self) -> Duration {
        self.state().now
    }

    /// Moves the clock forward by `by`, then wakes every waiting [`Sleep`] whose deadline has
    /// been reached (each once; the wakers are called after the timer's lock is released, so a
    /// waker may poll or create sleeps).
    pub fn advance(&self, by: Duration) {
        let due: Vec<Waker> = {
            let mut state = self.state();
            state.now += by;
            let now = state.now;
            let ids: Vec<u64> = state
                .waiting
                .iter()
                .filter(|(_, (deadline, _))| *deadline <= now)
                .map(|(id, _)| *id)
                .collect();
            state.fired += ids.len();
            ids.iter()
                .filter_map(|id| state.waiting.remove(id))
                .map(|(_, waker)| waker)
                .collect()
        };
        for waker in due {
            waker.wake();
        }
    }

    /// A future that is ready once the clock reads `now() + duration` (measured from this
    /// call, not from its first poll).
    pub fn sleep(&self, duration: Duration) -> Sleep {
        let deadline = self.now() + duration;
        self.sleep_until(deadline)
    }

    /// A future that is ready once the clock reads `deadline` or later.
    pub fn sleep_until(&self, deadline: Duration) -> Sleep {
        let id = {
            let mut state = self.state();
            state.next_id += 1;
            state.next_id
        };
        Sleep {
            timer: self.clone(),
            deadline,
            id,
        }
    }

    /// How many sleeps are waiting for the clock: they returned `Pending` (leaving a waker)
    /// and have been neither woken by [`advance`](Timer::advance) nor dropped since.
    pub fn registered(&self) -> usize {
        self.state().waiting.len()
    }

    /// How many wakes [`advance`](Timer::advance) has delivered since the timer was created.
    pub fn fired(&self) -> usize {
        self.state().fired
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Timer")
            .field("now", &state.now)
            .field("registered", &state.waiting.len())
            .finish()
    }
}

/// The future returned by [`Timer::sleep`]: `Ready(())` once the timer's clock reaches its
/// deadline. `Unpin`, so a combinator can keep it in a plain field and poll it with
/// `Pin::new(&mut sleep)`.
///
/// Each `Pending` stores the waker of that poll (replacing the one before), so the *latest*
/// task to poll it is the one woken. Polling after `Ready` returns `Ready` again. Dropping it
/// forgets its waker: a cancelled sleep leaves nothing behind in the timer.
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    timer: Timer,
    deadline: Duration,
    id: u64,
}

impl Sleep {
    /// The clock reading at which this sleep becomes ready.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.timer.state();
        if state.now >= self.deadline {
            state.waiting.remove(&self.id);
            Poll::Ready(())
        } else {
            state
                .waiting
                .insert(self.id, (self.deadline, cx.waker().clone()));
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.timer.state().waiting.remove(&self.id);
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
