//! Part 2 — the reactor: one turn waits for the earliest deadline, then wakes what is due.
//!
//! The clock is paused (`Clock::manual`): it moves only by `Reactor::advance`, so "is it due
//! yet?" is decided by the test. What a turn passed to `epoll_wait` is read from its report
//! (`Turn::timeout`); a `wake()` before the turn makes the wait return at once, so a one-hour
//! timeout is checked without waiting an hour.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{WakeLog, clone_counting_waker, manual_reactor, ms, real_reactor, waker_fn, watchdog};
use harness::{Asleep, ThreadWatch, catch_panic, counting_waker};
use timers::Turn;

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_due_timer_fires_on_the_next_turn_and_leaves_the_store() {
    watchdog("a turn with a due timer").run(|| {
        let reactor = manual_reactor();
        let (waker, wakes) = counting_waker();
        let key = reactor.insert_timer(reactor.now(), &waker);
        assert_eq!(reactor.timers(), 1);
        let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(
            turn.fired, 1,
            "a timer due now must fire on the next turn: {turn:?}"
        );
        assert_eq!(wakes.get(), 1, "a fired timer's waker must be woken");
        assert_eq!(
            reactor.timers(),
            0,
            "a fired timer must be removed from the store"
        );
        assert!(
            reactor.remove_timer(key).is_none(),
            "a fired timer is no longer registered"
        );
    });
}

#[test]
fn a_timer_never_fires_before_its_deadline() {
    watchdog("a timer 1 ns before its deadline").run(|| {
        let reactor = manual_reactor();
        let (waker, wakes) = counting_waker();
        reactor.insert_timer(reactor.now() + ms(10), &waker);
        reactor.advance(ms(10) - Duration::from_nanos(1));
        let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(
            (turn.fired, wakes.get()),
            (0, 0),
            "a timer fired 1 ns before its deadline: a turn must fire only deadlines <= the \
             clock's reading after the wait"
        );
        reactor.advance(Duration::from_nanos(1));
        let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(
            (turn.fired, wakes.get()),
            (1, 1),
            "at its deadline the timer fires"
        );
    });
}

#[test]
fn the_timeout_is_the_time_to_the_earliest_deadline() {
    watchdog("the turn's timeout").run(|| {
        let reactor = manual_reactor();
        let (waker, _) = counting_waker();
        reactor.insert_timer(reactor.now() + Duration::from_secs(5), &waker);
        reactor.insert_timer(reactor.now() + Duration::from_secs(2), &waker);
        reactor.insert_timer(reactor.now() + Duration::from_secs(9), &waker);
        reactor.wake(); // the wait returns at once; the report still says what it was
        let turn = reactor.turn(None).unwrap();
        assert_eq!(
            turn.timeout,
            Some(Duration::from_secs(2)),
            "with timers at 5 s, 2 s and 9 s the turn must wait for the earliest, 2 s: {turn:?}"
        );
        assert!(
            turn.poked,
            "a wake() before the turn must end its wait (Turn::poked)"
        );
        assert_eq!(
            turn.fired, 0,
            "nothing is due on a paused clock that did not move"
        );
    });
}

#[test]
fn a_sub_millisecond_wait_rounds_up_to_one_millisecond() {
    watchdog("a 0.3 ms timer").run(|| {
        let reactor = manual_reactor();
        let (waker, wakes) = counting_waker();
        reactor.insert_timer(reactor.now() + Duration::from_micros(300), &waker);
        let turn = reactor.turn(None).unwrap();
        assert_eq!(
            turn.timeout,
            Some(ms(1)),
            "a timer 0.3 ms away must wait 1 ms (rounded UP to epoll's whole milliseconds): 0 ms \
             makes the reactor spin until the deadline"
        );
        assert_eq!(
            wakes.get(),
            0,
            "the paused clock did not move: nothing may fire"
        );
    });
}

#[test]
fn a_wait_rounds_up_to_the_next_whole_millisecond() {
    watchdog("rounding of the turn's timeout").run(|| {
        let reactor = manual_reactor();
        let (waker, _) = counting_waker();
        let key = reactor.insert_timer(reactor.now() + ms(2) + Duration::from_nanos(1), &waker);
        reactor.wake();
        let turn = reactor.turn(None).unwrap();
        assert_eq!(
            turn.timeout,
            Some(ms(3)),
            "a timer 2 ms + 1 ns away must wait 3 ms: rounding down wakes up before the deadline"
        );
        reactor.remove_timer(key);
        reactor.insert_timer(reactor.now() + ms(2), &waker);
        reactor.wake();
        let turn = reactor.turn(None).unwrap();
        assert_eq!(
            turn.timeout,
            Some(ms(2)),
            "exactly 2 ms away waits exactly 2 ms"
        );
    });
}

