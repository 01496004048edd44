//! Part 3 — `brew`: an `async fn` with two `.await`s, desugared by hand into an enum.
//!
//! The function being desugared (it is in the docs of `src/brew.rs` too):
//!
//! ```text
//! async fn brew(journal: Journal) -> &'static str {
//!     journal.write("kettle on");
//!     Countdown::new(2).await;
//!     journal.write("pour");
//!     Countdown::new(3).await;
//!     journal.write("serve");
//!     "tea"
//! }
//! ```
//!
//! These tests use your `Countdown` from part 1: make its tests pass first. Each test runs
//! under a watchdog: a `poll` that never returns fails within seconds instead of hanging.

use std::task::Poll;

use harness::{Journal, Poller, Watchdog, counting_waker};
use manual_poll::brew;

/// Runs a test body under a watchdog: a `poll` that never returns fails within seconds with
/// this message instead of hanging `cargo test`.
fn bounded(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(what)
        .likely_cause(
            "`Brew::poll` loops forever: the loop around the match must return Pending when a \
             child is Pending, and Ready at the end (or `Countdown::poll` does not return).",
        )
        .run(body)
}

#[test]
fn calling_brew_does_nothing_until_the_first_poll() {
    bounded("calling brew(journal) without polling it", || {
        let journal = Journal::new();
        let _not_yet_polled = brew(journal.clone());
        assert_eq!(
            journal.entries(),
            Vec::<String>::new(),
            "`brew(journal)` wrote to the journal before it was ever polled. Calling an async fn \
             only builds its state machine; the body starts on the first poll. Move the first \
             `journal.write` out of `brew()` and into the first state of `poll`."
        );
    });
}

#[test]
fn the_first_poll_runs_the_body_up_to_the_first_await() {
    bounded("the first poll of brew", || {
        let journal = Journal::new();
        let mut brewing = Poller::new(brew(journal.clone()));
        assert!(
            brewing.poll().is_pending(),
            "the first poll of brew returned Ready, but the kettle Countdown(2) cannot be done yet."
        );
        assert_eq!(
            journal.entries(),
            ["kettle on"],
            "after one poll the body should have run up to the first `.await` (writing \"kettle \
             on\") and stopped there."
        );
    });
}

#[test]
fn brew_is_pending_five_times_then_serves_tea() {
    bounded("polling brew six times", || {
        // Poll 1 starts the kettle (2 Pendings), poll 3 finishes it and starts the pot
        // (3 Pendings), poll 6 finishes the pot: Pending x5, then Ready.
        let mut brewing = Poller::new(brew(Journal::new()));
        for poll in 1..=5 {
            assert!(
                brewing.poll().is_pending(),
                "brew returned Ready on poll {poll}; it should be Pending for polls 1..=5 (two \
                 Countdown(2) Pendings, then three Countdown(3) Pendings)."
            );
        }
        assert_eq!(
            brewing.poll(),
            Poll::Ready("tea"),
            "brew was still Pending on poll 6. When a child future finishes, go straight on to the \
             next state *in the same poll* (a loop around the match) instead of returning Pending \
             at the transition."
        );
    });
}

#[test]
fn each_step_is_written_once_when_its_await_completes() {
    bounded(
        "polling brew six times, reading the journal after each",
        || {
            let journal = Journal::new();
            let mut brewing = Poller::new(brew(journal.clone()));
            let expected_after_poll = [
                vec!["kettle on"],
                vec!["kettle on"],
                vec!["kettle on", "pour"],
                vec!["kettle on", "pour"],
                vec!["kettle on", "pour"],
                vec!["kettle on", "pour", "serve"],
            ];
            for (poll, expected) in (1..).zip(expected_after_poll) {
                let _ = brewing.poll();
                assert_eq!(
                    journal.entries(),
                    expected,
                    "journal after poll {poll} is wrong. Each line of the body must run exactly once: \
                     when a poll re-enters a state, it must continue from the `.await` it paused at, \
                     not re-run the code before it. Store the new state *before* returning Pending."
                );
            }
        },
    );
}

