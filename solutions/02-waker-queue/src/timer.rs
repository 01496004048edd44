//! A timer future that is completed by someone else: a [`Trigger`], fired from any thread.
//!
//! The state shared between the future and its trigger is one `Mutex<State>`. Checking "has it
//! fired?" and storing the waker happen under the same lock as firing does, so there is no
//! moment in which a fire can slip between the check and the store (a *lost wakeup*).

use crate::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// How a timer gets started: given the delay and the trigger to fire when it has passed.
type Start = Box<dyn FnOnce(Duration, Trigger) + Send>;

/// A future that completes once its [`Trigger`] fires.
#[must_use = "futures do nothing unless polled"]
pub struct Timer {
    shared: Arc<Mutex<State>>,
    delay: Duration,
    /// Starts the clock on the first poll (futures are lazy), then `None`.
    start: Option<Start>,
}

/// Fires a [`Timer`]. Cheap to clone; send it to whichever thread decides when time is up.
#[derive(Clone)]
pub struct Trigger {
    shared: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Latched: once true it stays true, so a fire before the first poll is not lost.
    fired: bool,
    /// The waker of the most recent poll that returned Pending.
    waker: Option<Waker>,
}

fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    // No code runs under this lock that can panic halfway through an update.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Timer {
    /// A timer that completes when the returned trigger is fired, by anyone, from any thread.
    pub fn manual() -> (Timer, Trigger) {
        let shared = Arc::new(Mutex::new(State::default()));
        let timer = Timer {
            shared: Arc::clone(&shared),
            delay: Duration::ZERO,
            start: None,
        };
        (timer, Trigger { shared })
    }

    /// A timer that completes `delay` after it is first polled: on that poll it starts a thread
    /// that sleeps for `delay`, then fires.
    pub fn after(delay: Duration) -> Timer {
        Timer::after_with(delay, |delay, trigger| {
            thread::spawn(move || {
                thread::sleep(delay);
                trigger.fire();
            });
        })
    }

    /// A timer whose clock is started by `start(delay, trigger)`, called exactly once, on the
    /// first poll. [`Timer::after`] starts a thread; tests pass a closure that keeps the
    /// trigger, so they decide when time is up.
    pub fn after_with(
        delay: Duration,
        start: impl FnOnce(Duration, Trigger) + Send + 'static,
    ) -> Timer {
        let (mut timer, _trigger) = Timer::manual();
        timer.delay = delay;
        timer.start = Some(Box::new(start));
        timer
    }
}

impl Trigger {
    /// Completes the timer and wakes the task that last polled it. Firing again does nothing.
    pub fn fire(&self) {
        let waker = {
            let mut state = lock(&self.shared);
            state.fired = true;
            state.waker.take()
        };
        // Wake after releasing the lock: the woken task may poll the timer straight away (on
        // this very thread, if the waker runs the task inline), which takes the lock again.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(start) = self.start.take() {
            let trigger = Trigger {
                shared: Arc::clone(&self.shared),
            };
            start(self.delay, trigger);
        }
        let mut state = lock(&self.shared);
        if state.fired {
            return Poll::Ready(());
        }
        // Keep the waker of *this* poll: the future may have moved to another task since the
        // last one. Cloning only when it changed keeps repeated polls from allocating.
        match &state.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("fired", &lock(&self.shared).fired)
            .field("delay", &self.delay)
            .field("started", &self.start.is_none())
            .finish()
    }
}

impl fmt::Debug for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trigger")
            .field("fired", &lock(&self.shared).fired)
            .finish()
    }
}
