//! Part 5 — races, found every time.
//!
//! Each test runs a tiny two-thread scenario under `harness::model::check`, which tries every
//! order in which the two threads' lock and unlock steps can interleave (your code's
//! `crate::sync::Mutex` becomes a model checker's inside it). The classic channel bugs are lost
//! wakeups that need one unlucky order: a check ("empty?", "full?", "closed?") under one lock
//! and the store of the waker under another, with the other thread's step landing in between.

use std::future::poll_fn;
use std::task::Poll;

mod common;

use channels::mpsc;
use channels::oneshot;
use channels::{Canceled, SendError};
use common::Live;
use harness::{Poller, model};

const SEPARATE_LOCKS: &str = "the poll checks (\"is there a message?\", \"is there room?\", \
    \"is it closed?\") under one lock and stores its waker under another (or after unlocking): \
    the other thread's step lands in between, finds no waker, wakes nobody, and the Pending \
    that follows waits forever. Check and store the waker under ONE lock, the one the other \
    side takes.";

const OUTSIDE_THE_LOCK: &str = "a piece of state (a flag, a counter, the buffer) is read or \
    written outside the channel's lock, e.g. an atomic beside the `Mutex`: keep everything a \
    wake-up decision depends on under the one lock.";

#[test]
fn a_send_racing_a_recv_poll_is_never_lost() {
    model::check(
        "a message sent on another thread while the receiver polls",
        &[SEPARATE_LOCKS, OUTSIDE_THE_LOCK],
        || {
            let (tx, mut rx) = mpsc::channel(1);
            let sending = model::thread::spawn(move || tx.try_send(1).unwrap());
            let mut recv = Poller::new(poll_fn(|cx| rx.poll_recv(cx)));
            let first = recv.poll();
            sending.join().unwrap();
            if first.is_pending() {
                assert!(
                    recv.wakes() >= 1,
                    "recv returned Pending, and the send that raced it finished without waking \
                     it: a lost wakeup"
                );
                assert_eq!(recv.poll(), Poll::Ready(Some(1)));
            } else {
                assert_eq!(first, Poll::Ready(Some(1)));
            }
        },
    );
}

#[test]
fn the_last_sender_dropped_during_a_recv_poll_wakes_it() {
    model::check(
        "the last sender dropped on another thread while the receiver polls",
        &[SEPARATE_LOCKS, OUTSIDE_THE_LOCK],
        || {
            let (tx, mut rx) = mpsc::channel::<u8>(1);
            let dropping = model::thread::spawn(move || drop(tx));
            let mut recv = Poller::new(poll_fn(|cx| rx.poll_recv(cx)));
            let first = recv.poll();
            dropping.join().unwrap();
            if first.is_pending() {
                assert!(
                    recv.wakes() >= 1,
                    "recv returned Pending, and the last sender, dropped meanwhile, did not wake \
                     it: it waits forever on a closed channel"
                );
                assert_eq!(recv.poll(), Poll::Ready(None));
            } else {
                assert_eq!(first, Poll::Ready(None));
            }
        },
    );
}

#[test]
fn room_made_during_a_send_poll_wakes_the_sender() {
    model::check(
        "the receiver taking a message on another thread while a sender polls a full channel",
        &[SEPARATE_LOCKS],
        || {
            let (tx, mut rx) = mpsc::channel(1);
            tx.try_send(0).unwrap();
            let receiving = model::thread::spawn(move || {
                let got = rx.try_recv();
                (rx, got)
            });
            let mut send = Poller::new(tx.send(1));
            let first = send.poll();
            let (mut rx, got) = receiving.join().unwrap();
            assert_eq!(got, Ok(0));
            if first.is_pending() {
                assert!(
                    send.wakes() >= 1,
                    "send found the channel full and returned Pending; the receiver made room \
                     meanwhile and did not wake it: a lost wakeup"
                );
                assert_eq!(send.poll(), Poll::Ready(Ok(())));
            } else {
                assert_eq!(first, Poll::Ready(Ok(())));
            }
            assert_eq!(rx.try_recv(), Ok(1));
        },
    );
}

