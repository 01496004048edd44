//! The harness's own tests: if these are wrong, every stage's tests are wrong.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::task::Poll;
use std::time::Duration;

use harness::{Journal, ManualClock, Poller, Watchdog, counting_waker, recorded, yield_times};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        String::from("<non-string panic>")
    }
}

#[test]
fn watchdog_returns_the_bodys_value() {
    assert_eq!(Watchdog::new("a quick body").run(|| 7), 7);
}

#[test]
fn watchdog_turns_a_hang_into_a_failure_that_names_causes() {
    let (_keep_blocked, rx) = mpsc::channel::<()>();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        Watchdog::new("waiting on a channel nobody sends to")
            .limit(Duration::from_millis(50))
            .likely_cause("the sender was never used")
            .run(move || rx.recv())
    }));
    let message = panic_message(result.expect_err("a hung body must fail the test"));
    assert!(
        message.starts_with("HANG: waiting on a channel nobody sends to"),
        "{message}"
    );
    assert!(message.contains("50ms"), "{message}");
    assert!(
        message.contains("  - the sender was never used"),
        "{message}"
    );
}

#[test]
#[should_panic(expected = "the body's own message")]
fn watchdog_reraises_the_bodys_panic_unchanged() {
    Watchdog::new("a panicking body").run(|| panic!("the body's own message"));
}

#[test]
fn poller_counts_polls_and_wakes() {
    let mut p = Poller::new(yield_times(2));
    assert_eq!(p.poll(), Poll::Pending);
    assert_eq!(p.poll(), Poll::Pending);
    assert_eq!(p.poll(), Poll::Ready(()));
    assert_eq!((p.polls(), p.wakes()), (3, 2));
}

#[test]
fn poller_drives_futures_that_are_not_unpin() {
    let mut p = Poller::new(async {
        let local = [1, 2, 3];
        let borrowed = &local; // a borrow held across an await: this future is !Unpin
        yield_times(1).await;
        borrowed.iter().sum::<i32>()
    });
    assert_eq!(p.poll(), Poll::Pending);
    assert_eq!(p.poll(), Poll::Ready(6));
}

#[test]
fn poll_with_uses_the_given_waker() {
    let (other, other_wakes) = counting_waker();
    let mut p = Poller::new(yield_times(1));
    assert_eq!(p.poll_with(&other), Poll::Pending);
    assert_eq!((p.wakes(), other_wakes.get()), (0, 1));
}

#[test]
fn recorded_counts_pending_and_ready_polls() {
    let (future, stats) = recorded("three yields", yield_times(3));
    let mut p = Poller::new(future);
    while p.poll().is_pending() {}
    assert_eq!(
        (stats.polls(), stats.pendings(), stats.readies()),
        (4, 3, 1)
    );
}

#[test]
#[should_panic(expected = "the answer was polled again after it returned Ready")]
fn recorded_panics_when_polled_after_ready() {
    let (future, _stats) = recorded("the answer", std::future::ready(42));
    let mut p = Poller::new(future);
    assert_eq!(p.poll(), Poll::Ready(42));
    let _ = p.poll();
}

#[test]
fn manual_clock_moves_only_when_advanced_and_clones_share_it() {
    let clock = ManualClock::new();
    let other = clock.clone();
    assert_eq!(clock.now(), Duration::ZERO);
    other.advance(Duration::from_millis(1500));
    assert_eq!(clock.now(), Duration::from_millis(1500));
}

#[test]
fn journal_keeps_entries_in_order_across_clones() {
    let journal = Journal::new();
    let writer = journal.clone();
    assert!(journal.is_empty());
    writer.write("first");
    writer.write(String::from("second"));
    assert_eq!(journal.entries(), ["first", "second"]);
    assert_eq!(format!("{journal:?}"), r#"["first", "second"]"#);
}

#[test]
fn wake_probe_counts_wakes_and_live_clones() {
    let probe = harness::WakeProbe::new();
    let waker = probe.waker();
    let clones: Vec<_> = (0..3).map(|_| waker.clone()).collect();
    assert_eq!(probe.live_wakers(), 4);
    drop(clones);
    waker.wake_by_ref();
    waker.wake();
    assert_eq!((probe.wakes(), probe.live_wakers()), (2, 0));
}

#[test]
fn wake_probe_waits_for_a_wake_from_another_thread() {
    let probe = harness::WakeProbe::new();
    let waker = probe.waker();
    let thread = std::thread::spawn(move || waker.wake());
    assert!(probe.wait_for_wakes(1, Duration::from_secs(5)));
    thread.join().unwrap();
    assert!(
        !probe.wait_for_wakes(2, Duration::from_millis(1)),
        "only one wake happened"
    );
}
