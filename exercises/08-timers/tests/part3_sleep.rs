//! Part 3 — `Sleep`: registered on its first poll, the latest waker, `reset`, `Drop`.
//!
//! Each test makes a reactor on a paused clock current (`Reactor::enter`), polls sleeps by
//! hand with counting wakers, moves the clock with `advance` and runs the reactor with
//! `turn(Some(ZERO))`, which never waits.

mod common;

use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use common::{manual_reactor, ms, poll_with, waker_fn, watchdog};
use harness::{catch_panic, counting_waker};
use timers::{FAR_FUTURE, Reactor, Sleep, sleep, sleep_until};

/// One turn that does not wait; returns how many timers fired.
fn fire(reactor: &Reactor) -> usize {
    reactor.turn(Some(Duration::ZERO)).unwrap().fired
}

#[test]
fn a_sleep_is_pending_before_its_deadline_and_ready_at_it() {
    watchdog("a Sleep around its deadline").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut sleep = sleep(ms(10));
        assert_eq!(
            sleep.deadline(),
            start + ms(10),
            "sleep(d)'s deadline is the clock's now + d"
        );
        let (waker, _) = counting_waker();
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "a 10 ms sleep is pending at 0 ms"
        );
        reactor.advance(ms(10) - Duration::from_nanos(1));
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "a Sleep completed 1 ns before its deadline: it must never be early"
        );
        reactor.advance(Duration::from_nanos(1));
        assert_eq!(
            poll_with(&mut sleep, &waker),
            Poll::Ready(()),
            "a Sleep polled when the clock reads its deadline must complete (even before the \
             reactor fired its timer: each poll reads the clock)"
        );
    });
}

#[test]
fn creating_a_sleep_registers_nothing_until_its_first_poll() {
    watchdog("when a Sleep registers").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        assert_eq!(
            reactor.timers(),
            0,
            "a Sleep that was created but never polled must not be in the store (the contract: \
             it registers on its first poll)"
        );
        let (waker, _) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        assert_eq!(
            reactor.timers(),
            1,
            "the first poll of a pending Sleep registers one timer"
        );
        assert!(poll_with(&mut sleep, &waker).is_pending());
        assert!(poll_with(&mut sleep, &waker).is_pending());
        assert_eq!(
            reactor.timers(),
            1,
            "polling again must not register again: one Sleep, one entry at most"
        );
    });
}

#[test]
fn a_sleep_due_on_its_first_poll_completes_without_registering() {
    watchdog("sleep(0)").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, _) = counting_waker();
        let mut zero = sleep(Duration::ZERO);
        assert_eq!(
            poll_with(&mut zero, &waker),
            Poll::Ready(()),
            "sleep(0) is ready at once"
        );
        let mut past = sleep_until(reactor.now() - ms(5));
        assert_eq!(
            poll_with(&mut past, &waker),
            Poll::Ready(()),
            "a past deadline is ready"
        );
        assert_eq!(
            reactor.timers(),
            0,
            "a Sleep that completes on its first poll registers nothing"
        );
    });
}

#[test]
fn the_reactor_wakes_a_pending_sleep_at_its_deadline() {
    watchdog("a Sleep woken by the reactor").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        let (waker, wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        reactor.advance(ms(10));
        assert_eq!(fire(&reactor), 1, "the sleep's timer is due at 10 ms");
        assert_eq!(
            wakes.get(),
            1,
            "the reactor must wake the waker the Sleep registered on its poll"
        );
        assert_eq!(poll_with(&mut sleep, &waker), Poll::Ready(()));
        assert_eq!(reactor.timers(), 0);
    });
}

#[test]
fn a_sleep_wakes_the_waker_of_its_latest_poll() {
    watchdog("a Sleep polled with a second waker").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        let (first, first_wakes) = counting_waker();
        let (second, second_wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &first).is_pending());
        assert!(poll_with(&mut sleep, &second).is_pending());
        assert_eq!(
            reactor.timers(),
            1,
            "a second poll must not add a second entry"
        );
        reactor.advance(ms(10));
        fire(&reactor);
        assert_eq!(
            (first_wakes.get(), second_wakes.get()),
            (0, 1),
            "a Sleep polled by another task (another waker) must wake THAT task: replace the \
             stored waker when `!will_wake` (Reactor::set_timer_waker)"
        );
    });
}

#[test]
fn a_completed_sleep_leaves_no_entry() {
    watchdog("a Sleep that completes before the reactor fires it").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        let (waker, _) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        reactor.advance(ms(10));
        assert_eq!(poll_with(&mut sleep, &waker), Poll::Ready(()));
        assert_eq!(
            reactor.timers(),
            0,
            "a Sleep that completed while its timer was still in the store must remove it"
        );
        drop(sleep);
        assert_eq!(reactor.timers(), 0);
    });
}

