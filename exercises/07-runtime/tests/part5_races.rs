//! Part 5 — races, found by a model checker instead of luck.
//!
//! Each test runs a tiny scenario under `harness::model::check`: the types of `crate::sync`
//! become the checker's, and it tries the orders in which the threads' locks, waits, wakes and
//! atomic accesses can interleave. A lost wake-up shows up as "deadlock", every run. Your code
//! must take its `Mutex`, `Condvar` and atomics from `crate::sync` for these tests to see it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use futures::channel::oneshot;
use harness::model;
use runtime::{JoinError, JoinHandle, Runtime};

/// A waker that only records that it was woken (no model operations of its own).
fn flag_waker() -> (Waker, Arc<AtomicBool>) {
    struct Flag(Arc<AtomicBool>);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let woken = Arc::new(AtomicBool::new(false));
    (Waker::from(Arc::new(Flag(Arc::clone(&woken)))), woken)
}

/// Polls a handle once, with `waker`.
fn poll_once<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

/// Sends on its channel when dropped: "the task's future is gone".
struct SendOnDrop(Option<oneshot::Sender<()>>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[test]
fn a_task_finishing_while_its_handle_is_polled_on_another_thread() {
    model::check(
        "a JoinHandle polled on another thread while its task finishes",
        &[
            "the handle checks \"is the result there?\" and stores its waker in two steps \
             (two locks, or an unlock in between): the task can finish in between, find no \
             waker to wake, and the handle then waits forever. Check and store under ONE lock, \
             the one the task takes to write its result.",
            "the task writes its result without waking the stored waker",
        ],
        || {
            let rt = Runtime::new();
            let (tx, rx) = oneshot::channel::<()>();
            // The poller thread starts inside the task's poll (fewer steps to interleave).
            let (to_task, from_test) = std::sync::mpsc::channel::<JoinHandle<u8>>();
            let (to_test, poller) = std::sync::mpsc::channel();
            let handle = rt.spawn(async move {
                let _ = tx.send(());
                let mut handle = from_test
                    .try_recv()
                    .expect("the test sends the handle first");
                to_test
                    .send(model::thread::spawn(move || {
                        let (waker, woken) = flag_waker();
                        let first = poll_once(&mut handle, &waker);
                        (handle, first, woken)
                    }))
                    .unwrap();
                5
            });
            to_task.send(handle).unwrap();
            rt.block_on(rx).unwrap(); // returns after the task has finished
            let poller = poller.try_recv().unwrap();
            let (mut handle, first, woken) = poller.join().unwrap();
            if first.is_pending() {
                assert!(
                    woken.load(Ordering::SeqCst),
                    "the handle returned Pending, the task then finished, and the handle's \
                     waker was never woken: a lost wake-up"
                );
            }
            let out = match first {
                Poll::Ready(out) => out,
                Poll::Pending => match poll_once(&mut handle, Waker::noop()) {
                    Poll::Ready(out) => out,
                    Poll::Pending => panic!("the task finished but its handle is still Pending"),
                },
            };
            assert_eq!(out, Ok(5));
        },
    );
}

#[test]
fn abort_racing_the_tasks_completion_gives_one_consistent_outcome() {
    model::check(
        "abort() on another thread while the task completes",
        &[
            "abort() writes Cancelled into the result itself (from the aborting thread) and \
             overwrites the output of a task that had already returned: only the runtime, at \
             the task's next poll point, may decide Cancelled",
            "the aborted task is never queued again, so the runtime never reaches the poll \
             point where it would be cancelled",
        ],
        || {
            let rt = Runtime::new();
            let returned = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&returned);
            let (gone_tx, gone) = oneshot::channel();
            let gone_tx = SendOnDrop(Some(gone_tx)); // captured: dropped with the future
            // The aborting thread starts inside the task's poll (fewer steps to interleave).
            let (to_task, from_test) = std::sync::mpsc::channel::<JoinHandle<u8>>();
            let (to_test, aborter) = std::sync::mpsc::channel();
            let handle = rt.spawn(async move {
                let _gone = gone_tx;
                let handle = from_test
                    .try_recv()
                    .expect("the test sends the handle first");
                to_test
                    .send(model::thread::spawn(move || {
                        handle.abort();
                        handle
                    }))
                    .unwrap();
                flag.store(true, Ordering::SeqCst);
                7
            });
            to_task.send(handle).unwrap();
            // Returns once the task's future is gone: it finished or it was cancelled.
            let _ = rt.block_on(gone);
            let mut handle = aborter.try_recv().unwrap().join().unwrap();
            match poll_once(&mut handle, Waker::noop()) {
                Poll::Ready(Ok(value)) => assert_eq!(value, 7),
                Poll::Ready(Err(JoinError::Cancelled)) => assert!(
                    !returned.load(Ordering::SeqCst),
                    "the handle said Cancelled, but the task had run to its end and returned \
                     its output: abort() must not overwrite a finished task's output"
                ),
                other => panic!(
                    "the task's future is gone (finished or cancelled) and block_on returned, \
                     but its handle gave {other:?}"
                ),
            }
        },
    );
}

