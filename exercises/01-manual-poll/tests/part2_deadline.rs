//! Part 2 — `Deadline`: a future that watches the outside world without blocking.
//!
//! The clock is a `harness::ManualClock`: it moves only when the test moves it, so "the
//! deadline has not passed" is a fact here, never a race. Every test runs under a watchdog,
//! because the classic bug (waiting inside `poll`) never returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

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

/// Stops and joins the clock-moving thread even when the test body panics.
struct Mover {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Mover {
    /// A thread that moves `clock` forward 1ns at a time, as fast as it can.
    fn start(clock: &ManualClock) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (clock, stopped) = (clock.clone(), Arc::clone(&stop));
        let thread = thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                clock.advance(Duration::from_nanos(1));
            }
        });
        Mover {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Mover {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn deadline_decides_and_wakes_from_one_clock_read() {
    // "Each poll reads the clock once": the decision (Ready or Pending) and the wake must come
    // from the same reading. A poll that reads the clock again to decide whether to wake can
    // see the deadline pass between the two reads and return Pending without a wake.
    //
    // ManualClock has no hook inside `now()`, so this test cannot force the clock to move
    // between two reads of one poll. Instead another thread moves it 1ns at a time while this
    // one polls deadlines that are about to pass, and every Pending must come with a wake: a
    // correct Deadline can never fail. A wrong one is caught once the deadline has passed
    // *during* a poll often enough; the loop counts those polls and goes on until it has seen
    // many (or for at most 0.8s, on a machine too busy to run both threads at once).
    const PASSED_DURING_A_POLL: usize = 5_000;
    const LONGEST: Duration = Duration::from_millis(800);
    watchdog("polling deadlines while another thread moves the clock").run(|| {
        let clock = ManualClock::new();
        let _mover = Mover::start(&clock);
        let started = Instant::now();
        let mut passed_during_a_poll = 0;
        // How far ahead each deadline is set, so that it passes during the polls rather than
        // before the first one: it follows how fast the other thread moves the clock.
        let mut lead = 1;
        while passed_during_a_poll < PASSED_DURING_A_POLL && started.elapsed() < LONGEST {
            let at = clock.now() + Duration::from_nanos(lead);
            let mut deadline = Poller::new(Deadline::new(clock.clone(), at));
            for poll in 1.. {
                let (before, woken_before) = (clock.now(), deadline.wakes());
                if deadline.poll().is_ready() {
                    if before < at {
                        passed_during_a_poll += 1;
                    }
                    if poll == 1 {
                        lead += 1;
                    }
                    break;
                }
                if poll > 4 && lead > 1 {
                    lead -= 1;
                }
                assert!(
                    deadline.wakes() > woken_before,
                    "a deadline at {at:?} returned Pending on poll {poll} without waking its \
                     waker, while another thread was moving the clock (it reads {:?} now). \
                     Does `poll` read the clock twice: once to decide Ready or Pending, and \
                     again to decide whether to wake? If the deadline passes between the two \
                     reads, that poll says Pending and wakes nobody, and the task is never \
                     polled again. Read `clock.now()` once per poll and decide everything \
                     from that one reading.",
                    clock.now()
                );
            }
        }
    });
}