#[test]
fn dropping_a_registered_sleep_removes_its_entry() {
    watchdog("dropping a Sleep").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        let (waker, wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        drop(sleep);
        assert_eq!(
            reactor.timers(),
            0,
            "a dropped Sleep must remove its entry (Drop)"
        );
        reactor.advance(ms(10));
        assert_eq!(fire(&reactor), 0, "a dropped Sleep's timer must never fire");
        assert_eq!(wakes.get(), 0);
    });
}

#[test]
fn ten_thousand_sleeps_created_polled_and_dropped_leave_the_store_empty() {
    watchdog("10 000 cancelled sleeps").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, _) = counting_waker();
        for i in 0..10_000u64 {
            let mut sleep = sleep(ms(1 + i % 100));
            assert!(poll_with(&mut sleep, &waker).is_pending());
        }
        assert_eq!(
            reactor.timers(),
            0,
            "after 10 000 sleeps created, polled once and dropped, the store must be empty: \
             every cancelled timer must be removed at once, not kept until its deadline"
        );
    });
}

#[test]
fn sleep_duration_max_saturates_instead_of_panicking() {
    watchdog("sleep(Duration::MAX)").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let now = reactor.now();
        let mut forever = catch_panic(|| sleep(Duration::MAX)).unwrap_or_else(|message| {
            panic!(
                "sleep(Duration::MAX) panicked ({message}): `now + Duration::MAX` overflows \
                 Instant; use checked_add and fall back to now + FAR_FUTURE"
            )
        });
        assert!(
            FAR_FUTURE >= Duration::from_secs(86_400 * 365 * 29),
            "FAR_FUTURE is about 30 years"
        );
        assert_eq!(
            forever.deadline(),
            now + FAR_FUTURE,
            "sleep(Duration::MAX)'s deadline must saturate to now + FAR_FUTURE"
        );
        let (waker, _) = counting_waker();
        assert!(poll_with(&mut forever, &waker).is_pending());
        assert!(!forever.is_elapsed());
        assert_eq!(reactor.timers(), 1, "it registers like any other sleep");
        drop(forever);
        assert_eq!(reactor.timers(), 0);
    });
}

#[test]
fn is_elapsed_follows_the_clock() {
    watchdog("Sleep::is_elapsed").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let sleep = sleep(ms(5));
        assert!(!sleep.is_elapsed(), "not elapsed at 0 ms");
        reactor.advance(ms(5));
        assert!(
            sleep.is_elapsed(),
            "elapsed once the clock reads the deadline"
        );
    });
}

#[test]
fn reset_later_moves_the_wake_to_the_new_deadline() {
    watchdog("Sleep::reset to a later deadline").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut sleep = sleep(ms(10));
        let (waker, wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        sleep.reset(start + ms(30));
        assert_eq!(sleep.deadline(), start + ms(30));
        // A task polls when it is woken; one more poll is always allowed.
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "not done at 0 ms"
        );
        assert_eq!(reactor.timers(), 1, "reset keeps one entry, moved");
        let after_reset = wakes.get();
        reactor.advance(ms(10));
        fire(&reactor);
        assert_eq!(
            wakes.get(),
            after_reset,
            "after reset to 30 ms, nothing may wake at the old 10 ms deadline"
        );
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "not done at 10 ms any more"
        );
        reactor.advance(ms(20));
        assert_eq!(fire(&reactor), 1);
        assert_eq!(
            wakes.get(),
            after_reset + 1,
            "a registered Sleep reset to a later deadline must wake its task at the new one \
             (move the timer: remove, then insert with the same waker)"
        );
        assert_eq!(poll_with(&mut sleep, &waker), Poll::Ready(()));
    });
}

#[test]
fn reset_earlier_wakes_at_the_new_deadline() {
    watchdog("Sleep::reset to an earlier deadline").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut sleep = sleep(ms(30));
        let (waker, wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        sleep.reset(start + ms(10));
        // A task polls when it is woken; one more poll is always allowed.
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "not done at 0 ms"
        );
        assert_eq!(reactor.timers(), 1, "reset keeps one entry, moved");
        let after_reset = wakes.get();
        reactor.advance(ms(10));
        assert_eq!(
            fire(&reactor),
            1,
            "the moved timer is due at the new 10 ms deadline"
        );
        assert_eq!(
            wakes.get(),
            after_reset + 1,
            "a Sleep reset to an earlier deadline must wake its waiting task at that deadline, \
             not at the old 30 ms one"
        );
        assert_eq!(poll_with(&mut sleep, &waker), Poll::Ready(()));
        assert_eq!(reactor.timers(), 0);
    });
}

