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
    // A hand-written future (`Ends`) that owns a drop flag and returns Ready without dropping
    // it: only dropping the future drops the flag. (An `async` block would drop its locals
    // itself as it returns, and could not tell a runtime that keeps finished futures apart.)
    let (dropped_when_joined, out) = watchdog("a finished task's future").run(|| {
        let rt = Runtime::new();
        let dropped = Arc::new(AtomicBool::new(false));
        let (go_tx, go) = oneshot::channel();
        let mut handle = spawn_ending(
            &rt,
            Ending::Returns,
            go,
            common::DropFlag(Arc::clone(&dropped)),
        );
        go_tx.send(()).unwrap();
        rt.block_on(async move {
            // Awaited through `&mut`: the handle (and whatever it keeps alive) still exists.
            let out = (&mut handle).await;
            (dropped.load(Ordering::SeqCst), out)
        })
    });
    assert_eq!(out, Ok(7));
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

/// Polls `handle` once, by hand, with `waker`.
fn poll_with<T>(handle: &mut runtime::JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

/// Runs the runtime (a `block_on` whose future yields) until `handle` says it finished, at most
/// 100 turns; says whether it did.
fn run_until_finished<T>(rt: &Runtime, handle: &runtime::JoinHandle<T>) -> bool {
    rt.block_on(async {
        for _ in 0..100 {
            if handle.is_finished() {
                return true;
            }
            yield_now().await;
        }
        handle.is_finished()
    })
}

/// How a task ends, for the tests that check every way.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Returns,
    Panics,
    IsAborted,
}

const ENDINGS: [Ending; 3] = [Ending::Returns, Ending::Panics, Ending::IsAborted];

/// A task's future that ends the way `ending` says once `go` fires (or, for `IsAborted`, never
/// ends by itself: the caller aborts it). Hand-written, not an `async` block: it owns `flag` as a
/// field, which only dropping the future drops (an `async` block drops its locals as it
/// returns, which would hide the order this checks).
struct Ends {
    ending: Ending,
    go: oneshot::Receiver<()>,
    _flag: common::DropFlag,
}

impl Future for Ends {
    type Output = u8;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        if Pin::new(&mut self.go).poll(cx).is_pending() {
            return Poll::Pending;
        }
        match self.ending {
            Ending::Returns => Poll::Ready(7),
            Ending::Panics => panic!("the task broke on purpose"),
            Ending::IsAborted => Poll::Pending,
        }
    }
}

fn spawn_ending(
    rt: &Runtime,
    ending: Ending,
    go: oneshot::Receiver<()>,
    flag: common::DropFlag,
) -> runtime::JoinHandle<u8> {
    rt.spawn(Ends {
        ending,
        go,
        _flag: flag,
    })
}

