//! Part 3 — `Executor`: tasks in `Arc`s whose wakers put them back on a ready queue.
//!
//! Every test runs under a watchdog, because an executor that loses a wake (or never notices
//! that the work is done) hangs. Every task is wrapped in `harness::trace::traced` (a
//! pass-through unless tracing is on), so `cargo xtask trace waker-queue <test>` can draw what
//! your executor did with it.

use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::thread;

mod common;

use harness::trace::traced;
use harness::{Asleep, Journal, ThreadWatch, Watchdog, model, recorded, yield_times};
use waker_queue::{Executor, Timer};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "a wake was lost: `run` must poll again any task whose waker was woken, even when \
             the wake happened while that task was being polled",
        )
        .likely_cause(
            "`run` never returns: it must stop once every spawned task has finished (count \
             unfinished tasks)",
        )
}

#[test]
fn run_polls_every_spawned_task_to_completion() {
    let journal = Journal::new();
    let writer = journal.clone();
    watchdog("run() with three spawned tasks").run(move || {
        let executor = Executor::new();
        for name in ["a", "b", "c"] {
            let writer = writer.clone();
            executor.spawn(traced(name, async move { writer.write(name) }));
        }
        executor.run();
    });
    let mut done = journal.entries();
    done.sort();
    assert_eq!(
        done,
        ["a", "b", "c"],
        "run() returned before every task had run"
    );
}

#[test]
fn run_with_nothing_to_do_returns() {
    watchdog("run() with no tasks").run(|| Executor::new().run());
}

#[test]
fn a_task_that_wakes_itself_during_poll_is_polled_again() {
    let stats = watchdog("run() of a task that wakes itself while being polled").run(|| {
        let executor = Executor::new();
        let (future, stats) = recorded("yield_times(3)", yield_times(3));
        executor.spawn(traced("yields 3 times", future));
        executor.run();
        stats
    });
    assert_eq!(
        (stats.pendings(), stats.readies()),
        (3, 1),
        "a task that called wake_by_ref() inside poll was not polled again. Mark a task \
         \"not queued\" *before* polling it, so a wake during the poll queues it again."
    );
}

#[test]
fn run_waits_for_a_task_woken_from_another_thread() {
    let journal = Journal::new();
    let writer = journal.clone();
    watchdog("run() while a task waits for a timer fired by another thread").run(move || {
        let executor = Executor::new();
        let (timer, trigger) = Timer::manual();
        let (polled_tx, polled) = mpsc::channel::<ThreadWatch>();
        executor.spawn(traced("waits for timer", async move {
            let _ = polled_tx.send(ThreadWatch::current());
            timer.await;
            writer.write("timer done");
        }));
        // Fire only once the task has been polled and run's thread is asleep (or, if it never
        // sleeps, after a while): an executor that returns on an empty queue has returned by
        // then, every time.
        let firing = thread::Builder::new()
            .name("trigger".into())
            .spawn(move || {
                let watch = polled.recv().unwrap();
                let _ = watch.wait_until_asleep(std::time::Duration::from_secs(2));
                trigger.fire();
            })
            .unwrap();
        executor.run();
        firing.join().unwrap();
    });
    assert_eq!(
        journal.entries(),
        ["timer done"],
        "run() returned while a task was still waiting for its timer. An empty ready queue does \
         not mean the work is done: wait (sleep, don't spin) until a waker queues a task, and \
         return only when no task is unfinished."
    );
}

#[test]
fn a_burst_of_wakes_costs_one_poll() {
    let polls = watchdog("run() of a task woken 5 times in a row").run(common::run_burst_of_wakes);
    assert_eq!(
        polls, 3,
        "a task woken 5 times before it ran again was polled {polls} times (expected 3: the \
         poll that woke it 5 times, one poll for the whole burst, one after the test released \
         it). Five wakes of a task that is already queued must not queue it five times: keep \
         a \"scheduled\" flag in the task and only push it when the flag was clear."
    );
}

