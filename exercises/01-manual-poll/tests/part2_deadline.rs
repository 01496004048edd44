//! Part 2 — `Deadline`: a future that watches the outside world without blocking.
//!
//! The clock is a `harness::ManualClock`: it moves only when the test moves it, so "the
//! deadline has not passed" is a fact here, never a race. Every test runs under a watchdog,
//! because the classic bug (waiting inside `poll`) never returns.

use std::task::Poll;
use std::time::Duration;

use harness::{ManualClock, Poller, Watchdog};
use manual_poll::Deadline;

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "`Deadline::poll` waits for the clock (a loop or a sleep) instead of looking once \
             and returning Pending. poll must never wait: the clock only moves when the caller \
             gets control back.",
        )
        .limit(Duration::from_secs(5))
}

#[test]
fn polling_a_distant_deadline_returns_at_once() {
    let poll = watchdog("the first poll of a deadline one hour away").run(|| {
        let clock = ManualClock::new();
        Poller::new(Deadline::new(clock, Duration::from_secs(3600))).poll()
    });
    assert_eq!(
        poll,
        Poll::Pending,
        "a deadline one hour away returned Ready although the clock still reads 0s. Compare \
         the clock's `now()` with the deadline in `poll`."
    );
}

#[test]
fn deadline_becomes_ready_exactly_at_its_time() {
    watchdog("polling a 10s deadline around its time").run(|| {
        let clock = ManualClock::new();
        let mut deadline = Poller::new(Deadline::new(clock.clone(), Duration::from_secs(10)));

        clock.advance(Duration::from_secs(10) - Duration::from_nanos(1));
        assert!(
            deadline.poll().is_pending(),
            "a 10s deadline was Ready when the clock read 1ns before 10s."
        );

        clock.advance(Duration::from_nanos(1));
        if deadline.poll().is_pending() {
            // Which mistake? Look again an hour later to tell them apart.
            clock.advance(Duration::from_secs(3600));
            let why = if deadline.poll().is_pending() {
                "It stayed Pending even when the clock read an hour later, so `poll` never \
                 sees the clock move: does `new` read `clock.now()` once and keep that \
                 reading? Keep the clock itself and read `now()` in every poll."
            } else {
                "It became Ready once the clock had moved further, so it compares the wrong \
                 way: a deadline has passed when now >= deadline (> instead of >= is the \
                 off-by-one)."
            };
            panic!("a 10s deadline was still Pending when the clock read exactly 10s. {why}");
        }
    });
}

#[test]
fn deadline_created_after_its_time_is_ready_on_the_first_poll() {
    watchdog("polling a deadline that has already passed").run(|| {
        let clock = ManualClock::new();
        clock.advance(Duration::from_secs(60));
        let mut deadline = Poller::new(Deadline::new(clock, Duration::from_secs(5)));
        assert_eq!(
            deadline.poll(),
            Poll::Ready(()),
            "the clock read 60s and the deadline was 5s, yet the first poll was Pending. A \
             future should finish as soon as it can: check the clock before deciding to wait."
        );
    });
}

#[test]
fn deadline_wakes_its_waker_every_time_it_returns_pending() {
    watchdog("polling a pending deadline three times").run(|| {
        let clock = ManualClock::new();
        let mut deadline = Poller::new(Deadline::new(clock, Duration::from_secs(10)));
        for poll in 1..=3 {
            let before = deadline.wakes();
            assert!(
                deadline.poll().is_pending(),
                "a deadline 10s away was Ready on poll {poll} although the clock still read 0s"
            );
            assert!(
                deadline.wakes() > before,
                "the deadline returned Pending on poll {poll} without waking its waker during \
                 that poll (wakes before and after: {before}). A future that returns Pending \
                 must arrange for its task to be woken. No timer watches this clock for us yet, \
                 so the only way is to ask to be polled again right away: \
                 `cx.waker().wake_by_ref()`. (Stage 2 replaces this busy wait with a timer.)"
            );
        }
    });
}

#[test]
fn deadline_compares_to_the_nanosecond() {
    // `at` need not be a whole number of seconds or milliseconds, and may be far away: the
    // comparison is `now >= at` on the Durations themselves, with nothing rounded.
    const DAY: u64 = 24 * 60 * 60;
    let deadlines = [
        Duration::from_nanos(1),
        Duration::from_nanos(1_001),
        Duration::from_nanos(1_000_500),
        Duration::new(10, 1),
        Duration::new(10, 999_999_999),
        Duration::new(400 * DAY, 1),
    ];
    watchdog("polling deadlines 1ns before and exactly at their time").run(move || {
        for at in deadlines {
            let clock = ManualClock::new();
            let mut deadline = Poller::new(Deadline::new(clock.clone(), at));
            clock.advance(at - Duration::from_nanos(1));
            assert!(
                deadline.poll().is_pending(),
                "a deadline at {at:?} was Ready when the clock read 1ns before it ({:?}). \
                 Compare the Durations themselves (`now >= at`): converting either side to \
                 whole milliseconds or seconds (`as_millis`, `as_secs`) or to a float \
                 (`as_secs_f64`) rounds away the nanoseconds and makes the deadline early.",
                clock.now()
            );
            clock.advance(Duration::from_nanos(1));
            assert!(
                deadline.poll().is_ready(),
                "a deadline at {at:?} was still Pending when the clock read exactly {:?}. \
                 Compare the Durations themselves (`now >= at`), without rounding either side.",
                clock.now()
            );
        }
    });
}

#[test]
fn deadline_decides_and_wakes_from_one_clock_read() {
    // "Each poll reads the clock once": the decision (Ready or Pending) and the wake must come
    // from the same reading. A poll that reads the clock again (to decide whether to wake, or
    // how long is left) can see the deadline pass between the two readings and return Pending
    // without a wake. A stepping clock moves 1ns on EVERY reading, so a second reading in one
    // poll always sees a later time: the race is certain, not a matter of luck. Deadlines 1 to
    // 4 ns ahead put the passing moment at each reading of the first polls.
    watchdog("polling deadlines on a clock that moves 1ns at every reading").run(|| {
        for lead in 1..=4 {
            let clock = ManualClock::stepping(Duration::from_nanos(1));
            let at = Duration::from_nanos(lead);
            let mut deadline = Poller::new(Deadline::new(clock.clone(), at));
            for poll in 1..=8 {
                let (before, woken_before) = (clock.peek(), deadline.wakes());
                if deadline.poll().is_ready() {
                    assert!(
                        clock.peek() > at,
                        "a deadline at {at:?} was Ready on poll {poll} before its clock read \
                         {at:?} (the clock read {before:?} as the poll began, moving 1ns per \
                         reading): Ready only once a reading is `>= at`"
                    );
                    break;
                }
                assert!(
                    deadline.wakes() > woken_before,
                    "a deadline at {at:?} returned Pending on poll {poll} without waking its \
                     waker (the clock read {before:?} as the poll began, and moves 1ns every \
                     time it is read). Does `poll` read the clock twice: once to decide Ready \
                     or Pending, and again to decide whether to wake? If the deadline passes \
                     between the two readings, that poll says Pending and wakes nobody, and \
                     the task is never polled again. Read `clock.now()` once per poll and \
                     decide everything from that one reading."
                );
                assert!(
                    poll < 8,
                    "a deadline at {at:?} was still Pending after 8 polls on a clock that \
                     moves 1ns per reading (it reads {:?} now): it should be Ready once a \
                     reading is `>= at`",
                    clock.peek()
                );
            }
        }
    });
}