#[test]
fn the_receiver_dropped_during_a_send_poll_wakes_the_sender() {
    model::check(
        "the receiver dropped on another thread while a sender polls a full channel",
        &[SEPARATE_LOCKS],
        || {
            let (tx, rx) = mpsc::channel(1);
            tx.try_send(0).unwrap();
            let dropping = model::thread::spawn(move || drop(rx));
            let mut send = Poller::new(tx.send(1));
            let first = send.poll();
            dropping.join().unwrap();
            if first.is_pending() {
                assert!(
                    send.wakes() >= 1,
                    "send returned Pending on a full channel; the receiver was dropped meanwhile \
                     and did not wake it: it waits forever for room that cannot come"
                );
                assert_eq!(send.poll(), Poll::Ready(Err(SendError(1))));
            } else {
                assert_eq!(first, Poll::Ready(Err(SendError(1))));
            }
        },
    );
}

#[test]
fn two_senders_dropped_on_two_threads_close_the_channel() {
    model::check(
        "two clones of the sender dropped at the same time on two threads",
        &[
            "the sender count is read under one lock and written back under another (or is an \
             atomic loaded, then stored): two drops at once both read 2 and both write 1, and \
             the channel never closes. Decrement under one lock (or with one `fetch_sub`).",
            OUTSIDE_THE_LOCK,
        ],
        || {
            let (tx, mut rx) = mpsc::channel::<u8>(1);
            let clone = tx.clone();
            let dropping = model::thread::spawn(move || drop(clone));
            drop(tx);
            dropping.join().unwrap();
            assert_eq!(
                rx.try_recv(),
                Err(channels::TryRecvError::Closed),
                "both senders were dropped (on two threads at once), yet the channel is not \
                 closed: a decrement of the sender count was lost"
            );
        },
    );
}

#[test]
fn a_oneshot_send_racing_the_receivers_poll_is_never_lost() {
    model::check(
        "a oneshot value sent on another thread while the receiver polls",
        &[SEPARATE_LOCKS],
        || {
            let (tx, rx) = oneshot::channel();
            let sending = model::thread::spawn(move || tx.send(7).unwrap());
            let mut rx = Poller::new(rx);
            let first = rx.poll();
            sending.join().unwrap();
            if first.is_pending() {
                assert!(
                    rx.wakes() >= 1,
                    "the oneshot receiver returned Pending and the send that raced it did not \
                     wake it: a lost wakeup"
                );
                assert_eq!(rx.poll(), Poll::Ready(Ok(7)));
            } else {
                assert_eq!(first, Poll::Ready(Ok(7)));
            }
        },
    );
}

#[test]
fn a_oneshot_sender_dropped_during_the_receivers_poll_cancels_it() {
    model::check(
        "a oneshot sender dropped on another thread while the receiver polls",
        &[SEPARATE_LOCKS],
        || {
            let (tx, rx) = oneshot::channel::<u8>();
            let dropping = model::thread::spawn(move || drop(tx));
            let mut rx = Poller::new(rx);
            let first = rx.poll();
            dropping.join().unwrap();
            if first.is_pending() {
                assert!(
                    rx.wakes() >= 1,
                    "the oneshot receiver returned Pending and the sender, dropped meanwhile, \
                     did not wake it: it waits forever"
                );
                assert_eq!(rx.poll(), Poll::Ready(Err(Canceled)));
            } else {
                assert_eq!(first, Poll::Ready(Err(Canceled)));
            }
        },
    );
}

#[test]
fn a_oneshot_send_racing_the_receivers_drop_gives_back_or_delivers_its_value() {
    model::check(
        "a oneshot value sent on another thread while the receiver is dropped",
        &[
            "`send` checks \"is the receiver gone?\" under one lock (say, by calling \
             `is_canceled()`) and stores the value under another: the receiver's drop lands in \
             between, finds no value to drop, and the value is then stored into a slot nobody \
             will ever read, with Ok(()). Check and store under ONE lock.",
            "the receiver's drop leaves a value already sent in the slot: take it out and drop \
             it (after unlocking).",
        ],
        || {
            let live = Live::new();
            let (tx, rx) = oneshot::channel();
            let value = live.item(7);
            let sending = model::thread::spawn(move || tx.send(value).map_err(|item| item.n));
            drop(rx);
            // The receiver's drop has finished: a value that a send delivered before it is gone
            // with it; a send that comes after it must give the value back.
            let alive_after_drop = live.count();
            let sent = sending.join().unwrap();
            match sent {
                Ok(()) => assert_eq!(
                    alive_after_drop, 0,
                    "send returned Ok(()), yet its value was still alive after the receiver's \
                     drop had finished: the value went into the slot AFTER the receiver was \
                     gone, where nobody will ever take it. A receiver dropped before the value \
                     is stored must make `send` return Err(value)."
                ),
                Err(n) => assert_eq!(n, 7, "send must give back the very value it was given"),
            }
        },
    );
}