#[test]
fn a_late_wake_of_a_finished_task_is_ignored() {
    // The first task finishes at once but leaves its waker behind; the second task wakes it.
    // `recorded` panics if the finished task is polled again.
    watchdog("run() with a wake of a task that has already finished").run(|| {
        let executor = Executor::new();
        let left_behind: Arc<Mutex<Option<Waker>>> = Arc::default();
        let keep = Arc::clone(&left_behind);
        let (finished, _stats) = recorded(
            "a finished task",
            poll_fn(move |cx| {
                *keep.lock().unwrap() = Some(cx.waker().clone());
                Poll::Ready(())
            }),
        );
        executor.spawn(traced("finishes at once", finished));
        executor.spawn(traced("wakes the finished task", async move {
            yield_times(1).await;
            if let Some(waker) = left_behind.lock().unwrap().take() {
                waker.wake();
            }
        }));
        executor.run();
    });
}

#[test]
fn tasks_can_spawn_tasks_while_run_is_running() {
    let journal = Journal::new();
    let writer = journal.clone();
    watchdog("run() of a task that spawns two more").run(move || {
        let executor = Executor::new();
        let spawner = executor.spawner();
        executor.spawn(traced("parent", async move {
            for name in ["child 1", "child 2"] {
                let writer = writer.clone();
                spawner.spawn(traced(name, async move { writer.write(name) }));
            }
            writer.write("parent");
        }));
        executor.run();
    });
    let mut entries = journal.entries();
    entries.sort();
    assert_eq!(
        entries,
        ["child 1", "child 2", "parent"],
        "tasks spawned from inside a running task must run too (and spawning must not need \
         anything `run` is holding, such as a borrow of the task list)"
    );
}

#[test]
fn a_finished_task_drops_its_future() {
    let token = Arc::new(());
    let held = Arc::clone(&token);
    watchdog("run() of a task that owns a value").run(move || {
        let executor = Executor::new();
        executor.spawn(traced("owns a value", async move {
            yield_times(1).await;
            let _keep = &held;
        }));
        executor.run();
    });
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "after run() returned, the finished task's future (and what it owns) was still alive. \
         Drop the future when it completes, and make sure nothing keeps the task's Arc alive \
         in a cycle."
    );
}

#[test]
fn dropping_the_executor_drops_tasks_it_never_ran() {
    watchdog("dropping an executor with a task still queued")
        .likely_cause(
            "dropping the executor (or the last spawner) never returned: a lock held while \
             tasks are dropped, and a task's drop that needs that lock again, deadlock",
        )
        .run(|| {
    let token = Arc::new(());
    let held = Arc::clone(&token);
    {
        let executor = Executor::new();
        executor.spawn(traced("never runs", async move {
            let _keep = &held;
        }));
        // The executor is dropped here without ever running.
    }
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the executor was dropped with a task still queued, and the task's future leaked. A \
         queued task points at the queue and the queue points at the task: an Arc cycle. Empty \
         the queue when the executor is dropped."
    );
        });
}

#[test]
fn a_spawn_after_the_executor_was_dropped_frees_the_task() {
    watchdog("a spawn after the executor was dropped")
        .likely_cause(
            "dropping the executor (or the last spawner) never returned: a lock held while \
             tasks are dropped, and a task's drop that needs that lock again, deadlock",
        )
        .run(|| {
            let token = Arc::new(());
            let held = Arc::clone(&token);
            {
                let spawner = {
                    let executor = Executor::new();
                    executor.spawner()
                    // The executor is dropped here; the spawner lives on.
                };
                spawner.spawn(traced("spawned too late", async move {
                    let _keep = &held;
                }));
                // The last spawner goes here.
            }
            assert_eq!(
                Arc::strong_count(&token),
                1,
                "a task spawned after its executor was dropped was kept (and leaked once the last \
         spawner went: the queue holds the task, the task holds the queue). Nothing will ever \
         run it: once the executor is dropped, a push (a spawn or a wake) must drop the task \
         instead of queuing it."
            );
        });
}

#[test]
fn run_drives_a_futures_oneshot_channel() {
    let received =
        watchdog("run() of two tasks talking over futures::channel::oneshot").run(|| {
            let executor = Executor::new();
            let (tx, rx) = futures::channel::oneshot::channel::<&str>();
            let got = Arc::new(Mutex::new(None));
            let out = Arc::clone(&got);
            executor.spawn(traced("receiver", async move {
                *out.lock().unwrap() = rx.await.ok();
            }));
            executor.spawn(traced("sender", async move {
                yield_times(2).await;
                let _ = tx.send("hello");
            }));
            executor.run();
            got.lock().unwrap().take()
        });
    assert_eq!(received, Some("hello"));
}

