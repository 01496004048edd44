//! Part 1 — `Countdown`: a future that is a pure state machine.
//!
//! Run just these with `cargo test -p manual-poll --test part1_countdown`. Each test runs
//! under a watchdog: a `poll` that never returns fails within seconds instead of hanging.

use std::task::Poll;

use harness::{Poller, Watchdog, catch_panic, counting_waker};
use manual_poll::Countdown;

/// Runs a test body under a watchdog.
fn bounded(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(what)
        .likely_cause(
            "`Countdown::poll` loops or waits instead of returning at once: poll must look at \
             the count, decide, and return.",
        )
        .run(body)
}

#[test]
fn countdown_is_pending_exactly_n_times_then_ready() {
    bounded("polling Countdown::new(3) four times", || {
        let mut countdown = Poller::new(Countdown::new(3));
        for poll in 1..=3 {
            assert!(
                countdown.poll().is_pending(),
                "Countdown::new(3) returned Ready on poll {poll}; it must return Pending on its \
                 first 3 polls. Check how `poll` counts down the polls that remain."
            );
        }
        assert_eq!(
            countdown.poll(),
            Poll::Ready(()),
            "Countdown::new(3) was still Pending on poll 4; after 3 Pendings the next poll must \
             be Ready. Is the count decremented on every poll?"
        );
    });
}

#[test]
fn countdown_of_zero_is_ready_on_the_first_poll() {
    bounded("polling Countdown::new(0) once", || {
        let mut countdown = Poller::new(Countdown::new(0));
        assert_eq!(
            countdown.poll(),
            Poll::Ready(()),
            "Countdown::new(0) has nothing left to wait for, so its first poll must be Ready. \
             Check the order in `poll`: test for zero before counting down."
        );
    });
}

#[test]
fn countdown_wakes_its_waker_every_time_it_returns_pending() {
    // The contract: every Pending comes with at least one wake, arranged during that poll.
    // (Waking more often is wasteful, never wrong, so only "no wake" fails.)
    bounded("polling Countdown::new(3) to the end", || {
        let mut countdown = Poller::new(Countdown::new(3));
        for poll in 1..=3 {
            let before = countdown.wakes();
            assert!(
                countdown.poll().is_pending(),
                "Countdown::new(3) returned Ready on poll {poll}; it must be Pending on its \
                 first 3 polls (part 1's first test checks the counting)."
            );
            assert!(
                countdown.wakes() > before,
                "Countdown returned Pending on poll {poll} without waking its waker during that \
                 poll (wakes before and after: {before}). Returning Pending is a promise that \
                 someone will wake the task; nothing outside ever will for a Countdown, so it \
                 must call `cx.waker().wake_by_ref()` itself before returning Pending.",
            );
        }
    });
}

#[test]
fn countdown_panics_when_polled_after_completion() {
    bounded("polling Countdown::new(1) three times", || {
        let mut countdown = Poller::new(Countdown::new(1));
        assert!(
            countdown.poll().is_pending(),
            "Countdown::new(1) was Ready on its first poll; it must be Pending once first."
        );
        assert!(
            countdown.poll().is_ready(),
            "Countdown::new(1) was still Pending on its second poll; it must be Ready there."
        );
        // Ready is final. Like the futures the compiler writes, a Countdown must refuse to run
        // again: panic with a message containing "polled after completion". Only this third
        // poll may panic.
        match harness::catch_panic(|| countdown.poll()) {
            Ok(poll) => panic!(
                "a Countdown that had returned Ready was polled again and answered {poll:?} \
                 instead of panicking. Ready is final: remember that you finished (a flag, or \
                 a state) and `panic!(\"Countdown polled after completion\")` when polled again."
            ),
            Err(message) => assert!(
                message.contains("polled after completion"),
                "a Countdown polled after Ready panicked, but with {message:?}; the message \
                 must contain \"polled after completion\" (that is how the compiler's futures \
                 say it)."
            ),
        }
    });
}