#[test]
fn reset_into_the_past_wakes_the_waiting_task_at_once() {
    watchdog("Sleep::reset into the past").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut sleep = sleep(ms(30));
        let (waker, wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        sleep.reset(start);
        assert_eq!(
            wakes.get(),
            1,
            "reset to a deadline that has passed must wake the waiting task AT ONCE, in reset: \
             no turn fires a timer that is not in the store, so nobody else will"
        );
        assert_eq!(reactor.timers(), 0, "and leave no entry behind");
        assert_eq!(
            poll_with(&mut sleep, &waker),
            Poll::Ready(()),
            "the next poll completes"
        );
    });
}

#[test]
fn reset_before_the_first_poll_only_moves_the_deadline() {
    watchdog("Sleep::reset before any poll").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut sleep = sleep(ms(10));
        sleep.reset(start + ms(30));
        assert_eq!(
            reactor.timers(),
            0,
            "reset of a never-polled Sleep must not register it"
        );
        assert_eq!(sleep.deadline(), start + ms(30));
        let (waker, wakes) = counting_waker();
        reactor.advance(ms(10));
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "reset moved the deadline to 30 ms: not done at 10 ms"
        );
        reactor.advance(ms(20));
        assert_eq!(fire(&reactor), 1);
        assert_eq!(wakes.get(), 1);
        let mut past = timers::sleep(ms(10));
        past.reset(start);
        assert_eq!(
            wakes.get(),
            1,
            "reset of a never-polled Sleep has no waker to wake"
        );
        assert_eq!(poll_with(&mut past, &waker), Poll::Ready(()));
    });
}

#[test]
fn a_completed_sleep_reset_to_a_later_deadline_waits_again() {
    watchdog("Sleep::reset after completing").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        let (waker, wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        reactor.advance(ms(10));
        fire(&reactor);
        assert_eq!(poll_with(&mut sleep, &waker), Poll::Ready(()));
        sleep.reset(reactor.now() + ms(10));
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "a completed Sleep reset to a later deadline must wait again"
        );
        assert_eq!(reactor.timers(), 1, "and register again");
        reactor.advance(ms(10));
        fire(&reactor);
        assert_eq!(wakes.get(), 2);
        assert_eq!(poll_with(&mut sleep, &waker), Poll::Ready(()));
    });
}

#[test]
fn a_fired_sleep_reset_before_its_task_polled_waits_for_the_new_deadline() {
    watchdog("Sleep::reset between the fire and the poll").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        let (waker, wakes) = counting_waker();
        assert!(poll_with(&mut sleep, &waker).is_pending());
        reactor.advance(ms(10));
        fire(&reactor);
        assert_eq!(wakes.get(), 1);
        sleep.reset(reactor.now() + ms(10));
        assert!(
            poll_with(&mut sleep, &waker).is_pending(),
            "reset to 20 ms after the 10 ms timer fired: the next poll is not done"
        );
        assert_eq!(
            reactor.timers(),
            1,
            "the poll after a reset must register the sleep again (its old entry was fired)"
        );
        reactor.advance(ms(10));
        assert_eq!(fire(&reactor), 1);
        assert_eq!(wakes.get(), 2);
    });
}

#[test]
fn a_waker_that_drops_another_sleep_does_not_deadlock() {
    watchdog("a waker that drops a Sleep while being woken").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let victim: Arc<Mutex<Option<Sleep>>> = Arc::new(Mutex::new(Some(sleep(ms(20)))));
        let (plain, _) = counting_waker();
        assert!(poll_with(victim.lock().unwrap().as_mut().unwrap(), &plain).is_pending());
        let dropper = {
            let victim = Arc::clone(&victim);
            waker_fn(move || drop(victim.lock().unwrap().take()))
        };
        let mut first = sleep(ms(10));
        assert!(poll_with(&mut first, &dropper).is_pending());
        assert_eq!(reactor.timers(), 2);
        reactor.advance(ms(10));
        assert_eq!(fire(&reactor), 1);
        assert!(
            victim.lock().unwrap().is_none(),
            "the waker ran and dropped the other Sleep"
        );
        assert_eq!(
            reactor.timers(),
            0,
            "the dropped Sleep removed its entry from inside the wake"
        );
    });
}