#[test]
fn a_finished_tasks_future_is_dropped_before_its_handle_is_woken() {
    // The handle is polled by hand (Pending: the task has not run yet) with a waker that looks
    // at the task's drop flag at the moment it is woken. Returning, panicking and being
    // aborted must all drop the future first, then hand over the result and wake.
    struct SeesDropFlag {
        dropped: Arc<AtomicBool>,
        seen: std::sync::Mutex<Vec<bool>>,
    }
    impl std::task::Wake for SeesDropFlag {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            let dropped = self.dropped.load(Ordering::SeqCst);
            self.seen.lock().unwrap().push(dropped);
        }
    }
    let outcomes =
        watchdog("a handle woken when its task returns, panics or is aborted").run(|| {
            ENDINGS.map(|ending| {
                let rt = Runtime::new();
                let dropped = Arc::new(AtomicBool::new(false));
                let (go_tx, go) = oneshot::channel();
                let mut handle =
                    spawn_ending(&rt, ending, go, common::DropFlag(Arc::clone(&dropped)));
                let probe = Arc::new(SeesDropFlag {
                    dropped: Arc::clone(&dropped),
                    seen: std::sync::Mutex::new(Vec::new()),
                });
                let waker = Waker::from(Arc::clone(&probe));
                assert!(
                    poll_with(&mut handle, &waker).is_pending(),
                    "a handle whose task never ran yet returned Ready"
                );
                match ending {
                    Ending::IsAborted => {
                        let _ = go_tx; // kept: the task waits forever
                        assert!(run_until_polled_once(&rt, &dropped));
                        handle.abort();
                    }
                    _ => {
                        let _ = go_tx.send(());
                    }
                }
                let finished = run_until_finished(&rt, &handle);
                let seen = probe.seen.lock().unwrap().clone();
                (ending, finished, seen)
            })
        });
    for (ending, finished, seen) in outcomes {
        assert!(finished, "the task ({ending:?}) never finished");
        assert!(
            !seen.is_empty(),
            "the task ({ending:?}) finished but never woke the waker its handle was polled with"
        );
        assert!(
            seen[0],
            "when the task ({ending:?}) woke its handle, its future was still alive: the \
             output was handed over (and the handle woken) BEFORE the finished future was \
             dropped. Drop the future first (set it to None), then complete the slot and wake. \
             Whoever is woken may look at what the future owned (a lock guard, a channel, an \
             Arc it expects to be unique) right away, on another thread."
        );
    }
}

/// Runs the runtime until the task owning `dropped` has been polled once (a `block_on` that
/// yields a few times); the task is still alive afterwards.
fn run_until_polled_once(rt: &Runtime, dropped: &AtomicBool) -> bool {
    rt.block_on(async {
        for _ in 0..3 {
            yield_now().await;
        }
    });
    !dropped.load(Ordering::SeqCst)
}

#[test]
fn a_waker_that_reenters_the_handle_does_not_deadlock() {
    // The handle lives in a mutex that its own waker reaches: when woken, the waker asks
    // `is_finished()` and polls the handle, right there, on the thread that completed the task.
    // A `complete` that wakes while it still holds the result slot's lock deadlocks here.
    type Shared = Arc<std::sync::Mutex<Option<runtime::JoinHandle<u8>>>>;
    /// What the waker saw: `is_finished()`, then what polling the handle gave.
    type Seen = Option<(bool, Poll<Result<u8, JoinError>>)>;
    struct Reenters {
        handle: Shared,
        seen: std::sync::Mutex<Seen>,
    }
    impl std::task::Wake for Reenters {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            let taken = self.handle.lock().unwrap().take();
            if let Some(mut handle) = taken {
                let finished = handle.is_finished();
                let polled = poll_with(&mut handle, Waker::noop());
                *self.seen.lock().unwrap() = Some((finished, polled));
            }
        }
    }
    /// Puts `handle` where its own waker reaches it, and polls it once (Pending) with that
    /// waker, so that the task's completion wakes the probe.
    fn watched_by_a_reentering_waker(handle: runtime::JoinHandle<u8>) -> (Shared, Arc<Reenters>) {
        let shared: Shared = Arc::new(std::sync::Mutex::new(Some(handle)));
        let probe = Arc::new(Reenters {
            handle: Arc::clone(&shared),
            seen: std::sync::Mutex::new(None),
        });
        let waker = Waker::from(Arc::clone(&probe));
        let mut guard = shared.lock().unwrap();
        assert!(poll_with(guard.as_mut().unwrap(), &waker).is_pending());
        drop(guard);
        (shared, probe)
    }
    let outcomes = watchdog("a handle whose waker calls is_finished() and polls it")
        .likely_cause(
            "the task's completion calls the handle's waker while it still holds the result \
             slot's lock: the waker re-enters the handle (is_finished, poll), which takes that \
             lock again on the same thread. Take the waker out under the lock, unlock, then \
             wake.",
        )
        .run(|| {
            let mut outcomes = Vec::new();
            for ending in ENDINGS {
                let rt = Runtime::new();
                let dropped = Arc::new(AtomicBool::new(false));
                let (go_tx, go) = oneshot::channel();
                let handle = spawn_ending(&rt, ending, go, common::DropFlag(Arc::clone(&dropped)));
                let (shared, probe) = watched_by_a_reentering_waker(handle);
                match ending {
                    Ending::IsAborted => {
                        let _ = go_tx;
                        assert!(run_until_polled_once(&rt, &dropped));
                        let guard = shared.lock().unwrap();
                        guard.as_ref().unwrap().abort();
                    }
                    _ => {
                        let _ = go_tx.send(());
                    }
                }
                rt.block_on(async {
                    for _ in 0..100 {
                        if probe.seen.lock().unwrap().is_some() {
                            break;
                        }
                        yield_now().await;
                    }
                });
                let seen = probe.seen.lock().unwrap().take();
                outcomes.push((format!("{ending:?}"), seen));
            }
            // And a blocking job's handle, completed on a pool thread.
            let rt = Runtime::new();
            let gate = common::Gate::new();
            let job_gate = gate.clone();
            let handle = rt.spawn_blocking(move || {
                job_gate.wait();
                7u8
            });
            let (_shared, probe) = watched_by_a_reentering_waker(handle);
            gate.open();
            let woken = common::eventually(|| probe.seen.lock().unwrap().is_some());
            let seen = if woken {
                probe.seen.lock().unwrap().take()
            } else {
                None
            };
            outcomes.push(("a spawn_blocking job".to_owned(), seen));
            outcomes
        });
    for (ending, seen) in outcomes {
        let Some((finished, polled)) = seen else {
            panic!("the handle's waker was never woken ({ending})")
        };
        assert!(
            finished,
            "when it woke the handle's waker ({ending}), the task was not finished yet by \
             is_finished(): complete the slot first, then wake"
        );
        assert!(
            polled.is_ready(),
            "a handle polled by its own waker, as it was woken ({ending}), returned Pending: \
             the result must be in the slot before the waker is called"
        );
    }
}