#[test]
fn max_caps_the_timeout() {
    watchdog("turn(Some(max))").run(|| {
        let reactor = manual_reactor();
        let (waker, _) = counting_waker();
        reactor.insert_timer(reactor.now() + HOUR, &waker);
        let turn = reactor.turn(Some(ms(1))).unwrap();
        assert_eq!(
            turn.timeout,
            Some(ms(1)),
            "max = 1 ms caps a one-hour wait: {turn:?}"
        );
        let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(
            turn.timeout,
            Some(Duration::ZERO),
            "max = 0 never waits: {turn:?}"
        );
        reactor.wake();
        let turn = reactor.turn(Some(Duration::from_secs(7200))).unwrap();
        assert_eq!(
            turn.timeout,
            Some(HOUR),
            "a max longer than the time to the earliest timer does not lengthen the wait"
        );
    });
}

#[test]
fn with_no_timer_a_turn_waits_for_max_or_until_woken() {
    watchdog("a turn with no timer").run(|| {
        let reactor = manual_reactor();
        let turn = reactor.turn(Some(ms(1))).unwrap();
        assert_eq!(
            turn,
            Turn {
                timeout: Some(ms(1)),
                fired: 0,
                poked: false
            },
            "no timer and max = 1 ms: wait 1 ms"
        );
        reactor.wake();
        let turn = reactor.turn(None).unwrap();
        assert_eq!(
            turn,
            Turn {
                timeout: None,
                fired: 0,
                poked: true
            },
            "no timer and no max: wait with no timeout (None) until woken"
        );
    });
}

#[test]
fn a_timer_already_due_gives_a_zero_timeout() {
    watchdog("a turn with a timer in the past").run(|| {
        let reactor = manual_reactor();
        let (waker, wakes) = counting_waker();
        reactor.insert_timer(reactor.now(), &waker);
        reactor.insert_timer(reactor.now() + HOUR, &waker);
        let turn = reactor.turn(None).unwrap();
        assert_eq!(
            turn.timeout,
            Some(Duration::ZERO),
            "a due timer must make the turn not wait at all"
        );
        assert_eq!((turn.fired, wakes.get()), (1, 1), "and fire it");
    });
}

#[test]
fn due_timers_fire_in_deadline_order() {
    watchdog("the order of a turn's wakes").run(|| {
        let reactor = manual_reactor();
        let log = WakeLog::new();
        let now = reactor.now();
        reactor.insert_timer(now + ms(3), &log.waker("3ms"));
        reactor.insert_timer(now + ms(1), &log.waker("1ms"));
        reactor.insert_timer(now + ms(2), &log.waker("2ms a"));
        reactor.insert_timer(now + ms(2), &log.waker("2ms b"));
        reactor.advance(ms(3));
        let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(turn.fired, 4);
        assert_eq!(
            log.entries(),
            ["1ms", "2ms a", "2ms b", "3ms"],
            "due timers must be woken earliest deadline first (equal ones in insertion order)"
        );
    });
}

#[test]
fn the_turn_reads_the_clock_after_the_wait() {
    watchdog("a real-clock turn").run(|| {
        let reactor = real_reactor();
        let (waker, wakes) = counting_waker();
        let deadline = reactor.now() + ms(1);
        reactor.insert_timer(deadline, &waker);
        // The first turn that was not poked (a poke nobody needed is allowed) waited until the
        // deadline, or started after it: either way the timer is due when it reads the clock.
        let mut unpoked = None;
        for _ in 0..5 {
            let turn = reactor.turn(None).unwrap();
            if !turn.poked {
                unpoked = Some(turn);
                break;
            }
        }
        let turn = unpoked.expect("five turns in a row were poked, with nobody waking them");
        assert_eq!(
            (turn.fired, wakes.get()),
            (1, 1),
            "a turn that waited for a real 1 ms timer must fire it at once: read the clock AFTER \
             the wait (epoll never returns before its timeout), not the reading from before it \
             ({turn:?})"
        );
        assert!(
            Instant::now() >= deadline,
            "the timer fired before its deadline"
        );
    });
}

