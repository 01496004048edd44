//! Part 3 — backpressure: `send().await` on a full channel waits, without spinning, until the
//! receiver makes room; every waiting sender is woken in its turn, and a sender that gives up
//! (its send future is dropped) neither keeps its place nor swallows someone else's wake.
//!
//! Each pending send is a `Poller`, so the tests count its wakes; dropping the `Poller` drops
//! the send future, which is how a task cancels a send (a `select!` that took another branch,
//! a timeout).

use std::task::{Context, Poll, Waker};

mod common;

use channels::mpsc;
use channels::{SendError, TrySendError};
use common::OnWake;
use harness::{Poller, WakeProbe, Watchdog, bounded};

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

/// A full channel (capacity 1) and a waker that, when woken, sends from a clone of the sender
/// at once: it takes the channel's lock, so a wake made under that lock deadlocks.
type SendsOnWake = OnWake<mpsc::Sender<u32>, Result<(), TrySendError<u32>>>;

fn full_channel_and_a_waker_that_sends() -> (
    mpsc::Sender<u32>,
    mpsc::Receiver<u32>,
    std::sync::Arc<SendsOnWake>,
    Waker,
) {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (on_wake, waker) = SendsOnWake::new(|tx| tx.try_send(99));
    (tx, rx, on_wake, waker)
}

fn shown<T: std::fmt::Debug>(got: &[T]) -> String {
    bounded::list(
        &got.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>(),
        3,
        1,
    )
}

/// A step that wakes a waiting sender: what it is, the code that wakes, the step itself, and
/// whether the receiver is gone after it.
type Scenario = (&'static str, &'static str, fn(mpsc::Receiver<u32>), bool);

const WAKES_UNDER_THE_LOCK: &str = "wakes a waiting sender while it still holds the channel's \
    lock; the woken task takes the same lock on the same thread (here: a `try_send`), a \
    deadlock. EVERY path that wakes a sender (`poll_recv`, `try_recv`, the receiver's drop, a \
    cancelled send passing its wake on) takes the waker(s) out under the lock, releases the \
    lock, then wakes.";

#[test]
fn every_wake_of_a_waiting_sender_happens_outside_the_channels_lock() {
    let scenarios: [Scenario; 3] = [
        (
            "`poll_recv` taking a message out",
            "`poll_recv`",
            |mut rx| {
                let got = rx.poll_recv(&mut Context::from_waker(Waker::noop()));
                assert_eq!(got, Poll::Ready(Some(0)));
            },
            false,
        ),
        (
            "`try_recv` taking a message out",
            "`try_recv` (not only `poll_recv`)",
            |mut rx| assert_eq!(rx.try_recv(), Ok(0)),
            false,
        ),
        (
            "the receiver dropped",
            "the receiver's drop (`drop_receiver`)",
            drop,
            true,
        ),
    ];
    for (step, culprit, run_step, receiver_gone) in scenarios {
        let got = Watchdog::new(format!(
            "{step} while a send waits, with a waker that sends on the channel at once"
        ))
        .likely_cause(format!("{culprit} {WAKES_UNDER_THE_LOCK}"))
        .run(move || {
            let (tx, rx, on_wake, waker) = full_channel_and_a_waker_that_sends();
            let mut send = Poller::new(tx.send(1));
            assert!(send.poll_with(&waker).is_pending());
            on_wake.hand(tx.clone());
            run_step(rx);
            drop(on_wake.take_back());
            drop(send);
            on_wake.got()
        });
        assert!(
            !got.is_empty(),
            "{step} while a send waited: the waiting send was not woken"
        );
        if receiver_gone {
            assert!(
                got.iter()
                    .all(|sent| *sent == Err(TrySendError::Closed(99))),
                "the receiver was dropped and woke the waiting sender, whose task sent at once \
                 and got [{}]: wake only after marking the receiver gone, so that the woken \
                 task sees Closed",
                shown(&got)
            );
        }
    }

    // A woken send cancelled: the wake it passes on is a wake like any other.
    let got = Watchdog::new(
        "a woken send cancelled, passing its wake on to a send whose waker sends at once",
    )
    .likely_cause(format!("`cancel_send` {WAKES_UNDER_THE_LOCK}"))
    .run(|| {
        let (tx, mut rx, on_wake, waker) = full_channel_and_a_waker_that_sends();
        let mut woken_first = Poller::new(tx.send(1));
        let mut next = Poller::new(tx.send(2));
        assert!(woken_first.poll().is_pending());
        assert!(next.poll_with(&waker).is_pending());
        on_wake.hand(tx.clone());
        assert_eq!(rx.try_recv(), Ok(0));
        drop(woken_first);
        drop(on_wake.take_back());
        drop(next);
        on_wake.got()
    });
    assert!(
        !got.is_empty(),
        "sender A was woken for a free slot and cancelled before using it; sender B, next in \
         line, was not woken (the wake was lost with A)"
    );
}

/// What a send completed with (`None`: not yet).
type Outcome = Option<Result<(), SendError<u32>>>;

