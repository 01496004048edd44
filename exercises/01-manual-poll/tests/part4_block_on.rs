//! Part 4 — `block_on`: drive any future to completion by polling it in a loop.
//!
//! Every test runs under a watchdog: a driver that never stops polling hangs instead of
//! failing.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use harness::{Journal, ManualClock, Watchdog, catch_panic, recorded, yield_times};
use manual_poll::{Deadline, block_on, brew};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "`block_on` does not return when `poll` gives `Poll::Ready(output)`: return the \
             output as soon as you see Ready.",
        )
        .likely_cause("`block_on` polls only once, or stops polling after a Pending: loop.")
}

#[test]
fn block_on_returns_the_output_of_a_ready_future() {
    let output = watchdog("block_on(ready(7))").run(|| block_on(std::future::ready(7)));
    assert_eq!(
        output, 7,
        "block_on must return the output the future was Ready with"
    );
}

#[test]
fn block_on_keeps_polling_until_ready() {
    let stats = watchdog("block_on of a future that is Pending 3 times").run(|| {
        let (future, stats) = recorded("yield_times(3)", yield_times(3));
        block_on(future);
        stats
    });
    assert_eq!(
        (stats.pendings(), stats.readies()),
        (3, 1),
        "a future that is Pending 3 times needs 4 polls: 3 Pending, then 1 Ready."
    );
}

#[test]
fn block_on_never_polls_a_future_again_after_ready() {
    // `recorded` panics if the wrapped future is polled after it returned Ready.
    let stats = watchdog("block_on of a recorded future").run(|| {
        let (future, stats) = recorded("the future given to block_on", yield_times(1));
        block_on(future);
        stats
    });
    assert_eq!(
        stats.polls(),
        2,
        "expected exactly 2 polls: 1 Pending, 1 Ready"
    );
}

#[test]
fn block_on_drives_a_future_that_borrows_from_itself() {
    let total = watchdog("block_on(an async block holding a borrow across .await)").run(|| {
        block_on(async {
            let numbers = [1, 2, 3];
            let first_two = &numbers[..2]; // a borrow into this future's own state...
            yield_times(2).await; // ...held across an .await: the future is !Unpin
            first_two.iter().sum::<i32>() + numbers[2]
        })
    });
    assert_eq!(total, 6);
}

#[test]
fn block_on_runs_brew_to_the_end() {
    let journal = Journal::new();
    let writer = journal.clone();
    let served = watchdog("block_on(brew(journal))").run(move || block_on(brew(writer)));
    assert_eq!(served, "tea");
    assert_eq!(journal.entries(), ["kettle on", "pour", "serve"]);
}

#[test]
fn block_on_waits_for_a_deadline_moved_by_another_thread() {
    // Another thread moves the clock past the deadline. block_on keeps polling until it sees
    // that; whether the thread runs before or during block_on, the outcome is the same.
    let clock = ManualClock::new();
    let mover = clock.clone();
    let handle = thread::spawn(move || mover.advance(Duration::from_secs(1)));
    watchdog("block_on(Deadline) while another thread advances the clock")
        .likely_cause("`Deadline::poll` does not re-read the clock on every poll.")
        .run(move || block_on(Deadline::new(clock, Duration::from_secs(1))));
    handle.join().unwrap();
}

/// A future that is `Pending` `left` times *without waking anyone*, then `Ready`. A broken
/// future, on purpose: `block_on` ignores wakes, so it must finish it all the same.
struct PendingWithoutWake {
    left: usize,
}

impl Future for PendingWithoutWake {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        Poll::Pending
    }
}

#[test]
fn block_on_polls_again_after_a_pending_without_a_wake() {
    let stats = watchdog("block_on of a future that is Pending 3 times and never wakes")
        .likely_cause(
            "`block_on` polls again only after a wake. This driver ignores wakes: after every \
             Pending it polls again at once, woken or not (that is why it may use \
             `Waker::noop()`).",
        )
        .run(|| {
            let (future, stats) =
                recorded("a future that never wakes", PendingWithoutWake { left: 3 });
            block_on(future);
            stats
        });
    assert_eq!(
        (stats.pendings(), stats.readies()),
        (3, 1),
        "a future that is Pending 3 times without waking needs 4 polls: 3 Pending, then Ready."
    );
}

#[test]
fn block_on_keeps_polling_through_many_pendings() {
    // However many Pendings come before Ready, block_on polls again after each one, at once:
    // nothing in its loop may run out (a small counter overflows) or grow without bound (a
    // sleep that doubles every time). 300 passes any u8 counter; 2 000 outlasts any doubling
    // back-off (from 1 µs, the 23rd sleep alone is longer than the watchdog) while a correct
    // loop, even one that yields the thread between polls, finishes in milliseconds on a
    // loaded machine.
    for pendings in [300, 2_000] {
        let stats = watchdog(&format!(
            "block_on of a future that is Pending {pendings} times"
        ))
        .likely_cause(
            "`block_on` waits longer and longer between polls (a back-off that keeps \
                 growing): after a Pending it must poll again at once.",
        )
        .run(move || {
            let (future, stats) = recorded("yield_times", yield_times(pendings));
            if let Err(message) = catch_panic(|| block_on(future)) {
                panic!(
                    "block_on panicked with {message:?} while driving a future that is \
                         Pending {pendings} times. Nothing in the loop may depend on how many \
                         Pendings came before: a counter of them (for a back-off, say) must \
                         not overflow; better, poll again at once and count nothing."
                );
            }
            stats
        });
        assert_eq!(
            (stats.pendings(), stats.readies()),
            (pendings, 1),
            "a future that is Pending {pendings} times needs {pendings} Pending polls, then 1 \
             Ready."
        );
    }
}
