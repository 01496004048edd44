//! Part 1 — `Countdown`: a future that is a pure state machine.
//!
//! Run just these with `cargo test -p manual-poll --test part1_countdown`.

use std::task::Poll;

use harness::Poller;
use manual_poll::Countdown;

#[test]
fn countdown_is_pending_exactly_n_times_then_ready() {
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
        "Countdown::new(3) was still Pending on poll 4; after 3 Pendings the next poll must be \
         Ready. Is the count decremented on every poll?"
    );
}

#[test]
fn countdown_of_zero_is_ready_on_the_first_poll() {
    let mut countdown = Poller::new(Countdown::new(0));
    assert_eq!(
        countdown.poll(),
        Poll::Ready(()),
        "Countdown::new(0) has nothing left to wait for, so its first poll must be Ready. \
         Check the order in `poll`: test for zero before counting down."
    );
}

#[test]
fn countdown_wakes_its_waker_every_time_it_returns_pending() {
    let mut countdown = Poller::new(Countdown::new(3));
    for pendings in 1..=3 {
        assert!(countdown.poll().is_pending());
        assert_eq!(
            countdown.wakes(),
            pendings,
            "after Pending #{pendings} the waker had been woken {} time(s). Returning Pending \
             is a promise that someone will wake the task; nothing outside ever will for a \
             Countdown, so it must call `cx.waker().wake_by_ref()` itself before returning \
             Pending.",
            countdown.wakes()
        );
    }
    assert!(countdown.poll().is_ready());
    assert_eq!(
        countdown.wakes(),
        3,
        "the waker was woken when Countdown returned Ready; a wake asks to be polled again, \
         which a finished future never wants."
    );
}

#[test]
#[should_panic(expected = "polled after completion")]
fn countdown_panics_when_polled_after_completion() {
    let mut countdown = Poller::new(Countdown::new(1));
    assert!(countdown.poll().is_pending());
    assert!(countdown.poll().is_ready());
    // Ready is final. Like the futures the compiler writes, a Countdown must refuse to run
    // again: panic with a message containing "polled after completion".
    let _ = countdown.poll();
}