#[test]
fn a_handle_wakes_the_waker_of_its_latest_poll() {
    // Polled with waker A, then with waker B (a select that gave up, then an await elsewhere):
    // the task's completion must wake B, the one that is waiting now.
    let (same_thread, other_thread) =
        watchdog("a handle polled with two different wakers").run(|| {
            // This thread: A then B.
            let rt = Runtime::new();
            let (tx, rx) = oneshot::channel::<u8>();
            let mut handle = rt.spawn(async move { rx.await.unwrap() });
            let (a, b) = (harness::WakeProbe::new(), harness::WakeProbe::new());
            assert!(poll_with(&mut handle, &a.waker()).is_pending());
            assert!(poll_with(&mut handle, &b.waker()).is_pending());
            tx.send(1).unwrap();
            assert!(run_until_finished(&rt, &handle), "the task never finished");
            let same_thread = (a.wakes(), b.wakes(), poll_with(&mut handle, Waker::noop()));

            // Another thread: A here, then the handle moves to a thread that polls it with B.
            let (tx, rx) = oneshot::channel::<u8>();
            let mut handle = rt.spawn(async move { rx.await.unwrap() });
            let a = harness::WakeProbe::new();
            assert!(poll_with(&mut handle, &a.waker()).is_pending());
            let (polled_tx, polled) = std::sync::mpsc::channel();
            let (done_tx, done) = std::sync::mpsc::channel::<()>();
            let other = thread::spawn(move || {
                let b = harness::WakeProbe::new();
                let first = poll_with(&mut handle, &b.waker()).is_pending();
                polled_tx.send(first).unwrap();
                let woken = b.wait_for_wakes(1, std::time::Duration::from_secs(3));
                let _ = done.recv();
                (woken, poll_with(&mut handle, Waker::noop()))
            });
            assert!(
                polled.recv().unwrap(),
                "the handle was Ready before its task ran"
            );
            tx.send(2).unwrap();
            rt.block_on(async {
                for _ in 0..3 {
                    yield_now().await; // the task finishes here
                }
            });
            done_tx.send(()).unwrap();
            let other_thread = other.join().unwrap();
            (same_thread, other_thread)
        });
    let (a_wakes, b_wakes, out) = same_thread;
    assert!(
        b_wakes >= 1,
        "the handle was polled with waker A, then with waker B; the task's completion woke A \
         {a_wakes} time(s) and B {b_wakes}: a handle must keep the waker of its LATEST poll \
         (replace the stored one on every Pending poll, e.g. `clone_from`), since that is the \
         task waiting for it now"
    );
    assert_eq!(out, Poll::Ready(Ok(1)));
    let (woken, out) = other_thread;
    assert!(
        woken,
        "the handle was polled here with waker A, then moved to another thread and polled \
         there with waker B: the task's completion never woke B. Store the waker of every \
         Pending poll, not only the first one"
    );
    assert_eq!(out, Poll::Ready(Ok(2)));
}