/// Sends polled by hand, each remembering how many wakes it had seen at its latest poll, and
/// what it completed with.
struct Sends<F: std::future::Future<Output = Result<(), SendError<u32>>>> {
    sends: Vec<(char, Poller<F>, Outcome, usize)>,
    /// What happened so far, for the failure message.
    story: Vec<String>,
}

impl<F: std::future::Future<Output = Result<(), SendError<u32>>>> Sends<F> {
    fn new() -> Self {
        Sends {
            sends: Vec::new(),
            story: Vec::new(),
        }
    }

    /// Adds a send named `name` and polls it once.
    fn add(&mut self, name: char, send: F) {
        self.sends.push((name, Poller::new(send), None, 0));
        self.poll(&[name]);
    }

    /// Polls the named sends that are not done yet, in this order, woken or not.
    fn poll(&mut self, names: &[char]) {
        for name in names {
            let (_, send, done, seen) = self
                .sends
                .iter_mut()
                .find(|(n, ..)| n == name)
                .expect("a send added before");
            if done.is_none() {
                *seen = send.wakes();
                let got = send.poll();
                self.story.push(format!("{name} polled: {got:?}"));
                if let Poll::Ready(result) = got {
                    *done = Some(result);
                }
            }
        }
    }

    /// Polls the sends woken since their latest poll (and not done), in the order they came.
    fn poll_woken(&mut self) {
        let woken: Vec<char> = self
            .sends
            .iter()
            .filter(|(_, send, done, seen)| done.is_none() && send.wakes() > *seen)
            .map(|(name, ..)| *name)
            .collect();
        self.poll(&woken);
    }

    /// After a message was taken out: if sends are still waiting, one of them must have been
    /// woken since its latest poll, or the free slot waits for nobody.
    fn check_someone_woken(&mut self, capacity: usize) {
        self.story.push("a message taken out".to_owned());
        let waiting: Vec<char> = self
            .sends
            .iter()
            .filter(|(_, _, done, _)| done.is_none())
            .map(|(name, ..)| *name)
            .collect();
        let woken = self
            .sends
            .iter()
            .any(|(_, send, done, seen)| done.is_none() && send.wakes() > *seen);
        assert!(
            waiting.is_empty() || woken,
            "capacity {capacity}: a message was taken out while sends {} waited, and none of \
             them was woken since its latest poll: the slot is free, and nobody will fill it. \
             What happened: {}. The wake went to a place in line nobody owns any more: a send \
             that completes (finds room, or the receiver gone) must leave the line, its entry \
             found by its ticket and removed, whether or not it had been woken.",
            waiting.iter().collect::<String>(),
            bounded::list(&self.story, 8, 4)
        );
    }
}

#[test]
fn a_send_that_finds_room_before_its_wake_leaves_the_line() {
    for capacity in [1_usize, 2] {
        let (tx, mut rx) = mpsc::channel(capacity);
        for n in 0..capacity {
            tx.try_send(100 + n as u32).unwrap();
        }
        let mut sends = Sends::new();
        sends.add('A', tx.send(1));
        sends.add('B', tx.send(2));
        rx.try_recv().unwrap();
        sends.check_someone_woken(capacity);
        // B is polled before A gets round to its wake (a spurious poll: a `join` polling all
        // its futures, say), then A.
        sends.poll(&['B', 'A']);
        rx.try_recv().unwrap();
        sends.check_someone_woken(capacity);
        sends.poll_woken();
        // A newcomer waits; the next message out must reach it (or whoever still waits).
        sends.add('C', tx.send(3));
        rx.try_recv().unwrap();
        sends.check_someone_woken(capacity);
        sends.poll_woken();
        rx.try_recv().unwrap();
        sends.check_someone_woken(capacity);
    }
}

#[test]
fn a_passed_on_wake_is_passed_on_again_when_that_send_is_cancelled_too() {
    for capacity in [1_usize, 2] {
        let (tx, mut rx) = mpsc::channel(capacity);
        for n in 0..capacity {
            tx.try_send(100 + n as u32).unwrap();
        }
        let mut a = Poller::new(tx.send(1));
        let mut b = Poller::new(tx.send(2));
        let mut c = Poller::new(tx.send(3));
        assert!(a.poll().is_pending());
        assert!(b.poll().is_pending());
        assert!(c.poll().is_pending());
        rx.try_recv().unwrap();
        drop(a); // woken for the free slot, cancelled: passes the wake on to B
        let b_wakes = b.wakes();
        drop(b); // cancelled too, before it polled: passes the wake on to C
        assert!(
            c.wakes() >= 1,
            "capacity {capacity}, full; sends A, B, C waited. A message was taken out (a slot \
             for A); A was cancelled (dropped) before using it, then B (woken {b_wakes} \
             time(s)), also before polling. C was never woken, so the free slot stays empty \
             and C waits forever. A wake passed on is a wake like the first: the send it goes \
             to must be taken out of the line (as `poll_recv` does), so that when it is \
             cancelled in turn, it knows it was woken and passes the wake on again."
        );
        assert_eq!(c.poll(), Poll::Ready(Ok(())), "C must then find room");
    }
}

