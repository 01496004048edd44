//! Part 1 — `IoState`: the readiness of one source, latched, with the wakers to wake.
//!
//! No sockets yet: these tests play the reactor themselves, calling `set_ready` the way your
//! reactor will when the OS reports an event.

use std::task::{Context, Poll, Waker};

use harness::{WakeProbe, Watchdog, counting_waker};
use reactor::{Direction, IoState};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(format!("part 1: {what}")).likely_cause(
        "a method of IoState locks the state while it already holds the lock (std's Mutex is \
         not reentrant): take the lock once per call, and never call another locking method \
         while holding it",
    )
}

fn poll(state: &IoState, direction: Direction, waker: &Waker) -> Poll<reactor::Tick> {
    state.poll_ready(direction, &mut Context::from_waker(waker))
}

/// Plays the reactor: records an event and wakes what `set_ready` handed back.
fn event(state: &IoState, direction: Direction) -> usize {
    let mut wakers = Vec::new();
    state.set_ready(direction, &mut wakers);
    let handed_back = wakers.len();
    for waker in wakers {
        waker.wake();
    }
    handed_back
}

#[test]
fn a_new_source_is_not_ready_and_does_not_wake_itself() {
    watchdog("a new source is not ready and does not wake itself").run(|| {
        let state = IoState::new();
        let (waker, wakes) = counting_waker();
        assert!(
            poll(&state, Direction::Read, &waker).is_pending(),
            "a source nobody has reported an event for was Ready. Readiness starts false in both \
             directions; only `set_ready` (the reactor, on an OS event) makes it true."
        );
        assert!(poll(&state, Direction::Write, &waker).is_pending());
        assert_eq!(
            wakes.get(),
            0,
            "poll_ready woke the waker it was given. It must only store it: the reactor wakes it \
             when an event comes (a self-wake would make the task spin)."
        );
    });
}

#[test]
fn an_event_wakes_the_waiting_task_and_makes_it_ready() {
    watchdog("an event wakes the waiting task and makes it ready").run(|| {
        let state = IoState::new();
        let (waker, wakes) = counting_waker();
        assert!(poll(&state, Direction::Read, &waker).is_pending());
        let handed_back = event(&state, Direction::Read);
        assert_eq!(
            (handed_back, wakes.get()),
            (1, 1),
            "after a Pending poll_ready(Read), set_ready(Read) must hand back the stored waker \
             (pushed onto the Vec it is given), so that the reactor can wake the task"
        );
        assert!(
            poll(&state, Direction::Read, &waker).is_ready(),
            "after set_ready(Read), poll_ready(Read) must be Ready"
        );
    });
}

#[test]
fn readiness_set_before_the_first_poll_is_not_lost() {
    watchdog("readiness set before the first poll is not lost").run(|| {
        let state = IoState::new();
        // The event comes first: no task has polled, so no waker is stored yet.
        let handed_back = event(&state, Direction::Read);
        assert_eq!(
            handed_back, 0,
            "no waker was stored, so none can be handed back"
        );
        let (waker, wakes) = counting_waker();
        assert!(
            poll(&state, Direction::Read, &waker).is_ready(),
            "set_ready(Read) came before the first poll_ready(Read), and that poll was Pending: \
             the event was lost. The reactor may see an event before any task has stored a waker \
             (the data arrived before the task got there). Latch it: set `ready = true` whether or \
             not a waker is stored, and let poll_ready return Ready while it is set. Nothing else \
             will ever wake this task."
        );
        assert_eq!(wakes.get(), 0);
    });
}

#[test]
fn readiness_stays_until_it_is_cleared() {
    watchdog("readiness stays until it is cleared").run(|| {
        let state = IoState::new();
        event(&state, Direction::Read);
        let (waker, _wakes) = counting_waker();
        for attempt in 1..=3 {
            assert!(
                poll(&state, Direction::Read, &waker).is_ready(),
                "poll_ready #{attempt} after one event was Pending. Readiness is a latch, not an \
                 event: it stays set until an operation gets WouldBlock and calls clear_ready. \
                 (An edge-triggered reactor will not report the same data twice.)"
            );
        }
    });
}

#[test]
fn clear_ready_makes_the_next_poll_wait_again() {
    watchdog("clear ready makes the next poll wait again").run(|| {
        let state = IoState::new();
        event(&state, Direction::Read);
        let (waker, wakes) = counting_waker();
        let Poll::Ready(tick) = poll(&state, Direction::Read, &waker) else {
            panic!("poll_ready after set_ready must be Ready");
        };
        state.clear_ready(Direction::Read, tick);
        assert!(
            poll(&state, Direction::Read, &waker).is_pending(),
            "clear_ready(Read, tick) with the tick poll_ready just returned did not clear the \
             readiness (no event came in between)"
        );
        assert_eq!(event(&state, Direction::Read), 1);
        assert_eq!(wakes.get(), 1);
    });
}