#[test]
fn a_handle_moved_to_another_task_wakes_that_task() {
    // Task 1 polls the handle once (like a select! that gave up) and passes it to task 2,
    // which awaits it. The completion must wake task 2.
    let out = watchdog("a handle polled once by one task, then awaited by another")
        .likely_cause(
            "the handle kept the waker of its first poll (task 1's): task 2, which awaits it \
             now, is never woken. Replace the stored waker on every Pending poll.",
        )
        .run(|| {
            let rt = Runtime::new();
            let (tx, rx) = oneshot::channel::<u8>();
            let worker = rt.spawn(async move { rx.await.unwrap() });
            let (pass_tx, pass_rx) = oneshot::channel();
            let _first = rt.spawn(async move {
                let mut worker = worker;
                let polled =
                    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut worker).poll(cx))).await;
                assert!(
                    polled.is_pending(),
                    "the worker finished before it was sent a value"
                );
                let _ = pass_tx.send(worker);
            });
            let second = rt.spawn(async move { pass_rx.await.unwrap().await });
            rt.block_on(async move {
                for _ in 0..5 {
                    yield_now().await; // task 1 ran; task 2 awaits the handle: Pending
                }
                tx.send(3).unwrap();
                second.await
            })
        });
    assert_eq!(out, Ok(Ok(3)));
}

#[test]
fn is_finished_stays_true_once_true() {
    // "True ONCE the task has finished": after it turned true, nothing turns it back, not
    // taking the output, not abort(), not another turn of the runtime, not another thread.
    let changed_back = watchdog("is_finished() after every later operation").run(|| {
        let mut changed_back = Vec::new();
        for ending in ENDINGS {
            let rt = Runtime::new();
            let dropped = Arc::new(AtomicBool::new(false));
            let (go_tx, go) = oneshot::channel();
            let mut handle = spawn_ending(&rt, ending, go, common::DropFlag(Arc::clone(&dropped)));
            match ending {
                Ending::IsAborted => {
                    assert!(run_until_polled_once(&rt, &dropped));
                    handle.abort();
                    drop(go_tx);
                }
                _ => {
                    let _ = go_tx.send(());
                }
            }
            let mut check = |handle: &runtime::JoinHandle<u8>, after: &str| {
                if !handle.is_finished() {
                    changed_back.push(format!("{ending:?}: after {after}"));
                }
            };
            assert!(
                run_until_finished(&rt, &handle),
                "the task ({ending:?}) never finished"
            );
            rt.block_on(async { (&mut handle).await.map(|_| ()).unwrap_or(()) });
            check(
                &handle,
                "the handle returned its output (awaited through &mut)",
            );
            handle.abort();
            check(&handle, "abort() once the output was taken");
            rt.block_on(async {
                for _ in 0..3 {
                    yield_now().await;
                }
            });
            check(&handle, "the runtime ran again");
            let handle = thread::spawn(move || {
                let finished = handle.is_finished();
                (handle, finished)
            });
            let (handle, finished_there) = handle.join().unwrap();
            check(&handle, "it came back from another thread");
            if !finished_there {
                changed_back.push(format!("{ending:?}: read on another thread"));
            }
        }
        changed_back
    });
    assert!(
        changed_back.is_empty(),
        "is_finished() was true once the task had finished, then false again: {}. It means \
         \"the task has finished\", which stays true forever; it is not \"the result is \
         waiting in the slot\" (count a Taken slot as finished too)",
        harness::bounded::list(&changed_back, 3, 1)
    );
}

