//! Part 2 — the multi-producer channel: messages in order, waking the receiver, closing when
//! the last sender goes, and the `try_` methods.
//!
//! The receiver is polled by hand (`poll_recv` with a `WakeProbe`'s waker) so the tests can
//! count its wakes; nothing depends on timing.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

mod common;

use channels::mpsc::{self, Receiver};
use channels::{SendError, TryRecvError, TrySendError};
use common::{Live, OnWake};
use harness::{Poller, WakeProbe, Watchdog, bounded, catch_panic};

fn poll_recv<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Option<T>> {
    rx.poll_recv(&mut Context::from_waker(waker))
}

#[test]
fn messages_arrive_in_the_order_they_were_sent() {
    let (tx, mut rx) = mpsc::channel(8);
    for n in 1..=5 {
        tx.try_send(n).unwrap();
    }
    let got: Vec<i32> = (0..5).map(|_| rx.try_recv().unwrap()).collect();
    assert_eq!(
        got,
        vec![1, 2, 3, 4, 5],
        "a channel is a queue: first in, first out. Push at the back and pop from the front \
         (`VecDeque::push_back` / `pop_front`)."
    );
}

#[test]
fn recv_waits_for_a_message_and_send_wakes_it() {
    let (tx, mut rx) = mpsc::channel(4);
    let probe = WakeProbe::new();
    assert_eq!(
        poll_recv(&mut rx, &probe.waker()),
        Poll::Pending,
        "the channel is empty and a sender is alive: recv must be Pending"
    );
    assert_eq!(
        probe.wakes(),
        0,
        "recv woke its own waker while the channel is empty (a busy retry): a send will wake it"
    );
    tx.try_send('x').unwrap();
    assert_eq!(
        probe.wakes(),
        1,
        "a message was sent to a waiting receiver, which was woken {} time(s) instead of once. \
         Store the receiver's waker when recv returns Pending; a send takes it and wakes it.",
        probe.wakes()
    );
    assert_eq!(poll_recv(&mut rx, &probe.waker()), Poll::Ready(Some('x')));
}

#[test]
fn recv_returns_none_only_after_draining_what_is_buffered() {
    let (tx, mut rx) = mpsc::channel(8);
    for n in 0..3 {
        tx.try_send(n).unwrap();
    }
    drop(tx);
    let probe = WakeProbe::new();
    let got: Vec<Poll<Option<i32>>> = (0..4).map(|_| poll_recv(&mut rx, &probe.waker())).collect();
    assert_eq!(
        got,
        vec![
            Poll::Ready(Some(0)),
            Poll::Ready(Some(1)),
            Poll::Ready(Some(2)),
            Poll::Ready(None)
        ],
        "three messages were buffered, then the only sender was dropped. Closing must not lose \
         them: recv returns every buffered message first, and None only once the buffer is \
         empty. (Check the buffer before checking the sender count.)"
    );
}

#[test]
fn the_channel_stays_open_while_a_clone_of_the_sender_lives() {
    let (tx, mut rx) = mpsc::channel(4);
    let clone = tx.clone();
    drop(tx);
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "one of two senders was dropped and the channel reported Closed. The channel closes \
         when the LAST sender is dropped: count the senders (Clone adds one, Drop removes one)."
    );
    let probe = WakeProbe::new();
    assert_eq!(
        poll_recv(&mut rx, &probe.waker()),
        Poll::Pending,
        "one of two senders was dropped: recv must wait for the other, not return None"
    );
    clone.try_send(9).unwrap();
    assert_eq!(poll_recv(&mut rx, &probe.waker()), Poll::Ready(Some(9)));
    drop(clone);
    assert_eq!(
        poll_recv(&mut rx, &probe.waker()),
        Poll::Ready(None),
        "both senders are gone and the buffer is empty: recv must return None"
    );
}

#[test]
fn dropping_the_last_sender_wakes_a_waiting_receiver() {
    let (tx, mut rx) = mpsc::channel::<u8>(4);
    let clone = tx.clone();
    let probe = WakeProbe::new();
    assert!(poll_recv(&mut rx, &probe.waker()).is_pending());
    drop(tx);
    drop(clone);
    assert!(
        probe.wakes() >= 1,
        "the last sender was dropped while the receiver waited, and the receiver was never \
         woken: it would wait forever on a channel nobody can send to. The last sender's drop \
         must wake the stored receiver waker."
    );
    assert_eq!(poll_recv(&mut rx, &probe.waker()), Poll::Ready(None));
}

