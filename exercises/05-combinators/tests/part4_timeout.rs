//! Part 4 — `timeout`: a future with a deadline on a timer whose clock the test moves.
//!
//! Run just these with `cargo test -p combinators --test part4_timeout`.
//!
//! `blocks::timer::Timer` is given: its clock reads zero until someone calls `advance`, which
//! wakes every `Sleep` whose deadline has been reached. No test here waits for real time.

mod common;

use std::task::Poll;

use blocks::timer::Timer;
use combinators::{Elapsed, timeout};
use common::{Gate, ms, watchdog};
use harness::{Poller, WakeProbe, yield_times};

#[test]
fn a_future_that_finishes_before_the_deadline_gives_its_output() {
    watchdog("timeout(10ms, gate)").run(|| {
        let timer = Timer::new();
        let gate = Gate::new("value");
        let mut limited = Poller::new(timeout(&timer, ms(10), gate.clone()));
        assert!(limited.poll().is_pending());
        timer.advance(ms(9));
        gate.open();
        assert_eq!(
            limited.poll(),
            Poll::Ready(Ok("value")),
            "the future finished 1 ms before its deadline: timeout must give Ok(its output)",
        );
    });
}

#[test]
fn a_future_still_pending_at_the_deadline_gives_elapsed() {
    watchdog("timeout(10ms, a gate that stays closed)").run(|| {
        let timer = Timer::new();
        let mut limited = Poller::new(timeout(&timer, ms(10), Gate::new(())));
        assert!(limited.poll().is_pending());
        timer.advance(ms(9));
        assert!(
            limited.poll().is_pending(),
            "9 ms: the deadline has not come"
        );
        timer.advance(ms(1));
        assert_eq!(
            limited.poll(),
            Poll::Ready(Err(Elapsed)),
            "the timer reads exactly the deadline (10 ms) and the future is still Pending: \
             timeout must give Err(Elapsed). Check the deadline on EVERY poll, through the \
             timer (poll the Sleep), not once at the first poll.",
        );
    });
}

#[test]
fn the_timer_wakes_the_task_when_the_deadline_comes() {
    watchdog("timeout(10ms, pending) and a timer advanced past it").run(|| {
        let timer = Timer::new();
        let mut limited = Poller::new(timeout(&timer, ms(10), std::future::pending::<()>()));
        assert!(limited.poll().is_pending());
        let before = limited.wakes();
        timer.advance(ms(10));
        assert!(
            limited.wakes() > before,
            "the deadline came but nobody woke the task, so an executor would never poll the \
             timeout again. Reading `timer.now()` is not enough: poll a `Sleep` (timer.sleep) \
             so the timer keeps the task's waker and wakes it at the deadline.",
        );
    });
}

#[test]
fn the_deadline_wakes_the_waker_of_the_latest_poll() {
    watchdog("timeout(10ms, pending) polled with a new waker on later polls").run(|| {
        let timer = Timer::new();
        let mut limited = Poller::new(timeout(&timer, ms(10), std::future::pending::<()>()));
        let probes = [WakeProbe::new(), WakeProbe::new(), WakeProbe::new()];
        // Poll 1 and 2 with the first waker, then the timeout moves: 3 with the second waker,
        // 4 with the third (as when it is handed from one task to another).
        for (poll, probe) in [0, 0, 1, 2].into_iter().enumerate() {
            assert!(
                limited.poll_with(&probes[probe].waker()).is_pending(),
                "poll #{}: 0 ms of 10 have passed",
                poll + 1,
            );
        }
        timer.advance(ms(10));
        assert!(
            probes[2].wakes() >= 1,
            "the deadline came, and the timeout was last polled with a third waker: the timer \
             must wake THAT one (it woke the wakers of the polls before: {} and {} times). \
             Only a poll of the Sleep leaves a waker with the timer, so poll the sleep on \
             EVERY poll, not only the first one (reading `timer.now()` on later polls gives \
             the right answer but leaves no waker).",
            probes[0].wakes(),
            probes[1].wakes(),
        );
        assert_eq!(
            limited.poll_with(&probes[2].waker()),
            Poll::Ready(Err(Elapsed)),
            "woken at the deadline, the timeout must give Err(Elapsed)",
        );
    });
}

#[test]
fn the_deadline_is_checked_on_every_poll() {
    watchdog("timeout(10ms, a future that yields forever)").run(|| {
        let timer = Timer::new();
        let mut limited = Poller::new(timeout(&timer, ms(10), yield_times(usize::MAX)));
        for _ in 0..3 {
            assert!(limited.poll().is_pending());
        }
        timer.advance(ms(10));
        assert_eq!(
            limited.poll(),
            Poll::Ready(Err(Elapsed)),
            "the inner future kept the task busy (it yields on every poll), then the deadline \
             passed: the next poll must give Err(Elapsed). Was the deadline checked only on \
             the first poll(s)?",
        );
    });
}

#[test]
fn a_future_ready_at_the_deadline_still_wins() {
    watchdog("timeout(0ms, ready)").run(|| {
        let timer = Timer::new();
        let mut limited = Poller::new(timeout(&timer, ms(0), std::future::ready(42)));
        assert_eq!(
            limited.poll(),
            Poll::Ready(Ok(42)),
            "the deadline (0 ms) has come, but the future is ready too: timeout promises to \
             poll the inner future FIRST, so a result that is there wins over the deadline",
        );
    });
}

#[test]
fn the_deadline_counts_from_the_call_not_from_the_first_poll() {
    watchdog("timeout(10ms, pending), first polled after 10ms").run(|| {
        let timer = Timer::new();
        let limited = timeout(&timer, ms(10), std::future::pending::<()>());
        timer.advance(ms(10));
        let mut limited = Poller::new(limited);
        assert_eq!(
            limited.poll(),
            Poll::Ready(Err(Elapsed)),
            "timeout was called at 0 ms with 10 ms to go and first polled at 10 ms: the \
             deadline (timer.now() + duration, taken when `timeout` is CALLED) has passed. \
             Create the Sleep in `timeout`, not at the first poll.",
        );
    });
}

#[test]
fn a_finished_timeout_leaves_nothing_in_the_timer_once_dropped() {
    watchdog("timeout dropped after it finished").run(|| {
        let timer = Timer::new();
        let gate = Gate::new(());
        let mut limited = Poller::new(timeout(&timer, ms(10), gate.clone()));
        assert!(limited.poll().is_pending());
        assert_eq!(
            timer.registered(),
            1,
            "a pending timeout waits on the timer: exactly one Sleep registered",
        );
        gate.open();
        assert_eq!(limited.poll(), Poll::Ready(Ok(())));
        drop(limited);
        assert_eq!(
            timer.registered(),
            0,
            "dropping the timeout drops its Sleep"
        );
        assert_eq!(Elapsed.to_string(), "deadline has elapsed");
    });
}
