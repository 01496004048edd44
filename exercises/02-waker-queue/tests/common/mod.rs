//! What parts 3 and 5 share: the burst-of-wakes scenario. (Not a test target: cargo only
//! builds `tests/*.rs` files as targets, and each part includes this with `mod common;`.)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use harness::ThreadWatch;
use harness::trace::{traced, waking_as};
use waker_queue::Executor;

/// Wakes itself 5 times during its first poll and returns Pending. Every later poll is
/// Pending without a wake (the second one hands its waker to the releasing thread), until
/// the test releases it.
struct BurstOfWakes {
    /// Wake with `wake()` on a clone (the consuming path), not `wake_by_ref()`.
    by_value: bool,
    polls: Arc<AtomicUsize>,
    release: Option<mpsc::Sender<(ThreadWatch, Waker)>>,
    released: Arc<AtomicBool>,
}

impl Future for BurstOfWakes {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let poll = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.released.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if poll == 1 {
            for _ in 0..5 {
                if self.by_value {
                    // The consuming `wake`, on a clone: what a timer's `fire` does.
                    #[allow(clippy::waker_clone_wake)]
                    cx.waker().clone().wake();
                } else {
                    cx.waker().wake_by_ref();
                }
            }
        } else if let Some(release) = self.release.take() {
            let _ = release.send((ThreadWatch::current(), cx.waker().clone()));
        }
        Poll::Pending
    }
}

/// Runs one task that wakes itself 5 times in a row, then waits to be released, on a new
/// executor; returns how many times it was polled. A correct executor polls it 3 times: the
/// poll that makes the burst, one poll for the whole burst, one after the release.
///
/// The release comes from a thread labelled "release" in a trace, once the executor's thread
/// is seen asleep: by then every poll the burst caused has happened, however the executor
/// queued it, so the count does not depend on how the threads are scheduled.
pub fn run_burst_of_wakes() -> usize {
    run_burst(false)
}

/// [`run_burst_of_wakes`], with the burst made of `cx.waker().clone().wake()`: the consuming
/// `wake` that a timer's `fire` or a channel's sender calls.
#[allow(dead_code)] // part 3 only
pub fn run_burst_of_wakes_by_value() -> usize {
    run_burst(true)
}

fn run_burst(by_value: bool) -> usize {
    let polls = Arc::new(AtomicUsize::new(0));
    let (release_tx, release) = mpsc::channel::<(ThreadWatch, Waker)>();
    let released = Arc::new(AtomicBool::new(false));
    let executor = Executor::new();
    executor.spawn(traced(
        "burst",
        BurstOfWakes {
            by_value,
            polls: Arc::clone(&polls),
            release: Some(release_tx),
            released: Arc::clone(&released),
        },
    ));
    let releasing = thread::Builder::new()
        .name("release".into())
        .spawn(move || {
            let Ok((watch, waker)) = release.recv() else {
                return; // the task finished (or was dropped) without asking for a release
            };
            // Whatever is seen (a spinning executor is never asleep), release after it.
            let _ = watch.wait_until_asleep(Duration::from_secs(3));
            released.store(true, Ordering::SeqCst);
            waking_as("release", || waker.wake());
        })
        .unwrap();
    executor.run();
    releasing.join().unwrap();
    polls.load(Ordering::SeqCst)
}