#[test]
fn try_send_refuses_at_capacity_and_gives_the_message_back() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send("a").unwrap();
    tx.try_send("b").unwrap();
    assert_eq!(
        tx.try_send("c"),
        Err(TrySendError::Full("c")),
        "a channel of capacity 2 already holding 2 messages accepted a third: try_send must \
         check the buffer's length against the capacity, and return Full(message) when there \
         is no room"
    );
    assert_eq!(rx.try_recv(), Ok("a"));
    assert_eq!(
        tx.try_send("c"),
        Ok(()),
        "a message was received, so one slot is free again: try_send must succeed"
    );
}

#[test]
fn try_recv_tells_empty_from_closed() {
    let (tx, mut rx) = mpsc::channel(2);
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "nothing sent yet, a sender alive: Empty"
    );
    tx.try_send(1).unwrap();
    drop(tx);
    assert_eq!(
        rx.try_recv(),
        Ok(1),
        "a buffered message must be received even after the last sender is gone"
    );
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Closed),
        "the buffer is empty and every sender is gone: Closed (no message will ever come), not \
         Empty"
    );
}

#[test]
fn sends_to_a_dropped_receiver_give_the_message_back() {
    let (tx, rx) = mpsc::channel(2);
    drop(rx);
    assert_eq!(
        tx.try_send(String::from("lost?")),
        Err(TrySendError::Closed(String::from("lost?"))),
        "the receiver is gone: try_send must return Closed(message), not buffer a message \
         nobody will read"
    );
    let mut send = Poller::new(tx.send(String::from("lost?")));
    assert_eq!(
        send.poll(),
        Poll::Ready(Err(SendError(String::from("lost?")))),
        "the receiver is gone: send must complete at once with Err(SendError(message))"
    );
}

#[test]
fn the_receiver_keeps_the_latest_waker() {
    let (tx, mut rx) = mpsc::channel(2);
    let (first, second) = (WakeProbe::new(), WakeProbe::new());
    assert!(poll_recv(&mut rx, &first.waker()).is_pending());
    assert!(poll_recv(&mut rx, &second.waker()).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!(
        second.wakes(),
        1,
        "recv was polled with waker A, then waker B; the send woke B {} time(s), A {} \
         time(s). Keep the waker of the latest poll (replace it unless `will_wake`).",
        second.wakes(),
        first.wakes()
    );
}

#[test]
fn the_errors_give_the_message_back_and_say_what_happened() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let full = tx.try_send(2).unwrap_err();
    assert_eq!(
        full,
        TrySendError::Full(2),
        "capacity 1, one message in: Full"
    );
    assert_eq!(full.into_inner(), 2, "into_inner gives the message back");
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(rx);
    let closed = tx.try_send(3).unwrap_err();
    assert_eq!(closed, TrySendError::Closed(3), "receiver gone: Closed");
    let texts = [
        full.to_string(),
        closed.to_string(),
        TryRecvError::Empty.to_string(),
        TryRecvError::Closed.to_string(),
        SendError(0).to_string(),
        channels::Canceled.to_string(),
    ];
    for (i, text) in texts.iter().enumerate() {
        assert!(!text.is_empty(), "error {i} displays as an empty string");
    }
    assert_ne!(texts[0], texts[1], "Full and Closed must read differently");
    assert_ne!(texts[2], texts[3], "Empty and Closed must read differently");
    assert_eq!(closed.into_inner(), 3);
}

#[test]
fn len_counts_the_buffered_messages() {
    let (tx, mut rx) = mpsc::channel(4);
    assert!(rx.is_empty(), "a new channel must be empty");
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(
        rx.len(),
        2,
        "two messages sent, none received: len() must be 2"
    );
    assert!(
        !rx.is_empty(),
        "two messages buffered: is_empty() must be false"
    );
    rx.try_recv().unwrap();
    assert_eq!(rx.len(), 1, "two sent, one received: len() must be 1");
}

#[test]
fn a_channel_of_capacity_one_holds_one_message_and_zero_is_refused() {
    let (tx, _rx) = mpsc::channel(1);
    assert_eq!(tx.try_send(1), Ok(()), "capacity 1 holds one message");
    assert_eq!(
        tx.try_send(2),
        Err(TrySendError::Full(2)),
        "capacity 1 holds exactly one message"
    );
    let zero = catch_panic(|| drop(mpsc::channel::<u8>(0)));
    assert!(
        zero.is_err(),
        "mpsc::channel(0) did not panic: a bounded channel with no room could never accept a \
         message, so it is refused"
    );
}

