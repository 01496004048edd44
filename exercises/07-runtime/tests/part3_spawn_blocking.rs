//! Part 3 — `spawn_blocking`: a bounded pool of threads for closures that block, whose idle
//! threads exit after a keep-alive, so that blocking work never stalls the runtime's tasks.
//!
//! Nothing here is decided by timing: tests count what ran, open gates only after they saw
//! what they wait for, and wait for a pool thread to go idle or exit (states correct code
//! reaches on its own) under a bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use runtime::{JoinError, Runtime, spawn, spawn_blocking};

mod common;
use common::{Counter, Gate, eventually, watchdog, yield_now};

#[test]
fn spawn_blocking_runs_the_closure_on_another_thread() {
    let (out, same_thread) = watchdog("spawn_blocking(|| ...) awaited in block_on").run(|| {
        let rt = Runtime::new();
        let here = thread::current().id();
        let out = rt.block_on(async { spawn_blocking(|| (thread::current().id(), 6 * 7)).await });
        let (there, value) = out.expect("the blocking job failed");
        (value, there == here)
    });
    assert_eq!(
        out, 42,
        "awaiting a spawn_blocking handle gives the closure's return value"
    );
    assert!(
        !same_thread,
        "the blocking closure ran on the runtime's own thread: spawn_blocking must hand it to a \
         pool thread, or it stalls every task while it blocks"
    );
}

#[test]
fn tasks_keep_running_while_a_blocking_job_blocks() {
    // The blocking job waits at a gate that a TASK opens, after it has ticked 50 times. So the
    // job can only finish if tasks ran while it blocked.
    let during = watchdog("a task ticking while a spawn_blocking job blocks")
        .likely_cause(
            "spawn_blocking ran the closure on the runtime's thread (or block_on waits for it): \
             the task that would open the gate never runs",
        )
        .run(|| {
            let rt = Runtime::new();
            let gate = Gate::new();
            let ticks = Counter::default();
            let entered = Arc::new(AtomicBool::new(false));
            rt.block_on(async {
                let (gate2, ticks2, entered2) = (gate.clone(), ticks.clone(), entered.clone());
                let blocker = spawn_blocking(move || {
                    let before = ticks2.get();
                    entered2.store(true, Ordering::SeqCst);
                    assert!(gate2.wait(), "nobody opened the gate");
                    ticks2.get() - before
                });
                let (gate3, ticks3) = (gate.clone(), ticks.clone());
                spawn(async move {
                    // Ticks only once the job is blocking, so every tick counts.
                    while !entered.load(Ordering::SeqCst) {
                        yield_now().await;
                    }
                    for _ in 0..50 {
                        ticks3.tick();
                        yield_now().await;
                    }
                    gate3.open();
                });
                blocker.await.unwrap()
            })
        });
    assert!(
        during >= 50,
        "while the blocking job blocked, the ticking task ran only {during} times (expected \
         at least 50)"
    );
}

#[test]
fn the_pool_never_runs_more_threads_than_its_limit() {
    let (threads, outs) = watchdog("5 blocking jobs on a pool of 2 threads")
        .likely_cause("a queued job was never run once a pool thread became free")
        .run(|| {
            let rt = Runtime::builder().max_blocking_threads(2).build();
            let gate = Gate::new();
            let started = Counter::default();
            let handles: Vec<_> = (0..5)
                .map(|i| {
                    let (gate, started) = (gate.clone(), started.clone());
                    rt.spawn_blocking(move || {
                        started.tick();
                        gate.wait();
                        i
                    })
                })
                .collect();
            let threads = rt.handle().blocking_threads();
            assert!(
                eventually(|| started.get() >= 2),
                "2 jobs should have started on the 2 pool threads; {} did",
                started.get()
            );
            gate.open();
            let outs: Vec<_> = rt.block_on(async {
                let mut outs = Vec::new();
                for handle in handles {
                    outs.push(handle.await.unwrap());
                }
                outs
            });
            (threads, outs)
        });
    assert!(
        threads <= 2,
        "5 jobs submitted to a pool limited to 2 threads started {threads} threads: a pool \
         must be bounded (queue the jobs that find no free thread)"
    );
    assert_eq!(
        outs,
        [0, 1, 2, 3, 4],
        "every queued job must run once a thread is free"
    );
}