#[test]
fn a_waker_that_reenters_the_reactor_does_not_deadlock() {
    watchdog("a waker that calls the reactor while being woken").run(|| {
        let reactor = manual_reactor();
        let calls = Arc::new(AtomicUsize::new(0));
        let other = {
            let (w, _) = counting_waker();
            reactor.insert_timer(reactor.now() + HOUR, &w)
        };
        let waker = {
            let reactor = Arc::clone(&reactor);
            let calls = Arc::clone(&calls);
            waker_fn(move || {
                // Each of these takes the reactor's lock.
                let (w, _) = counting_waker();
                let key = reactor.insert_timer(reactor.now() + HOUR, &w);
                reactor.set_timer_waker(key, &w);
                reactor.remove_timer(key);
                reactor.remove_timer(other);
                let _ = reactor.timers();
                calls.fetch_add(1, Ordering::SeqCst);
            })
        };
        reactor.insert_timer(reactor.now(), &waker);
        let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(turn.fired, 1);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the waker ran once, to its end"
        );
        assert_eq!(reactor.timers(), 0, "the waker removed the other timer");
    });
}

#[test]
fn wake_ends_a_turn_waiting_on_another_thread_and_is_remembered() {
    watchdog("Reactor::wake").run(|| {
        let reactor = manual_reactor();
        reactor.wake();
        let turn = reactor.turn(None).unwrap();
        assert!(
            turn.poked,
            "a wake() before a turn must make that turn return (poked)"
        );

        let (watch_tx, watch_rx) = std::sync::mpsc::channel();
        let waiting = {
            let reactor = Arc::clone(&reactor);
            thread::spawn(move || {
                watch_tx.send(ThreadWatch::current()).unwrap();
                reactor.turn(None).unwrap()
            })
        };
        let watch = watch_rx.recv().unwrap();
        let _ = watch.wait_until_asleep(Duration::from_secs(5));
        reactor.wake();
        let turn = waiting.join().unwrap();
        assert!(
            turn.poked,
            "a wake() from another thread must end a turn waiting with no timeout: {turn:?}"
        );
    });
}

/// Starts `reactor.turn(None)` on another thread and returns once that thread is seen asleep
/// (in `epoll_wait`), with its handle.
fn turn_on_another_thread(
    reactor: &Arc<timers::Reactor>,
) -> thread::JoinHandle<std::io::Result<Turn>> {
    turn_with_max_on_another_thread(reactor, None)
}

/// Starts `reactor.turn(max)` on another thread and returns once that thread is seen asleep
/// (in `epoll_wait`), with its handle.
fn turn_with_max_on_another_thread(
    reactor: &Arc<timers::Reactor>,
    max: Option<Duration>,
) -> thread::JoinHandle<std::io::Result<Turn>> {
    // A poke left over from earlier inserts (allowed: a poke nobody needed) would end the
    // turn at once; take it first. Nothing here is due, so this fires nothing.
    reactor.turn(Some(Duration::ZERO)).unwrap();
    let (watch_tx, watch_rx) = std::sync::mpsc::channel();
    let handle = {
        let reactor = Arc::clone(reactor);
        thread::spawn(move || {
            watch_tx.send(ThreadWatch::current()).unwrap();
            reactor.turn(max)
        })
    };
    let watch = watch_rx.recv().unwrap();
    match watch.wait_until_asleep(Duration::from_secs(5)) {
        Asleep::Yes | Asleep::Unknown => {}
        Asleep::Never(seen) => panic!(
            "a turn with a one-hour timeout never went to sleep (last seen: {seen}): it must \
             wait in mio::Poll::poll, not spin"
        ),
    }
    handle
}

#[test]
fn an_earlier_timer_inserted_from_another_thread_ends_a_long_wait() {
    watchdog("a timer inserted while the reactor waits an hour").run(|| {
        let reactor = manual_reactor();
        let (far, _) = counting_waker();
        reactor.insert_timer(reactor.now() + HOUR, &far);
        let waiting = turn_on_another_thread(&reactor);
        let (near, near_wakes) = counting_waker();
        reactor.insert_timer(reactor.now() + ms(20), &near);
        let turn = waiting.join().unwrap().unwrap();
        assert_eq!(
            turn.timeout,
            Some(HOUR),
            "the turn was computed from the 1 h timer"
        );
        assert!(
            turn.poked,
            "the turn ended without a poke? {turn:?} (a 20 ms timer inserted while the reactor \
             waits for a 1 h one must wake the mio::Waker)"
        );
        assert_eq!(near_wakes.get(), 0, "the clock did not move: nothing fires");
        reactor.wake();
        let next = reactor.turn(None).unwrap();
        assert_eq!(
            next.timeout,
            Some(ms(20)),
            "after the poke the next turn must wait for the new 20 ms timer"
        );
    });
}

