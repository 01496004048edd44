//! Part 4 — sleeping and waking: idle workers park, a push wakes one (not all), and dropping
//! the runtime stops every worker and cancels every queued task exactly once.
//!
//! "Asleep" is read from `Metrics::parked_workers` and from the kernel (`ThreadWatch`), never
//! guessed from time; counts come from `Metrics` and drop guards.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{Counter, Drops, Forever, Gate, Parked, runtime, until_all_parked, watchdog};
use harness::{Asleep, ThreadWatch};
use stealing::{Handle, JoinError, JoinHandle, Runtime};

/// Polls a handle once with a no-op waker (the runtime may be gone).
fn poll_once<T>(handle: &mut JoinHandle<T>) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn idle_workers_park_and_count_themselves() {
    watchdog("a runtime with 4 workers and nothing to do").run(|| {
        let rt = runtime(4);
        until_all_parked(&rt, "a fresh runtime with 4 workers");
        let m = rt.metrics();
        assert!(
            m.parks >= 4,
            "4 sleeping workers parked at least 4 times: {m:?}"
        );
    });
}

#[test]
fn an_idle_worker_sleeps_instead_of_spinning() {
    watchdog("the only worker, after its only task").run(|| {
        let rt = runtime(1);
        let watch = rt
            .block_on(rt.spawn(async { ThreadWatch::current() }))
            .unwrap();
        let seen = watch.wait_until_asleep(Duration::from_secs(3));
        assert!(
            matches!(seen, Asleep::Yes | Asleep::Unknown),
            "the worker has nothing to do, but the kernel never saw its thread asleep ({seen:?}): \
             an idle worker must block (a condvar wait, a park), not spin or nap in a loop"
        );
    });
}

#[test]
fn a_spawn_from_outside_wakes_a_sleeping_worker() {
    watchdog("a spawn onto a runtime whose only worker sleeps").run(|| {
        let rt = runtime(1);
        until_all_parked(&rt, "a fresh runtime with 1 worker");
        assert_eq!(rt.block_on(rt.spawn(async { 3 })), Ok(3));
        assert!(rt.metrics().unparks >= 1, "{:?}", rt.metrics());
    });
}

#[test]
fn one_task_into_sleeping_workers_wakes_at_most_two() {
    watchdog("one task spawned from outside into 4 sleeping workers").run(|| {
        let rt = runtime(4);
        until_all_parked(&rt, "a fresh runtime with 4 workers");
        let before = rt.metrics();
        assert_eq!(rt.block_on(rt.spawn(async { 1 })), Ok(1));
        until_all_parked(&rt, "4 workers after running one task");
        let after = rt.metrics();
        let unparks = after.unparks - before.unparks;
        assert!(
            (1..=2).contains(&unparks),
            "one task pushed into a runtime whose 4 workers sleep woke {unparks} of them \
             (Metrics::unparks): a push wakes ONE sleeper, and only if nobody is searching; the \
             woken worker, once it finds the task, wakes at most one more. More is a \
             thundering herd (every sleeper woken for one task); 0 leaves the task waiting. \
             Before: {before:?}; after: {after:?}"
        );
    });
}

#[test]
fn a_spawn_that_only_fills_the_lifo_slot_wakes_nobody() {
    watchdog("a task spawning and awaiting a child, while the other worker sleeps").run(|| {
        let rt = runtime(2);
        until_all_parked(&rt, "a fresh runtime with 2 workers");
        let parks_before = rt.metrics().parks;
        let out = rt.block_on(rt.spawn(async move {
            let handle = Handle::current();
            // The worker that found this task woke the other one (the last searcher to find
            // work wakes one more); wait until that one has parked again.
            assert!(common::eventually(|| {
                let m = handle.metrics();
                m.parked_workers == 1 && m.parks > parks_before
            }));
            let before = handle.metrics().unparks;
            // The LIFO slot is empty: the child goes there; this task waits, the child runs
            // and wakes this task, which goes into the empty slot again.
            stealing::spawn(async {}).await.unwrap();
            (before, handle.metrics().unparks)
        }));
        let (before, after) = out.unwrap();
        assert_eq!(
            after,
            before,
            "a task on a worker spawned a child into its empty LIFO slot and waited for it, and \
             the child's completion put the task back into the empty slot: each time a task \
             went only into the LIFO slot, where this worker polls it next, so nobody needs to \
             wake; but the sleeping worker was notified {} times",
            after - before
        );
    });
}

