//! Run one future on the current thread, sleeping while it waits.

use crate::sync::{Arc, Condvar, Mutex, PoisonError};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

/// Runs `future` to completion on the current thread and returns its output.
///
/// Between polls the thread sleeps until the future's waker is woken. Unlike Stage 1's
/// spinning loop, a future waiting for something slow costs no CPU.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let signal = Arc::new(Signal::default());
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        signal.wait();
    }
}

/// A latched "you have been woken" flag.
///
/// The flag, not the act of sleeping, carries the wake: a wake that arrives while the future
/// is being polled (or before we go to sleep) sets it, and `wait` returns at once. This is why
/// we do not use `thread::park`/`unpark` directly: any other code on this thread (inside the
/// future being polled, say) may call `park` too and swallow the unpark meant for us.
#[derive(Debug, Default)]
struct Signal {
    woken: Mutex<bool>,
    condvar: Condvar,
}

impl Signal {
    /// Sleeps until the flag is set, then clears it.
    fn wait(&self) {
        let mut woken = self.woken.lock().unwrap_or_else(PoisonError::into_inner);
        // The loop also absorbs spurious wake-ups of the condition variable.
        while !*woken {
            // Trace hooks (`cargo xtask trace`): free unless a trace is recorded.
            harness::trace::parked();
            woken = self
                .condvar
                .wait(woken)
                .unwrap_or_else(PoisonError::into_inner);
            harness::trace::unparked();
        }
        *woken = false;
    }
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.woken.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.condvar.notify_one();
    }
}