#[test]
fn run_drives_a_bounded_async_channel() {
    let total =
        watchdog("run() of a producer and a consumer over async_channel::bounded(1)").run(|| {
            let executor = Executor::new();
            let (tx, rx) = async_channel::bounded::<u32>(1);
            let sum = Arc::new(AtomicUsize::new(0));
            let out = Arc::clone(&sum);
            executor.spawn(traced("consumer", async move {
                while let Ok(n) = rx.recv().await {
                    out.fetch_add(n as usize, Ordering::SeqCst);
                }
            }));
            executor.spawn(traced("producer", async move {
                for n in 1..=100 {
                    tx.send(n).await.unwrap();
                }
            }));
            executor.run();
            sum.load(Ordering::SeqCst)
        });
    assert_eq!(total, 5050, "some messages were lost");
}

/// A task that, on its first poll, hands a clone of its waker to a new thread that wakes it,
/// and returns Pending; Ready on the next poll. In a race test the wake can land anywhere:
/// during the poll, while `run` looks at the empty queue, or while it sleeps.
fn woken_by_another_thread() -> impl Future<Output = ()> + Send + 'static {
    let mut handed_over = false;
    poll_fn(move |cx| {
        if handed_over {
            return Poll::Ready(());
        }
        handed_over = true;
        let waker = cx.waker().clone();
        model::thread::spawn(move || waker.wake());
        Poll::Pending
    })
}

#[test]
fn a_wake_racing_run_going_to_sleep_is_never_lost() {
    model::check(
        "run() of a task woken by another thread at any moment",
        &[
            "`run` checks \"is the queue empty?\" and goes to sleep in two steps, under \
             separate locks (or unlocks in between): a push and its notify can land between \
             them, and `run` then sleeps with a task on the queue. Check and `Condvar::wait` \
             under the queue's lock, the one a push takes.",
            "a wake pushes the task without notifying `run`, or notifies under a different lock \
             than the one `run` sleeps under",
            "the \"scheduled\" flag is cleared after the poll, swallowing a wake that came \
             during it",
        ],
        || {
            let executor = Executor::new();
            executor.spawn(woken_by_another_thread());
            executor.run();
        },
    );
}

#[test]
fn an_idle_run_sleeps_instead_of_spinning() {
    // One task waits for a timer. While it waits, `run` has nothing to do: its thread must be
    // blocked (on a condition variable, say), not looping. The kernel tells us which.
    let (watch_tx, watch) = mpsc::channel::<ThreadWatch>();
    let (timer, trigger) = Timer::manual();
    let observer = thread::Builder::new()
        .name("observer".into())
        .spawn(move || {
            let seen = watch
                .recv()
                .map(|watch| watch.wait_until_asleep(std::time::Duration::from_secs(3)));
            trigger.fire(); // whatever was seen, let run finish
            seen
        })
        .unwrap();
    watchdog("run() of a task waiting for a timer, watched while it waits").run(move || {
        let executor = Executor::new();
        executor.spawn(traced("waits for timer", async move {
            // Polled on the thread that calls run: that is the thread to watch.
            let _ = watch_tx.send(ThreadWatch::current());
            timer.await;
        }));
        executor.run();
    });
    let seen = observer.join().unwrap();
    if let Ok(Asleep::Never(last)) = seen {
        panic!(
            "while its only task waited for a timer, run()'s thread was never seen asleep; \
             last seen: {last}. With the queue empty and tasks unfinished, `run` must block \
             until a wake pushes a task (`Condvar::wait` under the queue's lock), not loop \
             with `yield_now` or short sleeps: an idle executor must cost no CPU."
        );
    }
}