#[test]
fn a_burst_from_outside_reaches_every_sleeping_worker() {
    watchdog(
        "4 tasks spawned from outside into 4 sleeping workers, each holding its worker \
              until all 4 run",
    )
    .run(|| {
        let rt = runtime(4);
        until_all_parked(&rt, "a fresh runtime with 4 workers");
        let started = Counter::default();
        let all = Gate::new();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (started, all) = (started.clone(), all.clone());
                rt.spawn(async move {
                    if started.tick() == 4 {
                        all.open();
                    }
                    all.wait_at_most(Duration::from_secs(3))
                })
            })
            .collect();
        let all_ran = rt.block_on(async move {
            let mut ok = true;
            for handle in handles {
                ok &= handle.await.unwrap();
            }
            ok
        });
        assert!(
            all_ran,
            "4 tasks pushed at once, each holding its worker until all 4 have started, never \
             all ran ({} did): the first push woke one worker and the others saw it searching \
             (so woke nobody), which is right; but a searcher that finds work and was the LAST \
             one searching must wake one more sleeper, or the rest of the burst waits for a \
             worker that is busy",
            started.get()
        );
    });
}

#[test]
fn dropping_the_runtime_cancels_every_queued_task_exactly_once() {
    watchdog(
        "dropping a runtime whose only worker is busy, with tasks in its LIFO slot, \
              local queue and injector",
    )
    .run(|| {
        let rt = runtime(1);
        let drops = Drops::default();
        let polls = Counter::default();
        let started = Gate::new();
        let queued = {
            let (drops, polls, started) = (drops.clone(), polls.clone(), started.clone());
            rt.spawn(async move {
                // c → LIFO slot, then d → LIFO slot (c → local queue).
                let task = |drops: &Drops, polls: &Counter| {
                    let (guard, polls) = (drops.guard(), polls.clone());
                    stealing::spawn(async move {
                        let _guard = guard;
                        polls.tick();
                    })
                };
                let c = task(&drops, &polls);
                let d = task(&drops, &polls);
                started.open();
                // Hold the worker until the runtime's drop has begun.
                let handle = Handle::current();
                assert!(common::eventually(|| handle.is_shutting_down()));
                vec![c, d]
            })
        };
        assert!(
            started.wait_at_most(Duration::from_secs(3)),
            "the first task never ran"
        );
        let e = {
            let (guard, polls) = (drops.guard(), polls.clone());
            rt.spawn(async move {
                let _guard = guard;
                polls.tick();
            })
        };
        drop(rt);
        assert_eq!(
            polls.get(),
            0,
            "a task was polled after the runtime's drop began: once shutdown starts, a worker \
             finishes the poll it is in and then polls nothing more"
        );
        assert_eq!(
            drops.get(),
            3,
            "3 tasks were queued when the runtime was dropped (one in the LIFO slot, one in the \
             local queue, one in the injector): the drop must cancel each of them, dropping its \
             future exactly once; {} were dropped. (A queued task holds the shared state and the \
             shared state holds the queue: without draining, they keep each other alive.)",
            drops.get()
        );
        let mut handles = match poll_once(&mut { queued }) {
            Poll::Ready(Ok(handles)) => handles,
            other => panic!(
                "the busy task returned before the drop ended, but its handle gave {other:?}"
            ),
        };
        handles.push(e);
        for handle in &mut handles {
            assert_eq!(
                poll_once(handle),
                Poll::Ready(Err(JoinError::Cancelled)),
                "a task cancelled by the runtime's drop: its handle gives Cancelled"
            );
        }
    });
}

#[test]
fn self_waking_tasks_are_each_dropped_once_at_shutdown() {
    watchdog("dropping a runtime running 20 tasks that wake themselves forever").run(|| {
        let rt = runtime(2);
        let drops = Drops::default();
        let polls = Counter::default();
        for _ in 0..20 {
            let (guard, polls) = (drops.guard(), polls.clone());
            drop(rt.spawn(async move {
                let _guard = guard;
                loop {
                    polls.tick();
                    common::yield_now().await;
                }
            }));
        }
        assert!(common::eventually(|| polls.get() >= 100));
        drop(rt);
        assert_eq!(
            drops.get(),
            20,
            "20 tasks that always wake themselves are always queued somewhere (injector, a local \
             queue, a LIFO slot, or just being polled and queued again at once); the runtime's \
             drop must cancel every one exactly once, wherever it is"
        );
    });
}

