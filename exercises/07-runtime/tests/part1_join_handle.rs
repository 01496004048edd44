//! Part 1 — `JoinHandle<T>`: await a task's output; drop detaches; `abort()` cancels; a panic
//! becomes `JoinError::Panic` instead of killing the runtime.
//!
//! Every test runs under a watchdog: a lost wake-up hangs, and the watchdog turns the hang
//! into a failure that names the likely cause.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread;

use futures::channel::oneshot;
use runtime::{JoinError, Runtime};

mod common;
use common::{Forever, watchdog, yield_now};

#[test]
fn awaiting_a_handle_gives_the_task_output() {
    let out = watchdog("block_on(rt.spawn(async { 6 * 7 }))").run(|| {
        let rt = Runtime::new();
        let handle = rt.spawn(async { 6 * 7 });
        rt.block_on(handle)
    });
    assert_eq!(
        out,
        Ok(42),
        "awaiting a JoinHandle must give Ok(the task's output) once the task has returned"
    );
}

#[test]
fn a_handle_that_waits_is_woken_when_the_task_finishes() {
    // The handle is awaited BEFORE its task can finish (the task waits for a message the main
    // future sends later): the handle returns Pending, and the task's completion must wake it.
    let out = watchdog("a task awaiting another task's JoinHandle").run(|| {
        let rt = Runtime::new();
        let (tx, rx) = oneshot::channel::<u32>();
        let worker = rt.spawn(async move { rx.await.unwrap() * 2 });
        let waiter = rt.spawn(async move { worker.await.map(|x| x + 1) });
        rt.block_on(async move {
            for _ in 0..3 {
                yield_now().await; // the waiter has polled the worker's handle: Pending
            }
            tx.send(20).unwrap();
            waiter.await
        })
    });
    assert_eq!(
        out,
        Ok(Ok(41)),
        "a JoinHandle polled while its task was still running must be woken when the task \
         finishes, and then give its output: store `cx.waker()` in the shared state when you \
         return Pending, and wake it when the result is written"
    );
}

#[test]
fn a_handle_awaited_on_another_thread_gets_the_output() {
    let out = watchdog("a JoinHandle awaited on another thread").run(|| {
        let rt = Runtime::new();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = rt.spawn(async move {
            rx.await.unwrap();
            "done"
        });
        // Another thread (with its own little executor) awaits the handle.
        let other = thread::spawn(move || futures::executor::block_on(handle));
        rt.block_on(async move {
            yield_now().await;
            tx.send(()).unwrap();
            yield_now().await;
        });
        other.join().unwrap()
    });
    assert_eq!(
        out,
        Ok("done"),
        "a JoinHandle is Send: awaited on another thread it must be woken by the task's \
         completion on the runtime's thread"
    );
}

#[test]
#[allow(clippy::drop_non_drop)] // whether JoinHandle has a Drop is the learner's choice
fn dropping_the_handle_detaches_the_task() {
    let finished = watchdog("a task whose JoinHandle was dropped").run(|| {
        let rt = Runtime::new();
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel::<&str>();
        let handle = rt.spawn(async move {
            go_rx.await.unwrap();
            let _ = done_tx.send("ran to the end");
        });
        drop(handle);
        rt.block_on(async move {
            yield_now().await;
            go_tx.send(()).unwrap();
            done_rx.await
        })
    });
    assert_eq!(
        finished,
        Ok("ran to the end"),
        "dropping a JoinHandle must DETACH the task (it keeps running to its end), not cancel \
         it: only `abort()` cancels. Does your JoinHandle's Drop abort the task?"
    );
}

#[test]
fn abort_cancels_a_waiting_task_and_drops_its_future() {
    let (out, polls, dropped) = watchdog("abort() of a task waiting for a wake").run(|| {
        let rt = Runtime::new();
        let (forever, polls, dropped) = Forever::new();
        let handle = rt.spawn(forever);
        let poll_count = Arc::clone(&polls);
        let out = rt.block_on(async move {
            while poll_count.load(Ordering::SeqCst) == 0 {
                yield_now().await;
            }
            handle.abort(); // the task waits for a wake that will never come
            handle.await
        });
        (
            out,
            polls.load(Ordering::SeqCst),
            dropped.load(Ordering::SeqCst),
        )
    });
    assert_eq!(
        out,
        Err(JoinError::Cancelled),
        "an aborted task's handle must give Err(JoinError::Cancelled)"
    );
    assert!(out.is_err_and(|e| e.is_cancelled() && !e.is_panic()));
    assert_eq!(
        polls, 1,
        "an aborted task must not be polled again (it was polled {polls} times)"
    );
    assert!(
        dropped,
        "an aborted task's future must be dropped (its destructors run) once it is cancelled"
    );
}

#[test]
fn a_task_aborted_before_it_ran_is_never_polled() {
    let (out, polls, dropped) = watchdog("abort() of a task still in the ready queue").run(|| {
        let rt = Runtime::new();
        let (forever, polls, dropped) = Forever::new();
        let handle = rt.spawn(forever);
        handle.abort(); // the task is queued, not polled yet
        let out = rt.block_on(handle);
        (
            out,
            polls.load(Ordering::SeqCst),
            dropped.load(Ordering::SeqCst),
        )
    });
    assert_eq!(
        out,
        Err(JoinError::Cancelled),
        "an aborted task gives Cancelled"
    );
    assert_eq!(
        polls, 0,
        "a task aborted while it sat in the ready queue was still polled {polls} time(s): \
         check the abort flag BEFORE polling, not only after a poll returns Pending"
    );
    assert!(dropped, "the aborted task's future must be dropped");
}