#[test]
fn a_waker_that_resets_and_starts_sleeps_does_not_deadlock() {
    watchdog("a waker that resets and starts sleeps while being woken").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let other: Arc<Mutex<Sleep>> = Arc::new(Mutex::new(sleep(ms(20))));
        let started: Arc<Mutex<Vec<Sleep>>> = Arc::new(Mutex::new(Vec::new()));
        let (plain, plain_wakes) = counting_waker();
        assert!(poll_with(&mut *other.lock().unwrap(), &plain).is_pending());
        let busy = {
            let other = Arc::clone(&other);
            let started = Arc::clone(&started);
            let reactor = Arc::clone(&reactor);
            waker_fn(move || {
                let (w, _) = counting_waker();
                other.lock().unwrap().reset(reactor.now() + ms(50));
                let _enter = reactor.enter();
                let mut new = timers::sleep(ms(5));
                let _ = poll_with(&mut new, &w);
                started.lock().unwrap().push(new);
            })
        };
        let mut first = sleep(ms(10));
        assert!(poll_with(&mut first, &busy).is_pending());
        reactor.advance(ms(10));
        assert_eq!(fire(&reactor), 1);
        assert_eq!(started.lock().unwrap().len(), 1, "the waker ran to its end");
        // A task polls when it is woken; one more poll is always allowed.
        assert!(poll_with(&mut *other.lock().unwrap(), &plain).is_pending());
        assert_eq!(
            reactor.timers(),
            2,
            "the reset sleep and the new one are registered"
        );
        let before = plain_wakes.get();
        reactor.advance(ms(10));
        assert_eq!(
            fire(&reactor),
            1,
            "at 20 ms only the sleep started at 10 ms + 5 ms is due"
        );
        assert_eq!(
            plain_wakes.get(),
            before,
            "the other sleep was reset to 60 ms from inside the wake: nothing may wake it at 20 ms"
        );
    });
}

#[test]
fn sleep_outside_a_runtime_panics_with_a_clear_message() {
    watchdog("sleep() outside a runtime").run(|| {
        let message = catch_panic(|| drop(sleep(ms(1))))
            .expect_err("sleep() with no current reactor must panic, not hang or guess");
        assert!(
            message.contains("context of a runtime"),
            "the panic must say it must be called from the context of a runtime (use \
             crate::context::current()): {message}"
        );
    });
}

#[test]
fn no_reactor_is_current_once_the_enter_guard_is_dropped() {
    watchdog("sleep() after the Reactor::enter guard is gone").run(|| {
        let reactor = manual_reactor();
        {
            let _enter = reactor.enter();
            let (waker, _) = counting_waker();
            let mut inside = sleep(ms(5));
            assert!(poll_with(&mut inside, &waker).is_pending());
        }
        let message = catch_panic(|| drop(sleep(ms(1))))
            .expect_err("with the guard dropped no reactor is current: sleep() must panic");
        assert!(
            message.contains("context of a runtime"),
            "sleep() outside any context must say so (crate::context::current()): {message}"
        );
        let rt = timers::Runtime::paused().unwrap();
        rt.block_on(async { sleep(ms(1)).await });
        let message = catch_panic(|| drop(sleep(ms(1))))
            .expect_err("after block_on returned no reactor is current: sleep() must panic");
        assert!(message.contains("context of a runtime"), "{message}");
    });
}

#[test]
fn a_sleep_polled_by_a_then_b_then_a_wakes_a() {
    watchdog("a Sleep polled with wakers A, B, then A again").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let mut sleep = sleep(ms(10));
        let (a, a_wakes) = counting_waker();
        let (b, b_wakes) = counting_waker();
        for (poll, waker) in [(1, &a), (2, &b), (3, &a)] {
            assert!(poll_with(&mut sleep, waker).is_pending(), "poll {poll}");
        }
        assert_eq!(reactor.timers(), 1, "polled three times: still one entry");
        reactor.advance(ms(10));
        fire(&reactor);
        assert_eq!(
            (a_wakes.get(), b_wakes.get()),
            (1, 0),
            "polled with A, then B, then A again: the latest poll's waker is A's, and A must be \
             woken (woken: A {}, B {}). Compare each poll's waker with the one STORED now (the \
             reactor's set_timer_waker does that), not with a copy kept from the first poll",
            a_wakes.get(),
            b_wakes.get()
        );
    });
}

#[test]
fn dropping_a_sleep_whose_deadline_passed_unfired_removes_its_entry() {
    watchdog("dropping a registered Sleep after its deadline, before any turn").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        for past in [Duration::ZERO, ms(5)] {
            let mut sleep = sleep(ms(10));
            let (waker, wakes) = counting_waker();
            assert!(poll_with(&mut sleep, &waker).is_pending());
            reactor.advance(ms(10) + past);
            assert!(sleep.is_elapsed());
            drop(sleep);
            assert_eq!(
                reactor.timers(),
                0,
                "a registered Sleep dropped {past:?} after its deadline, before any turn fired \
                 it, must remove its entry: \"none once it completed or was dropped\". An \
                 elapsed deadline does not mean the reactor took the entry: only a turn does"
            );
            assert_eq!(fire(&reactor), 0, "the dropped Sleep's timer must not fire");
            assert_eq!(wakes.get(), 0, "nobody waits for a dropped Sleep: no wake");
        }
    });
}