#[test]
fn readiness_can_come_back_after_it_was_cleared() {
    watchdog("readiness can come back after it was cleared").run(|| {
        let state = IoState::new();
        let (waker, wakes) = counting_waker();
        for round in 1..=3 {
            assert!(poll(&state, Direction::Read, &waker).is_pending());
            event(&state, Direction::Read);
            assert_eq!(
                wakes.get(),
                round,
                "event #{round} on a source whose readiness was cleared did not wake the task \
                 waiting on it. Every event counts: after a clear, the next event must set the \
                 readiness and hand back the waker again (nothing has to be re-armed)."
            );
            let Poll::Ready(tick) = poll(&state, Direction::Read, &waker) else {
                panic!("event #{round} did not make the source ready");
            };
            state.clear_ready(Direction::Read, tick);
        }
    });
}

#[test]
fn clear_with_an_outdated_tick_keeps_newer_readiness() {
    watchdog("clear with an outdated tick keeps newer readiness").run(|| {
        let state = IoState::new();
        event(&state, Direction::Read);
        let (waker, _wakes) = counting_waker();
        let Poll::Ready(tick) = poll(&state, Direction::Read, &waker) else {
            panic!("poll_ready after set_ready must be Ready");
        };
        // The operation got WouldBlock, but before it could clear the readiness, a new event came.
        event(&state, Direction::Read);
        state.clear_ready(Direction::Read, tick);
        assert!(
            poll(&state, Direction::Read, &waker).is_ready(),
            "an event arrived after poll_ready returned its tick and before clear_ready(tick): \
             the clear threw that event away, and the task would wait for an edge that already \
             happened. Count events per direction (the tick), and in clear_ready only clear if the \
             tick is still the one poll_ready returned."
        );
    });
}

#[test]
fn the_latest_waker_is_the_one_handed_back() {
    watchdog("the latest waker is the one handed back").run(|| {
        let state = IoState::new();
        let (a, a_wakes) = counting_waker();
        let (b, b_wakes) = counting_waker();
        assert!(poll(&state, Direction::Read, &a).is_pending());
        // The future moved to another task, which polls it with its own waker.
        assert!(poll(&state, Direction::Read, &b).is_pending());
        event(&state, Direction::Read);
        assert_eq!(
            b_wakes.get(),
            1,
            "polled with waker A, then B, then the event: B was not woken (A: {} wakes). Keep the \
             waker of the *latest* Pending poll: replace the stored one unless it `will_wake` the \
             same task.",
            a_wakes.get()
        );
    });
}

#[test]
fn polling_again_keeps_one_waker() {
    watchdog("polling again keeps one waker").run(|| {
        let state = IoState::new();
        let probe = WakeProbe::new();
        let waker = probe.waker();
        for _ in 0..100 {
            assert!(poll(&state, Direction::Read, &waker).is_pending());
        }
        // The test's own `waker`, plus the one stored.
        assert!(
            probe.live_wakers() <= 2,
            "after 100 Pending polls with one waker, {} clones of it are alive. Keep one waker per \
             direction, and skip the clone when the stored one `will_wake` the same task.",
            probe.live_wakers()
        );
    });
}

#[test]
fn read_and_write_wakers_are_kept_apart() {
    watchdog("read and write wakers are kept apart").run(|| {
        let state = IoState::new();
        let (reader, reader_wakes) = counting_waker();
        let (writer, writer_wakes) = counting_waker();
        // One task waits to read, another to write, on the same socket.
        assert!(poll(&state, Direction::Read, &reader).is_pending());
        assert!(poll(&state, Direction::Write, &writer).is_pending());
        event(&state, Direction::Read);
        // Waking the writer too would only be wasteful; losing the reader's wake is the bug.
        assert!(
            reader_wakes.get() >= 1,
            "one task waited to read, another to write, then a Read event came: the reader was \
             not woken (reader woken {} times, writer {}). Keep a waker per direction: one slot \
             for both lets the writer's waker replace the reader's.",
            reader_wakes.get(),
            writer_wakes.get()
        );
        let writer_before = writer_wakes.get();
        assert!(
            poll(&state, Direction::Write, &writer).is_pending(),
            "a Read event made the source ready for writing"
        );
        event(&state, Direction::Write);
        assert!(
            writer_wakes.get() > writer_before,
            "a Write event must wake the writer, whose waker was stored before the Read event \
             (writer woken {} times in all, {writer_before} before the Write event)",
            writer_wakes.get()
        );
    });
}

#[test]
fn set_ready_hands_the_waker_back_instead_of_waking_it() {
    watchdog("set ready hands the waker back instead of waking it").run(|| {
        let state = IoState::new();
        let probe = WakeProbe::new();
        assert!(poll(&state, Direction::Read, &probe.waker()).is_pending());
        let mut wakers = Vec::new();
        state.set_ready(Direction::Read, &mut wakers);
        assert_eq!(
            (probe.wakes(), wakers.len()),
            (0, 1),
            "set_ready woke the waker itself (wakes, wakers handed back). It runs under the \
             source's lock, and a waker may run arbitrary code, including code that polls this \
             very source: move the waker into `wakers` and let the reactor wake it later, when it \
             holds no lock."
        );
        for waker in wakers {
            waker.wake();
        }
        assert_eq!(probe.wakes(), 1);
    });
}
