//! Part 5 — what your executor did, step by step (nothing new to write).
//!
//! Each test runs a scenario whose correct timeline is the same for every correct executor,
//! records it with `harness::trace`, and compares it with the saved snapshot in
//! `tests/snapshots/`. When one fails, the diff shows where your executor's story departs from
//! the expected one. To draw any test's timeline yourself (text, plus an SVG to open):
//!
//! ```text
//! cargo xtask trace waker-queue part5_trace::a_burst_of_wakes_costs_one_poll
//! ```

use std::thread;
use std::time::Duration;

mod common;

use harness::Watchdog;
use harness::trace::{self, Event, traced};
use waker_queue::{Executor, Timer};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what).likely_cause(
        "a wake was lost: `run` must poll again a task whose waker was woken, and return once \
         every task has finished",
    )
}

#[test]
fn a_burst_of_wakes_costs_one_poll() {
    let trace = trace::start();
    // On a failure (a hang, say), `explain` adds the timeline recorded so far to the message.
    trace.explain(|| {
        watchdog("run() of a task that wakes itself 5 times, then waits to be released")
            .run(common::run_burst_of_wakes)
    });
    insta::with_settings!({
        description => "The task wakes itself 5 times during its first poll, then waits until \
                        the test releases it (once the executor is asleep). A correct executor \
                        queues it once for the whole burst: spawned, poll, 5 wakes, Pending, \
                        poll, Pending, woken by release, poll, Ready. More polls between the \
                        burst and the release mean each wake queued the task again (look at \
                        your scheduled flag).",
        omit_expression => true,
    }, {
        insta::assert_snapshot!(trace.tasks_text());
    });
}

#[test]
fn a_timer_fired_by_another_thread_wakes_its_task_once() {
    let trace = trace::start();
    let (timer, trigger) = Timer::manual();
    // Fire only once the task has returned Pending, from a thread the trace calls "trigger".
    let firing = thread::spawn(move || {
        let pending = trace::wait_for(Duration::from_secs(5), |records| {
            records
                .iter()
                .any(|r| matches!(r.event, Event::Pending { .. }))
        });
        trace::waking_as("trigger", || trigger.fire());
        pending
    });
    trace.explain(|| {
        watchdog("run() of a task waiting for a timer fired by another thread").run(move || {
            let executor = Executor::new();
            executor.spawn(traced("waits for timer", timer));
            executor.run();
        })
    });
    assert!(firing.join().unwrap(), "the task never returned Pending");
    insta::with_settings!({
        description => "The task waits for a timer that another thread fires after the first \
                        poll: spawned, poll, Pending, woken by the trigger, poll, Ready. A \
                        missing wake means the timer lost its waker; an extra poll before the \
                        wake means run() polled without being woken (spinning).",
        omit_expression => true,
    }, {
        insta::assert_snapshot!(trace.tasks_text());
    });
}
