//! Part 1 — `oneshot`: one value, from one sender to one receiver, once.
//!
//! The receiver is a future; the tests poll it by hand (`harness::Poller`) and count the wakes
//! of its waker, so nothing here depends on timing.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

mod common;

use channels::Canceled;
use channels::oneshot;
use common::OnWake;
use harness::{Poller, WakeProbe, Watchdog, bounded};

#[test]
fn a_value_sent_before_the_first_poll_is_received() {
    let (tx, rx) = oneshot::channel();
    assert_eq!(
        tx.send(7),
        Ok(()),
        "send to a live receiver returned Err: only a dropped receiver makes a send fail"
    );
    let mut rx = Poller::new(rx);
    assert_eq!(
        rx.poll(),
        Poll::Ready(Ok(7)),
        "the value was sent before the receiver's first poll, and that poll did not return it. \
         `send` must leave the value in the shared slot for the receiver to take."
    );
}

#[test]
fn the_receiver_waits_until_the_value_is_sent() {
    let (tx, rx) = oneshot::channel();
    let mut rx = Poller::new(rx);
    assert_eq!(
        rx.poll(),
        Poll::Pending,
        "nothing was sent and the sender is alive: the receiver must be Pending"
    );
    assert_eq!(
        rx.wakes(),
        0,
        "the receiver woke its own waker while waiting (a busy retry). The sender will wake it: \
         store `cx.waker()` and return Pending."
    );
    tx.send("hello").unwrap();
    assert_eq!(
        rx.wakes(),
        1,
        "send did not wake the waiting receiver exactly once. The receiver stores its waker \
         when it returns Pending; `send` (or the sender's drop, which follows it) takes that \
         waker and calls `wake()`."
    );
    assert_eq!(rx.poll(), Poll::Ready(Ok("hello")));
}

#[test]
fn dropping_the_sender_without_sending_cancels_the_receiver() {
    let (tx, rx) = oneshot::channel::<u32>();
    let mut rx = Poller::new(rx);
    assert!(rx.poll().is_pending());
    drop(tx);
    assert!(
        rx.wakes() >= 1,
        "the sender was dropped without sending and the waiting receiver was never woken: it \
         would wait forever for a value that cannot come. `impl Drop for Sender` must mark \
         the sender gone and wake the stored waker."
    );
    assert_eq!(
        rx.poll(),
        Poll::Ready(Err(Canceled)),
        "the sender is gone without sending: the receiver must complete with Err(Canceled)"
    );
}

#[test]
fn a_sender_dropped_before_the_first_poll_cancels_it() {
    let (tx, rx) = oneshot::channel::<u32>();
    drop(tx);
    let mut rx = Poller::new(rx);
    assert_eq!(
        rx.poll(),
        Poll::Ready(Err(Canceled)),
        "the sender was dropped before the receiver's first poll; that poll must see it \
         (Err(Canceled)), not wait for a wake that already happened"
    );
}

#[test]
fn a_send_to_a_dropped_receiver_gives_the_value_back() {
    let (tx, rx) = oneshot::channel::<String>();
    drop(rx);
    assert_eq!(
        tx.send("precious".to_owned()),
        Err("precious".to_owned()),
        "the receiver was dropped, so nobody can ever take the value: `send` must return it as \
         Err(value), not swallow it (and must not panic)"
    );
}

#[test]
fn is_canceled_tells_whether_the_receiver_is_gone() {
    let (tx, rx) = oneshot::channel::<u8>();
    assert!(
        !tx.is_canceled(),
        "is_canceled() was true while the receiver is alive"
    );
    drop(rx);
    assert!(
        tx.is_canceled(),
        "is_canceled() was false after the receiver was dropped: the receiver's Drop must \
         record that it is gone"
    );
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let (tx, rx) = oneshot::channel();
    let mut rx = Poller::new(rx);
    let (first, second) = (WakeProbe::new(), WakeProbe::new());
    assert!(rx.poll_with(&first.waker()).is_pending());
    assert!(rx.poll_with(&second.waker()).is_pending());
    tx.send(1).unwrap();
    assert_eq!(
        second.wakes(),
        1,
        "the receiver was polled with waker A, then waker B (the future moved to another \
         task); send woke B {} time(s) and A {} time(s). Replace the stored waker when a poll \
         brings one that does not `will_wake` the stored one.",
        second.wakes(),
        first.wakes()
    );
}

