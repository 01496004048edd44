//! Part 4 — the unbounded channel, and why backpressure matters.
//!
//! The last two tests are the lesson. A producer that makes messages faster than its consumer
//! handles them, through an unbounded channel: every message it has made and the consumer has
//! not yet handled waits in the buffer, so memory grows with the gap between the two rates.
//! Through a bounded channel the producer is made to wait instead, and the buffer never holds
//! more than its capacity. Both are measured by counting (messages alive, `len()`), not by
//! timing or by the process's memory.

mod common;

use std::task::{Context, Poll};

use channels::mpsc;
use channels::{SendError, TryRecvError};
use common::{Live, Tally, run_pipeline, yield_once};
use harness::WakeProbe;

#[test]
fn an_unbounded_send_never_waits() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for n in 0..10_000 {
        assert_eq!(
            tx.send(n),
            Ok(()),
            "an unbounded send to a live receiver must succeed at once"
        );
    }
    assert_eq!(
        rx.len(),
        10_000,
        "10 000 sent, none received: len() must be 10 000"
    );
    assert!(
        !rx.is_empty(),
        "10 000 messages buffered: is_empty() must be false"
    );
    for n in 0..10_000 {
        assert_eq!(
            rx.try_recv(),
            Ok(n),
            "the messages must come out in the order they went in"
        );
    }
    assert!(
        rx.is_empty(),
        "every message was received: is_empty() must be true"
    );
}

#[test]
fn an_unbounded_receiver_is_woken_by_a_send() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let probe = WakeProbe::new();
    assert!(
        rx.poll_recv(&mut Context::from_waker(&probe.waker()))
            .is_pending()
    );
    tx.send(1).unwrap();
    assert_eq!(
        probe.wakes(),
        1,
        "a send to a waiting unbounded receiver must wake it once"
    );
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&probe.waker())),
        Poll::Ready(Some(1))
    );
}

#[test]
fn an_unbounded_channel_closes_after_the_last_sender_and_the_last_message() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let clone = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(
        rx.try_recv(),
        Ok(1),
        "a buffered message must be received whatever the senders do"
    );
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "one of two senders is still alive: Empty, not Closed"
    );
    let probe = WakeProbe::new();
    assert!(
        rx.poll_recv(&mut Context::from_waker(&probe.waker()))
            .is_pending()
    );
    drop(clone);
    assert!(
        probe.wakes() >= 1,
        "the last unbounded sender was dropped and the waiting receiver was not woken"
    );
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&probe.waker())),
        Poll::Ready(None),
        "every sender gone, nothing buffered: recv must return None"
    );
}

#[test]
fn an_unbounded_send_to_a_dropped_receiver_gives_the_message_back() {
    let (tx, rx) = mpsc::unbounded_channel();
    drop(rx);
    assert_eq!(
        tx.send(String::from("back")),
        Err(SendError(String::from("back"))),
        "the receiver is gone: send must return the message as Err(SendError(message))"
    );
}

const MESSAGES: u64 = 2_000;
const CAPACITY: usize = 16;

#[test]
fn a_fast_producer_fills_an_unbounded_channel_without_limit() {
    let (live, tally) = (Live::new(), Tally::new());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let making = live.clone();
    let producer = async move {
        for n in 0..MESSAGES {
            tx.send(making.item(n)).unwrap();
        }
    };
    let consuming = tally.clone();
    let consumer = async move {
        loop {
            consuming.saw_len(rx.len());
            let Some(item) = rx.recv().await else { break };
            consuming.received(item.n);
            drop(item);
            yield_once().await; // a slower consumer: other work between messages
        }
    };
    let seen = run_pipeline(
        "a producer and a slow consumer on an unbounded channel",
        &live,
        &tally,
        producer,
        consumer,
        10 * MESSAGES as usize,
    );
    assert_eq!(
        seen.received,
        (0..MESSAGES).collect::<Vec<_>>(),
        "every message must arrive, in order"
    );
    assert!(
        seen.producer_done_before_first_receive
            && seen.peak_live == MESSAGES as usize
            && seen.peak_len == MESSAGES as usize,
        "an unbounded send never waits, so a producer faster than its consumer runs ahead: all \
         {MESSAGES} messages should have been made and buffered before the consumer handled \
         the first (this is the memory leak waiting to happen: the buffer grows with the gap \
         between the two rates). Seen: at most {} messages alive and {} buffered at once; \
         producer done first: {}. Does the unbounded send wait, or drop messages?",
        seen.peak_live,
        seen.peak_len,
        seen.producer_done_before_first_receive
    );
}

#[test]
fn a_bounded_channel_holds_a_fast_producer_to_its_capacity() {
    let (live, tally) = (Live::new(), Tally::new());
    let (tx, mut rx) = mpsc::channel(CAPACITY);
    let making = live.clone();
    let producer = async move {
        for n in 0..MESSAGES {
            tx.send(making.item(n)).await.unwrap();
        }
    };
    let consuming = tally.clone();
    let consumer = async move {
        loop {
            consuming.saw_len(rx.len());
            let Some(item) = rx.recv().await else { break };
            consuming.received(item.n);
            drop(item);
            yield_once().await;
        }
    };
    let seen = run_pipeline(
        "a producer and a slow consumer on a bounded channel of capacity 16",
        &live,
        &tally,
        producer,
        consumer,
        10 * MESSAGES as usize,
    );
    assert_eq!(
        seen.received,
        (0..MESSAGES).collect::<Vec<_>>(),
        "every message must arrive, in order, however often the producer had to wait"
    );
    assert!(
        seen.peak_len <= CAPACITY,
        "the buffer of a channel of capacity {CAPACITY} held {} messages: a send must wait \
         (Pending) while the buffer is full, never push past the capacity",
        seen.peak_len
    );
    // The buffer, plus the one message the waiting send holds: memory stays flat however many
    // messages go through.
    assert!(
        seen.peak_live <= CAPACITY + 1,
        "up to {} messages were alive at once with a channel of capacity {CAPACITY}: at most \
         {CAPACITY} in the buffer and one in the waiting send. Backpressure means the producer \
         waits instead of piling messages up.",
        seen.peak_live
    );
    assert!(
        !seen.producer_done_before_first_receive,
        "the producer sent all {MESSAGES} messages before the consumer received one: the \
         bounded send did not make it wait"
    );
}
