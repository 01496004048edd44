//! Part 3 — backpressure: `send().await` on a full channel waits, without spinning, until the
//! receiver makes room; every waiting sender is woken in its turn, and a sender that gives up
//! (its send future is dropped) neither keeps its place nor swallows someone else's wake.
//!
//! Each pending send is a `Poller`, so the tests count its wakes; dropping the `Poller` drops
//! the send future, which is how a task cancels a send (a `select!` that took another branch,
//! a timeout).

use std::task::Poll;

use channels::SendError;
use channels::mpsc;
use harness::{Poller, WakeProbe};

#[test]
fn a_send_to_a_full_channel_waits_without_waking_itself() {
    let (tx, _rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let mut send = Poller::new(tx.send(2));
    assert_eq!(
        send.poll(),
        Poll::Pending,
        "the channel is full (capacity 1, one message in it): send must wait, Pending"
    );
    assert_eq!(
        send.wakes(),
        0,
        "the waiting send woke its own waker, so its task is polled again and again while the \
         channel stays full: a busy retry that burns a core. Join the line of waiting senders \
         and let the receiver wake you when it takes a message out."
    );
}

#[test]
fn a_waiting_sender_is_woken_when_the_receiver_makes_room() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let mut send = Poller::new(tx.send(2));
    assert!(send.poll().is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(
        send.wakes() >= 1,
        "the receiver took a message out of a full channel, and the sender waiting for room was \
         never woken. Taking a message out must wake the first waiting sender."
    );
    assert_eq!(
        send.poll(),
        Poll::Ready(Ok(())),
        "the woken sender found room, and must complete"
    );
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn every_waiting_sender_is_woken_in_turn() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut sends: Vec<_> = (1..=3).map(|n| Poller::new(tx.send(n))).collect();
    for send in &mut sends {
        assert!(send.poll().is_pending());
    }
    let mut received = vec![rx.try_recv().unwrap()];
    let mut seen_wakes = [0; 3];
    // Three rounds: whoever was woken polls (at most once per wake), then the receiver takes
    // one message out.
    for round in 1..=3 {
        let woken: Vec<usize> = (0..3)
            .filter(|&i| sends[i].wakes() > seen_wakes[i])
            .collect();
        assert!(
            !woken.is_empty(),
            "round {round}: a slot was freed but none of the senders still waiting was woken \
             (wakes so far: {:?}). Each waiting sender needs its OWN waker in a line (a \
             `VecDeque` of wakers): one shared `Option<Waker>` keeps only the last sender's, \
             and the others are lost.",
            sends.iter().map(Poller::wakes).collect::<Vec<_>>()
        );
        for i in woken {
            seen_wakes[i] = sends[i].wakes();
            let _ = sends[i].poll();
        }
        match rx.try_recv() {
            Ok(n) => received.push(n),
            Err(error) => panic!(
                "round {round}: the woken senders were polled, yet nothing was in the channel \
                 ({error:?}): a woken sender that finds room must put its message in"
            ),
        }
    }
    received.sort_unstable();
    assert_eq!(
        received,
        vec![0, 1, 2, 3],
        "every waiting sender's message must get through"
    );
}

#[test]
fn the_first_sender_to_wait_is_the_first_woken() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut first = Poller::new(tx.send(1));
    let mut second = Poller::new(tx.send(2));
    assert!(first.poll().is_pending());
    assert!(second.poll().is_pending());
    rx.try_recv().unwrap();
    assert!(
        first.wakes() >= 1,
        "two senders waited, first A then B; when a slot freed up A was not woken (B was woken \
         {} time(s)). Waiting senders form a line: first come, first served.",
        second.wakes()
    );
}

#[test]
fn a_waiting_sender_polled_again_keeps_one_place_in_line() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let probe = WakeProbe::new();
    let mut send = Poller::new(tx.send(1));
    for _ in 0..100 {
        assert!(send.poll_with(&probe.waker()).is_pending());
    }
    assert!(
        probe.live_wakers() <= 1,
        "a waiting send polled 100 times with the same waker made the channel keep {} clones of \
         it: it joined the line again on every poll. Keep the send's place in line (a ticket) \
         and update the waker stored there instead.",
        probe.live_wakers()
    );
    rx.try_recv().unwrap();
    assert!(
        probe.wakes() >= 1,
        "the waiting sender was not woken when room was made"
    );
    assert_eq!(send.poll_with(&probe.waker()), Poll::Ready(Ok(())));
}