/// A waker that, when woken, polls the receiver right away on the waking thread (as an
/// executor running tasks inline might).
struct PollsOnWake {
    rx: Mutex<Option<oneshot::Receiver<u32>>>,
    got: Mutex<Option<Poll<Result<u32, Canceled>>>>,
}

impl Wake for PollsOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(rx) = self.rx.try_lock().ok().as_mut().and_then(|rx| rx.as_mut()) {
            let poll = Pin::new(rx).poll(&mut Context::from_waker(Waker::noop()));
            *self.got.lock().unwrap() = Some(poll);
        }
    }
}

#[test]
fn the_sender_wakes_the_receiver_outside_its_lock() {
    let got = Watchdog::new("oneshot send whose waker polls the receiver at once")
        .likely_cause(
            "the sender calls `wake()` while still holding the slot's lock; the woken task \
             polls the receiver on the same thread, which takes the same lock: a deadlock. Take \
             the waker out under the lock, release the lock, then wake.",
        )
        .run(|| {
            let (tx, rx) = oneshot::channel();
            let on_wake = Arc::new(PollsOnWake {
                rx: Mutex::new(None),
                got: Mutex::new(None),
            });
            let waker = Waker::from(Arc::clone(&on_wake));
            let mut rx = rx;
            assert!(
                Pin::new(&mut rx)
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            *on_wake.rx.lock().unwrap() = Some(rx);
            tx.send(5).unwrap();
            on_wake.got.lock().unwrap().take()
        });
    assert_eq!(
        got,
        Some(Poll::Ready(Ok(5))),
        "the woken receiver, polled right away from inside `wake`, did not get the value: wake \
         only after the value is in the slot"
    );
}

#[test]
fn a_value_sent_from_another_thread_arrives() {
    let got = Watchdog::new("a oneshot sent from another thread, received with block_on")
        .likely_cause("the sender did not wake the receiver's waker after storing the value")
        .run(|| {
            let (tx, rx) = oneshot::channel();
            let sending = thread::spawn(move || tx.send(vec![1, 2, 3]).unwrap());
            let got = futures::executor::block_on(rx);
            sending.join().unwrap();
            got
        });
    assert_eq!(got, Ok(vec![1, 2, 3]));
}

#[test]
fn a_sender_dropped_without_sending_wakes_the_receiver_outside_its_lock() {
    let got = Watchdog::new(
        "a oneshot sender dropped WITHOUT sending, whose wake polls the receiver at once",
    )
    .likely_cause(
        "the sender's `Drop` (the \"dropped without sending\" path, not `send`) calls `wake()` \
         while it still holds the slot's lock; the woken task polls the receiver on the same \
         thread, which takes the same lock: a deadlock. Every path that wakes takes the waker \
         out under the lock, releases the lock, then wakes: `send`, and the drop without a send.",
    )
    .run(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let (on_wake, waker) = OnWake::new(|rx: &mut oneshot::Receiver<u32>| {
            Pin::new(rx).poll(&mut Context::from_waker(Waker::noop()))
        });
        let mut rx = rx;
        assert!(
            Pin::new(&mut rx)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        on_wake.hand(rx);
        drop(tx);
        drop(on_wake.take_back());
        on_wake.got()
    });
    assert!(
        !got.is_empty() && got.iter().all(|poll| *poll == Poll::Ready(Err(Canceled))),
        "the sender was dropped without sending while the receiver waited; the receiver, polled \
         right away from inside each wake, returned [{}] (one entry per wake). The drop must \
         wake it, and only after marking the sender gone, so that the woken poll sees \
         Err(Canceled).",
        bounded::list(
            &got.iter()
                .map(|poll| format!("{poll:?}"))
                .collect::<Vec<_>>(),
            3,
            1
        )
    );
}