#[test]
fn a_spawner_on_another_thread_wakes_a_sleeping_run() {
    // The first task waits for a timer, so run goes to sleep. Once run's thread is seen
    // asleep, another thread spawns a second task through a Spawner; that task fires the
    // timer. run must wake up for the spawn, run the new task, and then the first one.
    let journal = Journal::new();
    let writer = journal.clone();
    watchdog("run() while another thread spawns a task through a Spawner")
        .likely_cause(
            "`Spawner::spawn` pushes the task but does not wake a `run` that is asleep: a spawn \
             is a push like a wake's, and must signal the condition variable the same way",
        )
        .run(move || {
            let executor = Executor::new();
            let spawner = executor.spawner();
            let (timer, trigger) = Timer::manual();
            let (polled_tx, polled) = mpsc::channel::<ThreadWatch>();
            let first = writer.clone();
            executor.spawn(traced("waits for timer", async move {
                let _ = polled_tx.send(ThreadWatch::current());
                timer.await;
                first.write("timer done");
            }));
            let spawning = thread::Builder::new()
                .name("spawning thread".into())
                .spawn(move || {
                    let watch = polled.recv().unwrap();
                    // Spawn into a sleeping run (or, if it never sleeps, after a while).
                    let _ = watch.wait_until_asleep(std::time::Duration::from_secs(2));
                    spawner.spawn(traced("spawned from another thread", async move {
                        writer.write("spawned task ran");
                        trigger.fire();
                    }));
                })
                .unwrap();
            executor.run();
            spawning.join().unwrap();
        });
    assert_eq!(
        journal.entries(),
        ["spawned task ran", "timer done"],
        "a task spawned from another thread did not run before run() returned"
    );
}