#[test]
fn an_idle_thread_is_reused_within_its_keep_alive() {
    let (threads, same) = watchdog("two blocking jobs, one after the other").run(|| {
        let rt = Runtime::builder()
            .blocking_keep_alive(Duration::from_secs(3600))
            .build();
        let handle = rt.handle();
        assert_eq!(
            (handle.blocking_threads(), handle.idle_blocking_threads()),
            (0, 0),
            "a new runtime has no blocking threads (they start on demand): \
             (blocking_threads(), idle_blocking_threads()) should be (0, 0)"
        );
        let probe = handle.clone();
        let (first, idle_while_busy) = rt
            .block_on(
                rt.spawn_blocking(move || (thread::current().id(), probe.idle_blocking_threads())),
            )
            .unwrap();
        assert_eq!(
            idle_while_busy, 0,
            "while the pool's only thread runs a job, idle_blocking_threads() must be 0"
        );
        assert!(
            eventually(|| handle.idle_blocking_threads() == 1),
            "after its job, the pool thread never showed as idle (idle_blocking_threads() = {})",
            handle.idle_blocking_threads()
        );
        let second = rt
            .block_on(rt.spawn_blocking(|| thread::current().id()))
            .unwrap();
        assert!(
            eventually(|| handle.idle_blocking_threads() == 1),
            "after its second job, the pool's one thread should be idle again (count it idle \
             while it waits, not idle once more per wake-up): idle_blocking_threads() = {}",
            handle.idle_blocking_threads()
        );
        (handle.blocking_threads(), first == second)
    });
    assert!(
        same && threads == 1,
        "a job submitted while a pool thread was idle (within its keep-alive) must be run by \
         that thread, not by a new one (threads now: {threads}, same thread: {same})"
    );
}

#[test]
fn idle_threads_exit_after_the_keep_alive() {
    let exited = watchdog("a pool thread with a keep-alive of zero").run(|| {
        let rt = Runtime::builder()
            .blocking_keep_alive(Duration::ZERO)
            .build();
        let handle = rt.handle();
        rt.block_on(rt.spawn_blocking(|| ())).unwrap();
        eventually(|| handle.blocking_threads() == 0)
    });
    assert!(
        exited,
        "a pool thread with nothing to do must exit once its keep-alive has passed (here 0): \
         wait with `Condvar::wait_timeout(keep_alive)`, and exit when it timed out with no job"
    );
}

#[test]
fn a_panicking_blocking_job_gives_join_error_panic_and_the_pool_survives() {
    let (bad, good) = watchdog("a panicking job, then another, on a 1-thread pool")
        .likely_cause("the pool thread died with the panic and the pool still counts it as alive")
        .run(|| {
            let rt = Runtime::builder().max_blocking_threads(1).build();
            let bad = rt.block_on(rt.spawn_blocking(|| -> u8 { panic!("the job broke") }));
            let good = rt.block_on(rt.spawn_blocking(|| 2));
            (bad, good)
        });
    assert_eq!(
        bad,
        Err(JoinError::Panic("the job broke".into())),
        "a blocking job's panic must come out of its handle as JoinError::Panic(the message)"
    );
    assert_eq!(
        good,
        Ok(2),
        "after a job panicked, the pool must still run jobs"
    );
}

#[test]
fn spawn_blocking_outside_a_runtime_panics_with_a_clear_message() {
    let message = harness::catch_panic(|| spawn_blocking(|| ())).err();
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("context of a runtime")),
        "spawn_blocking() outside a runtime must panic saying it \"must be called from the \
         context of a runtime\"; it gave: {message:?}"
    );
}

#[test]
fn a_blocking_job_runs_in_its_runtimes_context() {
    let out = watchdog("runtime::spawn called from a blocking job").run(|| {
        let rt = Runtime::new();
        rt.block_on(async {
            let task = spawn_blocking(|| spawn(async { "spawned from the pool" }))
                .await
                .unwrap();
            task.await
        })
    });
    assert_eq!(
        out,
        Ok("spawned from the pool"),
        "inside a spawn_blocking job, the runtime must be current (enter its Handle on the \
         pool thread around the job), so the job can spawn onto it"
    );
}