#[test]
fn a_woken_send_that_finds_the_channel_full_again_waits_in_line_again() {
    // A waiting send is woken for a free slot, but before it runs, a sender that never waited
    // takes that slot (`try_send`). When the woken send is polled it finds the channel full
    // again: it must go back in line, so that the next message out wakes it. A send that
    // believes it is still in line (it holds a ticket) but was taken out by its wake returns
    // Pending with no entry, and nothing will ever wake it.
    for capacity in [1_usize, 2] {
        let (tx, mut rx) = mpsc::channel(capacity);
        for n in 0..capacity {
            tx.try_send(100 + n as u32).unwrap();
        }
        let mut a = Poller::new(tx.send(1));
        assert!(
            a.poll().is_pending(),
            "capacity {capacity} and full: A waits"
        );
        rx.try_recv().unwrap();
        assert!(
            a.wakes() >= 1,
            "capacity {capacity}: a message was taken out of a full channel while send A \
             waited; A must be woken"
        );
        match tx.try_send(2) {
            // A design that keeps the freed slot for the woken send refuses the newcomer:
            // then A's next poll finds its slot, and there is nothing more to check.
            Err(TrySendError::Full(_)) => {
                assert_eq!(a.poll(), Poll::Ready(Ok(())), "A must find its slot");
                continue;
            }
            other => other.unwrap(),
        }
        let woken_before = a.wakes();
        assert!(
            a.poll().is_pending(),
            "capacity {capacity}: the slot A was woken for was taken by `try_send`: A must wait"
        );
        rx.try_recv().unwrap();
        assert!(
            a.wakes() > woken_before,
            "capacity {capacity}: send A was woken for a free slot, lost it to a `try_send`, \
             was polled (full: Pending), and then another message was taken out; A was not \
             woken again, so it waits forever with room in the channel. A woken send is no \
             longer in line: when it finds the channel full again it must JOIN THE LINE AGAIN \
             (store its waker, take a new ticket), exactly as on its first poll."
        );
        assert_eq!(a.poll(), Poll::Ready(Ok(())), "A must then find room");
    }
}

#[test]
fn every_slot_freed_in_a_row_wakes_a_waiting_send() {
    // Capacity 2, full, two sends waiting. Two messages are taken out before either send
    // runs: there is room for both, so both must be woken. Waking a sender only when the
    // buffer *was full* wakes A for the first slot and nobody for the second.
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(100).unwrap();
    tx.try_send(101).unwrap();
    let mut a = Poller::new(tx.send(1));
    let mut b = Poller::new(tx.send(2));
    assert!(a.poll().is_pending() && b.poll().is_pending());
    rx.try_recv().unwrap();
    rx.try_recv().unwrap();
    assert!(
        a.wakes() >= 1 && b.wakes() >= 1,
        "capacity 2, full, sends A and B waiting; two messages were taken out in a row, so \
         there is room for both, but A was woken {} time(s) and B {} time(s). Every message \
         taken out frees a slot and must wake the first send still in line, whether or not \
         the buffer was full just before.",
        a.wakes(),
        b.wakes()
    );
    assert_eq!(a.poll(), Poll::Ready(Ok(())));
    assert_eq!(b.poll(), Poll::Ready(Ok(())));
}

#[test]
fn cancelling_one_send_never_removes_another_from_the_line() {
    // Tickets must name one send for as long as it waits. A ticket taken from the line's
    // length repeats once the line has moved: here D, joining after A left, gets the same
    // number as C. Cancelling D then removes C's entry: C waits forever.
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(100).unwrap();
    let mut a = Poller::new(tx.send(1));
    let mut b = Poller::new(tx.send(2));
    let mut c = Poller::new(tx.send(3));
    assert!(a.poll().is_pending() && b.poll().is_pending() && c.poll().is_pending());
    // C is not polled again until the end: what matters is whether it was woken since.
    let c_since_its_poll = c.wakes();
    rx.try_recv().unwrap(); // room for A
    assert_eq!(
        a.poll(),
        Poll::Ready(Ok(())),
        "A was woken for the free slot"
    );
    let mut d = Poller::new(tx.send(4));
    assert!(d.poll().is_pending(), "full again: D waits behind B and C");
    drop(d); // cancelled: only D's entry may leave the line
    rx.try_recv().unwrap(); // room for B
    assert_eq!(b.poll(), Poll::Ready(Ok(())), "B was first in line");
    rx.try_recv().unwrap(); // room for C
    assert!(
        c.wakes() > c_since_its_poll,
        "capacity 1: sends B and C waited; D joined after A had left, then D was cancelled. \
         After B's turn, a message was taken out and C was not woken: cancelling D removed \
         C's entry (or left D's). A ticket must identify one send for as long as it waits: \
         a counter that only grows, never the line's length or a position in it."
    );
    assert_eq!(c.poll(), Poll::Ready(Ok(())));
}