/// Wakes a waiting task when dropped, i.e. when the future that owns it is dropped.
struct WakeOnDrop(Arc<Mutex<(bool, Option<Waker>)>>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

#[test]
fn a_finished_task_drops_its_future_at_once() {
    // Task "owner" leaves a clone of its waker behind (as a task that registered with a timer
    // would), then finishes while owning a value whose drop wakes task "watcher", which waits
    // for that drop. If a finished task keeps its future until its last waker is gone, or
    // until run returns, the watcher waits forever and run never returns.
    watchdog("run() of a task waiting for another task's future to be dropped")
        .likely_cause(
            "a task that returned Ready keeps its future (and everything it owns) alive while \
             a waker of it exists somewhere, or until `run` returns: set the task's future to \
             None as soon as its poll returns Ready",
        )
        .run(|| {
            let executor = Executor::new();
            let shared: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
            let guard = WakeOnDrop(Arc::clone(&shared));
            executor.spawn(traced("watcher", async move {
                poll_fn(|cx| {
                    let mut state = shared.lock().unwrap();
                    if state.0 {
                        return Poll::Ready(());
                    }
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                })
                .await;
            }));
            let left_behind: Arc<Mutex<Option<Waker>>> = Arc::default();
            let keep = Arc::clone(&left_behind);
            let mut first = true;
            executor.spawn(traced(
                "owner",
                poll_fn(move |cx| {
                    let _owned = &guard;
                    if std::mem::take(&mut first) {
                        *keep.lock().unwrap() = Some(cx.waker().clone());
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    Poll::Ready(())
                }),
            ));
            executor.run();
            drop(left_behind);
        });
}

#[test]
fn a_spawn_from_another_thread_racing_run_going_to_sleep_is_never_lost() {
    // Task "first", on its first poll, starts a thread that spawns task "second" through a
    // Spawner; "second" wakes "first". The spawn can land anywhere around run going to sleep.
    model::check(
        "run() while another thread spawns a task at any moment",
        &[
            "`Spawner::spawn` pushes the task without signalling a `run` that is asleep, or \
             signals it under a different lock than the one `run` checks the queue under",
            "`run` checks \"is the queue empty?\" and goes to sleep in two steps: a spawn can \
             land between them",
        ],
        || {
            let executor = Executor::new();
            let spawner = executor.spawner();
            let mut started = false;
            executor.spawn(poll_fn(move |cx| {
                if started {
                    return Poll::Ready(());
                }
                started = true;
                let waker = cx.waker().clone();
                let spawner = spawner.clone();
                model::thread::spawn(move || spawner.spawn(async move { waker.wake() }));
                Poll::Pending
            }));
            executor.run();
        },
    );
}

#[test]
fn a_burst_of_wakes_by_value_costs_one_poll() {
    // The same burst as `a_burst_of_wakes_costs_one_poll`, made with `wake()` on clones of the
    // waker: the consuming path that a timer's `fire` or a channel's sender takes.
    let polls = watchdog("run() of a task woken 5 times in a row with `wake()`")
        .run(common::run_burst_of_wakes_by_value);
    assert_eq!(
        polls, 3,
        "a task woken 5 times by `waker.clone().wake()` before it ran again was polled {polls} \
         times (expected 3, as with `wake_by_ref`). `Wake::wake` (by value) and \
         `Wake::wake_by_ref` must both push the task only when they flip \"scheduled\" from \
         clear to set: write one and have the other call it."
    );
}

/// Spawns a task that is woken twice at once, by a model thread and by another task on run's
/// thread (so both wakes land before the task can run again). Its next poll spawns task Y, which
/// wakes it once more: a poll before Y has run had no wake to explain it. Returns how many
/// such polls the task got.
fn two_wakes_at_once(by_value: bool) -> usize {
    let wake = move |waker: Waker| {
        if by_value {
            waker.wake();
        } else {
            waker.wake_by_ref();
        }
    };
    let executor = Executor::new();
    let spawner = executor.spawner();
    let y_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let unexplained = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&unexplained);
    let mut polls = 0;
    executor.spawn(poll_fn(move |cx| {
        polls += 1;
        match polls {
            1 => {
                // Task X wakes this one on run's thread while a model thread wakes it too.
                let (here, there) = (cx.waker().clone(), cx.waker().clone());
                spawner.spawn(async move {
                    let other = model::thread::spawn(move || wake(there));
                    wake(here);
                    other.join().unwrap();
                });
                Poll::Pending
            }
            2 => {
                // The one poll for both wakes. Task Y wakes this one again.
                let (waker, y_ran) = (cx.waker().clone(), Arc::clone(&y_ran));
                spawner.spawn(async move {
                    y_ran.store(true, Ordering::SeqCst);
                    wake(waker);
                });
                Poll::Pending
            }
            _ if y_ran.load(Ordering::SeqCst) => Poll::Ready(()),
            _ => {
                counted.fetch_add(1, Ordering::SeqCst);
                Poll::Pending
            }
        }
    }));
    executor.run();
    unexplained.load(Ordering::SeqCst)
}

#[test]
fn two_wakes_from_two_threads_at_once_queue_the_task_once() {
    for (how, by_value) in [("wake_by_ref()", false), ("wake()", true)] {
        model::check(
            &format!("two threads calling {how} on one waiting task at the same time"),
            &[
                "the wake reads \"scheduled\" (`load`) and sets it (`store`) in two steps: two \
                 threads can both read \"clear\" before either sets it, and both push the task. \
                 Flip it in one atomic step: `if !scheduled.swap(true, ...) { push }` (or \
                 `compare_exchange`), or read and set it under the queue's lock.",
                "`wake` (by value) does not check \"scheduled\" the way `wake_by_ref` does",
            ],
            move || {
                let unexplained = two_wakes_at_once(by_value);
                assert_eq!(
                    unexplained, 0,
                    "two wakes (one from another thread) that both came before the task could run \
                     again cost it two polls (the second with no wake since the first): the task \
                     was on the queue twice"
                );
            },
        );
    }
}

#[test]
fn a_task_queued_by_its_own_wake_is_not_queued_again_by_a_later_wake() {
    // The task wakes itself during its first poll (so it is queued again), and spawns a task
    // that wakes it 5 more times before it runs again. All six wakes come before its next poll:
    // they cost one poll. If `run` clears "scheduled" again after the Pending, the task sits on
    // the queue with its flag clear, the next wake queues it a second time, and it is polled
    // twice in a row. Every wake but the release happens on run's thread, between polls, so
    // counting wakes between polls is exact.
    let wakes = Arc::new(AtomicUsize::new(0));
    let unexplained = Arc::new(AtomicUsize::new(0));
    let released = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (release_tx, release) = mpsc::channel::<(ThreadWatch, Waker)>();
    let (wakes_by_release, released_by_release) = (Arc::clone(&wakes), Arc::clone(&released));
    let wakes_by_task = Arc::clone(&wakes);
    let releasing = thread::Builder::new()
        .name("release".into())
        .spawn(move || {
            let Ok((watch, waker)) = release.recv() else {
                return;
            };
            let _ = watch.wait_until_asleep(std::time::Duration::from_secs(3));
            released_by_release.store(true, Ordering::SeqCst);
            wakes_by_release.fetch_add(1, Ordering::SeqCst);
            waker.wake();
        })
        .unwrap();
    let counted = Arc::clone(&unexplained);
    watchdog("run() of a task that wakes itself and is woken again before it runs").run(
        move || {
            let wakes = wakes_by_task;
            let executor = Executor::new();
            let spawner = executor.spawner();
            let mut polls = 0;
            let mut release_tx = Some(release_tx);
            executor.spawn(traced(
                "wakes itself",
                poll_fn(move |cx| {
                    polls += 1;
                    if polls > 1 && wakes.swap(0, Ordering::SeqCst) == 0 {
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                    if polls == 1 {
                        let (waker, count) = (cx.waker().clone(), Arc::clone(&wakes));
                        spawner.spawn(traced("wakes it 5 times", async move {
                            for _ in 0..5 {
                                count.fetch_add(1, Ordering::SeqCst);
                                waker.wake_by_ref();
                            }
                        }));
                        wakes.fetch_add(1, Ordering::SeqCst);
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    if released.load(Ordering::SeqCst) {
                        return Poll::Ready(());
                    }
                    if let Some(release_tx) = release_tx.take() {
                        let _ = release_tx.send((ThreadWatch::current(), cx.waker().clone()));
                    }
                    Poll::Pending
                }),
            ));
            executor.run();
        },
    );
    releasing.join().unwrap();
    let unexplained = unexplained.load(Ordering::SeqCst);
    assert_eq!(
        unexplained, 0,
        "a task that woke itself during its poll, and was woken 5 more times before it ran \
         again, was polled {unexplained} extra time(s) with no wake since its previous poll: it \
         was on the queue twice. \"Scheduled\" means \"on the queue\": `run` clears it once, just \
         before the poll, and never after it (a wake during the poll has set it again, and the \
         task is queued)."
    );
}

#[test]
fn executor_spawn_only_queues_the_task() {
    watchdog("spawn() and spawner().spawn() before run()").run(|| {
        let executor = Executor::new();
        let (spawned, by_executor) = recorded("spawned with Executor::spawn", async {});
        executor.spawn(traced("spawned with Executor::spawn", spawned));
        let (spawned, by_spawner) = recorded("spawned with Spawner::spawn", async {});
        executor
            .spawner()
            .spawn(traced("spawned with Spawner::spawn", spawned));
        for (how, stats) in [
            ("Executor::spawn", &by_executor),
            ("Spawner::spawn", &by_spawner),
        ] {
            assert_eq!(
                stats.polls(),
                0,
                "`{how}` polled the new task before `run` was called. A spawn only queues \
                 the task: it first runs when `run` is called, on run's thread (a spawn from \
                 another thread must not poll it there)."
            );
        }
        executor.run();
        assert_eq!(
            (by_executor.polls(), by_spawner.polls()),
            (1, 1),
            "after run(), each task should have been polled once"
        );
    });
}

#[test]
fn run_polls_only_the_tasks_that_were_woken_after_it_sleeps() {
    // Tasks A and B wait for their own timers, and run sleeps. Then, one event at a time, each
    // once run is asleep again: another thread spawns task C; A's timer fires; B's timer fires.
    // Waking up for one task is no reason to poll the others: A and B are polled twice each.
    let (first_tx, first) = mpsc::channel::<ThreadWatch>();
    let (done_tx, done) = mpsc::channel::<&str>();
    let (timer_a, trigger_a) = Timer::manual();
    let (timer_b, trigger_b) = Timer::manual();
    let executor = Executor::new();
    let spawner = executor.spawner();
    let (task_a, stats_a) = recorded("A", {
        let done_tx = done_tx.clone();
        async move {
            let _ = first_tx.send(ThreadWatch::current());
            timer_a.await;
            let _ = done_tx.send("A");
        }
    });
    let (task_b, stats_b) = recorded("B", timer_b);
    let events = thread::Builder::new()
        .name("events".into())
        .spawn(move || {
            let watch = first.recv().ok()?;
            let asleep = || watch.wait_until_asleep(std::time::Duration::from_secs(2));
            let _ = asleep();
            let done_c = done_tx.clone();
            spawner.spawn(traced("C", async move {
                let _ = done_c.send("C");
            }));
            done.recv().ok()?;
            let _ = asleep();
            trigger_a.fire();
            done.recv().ok()?;
            let _ = asleep();
            trigger_b.fire();
            Some(())
        })
        .unwrap();
    watchdog("run() of two tasks waiting for their own timers").run(move || {
        executor.spawn(traced("A", task_a));
        executor.spawn(traced("B", task_b));
        executor.run();
    });
    events.join().unwrap();
    assert_eq!(
        (stats_a.polls(), stats_b.polls()),
        (2, 2),
        "A and B each waited for their own timer; run slept, then woke up three times (a spawn \
         from another thread, A's fire, B's fire). Each should have been polled twice: once \
         at the start, once after its own wake. Polled (A, B) = {:?} times. Waking up is not \
         a reason to poll every task: poll only what a waker pushed.",
        (stats_a.polls(), stats_b.polls())
    );
}

/// Runs a closure when dropped (when the future that owns it is dropped).
struct OnDrop(Option<Box<dyn FnOnce() + Send>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(on_drop) = self.0.take() {
            on_drop();
        }
    }
}

#[test]
#[allow(clippy::drop_non_drop)] // the stub's `Executor` has no `Drop` yet; yours will
fn dropping_the_executor_drops_queued_futures_outside_its_lock() {
    let dog = |route: &str| {
        watchdog(&format!(
            "dropping an executor whose queued task, when dropped, {route}"
        ))
        .likely_cause(
            "`Drop for Executor` drops the queued tasks (and so their futures) while it holds \
             the queue's lock; a future's destructor may push onto the same queue (a spawn, a \
             wake), which takes that lock again on the same thread: a deadlock. Take the tasks \
             out under the lock (`std::mem::take`), release it, and only then drop them.",
        )
    };
    dog("spawns a task on the same executor").run(|| {
        let token = Arc::new(());
        let held = Arc::clone(&token);
        let executor = Executor::new();
        let spawner = executor.spawner();
        let guard = OnDrop(Some(Box::new(move || {
            spawner.spawn(traced(
                "spawned while the executor is dropped",
                async move {
                    let _keep = &held;
                },
            ));
        })));
        executor.spawn(traced("spawns when dropped", async move {
            let _guard = &guard;
        }));
        drop(executor);
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "a task spawned while the executor was being dropped was kept (and leaked): once \
             the executor is dropped, a push must drop its task"
        );
    });
    dog("wakes a task of the same executor").run(|| {
        let executor = Executor::new();
        let left_behind: Arc<Mutex<Option<Waker>>> = Arc::default();
        let keep = Arc::clone(&left_behind);
        executor.spawn(traced(
            "leaves its waker behind",
            poll_fn(move |cx| {
                *keep.lock().unwrap() = Some(cx.waker().clone());
                Poll::Ready(())
            }),
        ));
        executor.run();
        let guard = OnDrop(Some(Box::new(move || {
            if let Some(waker) = left_behind.lock().unwrap().take() {
                waker.wake();
            }
        })));
        executor.spawn(traced("wakes when dropped", async move {
            let _guard = &guard;
        }));
        drop(executor);
    });
}

#[test]
#[allow(clippy::drop_non_drop)] // the stub's `Executor` has no `Drop` yet; yours will
fn a_task_woken_after_the_executor_was_dropped_is_freed() {
    // Task W waits for a timer; task P, spawned by W, panics, and the panic ends run (the
    // executor does not catch it). The executor is dropped while W waits: W is not on the
    // queue, so the drop cannot free it. Then the timer fires and wakes W: that push must drop
    // the task (and its future) instead of queuing it on the dead queue, where the queue and
    // the task would keep each other alive forever.
    const PANIC: &str = "task P panics on purpose (this test expects it)";
    let token = Arc::new(());
    let held = Arc::clone(&token);
    let unwound = watchdog("dropping an executor, then waking a task that was waiting")
        .likely_cause(
            "`run` caught the panic of task P and went on waiting for task W, whose timer \
             fires only after the executor is dropped (this test expects a task's panic to \
             end `run`)",
        )
        .run(move || {
            let (timer, trigger) = Timer::manual();
            let executor = Executor::new();
            let spawner = executor.spawner();
            executor.spawn(traced("W", async move {
                spawner.spawn(async { panic!("{PANIC}") });
                timer.await;
                let _keep = &held;
            }));
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| executor.run()));
            drop(executor);
            trigger.fire();
            run.err().map(|payload| harness::panic_message(&*payload))
        });
    assert!(
        unwound
            .as_deref()
            .is_some_and(|message| message.contains(PANIC)),
        "run() was expected to end with task P's panic; it ended with {unwound:?}"
    );
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "a task that was waiting when the executor was dropped, and was woken afterwards, was \
         not freed: its future is still alive. The wake pushed it onto the dropped executor's \
         queue (the queue holds the task, the task holds the queue: an Arc cycle nothing will \
         ever run or free). After the drop, every push (a spawn *or a wake*) must drop its task."
    );
}