thread_local! {
    /// Set on a worker thread by a task; its drop (when the thread exits) counts the exit.
    static EXIT: Cell<Option<ExitGuard>> = const { Cell::new(None) };
}

struct ExitGuard(Arc<AtomicUsize>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn no_worker_thread_outlives_the_runtime() {
    watchdog("dropping a runtime whose worker is inside a poll").run(|| {
        let rt = runtime(1);
        let exits = Arc::new(AtomicUsize::new(0));
        let release = Gate::new();
        let started = Gate::new();
        {
            let (exits, release, started) = (Arc::clone(&exits), release.clone(), started.clone());
            drop(rt.spawn(async move {
                EXIT.with(|exit| exit.set(Some(ExitGuard(exits))));
                started.open();
                // Hold the worker inside this poll until the drop has begun and then waits.
                let handle = Handle::current();
                assert!(common::eventually(|| handle.is_shutting_down()));
                release.wait();
            }));
        }
        assert!(
            started.wait_at_most(Duration::from_secs(3)),
            "the task never ran"
        );
        // Open the gate only once this thread is seen blocked (inside the drop, waiting for
        // the worker): a drop that does not wait never blocks, and returns with the worker
        // still inside the poll.
        let watch = ThreadWatch::current();
        let opener = std::thread::spawn(move || {
            let _ = watch.wait_until_asleep(Duration::from_secs(3));
            release.open();
        });
        drop(rt);
        let exited = exits.load(Ordering::SeqCst);
        opener.join().unwrap();
        assert_eq!(
            exited, 1,
            "the runtime's drop returned while its worker thread was still alive (still inside \
             a task's poll): the drop must wait for (join) every worker thread, so that no \
             thread outlives its runtime"
        );
    });
}

/// A task that stores its waker in `slot` and waits to be woken; counts polls.
fn waiting_task(rt: &Runtime, slot: &Parked, drops: &Drops, polls: &Counter) -> JoinHandle<()> {
    let (slot, guard, polls) = (slot.clone(), drops.guard(), polls.clone());
    let mut woken = false;
    rt.spawn(std::future::poll_fn(move |cx| {
        let _ = &guard;
        polls.tick();
        if woken {
            return Poll::Ready(());
        }
        woken = true;
        slot.store(cx.waker());
        Poll::Pending
    }))
}

#[test]
fn a_task_woken_after_shutdown_is_cancelled_at_once() {
    watchdog("waking a task after its runtime was dropped").run(|| {
        let rt = runtime(2);
        let (slot, drops, polls) = (Parked::default(), Drops::default(), Counter::default());
        let mut handle = waiting_task(&rt, &slot, &drops, &polls);
        assert!(
            common::eventually(|| polls.get() == 1),
            "the task was never polled"
        );
        assert!(common::eventually(|| slot.0.lock().unwrap().is_some()));
        drop(rt);
        assert_eq!(
            drops.get(),
            0,
            "a task waiting for a wake is not queued: the drop leaves it"
        );
        assert!(slot.wake());
        assert_eq!(
            (drops.get(), polls.get()),
            (1, 1),
            "a task woken after the runtime was dropped must be cancelled at once, on the \
             waking thread (its future dropped, never polled again), not left in a queue \
             nobody reads"
        );
        assert_eq!(
            poll_once(&mut handle),
            Poll::Ready(Err(JoinError::Cancelled))
        );
    });
}

#[test]
fn a_spawn_through_a_handle_after_shutdown_is_cancelled_at_once() {
    watchdog("Handle::spawn after the runtime was dropped").run(|| {
        let rt = runtime(2);
        let handle = rt.handle();
        assert!(!handle.is_shutting_down());
        drop(rt);
        assert!(
            handle.is_shutting_down(),
            "is_shutting_down is true once the drop began"
        );
        let drops = Drops::default();
        let polls = Counter::default();
        let mut task = {
            let (guard, polls) = (drops.guard(), polls.clone());
            handle.spawn(async move {
                let _guard = guard;
                polls.tick();
            })
        };
        assert_eq!(
            (drops.get(), polls.get()),
            (1, 0),
            "a task spawned after the runtime was dropped must be cancelled at once: its future \
             dropped, never polled"
        );
        assert_eq!(poll_once(&mut task), Poll::Ready(Err(JoinError::Cancelled)));
    });
}

#[test]
fn a_forever_pending_task_is_dropped_with_its_handle_after_shutdown() {
    watchdog("a task that never wakes, its runtime dropped, then its handle").run(|| {
        let rt = runtime(1);
        let drops = Drops::default();
        let polls = Counter::default();
        let handle = rt.spawn(Forever {
            polls: polls.clone(),
            _guard: drops.guard(),
        });
        assert!(common::eventually(|| polls.get() == 1));
        drop(rt);
        assert_eq!(drops.get(), 0);
        drop(handle);
        assert_eq!(
            drops.get(),
            1,
            "a task waiting for a wake that never comes is owned by its wakers and its handle: \
             once the runtime and the handle are gone, nothing may keep it alive"
        );
    });
}

/// Runs `body` when dropped.
struct OnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(body) = self.0.take() {
            body();
        }
    }
}