#[test]
fn abort_after_the_task_finished_keeps_its_output_when_the_runtime_runs_in_between() {
    // abort() queues the finished task; the runtime then runs it before the handle is
    // awaited. Finding it finished, it must change nothing. From this thread and another.
    let outs =
        watchdog("abort() of a finished task, the runtime running before the await").run(|| {
            let mut outs = Vec::new();
            for from_another_thread in [false, true] {
                let rt = Runtime::new();
                let handle = rt.spawn(async { 5 });
                assert!(run_until_finished(&rt, &handle), "the task never finished");
                let handle = if from_another_thread {
                    thread::spawn(move || {
                        handle.abort();
                        handle
                    })
                    .join()
                    .unwrap()
                } else {
                    handle.abort();
                    handle
                };
                rt.block_on(async {
                    for _ in 0..3 {
                        yield_now().await; // the runtime takes the aborted task from the queue
                    }
                });
                let finished = handle.is_finished();
                outs.push((from_another_thread, finished, rt.block_on(handle)));
            }
            outs
        });
    for (from_another_thread, finished, out) in outs {
        let place = if from_another_thread {
            "another thread"
        } else {
            "this thread"
        };
        assert!(
            finished,
            "is_finished() went false after abort() from {place}"
        );
        assert_eq!(
            out,
            Ok(5),
            "abort() (from {place}) of a task that had already returned, followed by a turn of \
             the runtime, changed its output: when the runtime takes an aborted task from the \
             queue, it must first see whether it already finished (its future is gone) and \
             then do nothing; a finished task keeps Ok(output)"
        );
    }
}

#[test]
fn a_panic_message_is_kept_whether_it_is_a_str_or_a_string() {
    let outs = watchdog("tasks and blocking jobs panicking with &str, String and other payloads")
        .run(|| {
            let rt = Runtime::new();
            let n = std::hint::black_box(7);
            let tasks = [
                rt.spawn(async { panic!("a literal message") }),
                rt.spawn(async move { panic!("task {n} broke") }),
                rt.spawn(async move { std::panic::panic_any(format!("a String payload {n}")) }),
                rt.spawn(async { std::panic::panic_any(42_u32) }),
            ];
            let jobs = [
                rt.spawn_blocking(|| panic!("a literal message")),
                rt.spawn_blocking(move || panic!("task {n} broke")),
                rt.spawn_blocking(move || std::panic::panic_any(format!("a String payload {n}"))),
                rt.spawn_blocking(|| std::panic::panic_any(42_u32)),
            ];
            rt.block_on(async move {
                let mut outs: Vec<(&str, Result<(), JoinError>)> = Vec::new();
                for task in tasks {
                    outs.push(("a task", task.await));
                }
                for job in jobs {
                    outs.push(("a spawn_blocking job", job.await));
                }
                outs
            })
        });
    let expected = [
        "a literal message",
        "task 7 broke",
        "a String payload 7",
        "Box<dyn Any>",
    ];
    for (i, (what, out)) in outs.into_iter().enumerate() {
        let want = expected[i % expected.len()];
        assert_eq!(
            out,
            Err(JoinError::Panic(want.to_owned())),
            "{what} panicked with {want:?}: the message must come out as JoinError::Panic. \
             A panic's payload is a `&'static str` for `panic!(\"literal\")` and a `String` \
             when the message has arguments (`panic!(\"task {{n}} broke\")`, `unwrap`, \
             `expect`): try `downcast_ref::<&str>()`, then `downcast_ref::<String>()`, and only \
             then fall back to \"Box<dyn Any>\""
        );
    }
}
