//! Part 1 — spawn, JoinHandle and block_on on N worker threads.
//!
//! Nothing about the scheduler's policy yet: tasks spawned from outside and from inside run,
//! on worker threads (not the caller's), and their handles give their output.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use common::{Counter, Gate, runtime, watchdog, yield_now};
use harness::catch_panic;
use stealing::{Builder, Handle, JoinError, Metrics, Runtime};

#[test]
fn block_on_returns_its_futures_output() {
    watchdog("block_on(async { 7 })").run(|| {
        let rt = runtime(2);
        assert_eq!(rt.block_on(async { 7 }), 7);
    });
}

#[test]
fn a_task_spawned_from_outside_gives_its_output_through_its_handle() {
    watchdog("spawning a task from the test's thread and awaiting its handle").run(|| {
        let rt = runtime(2);
        let handle = rt.spawn(async { 40 + 2 });
        assert_eq!(
            rt.block_on(handle),
            Ok(42),
            "a task spawned from outside the workers goes to the injector, and a worker must \
             take it from there and poll it"
        );
    });
}

#[test]
fn tasks_run_on_worker_threads_not_on_the_caller() {
    watchdog("a task reporting its thread").run(|| {
        let rt = runtime(2);
        let here = std::thread::current().id();
        let there = rt.block_on(rt.spawn(async { std::thread::current().id() }));
        assert_eq!(
            there.as_ref().ok().map(|id| *id != here),
            Some(true),
            "the task ran on the thread that called block_on ({here:?}), or failed: tasks run \
             on the runtime's worker threads; block_on only waits for its own future"
        );
    });
}

#[test]
fn a_task_spawned_without_a_handle_awaits_its_output() {
    watchdog("a spawned task awaiting a second one it spawned").run(|| {
        let rt = runtime(2);
        let out = rt.block_on(rt.spawn(async {
            let inner = stealing::spawn(async { "inner" });
            inner.await
        }));
        assert_eq!(
            out,
            Ok(Ok("inner")),
            "a task spawned with the free `spawn` from inside a task must run (it goes to the \
             worker's LIFO slot) and its handle must give its output"
        );
    });
}

#[test]
fn spawn_inside_block_on_finds_the_runtime() {
    watchdog("the free spawn() inside block_on").run(|| {
        let rt = runtime(2);
        let out = rt.block_on(async { stealing::spawn(async { 5 }).await });
        assert_eq!(out, Ok(5));
    });
}

#[test]
fn a_chain_of_tasks_each_spawning_the_next_completes() {
    watchdog("1 000 tasks each spawning the next one from inside").run(|| {
        fn chain(left: usize, done: Counter) -> stealing::JoinHandle<()> {
            stealing::spawn(async move {
                done.tick();
                if left > 0 {
                    let _ = chain(left - 1, done).await;
                }
            })
        }
        let rt = runtime(2);
        let done = Counter::default();
        let first = {
            let done = done.clone();
            rt.spawn(async move { chain(999, done).await })
        };
        assert!(rt.block_on(first).is_ok());
        assert_eq!(
            done.get(),
            1_000,
            "every task of the chain must run exactly once"
        );
    });
}

#[test]
fn ten_thousand_tasks_from_outside_all_run_once() {
    watchdog("10 000 tasks spawned from the test's thread").run(|| {
        let rt = runtime(4);
        let runs = Counter::default();
        let handles: Vec<_> = (0..10_000)
            .map(|i| {
                let runs = runs.clone();
                rt.spawn(async move {
                    runs.tick();
                    i
                })
            })
            .collect();
        let sum = rt.block_on(async move {
            let mut sum = 0usize;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..10_000).sum::<usize>());
        assert_eq!(runs.get(), 10_000, "a task ran more (or less) than once");
        assert_eq!(
            rt.metrics().polls,
            10_000,
            "Metrics::polls counts one poll per task here"
        );
    });
}

#[test]
fn ten_thousand_tasks_spawned_by_a_task_all_run_once() {
    watchdog("a task spawning 10 000 tasks from a worker").run(|| {
        let rt = runtime(4);
        let runs = Counter::default();
        let sum = {
            let runs = runs.clone();
            rt.block_on(rt.spawn(async move {
                let handles: Vec<_> = (0..10_000usize)
                    .map(|i| {
                        let runs = runs.clone();
                        stealing::spawn(async move {
                            runs.tick();
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
                }
                sum
            }))
        };
        assert_eq!(sum, Ok((0..10_000).sum::<usize>()));
        assert_eq!(
            runs.get(),
            10_000,
            "a task ran more (or less) than once: 10 000 spawns from one worker overflow its \
             local queue into the injector; no task may be lost or duplicated on the way"
        );
    });
}

#[test]
fn tasks_that_yield_many_times_all_finish() {
    watchdog("100 tasks yielding 100 times each on 3 workers").run(|| {
        let rt = runtime(3);
        let handles: Vec<_> = (0..100)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..100 {
                        yield_now().await;
                    }
                })
            })
            .collect();
        rt.block_on(async move {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        assert_eq!(rt.metrics().polls, 100 * 101);
    });
}

#[test]
fn every_worker_thread_runs_tasks_when_all_are_busy() {
    watchdog("4 tasks that each hold a worker until all 4 have started").run(|| {
        let rt = runtime(4);
        let threads = Arc::new(Mutex::new(HashSet::<ThreadId>::new()));
        let all_started = Gate::new();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let threads = Arc::clone(&threads);
                let all_started = all_started.clone();
                rt.spawn(async move {
                    let started = {
                        let mut threads = threads.lock().unwrap();
                        threads.insert(std::thread::current().id());
                        threads.len()
                    };
                    if started == 4 {
                        all_started.open();
                    }
                    all_started.wait()
                })
            })
            .collect();
        let opened = rt.block_on(async move {
            let mut all = true;
            for handle in handles {
                all &= handle.await.unwrap();
            }
            all
        });
        assert!(
            opened,
            "4 tasks that each block their worker until all 4 have started, on 4 workers: only \
             {} distinct worker threads ever ran one. Are 4 threads started, and does a push to \
             the injector wake a sleeping worker when the others are busy?",
            threads.lock().unwrap().len()
        );
    });
}