#[test]
fn a_timer_inserted_while_the_reactor_waits_with_no_timeout_ends_the_wait() {
    watchdog("a timer inserted while the reactor waits with no timeout").run(|| {
        let reactor = manual_reactor();
        let waiting = turn_on_another_thread(&reactor);
        let (waker, wakes) = counting_waker();
        reactor.insert_timer(reactor.now() + HOUR, &waker);
        let turn = waiting.join().unwrap().unwrap();
        assert_eq!(
            turn.timeout, None,
            "with no timer the turn waited with no timeout"
        );
        assert!(
            turn.poked,
            "any timer inserted while the reactor waits with no timeout must wake it: {turn:?}"
        );
        assert_eq!(wakes.get(), 0);
    });
}

#[test]
fn advance_wakes_a_turn_waiting_on_another_thread_and_it_fires_what_became_due() {
    watchdog("Reactor::advance while a turn waits").run(|| {
        let reactor = manual_reactor();
        let (waker, wakes) = counting_waker();
        reactor.insert_timer(reactor.now() + HOUR, &waker);
        let waiting = turn_on_another_thread(&reactor);
        reactor.advance(HOUR);
        let turn = waiting.join().unwrap().unwrap();
        assert_eq!(
            (turn.fired, wakes.get()),
            (1, 1),
            "advance(1 h) while a turn waits for a 1 h timer must wake that turn (the \
             mio::Waker), and the turn must then fire the timer: {turn:?}"
        );
    });
}

#[test]
fn advance_moves_the_clock_exactly() {
    watchdog("Reactor::advance").run(|| {
        let reactor = manual_reactor();
        let start = reactor.now();
        assert_eq!(
            reactor.now(),
            start,
            "a paused clock does not move by itself"
        );
        reactor.advance(ms(7));
        reactor.advance(Duration::from_nanos(3));
        assert_eq!(reactor.now() - start, ms(7) + Duration::from_nanos(3));
        assert_eq!(
            reactor.clock().now(),
            reactor.now(),
            "now() is the clock's reading"
        );
    });
}

#[test]
fn advance_on_a_real_clock_panics() {
    watchdog("Reactor::advance on real time").run(|| {
        let reactor = real_reactor();
        assert!(!reactor.clock().is_manual());
        let outcome = catch_panic(|| reactor.advance(ms(1)));
        let message = outcome.expect_err("advance on a real clock must panic");
        assert!(
            message.contains("not paused"),
            "the panic must say time is not paused (the given Clock::advance says so): {message}"
        );
    });
}

#[test]
fn a_timer_inserted_while_the_reactor_waits_for_its_max_alone_ends_the_wait() {
    watchdog("a timer inserted while the reactor, with no timer, waits out a 1 h max")
        .likely_cause(
            "a turn with no timer but a `max` that does not mark itself waiting until now + max \
             (\"waiting\" derived from the earliest timer only): an insert during that wait sees \
             no waiting turn and does not poke, and the turn sleeps the whole hour",
        )
        .run(|| {
            let reactor = manual_reactor();
            let waiting = turn_with_max_on_another_thread(&reactor, Some(HOUR));
            let (near, _) = counting_waker();
            reactor.insert_timer(reactor.now() + ms(20), &near);
            let turn = waiting.join().unwrap().unwrap();
            assert_eq!(
                turn.timeout,
                Some(HOUR),
                "with no timer, turn(Some(1 h)) waits for its max"
            );
            assert!(
                turn.poked,
                "a 20 ms timer inserted while the reactor waits out a 1 h `max` (no timer \
                 stored) must wake the mio::Waker: the wait ends after the new deadline. Mark \
                 \"waiting until now + max\" when there is a max and no timer: {turn:?}"
            );
        });
}