#[test]
fn every_pending_from_brew_comes_with_a_wake() {
    bounded("polling brew to the end, counting wakes", || {
        // The contract: each Pending comes with at least one wake arranged during that poll.
        // Waking more than once is wasteful, never wrong, so only "none" fails here.
        let mut brewing = Poller::new(brew(Journal::new()));
        for poll in 1..=6 {
            let before = brewing.wakes();
            if brewing.poll().is_ready() {
                return;
            }
            let after = brewing.wakes();
            assert!(
                after > before,
                "brew returned Pending on poll {poll} and no wake was arranged during that poll \
                 (the waker was woken {before} time(s) before it and still {after} after). A state \
                 machine may only return Pending when the child it is waiting on returned Pending \
                 (and so arranged the wake). Returning Pending at a state transition, before \
                 polling the new child, strands the task."
            );
        }
        panic!(
            "brew was still Pending after 6 polls; it needs 5 Pendings then Ready (part 3's test \
             `brew_is_pending_five_times_then_serves_tea` says more)."
        );
    });
}

#[test]
fn brew_panics_when_polled_after_completion() {
    bounded("polling brew once more after Ready", || {
        let mut brewing = Poller::new(brew(Journal::new()));
        // Drive it to the end first (bounded: a brew that never finishes fails here, not hangs).
        let mut served = None;
        for poll in 1..=6 {
            if let Poll::Ready(tea) = brewing.poll() {
                served = Some((poll, tea));
                break;
            }
        }
        assert!(
            served.is_some(),
            "brew was still Pending after 6 polls, so this test cannot reach the end; make \
             `brew_is_pending_five_times_then_serves_tea` pass first."
        );
        // The `Done` state: like compiler-generated futures, panic with a message containing
        // "polled after completion".
        match harness::catch_panic(|| brewing.poll()) {
            Ok(poll) => panic!(
                "brew had returned Ready, was polled again, and answered {poll:?} instead of \
                 panicking. Ready is final: move to a `Done` state when you return Ready, and \
                 `panic!(\"brew polled after completion\")` when a poll finds it."
            ),
            Err(message) => assert!(
                message.contains("polled after completion"),
                "brew polled after Ready panicked, but with {message:?}; the message must contain \
                 \"polled after completion\". (If it is Countdown's message, `Done` still polls \
                 the finished countdown: check for `Done` first.)"
            ),
        }
    });
}

#[test]
fn brew_passes_the_waker_of_each_poll_to_its_child() {
    // `.await` polls the child with the same `cx` the parent received, on every poll. This
    // test gives every poll a new waker: each Pending must wake the waker of *that* poll.
    bounded("polling brew with a new waker on every poll", || {
        let mut brewing = Poller::new(brew(Journal::new()));
        for poll in 1..=6 {
            let (waker, wakes) = counting_waker();
            match brewing.poll_with(&waker) {
                Poll::Ready(tea) => {
                    assert_eq!(
                        (poll, tea),
                        (6, "tea"),
                        "brew must be Pending on polls 1..=5 and Ready(\"tea\") on poll 6."
                    );
                    return;
                }
                Poll::Pending => assert!(
                    wakes.get() > 0,
                    "brew returned Pending on poll {poll} without waking the waker it was given \
                     in that poll (each poll of this test passes a new waker). `.await` polls \
                     the child with the `cx` the parent received *in this poll*: pass your \
                     `cx` straight on to the countdown (`Pin::new(&mut kettle).poll(cx)`), \
                     never a Context built from a waker saved in an earlier poll. (If \
                     part 1's `countdown_wakes_the_waker_of_the_current_poll` fails too, fix \
                     Countdown first.)"
                ),
            }
        }
        panic!("brew was still Pending after 6 polls; it needs 5 Pendings then Ready.");
    });
}