#[test]
fn a_panicking_task_gives_join_error_panic_and_the_worker_survives() {
    watchdog("a task that panics, then another task").run(|| {
        let rt = runtime(1);
        let failed = rt.block_on(rt.spawn(async { panic!("boom") }));
        assert_eq!(failed, Err::<(), _>(JoinError::Panic("boom".to_owned())));
        assert_eq!(
            rt.block_on(rt.spawn(async { 1 })),
            Ok(1),
            "after a task panicked, the (only) worker must still run tasks"
        );
    });
}

#[test]
fn abort_cancels_a_waiting_task() {
    watchdog("abort() of a task waiting forever").run(|| {
        let rt = runtime(2);
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = common::DropFlag(Arc::clone(&dropped));
        let handle = rt.spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        handle.abort();
        assert_eq!(rt.block_on(handle), Err(JoinError::Cancelled));
        assert!(
            dropped.load(Ordering::SeqCst),
            "the aborted task's future must be dropped"
        );
    });
}

#[test]
fn handle_current_inside_a_task_spawns_on_the_same_runtime() {
    watchdog("Handle::current() inside a task").run(|| {
        let rt = runtime(2);
        let out = rt.block_on(rt.spawn(async {
            let handle = Handle::current();
            handle.spawn(async { 9 }).await
        }));
        assert_eq!(out, Ok(Ok(9)));
    });
}

#[test]
fn outside_a_runtime_spawn_and_current_panic_with_a_clear_message() {
    let spawned = catch_panic(|| drop(stealing::spawn(async {})));
    let message = spawned.expect_err("spawn() outside any runtime must panic");
    assert!(
        message.contains("must be called from the context of a runtime"),
        "spawn() outside a runtime panicked with {message:?}; the message should say it \
         \"must be called from the context of a runtime\""
    );
    let current = catch_panic(|| drop(Handle::current()));
    let message = current.expect_err("Handle::current() outside any runtime must panic");
    assert!(
        message.contains("must be called from the context of a runtime"),
        "Handle::current() panicked with {message:?}"
    );
    assert!(Handle::try_current().is_none());
}

#[test]
fn a_runtime_with_zero_workers_is_refused() {
    let built = catch_panic(|| {
        let _builder = Builder::new().worker_threads(0);
    });
    let message = built.expect_err("worker_threads(0) must panic: nothing would ever run");
    assert!(
        message.contains("at least one worker"),
        "worker_threads(0) panicked with {message:?}; say it needs \"at least one worker\""
    );
}

#[test]
fn metrics_start_at_zero_and_know_the_worker_count() {
    watchdog("a fresh runtime's metrics").run(|| {
        let rt = runtime(3);
        common::until_all_parked(&rt, "a fresh runtime with 3 workers");
        let m = rt.metrics();
        assert_eq!(
            m,
            Metrics {
                workers: 3,
                parks: m.parks,
                parked_workers: 3,
                ..Metrics::default()
            },
            "a runtime that has run nothing has counted nothing (but its workers' parks)"
        );
        assert!(
            m.parks >= 3,
            "3 workers asleep have parked at least 3 times: {m:?}"
        );
        assert_eq!(
            m,
            rt.handle().metrics(),
            "Runtime::metrics and Handle::metrics differ"
        );
    });
}

#[test]
fn a_default_runtime_has_two_workers() {
    watchdog("Runtime::new()").run(|| {
        let rt = Runtime::new();
        assert_eq!(rt.metrics().workers, 2);
    });
}

#[test]
fn block_on_sleeps_while_it_waits() {
    watchdog("block_on waiting for a task that waits to be woken").run(|| {
        let rt = runtime(1);
        let slot = common::Parked::default();
        let task = {
            let slot = slot.clone();
            let mut woken = false;
            rt.spawn(std::future::poll_fn(move |cx| {
                if woken {
                    return std::task::Poll::Ready(());
                }
                woken = true;
                slot.store(cx.waker());
                std::task::Poll::Pending
            }))
        };
        // Wake the task only once this thread (inside block_on) is seen asleep.
        let watch = harness::ThreadWatch::current();
        let waker = std::thread::spawn(move || {
            let seen = watch.wait_until_asleep(std::time::Duration::from_secs(3));
            while !slot.wake() {
                std::thread::yield_now();
            }
            seen
        });
        rt.block_on(task).unwrap();
        let seen = waker.join().unwrap();
        assert!(
            matches!(seen, harness::Asleep::Yes | harness::Asleep::Unknown),
            "block_on waited for a task, but the kernel never saw its thread asleep ({seen:?}): \
             block_on must park until its future's waker is woken, not poll in a loop"
        );
    });
}

#[test]
fn block_on_leaves_no_context_behind() {
    watchdog("Handle::try_current() after block_on").run(|| {
        let rt = runtime(1);
        let inside = rt.block_on(async { Handle::try_current().is_some() });
        assert!(inside, "inside block_on the runtime is current");
        assert!(
            Handle::try_current().is_none(),
            "block_on returned, but its runtime is still current on this thread: the context \
             it entered must be left when it returns"
        );
    });
}