#[test]
fn a_queued_task_that_spawns_and_wakes_when_dropped_does_not_block_the_runtimes_drop() {
    watchdog(
        "dropping a runtime with a task queued in the injector whose drop spawns a task and \
         wakes another",
    )
    .likely_cause(
        "the drop cancels the tasks it drained while it still holds the injector's lock: \
         cancelling drops the task's future, which may spawn or wake a task, and that push \
         needs the same lock. Drain under the lock (setting `closed`), unlock, THEN cancel",
    )
    .run(|| {
        let rt = runtime(1);
        let (slot, drops, polls) = (Parked::default(), Drops::default(), Counter::default());
        // A task waiting for a wake (not queued: the drop leaves it to its waker).
        let waiting = waiting_task(&rt, &slot, &drops, &polls);
        assert!(common::eventually(|| slot.0.lock().unwrap().is_some()));
        // Hold the only worker until the drop has begun, so the next task stays queued.
        let started = Gate::new();
        {
            let started = started.clone();
            drop(rt.spawn(async move {
                started.open();
                let handle = Handle::current();
                assert!(common::eventually(|| handle.is_shutting_down()));
            }));
        }
        assert!(
            started.wait_at_most(Duration::from_secs(3)),
            "the first task never ran"
        );
        // Queued in the injector: when its future is dropped, it spawns through a handle and
        // wakes the waiting task.
        let late = Drops::default();
        let on_drop = {
            let (handle, slot, late) = (rt.handle(), slot.clone(), late.clone());
            OnDrop(Some(move || {
                let guard = late.guard();
                drop(handle.spawn(async move {
                    let _guard = guard;
                }));
                slot.wake();
            }))
        };
        let queued = rt.spawn(async move {
            let _on_drop = on_drop;
        });
        drop(rt);
        assert_eq!(
            (late.get(), drops.get(), polls.get()),
            (1, 1, 1),
            "the drop cancelled a queued task whose future, when dropped, spawned a task and \
             woke a waiting one: both must be cancelled at once (the injector is closed), \
             their futures dropped, never polled"
        );
        for mut handle in [queued, waiting] {
            assert_eq!(
                poll_once(&mut handle),
                Poll::Ready(Err(JoinError::Cancelled))
            );
        }
    });
}

#[test]
fn after_the_drop_no_worker_counts_as_parked() {
    watchdog("dropping a runtime whose 2 workers sleep, then reading its metrics").run(|| {
        let rt = runtime(2);
        let handle = rt.handle();
        until_all_parked(&rt, "a fresh runtime with 2 workers");
        drop(rt);
        let m = handle.metrics();
        assert_eq!(
            m.parked_workers, 0,
            "the runtime was dropped while its 2 workers slept: the drop woke them and joined \
             their threads, so none is asleep now, but Metrics::parked_workers (workers asleep \
             right now) still counts {}. A worker woken by shutdown must count itself awake \
             (Counters::woke) like one woken by a notification: {m:?}",
            m.parked_workers
        );
    });
}