#[test]
fn a_turn_with_a_max_of_duration_max_does_not_overflow() {
    watchdog("turn(Some(Duration::MAX))").run(|| {
        let reactor = manual_reactor();
        // No timer: the timeout is `max` itself; the wake pending makes it return at once.
        reactor.wake();
        let turn = catch_panic(|| reactor.turn(Some(Duration::MAX)).unwrap());
        let turn = turn.unwrap_or_else(|message| {
            panic!(
                "turn(Some(Duration::MAX)) with no timer panicked ({message}): `now + max` does \
                 not fit in an Instant. No deadline this crate computes may overflow: use \
                 `checked_add` (and treat \"does not fit\" as no end, or now + FAR_FUTURE)"
            )
        });
        assert_eq!(turn.timeout, Some(Duration::MAX), "the timeout is `max`");
        // A timer already due: the timeout is zero, whatever max is.
        let (waker, wakes) = counting_waker();
        reactor.insert_timer(reactor.now(), &waker);
        let turn = catch_panic(|| reactor.turn(Some(Duration::MAX)).unwrap());
        let turn = turn.unwrap_or_else(|message| {
            panic!(
                "turn(Some(Duration::MAX)) with a due timer panicked ({message}): `now + max` \
                 overflows. Use `checked_add`"
            )
        });
        assert_eq!((turn.timeout, turn.fired), (Some(Duration::ZERO), 1));
        assert_eq!(wakes.get(), 1);
        // A timer later: the timeout is the time to it; a wake makes the turn return at once.
        reactor.insert_timer(reactor.now() + HOUR, &waker);
        reactor.wake();
        let turn = catch_panic(|| reactor.turn(Some(Duration::MAX)).unwrap());
        let turn = turn.unwrap_or_else(|message| {
            panic!("turn(Some(Duration::MAX)) with a timer in an hour panicked ({message})")
        });
        assert_eq!(turn.timeout, Some(HOUR));
    });
}

#[test]
fn set_timer_waker_with_a_waker_of_the_same_task_keeps_the_stored_one() {
    watchdog("Reactor::set_timer_waker with the same task's waker").run(|| {
        let reactor = manual_reactor();
        let (waker, clones) = clone_counting_waker();
        let key = reactor.insert_timer(reactor.now() + ms(10), &waker);
        let before = clones.load(Ordering::SeqCst);
        for call in 1..=3 {
            assert!(reactor.set_timer_waker(key, &waker));
            let cloned = clones.load(Ordering::SeqCst) - before;
            assert_eq!(
                cloned, 0,
                "set_timer_waker call {call} with a waker that `will_wake` the stored one (a \
                 Sleep polled again by the same task) cloned it {cloned} time(s). Its doc: \
                 \"keeping the stored waker if it `will_wake` the same task\" \
                 (TimerStore::set_waker: replace only when `!stored.will_wake(waker)`)"
            );
        }
    });
}

#[test]
fn a_waker_that_turns_the_reactor_does_not_deadlock() {
    watchdog("a waker that calls turn and park while being woken")
        .likely_cause(
            "a turn that wakes its due timers while it still holds the lock that makes turns \
             exclusive (the `poll` lock): a waker that calls turn or park waits for that lock \
             forever. Release EVERY lock of the reactor before waking",
        )
        .run(|| {
            let reactor = manual_reactor();
            let turns = Arc::new(AtomicUsize::new(0));
            let waker = {
                let reactor = Arc::clone(&reactor);
                let turns = Arc::clone(&turns);
                waker_fn(move || {
                    // An executor that runs the reactor from its waker: a turn, then a park.
                    reactor.turn(Some(Duration::ZERO)).unwrap();
                    reactor.wake();
                    reactor.park().unwrap();
                    let _ = reactor.earliest();
                    reactor.advance(Duration::ZERO);
                    turns.fetch_add(1, Ordering::SeqCst);
                })
            };
            reactor.insert_timer(reactor.now(), &waker);
            let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
            assert_eq!(turn.fired, 1);
            assert_eq!(
                turns.load(Ordering::SeqCst),
                1,
                "the waker turned and parked the reactor, to its end"
            );
            // The same with park as the outer call.
            // (A poke nobody needed may end a park before the jump: park again, a few times.)
            reactor.insert_timer(reactor.now() + ms(1), &waker);
            for _ in 0..3 {
                if turns.load(Ordering::SeqCst) == 2 {
                    break;
                }
                reactor.park().unwrap();
            }
            assert_eq!(
                turns.load(Ordering::SeqCst),
                2,
                "park fired the 1 ms timer, whose waker turned and parked the reactor"
            );
        });
}