#[test]
fn abort_after_the_task_finished_keeps_its_output() {
    let out = watchdog("abort() of a task that already finished").run(|| {
        let rt = Runtime::new();
        let handle = rt.spawn(async { 5 });
        rt.block_on(async move {
            for _ in 0..100 {
                if handle.is_finished() {
                    break;
                }
                yield_now().await;
            }
            assert!(
                handle.is_finished(),
                "the task never ran (is_finished stayed false)"
            );
            handle.abort();
            handle.await
        })
    });
    assert_eq!(
        out,
        Ok(5),
        "abort() on a task that already returned must change nothing: its output is kept"
    );
}

#[test]
fn a_panicking_task_gives_join_error_panic() {
    let out = watchdog("a task that panics").run(|| {
        let rt = Runtime::new();
        let handle = rt.spawn(async {
            panic!("the task broke");
        });
        rt.block_on(handle)
    });
    let error = out.clone().expect_err("a task that panicked gave Ok");
    assert!(
        error.is_panic() && !error.is_cancelled() && error.to_string().contains("the task broke"),
        "JoinError's helpers (given) disagree with the error: {error:?}"
    );
    assert_eq!(
        out,
        Err::<(), _>(JoinError::Panic("the task broke".into())),
        "a task's panic must be caught (`std::panic::catch_unwind` around its poll) and come \
         out of its JoinHandle as JoinError::Panic(the message)"
    );
}

#[test]
fn a_panicking_task_does_not_stop_the_runtime() {
    let out = watchdog("a runtime where one task panics and others do not").run(|| {
        let rt = Runtime::new();
        let bad = rt.spawn(async {
            yield_now().await;
            panic!("boom");
        });
        let good = rt.spawn(async {
            for _ in 0..3 {
                yield_now().await;
            }
            "good"
        });
        let first = rt.block_on(async move { (bad.await.is_err(), good.await) });
        // And the runtime still works afterwards.
        let again = rt.block_on(rt.spawn(async { 1 }));
        (first, again)
    });
    assert_eq!(
        out,
        ((true, Ok("good")), Ok(1)),
        "one task's panic must not take the runtime (or the other tasks) down with it"
    );
}

#[test]
fn is_finished_turns_true_when_the_task_finishes() {
    let (before, after) = watchdog("is_finished() before and after").run(|| {
        let rt = Runtime::new();
        let handle = rt.spawn(async { 3 });
        let before = handle.is_finished(); // nothing ran yet: no block_on
        let after = rt.block_on(async move {
            for _ in 0..100 {
                if handle.is_finished() {
                    return true;
                }
                yield_now().await;
            }
            false
        });
        (before, after)
    });
    assert!(!before, "is_finished() was true before the task ever ran");
    assert!(after, "is_finished() stayed false after the task returned");
}

#[test]
fn the_future_is_dropped_as_soon_as_the_task_finishes() {
    let (dropped_when_joined, out) = watchdog("a finished task's future").run(|| {
        let rt = Runtime::new();
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = common::DropFlag(Arc::clone(&dropped));
        let handle = rt.spawn(async move {
            let _flag = flag; // lives in the future's state
            yield_now().await;
            9
        });
        let mut handle = handle;
        rt.block_on(async move {
            // Awaited through `&mut`: the handle (and whatever it keeps alive) still exists.
            let out = (&mut handle).await;
            (dropped.load(Ordering::SeqCst), out)
        })
    });
    assert_eq!(out, Ok(9));
    assert!(
        dropped_when_joined,
        "a finished task's future (and everything it owns) must be dropped when it returns \
         Ready, not kept alive for as long as the task or its JoinHandle exists"
    );
}

#[test]
fn polling_a_handle_after_it_returned_panics() {
    let rt = Runtime::new();
    let mut handle = watchdog("a JoinHandle awaited to the end").run(move || {
        let mut handle = rt.spawn(async { 1 });
        assert_eq!(rt.block_on(&mut handle), Ok(1));
        handle
    });
    let polled_again = harness::catch_panic(move || {
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(&mut handle).poll(&mut cx)
    });
    assert!(
        polled_again.is_err(),
        "polling a JoinHandle after it returned Ready must panic (the output was given away: \
         there is nothing to return); it returned {polled_again:?}"
    );
}

#[test]
fn a_burst_of_wakes_polls_a_task_once() {
    let polls = watchdog("a task woken 5 times in a row").run(|| {
        let rt = Runtime::new();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&count);
        let handle = rt.spawn(std::future::poll_fn(move |cx| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                for _ in 0..5 {
                    cx.waker().wake_by_ref();
                }
            }
            Poll::<()>::Pending
        }));
        rt.block_on(async move {
            for _ in 0..10 {
                yield_now().await; // every queued run of the task happens meanwhile
            }
            handle.abort();
            let _ = handle.await;
        });
        count.load(Ordering::SeqCst)
    });
    assert_eq!(
        polls, 2,
        "five wakes before the task ran again must cost ONE more poll (a task is in the ready \
         queue at most once), got {polls} polls"
    );
}