#[test]
fn a_waiting_sender_polled_with_a_new_waker_is_woken_on_it() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (first, second) = (WakeProbe::new(), WakeProbe::new());
    let mut send = Poller::new(tx.send(1));
    assert!(send.poll_with(&first.waker()).is_pending());
    // Another sender waits behind it: its place in line must stay its own.
    let mut behind = Poller::new(tx.send(2));
    assert!(behind.poll().is_pending());
    assert!(send.poll_with(&second.waker()).is_pending());
    rx.try_recv().unwrap();
    assert!(
        second.wakes() >= 1,
        "the send waited with waker A (first in line, another send behind it), then was polled \
         with waker B (it moved to another task); room was made and B was not woken (A: {} \
         wake(s), the send behind: {}). Update the waker in the sender's OWN place in line \
         (found by its ticket) on every Pending poll.",
        first.wakes(),
        behind.wakes()
    );
}

#[test]
fn a_cancelled_waiting_sender_does_not_swallow_the_next_wake() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut gives_up = Poller::new(tx.send(1));
    let mut stays = Poller::new(tx.send(2));
    assert!(gives_up.poll().is_pending());
    assert!(stays.poll().is_pending());
    drop(gives_up); // its task cancelled the send
    rx.try_recv().unwrap();
    assert!(
        stays.wakes() >= 1,
        "sender A waited, then sender B; A's send was dropped (cancelled) while waiting; when a \
         slot freed up, B was not woken. The wake went to A's place in line, which nobody \
         polls any more. Dropping a waiting send future (`impl Drop for Send`) must take it \
         out of the line."
    );
    assert_eq!(stays.poll(), Poll::Ready(Ok(())));
}

#[test]
fn a_woken_sender_dropped_before_sending_passes_the_slot_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut woken_first = Poller::new(tx.send(1));
    let mut next = Poller::new(tx.send(2));
    assert!(woken_first.poll().is_pending());
    assert!(next.poll().is_pending());
    rx.try_recv().unwrap();
    assert!(
        woken_first.wakes() >= 1,
        "the first waiting sender was not woken"
    );
    drop(woken_first); // woken for the free slot, but cancelled before it polled
    assert!(
        next.wakes() >= 1,
        "sender A was woken for a free slot but dropped (cancelled) before using it; sender B, \
         next in line, was never woken, so the free slot stays empty and B waits forever: the \
         wake was lost with A. A send future dropped after its wake must pass it on to the \
         next sender in line."
    );
    assert_eq!(next.poll(), Poll::Ready(Ok(())));
}

#[test]
fn dropping_the_receiver_wakes_every_waiting_sender_with_its_message_back() {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(String::from("in the buffer")).unwrap();
    let mut a = Poller::new(tx.send(String::from("a")));
    let mut b = Poller::new(tx.send(String::from("b")));
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    drop(rx);
    assert!(
        a.wakes() >= 1 && b.wakes() >= 1,
        "the receiver was dropped while two senders waited for room; woken: A {} time(s), B {} \
         time(s). No room will ever come: the receiver's Drop must wake EVERY waiting sender.",
        a.wakes(),
        b.wakes()
    );
    assert_eq!(
        a.poll(),
        Poll::Ready(Err(SendError(String::from("a")))),
        "after the receiver is gone, a waiting send must complete with its message back"
    );
    assert_eq!(b.poll(), Poll::Ready(Err(SendError(String::from("b")))));
}

#[test]
fn a_send_that_finds_room_completes_on_its_first_poll() {
    let (tx, mut rx) = mpsc::channel(2);
    let mut send = Poller::new(tx.send(1));
    assert_eq!(
        send.poll(),
        Poll::Ready(Ok(())),
        "the channel had room: send must buffer the message and complete on its first poll"
    );
    assert_eq!(rx.try_recv(), Ok(1));
}