/// A waker that, when woken, receives from the channel right away on the waking thread.
struct ReceivesOnWake {
    rx: Mutex<Option<Receiver<u32>>>,
    got: Mutex<Vec<Poll<Option<u32>>>>,
}

impl Wake for ReceivesOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(rx) = self.rx.try_lock().ok().as_mut().and_then(|rx| rx.as_mut()) {
            let poll = rx.poll_recv(&mut Context::from_waker(Waker::noop()));
            self.got.lock().unwrap().push(poll);
        }
    }
}

#[test]
fn a_send_wakes_the_receiver_outside_the_channels_lock() {
    let got = Watchdog::new("a send whose wake receives from the channel at once")
        .likely_cause(
            "the send calls `wake()` while it still holds the channel's lock; the woken task \
             receives on the same thread, which takes the same lock: a deadlock. Take the \
             waker out under the lock, release the lock, then wake.",
        )
        .run(|| {
            let (tx, mut rx) = mpsc::channel(2);
            let on_wake = Arc::new(ReceivesOnWake {
                rx: Mutex::new(None),
                got: Mutex::new(Vec::new()),
            });
            let waker = Waker::from(Arc::clone(&on_wake));
            assert!(poll_recv(&mut rx, &waker).is_pending());
            *on_wake.rx.lock().unwrap() = Some(rx);
            tx.try_send(3).unwrap();
            std::mem::take(&mut *on_wake.got.lock().unwrap())
        });
    assert_eq!(
        got,
        vec![Poll::Ready(Some(3))],
        "the woken receiver, polled right away from inside `wake`, did not get the message: \
         wake only after the message is in the buffer"
    );
}

#[test]
fn four_producer_threads_deliver_everything_each_in_order() {
    let got = Watchdog::new("4 threads sending 500 messages each through a channel of capacity 8")
        .likely_cause("a waiting sender or the waiting receiver is never woken (a lost wakeup)")
        .likely_cause("the receiver never sees the channel close after the last sender drops")
        .run(|| {
            let (tx, mut rx) = mpsc::channel(8);
            let producers: Vec<_> = (0..4u32)
                .map(|producer| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        futures::executor::block_on(async move {
                            for n in 0..500u32 {
                                tx.send((producer, n)).await.unwrap();
                            }
                        })
                    })
                })
                .collect();
            drop(tx);
            let got = futures::executor::block_on(async move {
                let mut got = Vec::new();
                while let Some(message) = rx.recv().await {
                    got.push(message);
                }
                got
            });
            for producer in producers {
                producer.join().unwrap();
            }
            got
        });
    assert_eq!(
        got.len(),
        2000,
        "4 × 500 messages sent, {} received",
        got.len()
    );
    for producer in 0..4 {
        let theirs: Vec<u32> = got
            .iter()
            .filter(|(from, _)| *from == producer)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(
            theirs,
            (0..500).collect::<Vec<_>>(),
            "the messages of producer {producer} arrived out of order or with gaps: one \
             sender's messages must arrive in the order it sent them"
        );
    }
}

/// What the waiting receiver's polls from inside its wakes returned, as a short list.
fn shown<T: std::fmt::Debug>(got: &[T]) -> String {
    bounded::list(
        &got.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>(),
        3,
        1,
    )
}

/// Polls `rx` once with a waker that receives from the channel at once when woken, hands it
/// `rx`, runs `step` (which must wake the receiver), and returns what the woken receiver's
/// polls returned. Under a watchdog: a wake made under the channel's lock deadlocks. A sender
/// that `step` gives back is dropped only after the receiver is taken back from the waker.
fn woken_receiver_polls(
    what: &str,
    cause: &str,
    tx: mpsc::Sender<u32>,
    mut rx: Receiver<u32>,
    step: fn(mpsc::Sender<u32>) -> Option<mpsc::Sender<u32>>,
) -> Vec<Poll<Option<u32>>> {
    Watchdog::new(what.to_owned())
        .likely_cause(cause.to_owned())
        .run(move || {
            let (on_wake, waker) = OnWake::new(|rx: &mut Receiver<u32>| {
                rx.poll_recv(&mut Context::from_waker(Waker::noop()))
            });
            assert!(poll_recv(&mut rx, &waker).is_pending());
            on_wake.hand(rx);
            let left = step(tx);
            drop(on_wake.take_back());
            drop(left);
            on_wake.got()
        })
}