#[test]
fn queued_jobs_run_in_order_on_a_single_thread() {
    let order = watchdog("3 jobs on a 1-thread pool").run(|| {
        let rt = Runtime::builder().max_blocking_threads(1).build();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let log = Arc::clone(&log);
                rt.spawn_blocking(move || log.lock().unwrap().push(i))
            })
            .collect();
        rt.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        log.lock().unwrap().clone()
    });
    assert_eq!(
        order,
        [0, 1, 2],
        "queued blocking jobs run in the order they were submitted"
    );
}

#[test]
fn abort_on_a_blocking_handle_does_nothing() {
    let out = watchdog("abort() of a running spawn_blocking job").run(|| {
        let rt = Runtime::new();
        let gate = Gate::new();
        let started = Counter::default();
        let (gate2, started2) = (gate.clone(), started.clone());
        let handle = rt.spawn_blocking(move || {
            started2.tick();
            gate2.wait();
            "ran to the end"
        });
        assert!(
            eventually(|| started.get() == 1),
            "the blocking job never started"
        );
        handle.abort(); // a running closure cannot be interrupted
        gate.open();
        rt.block_on(handle)
    });
    assert_eq!(
        out,
        Ok("ran to the end"),
        "abort() on a spawn_blocking handle must change nothing: the closure runs to its end \
         and the handle gives its output"
    );
}

#[test]
#[allow(clippy::drop_non_drop)] // whether Runtime has a Drop is the learner's choice
fn dropping_the_runtime_ends_its_idle_blocking_threads() {
    let ended = watchdog("a runtime dropped while its pool thread is idle").run(|| {
        let rt = Runtime::builder()
            .blocking_keep_alive(Duration::from_secs(3600))
            .build();
        let handle = rt.handle();
        rt.block_on(rt.spawn_blocking(|| ())).unwrap();
        assert!(
            eventually(|| handle.idle_blocking_threads() == 1),
            "after its job, the pool thread never showed as idle"
        );
        drop(rt);
        eventually(|| handle.blocking_threads() == 0)
    });
    assert!(
        ended,
        "dropping the Runtime must end its idle blocking threads at once (tell them to stop \
         and wake them all), not leave them waiting out a keep-alive of an hour"
    );
}

#[test]
fn a_blocking_job_runs_in_the_context_of_the_runtime_whose_pool_runs_it() {
    // The job's context is its runtime's, whatever was current where spawn_blocking was
    // called: nothing (this thread, another thread) or another runtime (an enter() guard).
    let outs = watchdog("rt.spawn_blocking called outside rt's context").run(|| {
        let rt = Runtime::new();
        let other = Runtime::new();
        let job = || {
            let current = runtime::Handle::try_current().is_some();
            let task = harness::catch_panic(|| spawn(async { "ran on rt" }));
            (current, task)
        };
        let mut outs = Vec::new();
        let from_here = rt.spawn_blocking(job);
        let from_other_runtime = {
            let _other = other.enter();
            rt.handle().spawn_blocking(job)
        };
        let handle = rt.handle();
        let from_other_thread = thread::spawn(move || handle.spawn_blocking(job))
            .join()
            .unwrap();
        for (called, job) in [
            ("outside any runtime", from_here),
            ("under another runtime's enter() guard", from_other_runtime),
            ("on another thread, outside any runtime", from_other_thread),
        ] {
            let (current, task) = rt.block_on(job).expect("the blocking job failed");
            let ran = match task {
                Ok(task) => rt.block_on(async {
                    for _ in 0..100 {
                        if task.is_finished() {
                            return task.await.is_ok();
                        }
                        yield_now().await;
                    }
                    false
                }),
                Err(_) => false,
            };
            outs.push((called, current, ran));
        }
        outs
    });
    for (called, current, ran) in outs {
        assert!(
            current && ran,
            "rt.spawn_blocking(job) was called {called}: inside the job, {}. The job runs in \
             the context of the runtime whose pool runs it: capture that runtime's Handle (the \
             one spawn_blocking was called on) and enter it on the pool thread around the job, \
             not whatever context the caller's thread had",
            if current {
                "spawn() did not reach rt (its task never ran there)"
            } else {
                "no runtime was current"
            }
        );
    }
}