#[test]
fn countdown_wakes_the_waker_of_the_current_poll() {
    // A task may be polled with a different waker each time (an executor may hand it a new
    // one, or it may move to another executor). Only the waker in the *current* `cx` reaches
    // the task now, so that is the one every Pending must wake: on every poll, not just the
    // first or the second.
    bounded(
        "polling Countdown::new(4) with a new waker on every poll",
        || {
            let mut countdown = Poller::new(Countdown::new(4));
            for poll in 1..=4 {
                let (waker, wakes) = counting_waker();
                assert!(
                    countdown.poll_with(&waker).is_pending(),
                    "Countdown::new(4) returned Ready on poll {poll}; it must be Pending on its \
                 first 4 polls (part 1's first test checks the counting)."
                );
                assert!(
                    wakes.get() > 0,
                    "Countdown returned Pending on poll {poll} without waking the waker it was given \
                 in that poll (each poll of this test passes a new waker). A Pending promises \
                 that the waker in the *current* `cx` will be woken; a waker saved from an \
                 earlier poll may belong to a task or an executor that no longer listens. Wake \
                 `cx.waker()` on every Pending instead of a stored one."
                );
            }
            let (waker, _wakes) = counting_waker();
            assert_eq!(
                countdown.poll_with(&waker),
                Poll::Ready(()),
                "Countdown::new(4) was still Pending on poll 5, after 4 Pendings."
            );
        },
    );
}

#[test]
fn countdown_of_u32_max_is_pending_on_its_first_polls() {
    // n may be any u32, the largest included. Nobody can poll 4 billion times here, so this
    // checks the start: `new` must not panic, and the first polls are Pending with a wake.
    bounded("Countdown::new(u32::MAX), polled three times", || {
        let countdown = match catch_panic(|| Countdown::new(u32::MAX)) {
            Ok(countdown) => countdown,
            Err(message) => panic!(
                "Countdown::new(u32::MAX) panicked with {message:?}. n may be any u32, the \
                 largest included: arithmetic such as `n + 1` overflows there. Store n as it \
                 is and count down from it."
            ),
        };
        let mut countdown = Poller::new(countdown);
        for poll in 1..=3 {
            let before = countdown.wakes();
            match catch_panic(|| countdown.poll()) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(())) => panic!(
                    "Countdown::new(u32::MAX) was Ready on poll {poll}; it owes u32::MAX \
                     Pendings first. Does a count wrap around (u32::MAX + 1 == 0)?"
                ),
                Err(message) => panic!(
                    "Countdown::new(u32::MAX) panicked on poll {poll} with {message:?}. If it \
                     says \"polled after completion\", a special count value (u32::MAX) \
                     means \"finished\" in your Countdown, but u32::MAX is also a real n. \
                     Keep \"finished\" apart from the count (a flag, or an enum)."
                ),
            }
            assert!(
                countdown.wakes() > before,
                "Countdown::new(u32::MAX) returned Pending on poll {poll} without waking its \
                 waker during that poll."
            );
        }
    });
}

#[test]
fn countdown_of_zero_panics_when_polled_again_after_ready() {
    // The same "Ready is final" as for n = 1, on the route where Ready comes first.
    bounded("polling Countdown::new(0) twice", || {
        let mut countdown = Poller::new(Countdown::new(0));
        assert_eq!(
            countdown.poll(),
            Poll::Ready(()),
            "Countdown::new(0) must be Ready on its first poll."
        );
        match catch_panic(|| countdown.poll()) {
            Ok(poll) => panic!(
                "Countdown::new(0) had returned Ready, was polled again and answered {poll:?} \
                 instead of panicking. Ready is final for every n, 0 included: remember that \
                 you finished, separately from the count."
            ),
            Err(message) => assert!(
                message.contains("polled after completion"),
                "Countdown::new(0) polled after Ready panicked, but with {message:?}; the \
                 message must contain \"polled after completion\"."
            ),
        }
    });
}