#[test]
fn every_wake_of_the_receiver_happens_outside_the_channels_lock() {
    const UNDER_THE_LOCK: &str = "wakes the receiver while it still holds the channel's lock; \
        the woken task receives on the same thread, which takes the same lock: a deadlock. \
        EVERY path that wakes (a message in through `try_send` or a `send().await`, the last \
        sender's drop) takes the waker out under the lock, releases the lock, then wakes.";

    let (tx, rx) = mpsc::channel(2);
    let got = woken_receiver_polls(
        "a `send().await` that finds room, whose wake receives from the channel at once",
        &format!("`poll_send` (the `Send` future's path, not `try_send`) {UNDER_THE_LOCK}"),
        tx,
        rx,
        |tx| {
            let mut send = Poller::new(tx.send(3));
            assert_eq!(send.poll(), Poll::Ready(Ok(())), "the channel had room");
            drop(send);
            Some(tx)
        },
    );
    assert!(
        got.first() == Some(&Poll::Ready(Some(3))),
        "a `send().await` put a message into the channel the receiver waited on; the receiver, \
         polled right away from inside its wake, returned [{}] (one entry per wake), not the \
         message first. `poll_send` must wake the receiver once the message is in the buffer.",
        shown(&got)
    );

    let (tx, rx) = mpsc::channel(2);
    let got = woken_receiver_polls(
        "the last sender dropped, whose wake receives from the channel at once",
        &format!("the last sender's drop (`drop_sender`) {UNDER_THE_LOCK}"),
        tx,
        rx,
        |tx| {
            let clone = tx.clone();
            drop(tx);
            drop(clone);
            None
        },
    );
    assert!(
        got.last() == Some(&Poll::Ready(None)),
        "the last sender was dropped while the receiver waited; the receiver, polled right away \
         from inside its wake, returned [{}] (one entry per wake), not None last. The last \
         sender's drop must wake the receiver after counting itself out.",
        shown(&got)
    );
}

#[test]
fn dropping_the_receiver_drops_the_buffered_messages_at_once() {
    let live = Live::new();
    let (tx, rx) = mpsc::channel(4);
    for n in 0..3 {
        tx.try_send(live.item(n)).unwrap();
    }
    drop(rx);
    assert_eq!(
        live.count(),
        0,
        "three messages were buffered in a bounded channel, then the receiver was dropped while \
         a sender lives on: {} of them are still alive. Nobody can receive them any more, and \
         a message's drop can mean something (a reply channel inside it tells its requester \
         `Canceled`): the receiver's drop takes the buffered messages out and drops them then, \
         not when the last sender finally drops the channel.",
        live.count()
    );
    drop(tx);

    let (tx, rx) = mpsc::unbounded_channel();
    for n in 0..3 {
        tx.send(live.item(n)).unwrap();
    }
    drop(rx);
    assert_eq!(
        live.count(),
        0,
        "three messages were buffered in an unbounded channel, then the receiver was dropped \
         while a sender lives on: {} of them are still alive. The receiver's drop must drop \
         the buffered messages.",
        live.count()
    );
    drop(tx);
}

#[test]
fn a_huge_capacity_is_a_limit_not_an_allocation() {
    let made = Watchdog::new("mpsc::channel(usize::MAX)")
        .likely_cause(
            "`Chan::new` allocates or fills one slot per unit of capacity up front: a capacity \
             is a limit on how many messages may wait, not memory to reserve",
        )
        .run(|| {
            catch_panic(|| {
                let (tx, mut rx) = mpsc::channel::<u64>(usize::MAX);
                for n in 0..100 {
                    tx.try_send(n).unwrap();
                }
                (0..100).map(|_| rx.try_recv().unwrap()).collect::<Vec<_>>()
            })
        });
    match made {
        Ok(got) => assert_eq!(got, (0..100).collect::<Vec<_>>(), "first in, first out"),
        Err(panic) => panic!(
            "mpsc::channel(usize::MAX) panicked ({panic}), and a bounded channel panics only \
             for a capacity of 0. The capacity is a limit on how many messages may wait, not \
             an amount of memory to reserve: `VecDeque::with_capacity(capacity)` asks for all \
             of it up front. Start small (or empty) and let the buffer grow up to the limit."
        ),
    }
}