#[test]
fn abort_from_another_thread_reaches_a_sleeping_runtime() {
    model::check(
        "abort() from another thread of a task waiting forever, while block_on sleeps",
        &[
            "abort() only sets a flag: the task, waiting for a wake that never comes, is never \
             queued, so the runtime never cancels it. Queue it (wake it) too.",
            "block_on checks its queue and goes to sleep in two steps: the push of the aborted \
             task lands in between",
        ],
        || {
            let rt = Runtime::new();
            let (gone_tx, gone) = oneshot::channel();
            let gone_tx = SendOnDrop(Some(gone_tx)); // captured: dropped with the future
            // The aborting thread starts inside the task's first poll; then the task waits
            // for a wake that never comes.
            let (to_task, from_test) = std::sync::mpsc::channel::<JoinHandle<()>>();
            let (to_test, aborter) = std::sync::mpsc::channel();
            let handle = rt.spawn(async move {
                let _gone = gone_tx;
                let handle = from_test
                    .try_recv()
                    .expect("the test sends the handle first");
                to_test
                    .send(model::thread::spawn(move || {
                        handle.abort();
                        handle
                    }))
                    .unwrap();
                std::future::pending::<()>().await;
            });
            to_task.send(handle).unwrap();
            let _ = rt.block_on(gone); // returns once the task's future was dropped
            let mut handle = aborter.try_recv().unwrap().join().unwrap();
            assert_eq!(
                poll_once(&mut handle, Waker::noop()),
                Poll::Ready(Err(JoinError::Cancelled)),
                "the aborted task's future was dropped: its handle must give Cancelled"
            );
        },
    );
}

#[test]
fn a_spawn_from_another_thread_wakes_block_on() {
    model::check(
        "Handle::spawn on another thread while block_on goes to sleep",
        &[
            "spawn pushes the task without waking a block_on that is asleep, or wakes it \
             under a different lock than the one block_on checks its queue under",
            "block_on checks \"is the queue empty?\" and sleeps in two steps: the push and its \
             notify can land in between",
        ],
        || {
            let rt = Runtime::new();
            let handle = rt.handle();
            let (tx, rx) = oneshot::channel::<u8>();
            let spawner = model::thread::spawn(move || {
                let _detached = handle.spawn(async move {
                    let _ = tx.send(1);
                });
            });
            assert_eq!(rt.block_on(rx), Ok(1));
            spawner.join().unwrap();
        },
    );
}

#[test]
fn block_ons_own_future_woken_from_another_thread() {
    model::check(
        "block_on whose own future is woken from another thread",
        &[
            "the main future's waker sets a flag without the lock block_on sleeps under (or \
             without notifying): block_on can check the flag, miss the wake, and sleep forever",
        ],
        || {
            let rt = Runtime::new();
            let (tx, rx) = oneshot::channel::<u8>();
            let sender = model::thread::spawn(move || {
                let _ = tx.send(3);
            });
            assert_eq!(rt.block_on(rx), Ok(3));
            sender.join().unwrap();
        },
    );
}