#[test]
#[allow(clippy::drop_non_drop)] // whether Runtime has a Drop is the learner's choice
fn dropping_the_runtime_ends_every_idle_blocking_thread() {
    let (idle, left) = watchdog("a runtime dropped while 3 pool threads are idle").run(|| {
        let rt = Runtime::builder()
            .max_blocking_threads(3)
            .blocking_keep_alive(Duration::from_secs(3600))
            .build();
        let handle = rt.handle();
        let gate = Gate::new();
        let started = Counter::default();
        // Three jobs that all wait at one gate: they run at the same time, on 3 threads.
        let jobs: Vec<_> = (0..3)
            .map(|_| {
                let (gate, started) = (gate.clone(), started.clone());
                rt.spawn_blocking(move || {
                    started.tick();
                    gate.wait();
                })
            })
            .collect();
        assert!(
            eventually(|| started.get() == 3),
            "3 jobs on a pool of 3 threads should all have started; {} did",
            started.get()
        );
        gate.open();
        rt.block_on(async {
            for job in jobs {
                job.await.unwrap();
            }
        });
        assert!(
            eventually(|| handle.idle_blocking_threads() == 3),
            "after their jobs, the 3 pool threads never all showed as idle \
             (idle_blocking_threads() = {})",
            handle.idle_blocking_threads()
        );
        let idle = handle.idle_blocking_threads();
        drop(rt);
        eventually(|| handle.blocking_threads() == 0);
        (idle, handle.blocking_threads())
    });
    assert_eq!(
        (idle, left),
        (3, 0),
        "dropping the Runtime with 3 idle pool threads left {left} of them alive: shutdown \
         must wake EVERY idle thread (`notify_all`, not `notify_one`: one notification reaches \
         one waiter, the others sleep out their keep-alive)"
    );
}

#[test]
fn the_keep_alive_counts_from_when_a_thread_goes_idle() {
    // A job that runs longer than the keep-alive. When it ends, the thread becomes idle and
    // must then wait a whole keep-alive for a new job: not exit at once because its time,
    // counted from when it started, is up.
    //
    // The keep-alive is wall-clock time by contract, so this test cannot avoid real time; it
    // is built so that scheduling noise cannot decide it: the wrong thread leaves within
    // microseconds of its job's end and is looked for 0.7 s later, while the right one stays
    // 2 s and is looked for well before that. Only a stall of the whole test of about a second
    // could make it wrong, either way.
    const KEEP_ALIVE: Duration = Duration::from_secs(2);
    const LOOK_AFTER: Duration = Duration::from_millis(700);
    let (state, reused) = watchdog("a pool thread whose job outlasted its keep-alive")
        .limit(Duration::from_secs(20))
        .run(|| {
            let rt = Runtime::builder()
                .max_blocking_threads(4)
                .blocking_keep_alive(KEEP_ALIVE)
                .build();
            let handle = rt.handle();
            let first = rt
                .block_on(rt.spawn_blocking(|| {
                    thread::sleep(KEEP_ALIVE + Duration::from_millis(100));
                    thread::current().id()
                }))
                .unwrap();
            thread::sleep(LOOK_AFTER);
            let state = (handle.blocking_threads(), handle.idle_blocking_threads());
            let second = rt
                .block_on(rt.spawn_blocking(|| thread::current().id()))
                .unwrap();
            (state, first == second)
        });
    assert_eq!(
        state,
        (1, 1),
        "a pool thread whose job ran longer than the keep-alive (2 s) should still be idle, \
         waiting for a new job, 0.7 s after the job ended; (blocking_threads(), \
         idle_blocking_threads()) was {state:?}. The keep-alive counts from the moment the \
         thread becomes idle, each time: compute the deadline (or call \
         wait_timeout(keep_alive)) when it starts waiting, not once when the thread starts"
    );
    assert!(
        reused,
        "a job submitted right after the first one ended must reuse the idle thread"
    );
}
