//! Part 5 — `Interval`: a grid of ticks, and Burst, Delay and Skip for the ones missed.
//!
//! Each test polls `poll_tick` by hand on a paused clock. `ticks_now` collects every tick that
//! is ready without moving the clock, so "Burst fires 10, 20 and 30 back to back at 35" is one
//! assertion.

mod common;

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use common::{manual_reactor, ms, watchdog};
use harness::{catch_panic, counting_waker};
use timers::{Interval, MissedTickBehavior, interval, interval_at};

/// The ticks ready now (at most 10), as offsets from `start` in ms.
fn ticks_now(interval: &mut Interval, start: Instant) -> Vec<u64> {
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut ticks = Vec::new();
    while let Poll::Ready(at) = interval.poll_tick(&mut cx) {
        ticks.push(u64::try_from((at - start).as_millis()).unwrap());
        if ticks.len() == 10 {
            break;
        }
    }
    ticks
}

/// Runs the scenario of the README's picture: period 10 ms, a tick at 0, then the clock jumps
/// to 35 ms; then to 40, 45, 50 and 55. Returns the ticks seen at each step.
fn missed_ticks(behavior: MissedTickBehavior) -> Vec<(u64, Vec<u64>)> {
    let reactor = manual_reactor();
    let _enter = reactor.enter();
    let start = reactor.now();
    let mut interval = interval(ms(10));
    interval.set_missed_tick_behavior(behavior);
    assert_eq!(
        interval.missed_tick_behavior(),
        behavior,
        "missed_tick_behavior() must return what set_missed_tick_behavior set"
    );
    let mut seen = vec![(0, ticks_now(&mut interval, start))];
    for (at, step) in [(35, 35), (40, 5), (45, 5), (50, 5), (55, 5)] {
        reactor.advance(ms(step));
        seen.push((at, ticks_now(&mut interval, start)));
    }
    seen
}

#[test]
fn the_first_tick_completes_at_once() {
    watchdog("the first tick").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut interval = interval(ms(10));
        assert_eq!(
            ticks_now(&mut interval, start),
            [0],
            "interval(period): the first tick completes at once (and only one tick is ready)"
        );
        assert_eq!(interval.period(), ms(10));
        assert_eq!(
            interval.missed_tick_behavior(),
            MissedTickBehavior::Burst,
            "Burst is the default"
        );
    });
}

#[test]
fn interval_at_waits_for_its_start() {
    watchdog("interval_at a later start").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut interval = interval_at(start + ms(5), ms(10));
        assert!(
            ticks_now(&mut interval, start).is_empty(),
            "no tick before the start"
        );
        reactor.advance(ms(5));
        assert_eq!(
            ticks_now(&mut interval, start),
            [5],
            "the first tick is at `start`"
        );
        reactor.advance(ms(10));
        assert_eq!(ticks_now(&mut interval, start), [15]);
    });
}

#[test]
fn ticks_on_time_follow_the_grid_whatever_the_behavior() {
    watchdog("ticks that are never late").run(|| {
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let reactor = manual_reactor();
            let _enter = reactor.enter();
            let start = reactor.now();
            let mut interval = interval(ms(10));
            interval.set_missed_tick_behavior(behavior);
            let mut seen = ticks_now(&mut interval, start);
            for _ in 0..3 {
                reactor.advance(ms(10) - Duration::from_nanos(1));
                assert!(
                    ticks_now(&mut interval, start).is_empty(),
                    "{behavior:?}: a tick completed 1 ns before its instant"
                );
                reactor.advance(Duration::from_nanos(1));
                seen.extend(ticks_now(&mut interval, start));
            }
            assert_eq!(
                seen,
                [0, 10, 20, 30],
                "{behavior:?}: on-time ticks are on the grid"
            );
        }
    });
}

#[test]
fn a_pending_tick_is_woken_by_the_reactor_with_the_latest_waker() {
    watchdog("a waiting tick").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut interval = interval(ms(10));
        assert_eq!(ticks_now(&mut interval, start), [0]);
        let (first, first_wakes) = counting_waker();
        let (second, second_wakes) = counting_waker();
        assert!(
            interval
                .poll_tick(&mut Context::from_waker(&first))
                .is_pending()
        );
        assert!(
            interval
                .poll_tick(&mut Context::from_waker(&second))
                .is_pending()
        );
        reactor.advance(ms(10));
        reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(
            (first_wakes.get(), second_wakes.get()),
            (0, 1),
            "the reactor must wake the waker of the latest poll_tick at the next tick"
        );
        assert_eq!(
            interval.poll_tick(&mut Context::from_waker(&second)),
            Poll::Ready(start + ms(10))
        );
    });
}

#[test]
fn burst_fires_the_missed_ticks_back_to_back() {
    watchdog("MissedTickBehavior::Burst").run(|| {
        assert_eq!(
            missed_ticks(MissedTickBehavior::Burst),
            [
                (0, vec![0]),
                (35, vec![10, 20, 30]),
                (40, vec![40]),
                (45, vec![]),
                (50, vec![50]),
                (55, vec![])
            ],
            "(clock in ms, ticks ready then) with Burst: at 35 ms the missed 10, 20 and 30 \
             complete at once (each returns its SCHEDULED instant), then the grid goes on: \
             next tick = scheduled + period"
        );
    });
}

#[test]
fn delay_puts_the_next_tick_a_period_after_the_late_one() {
    watchdog("MissedTickBehavior::Delay").run(|| {
        assert_eq!(
            missed_ticks(MissedTickBehavior::Delay),
            [
                (0, vec![0]),
                (35, vec![10]),
                (40, vec![]),
                (45, vec![45]),
                (50, vec![]),
                (55, vec![55])
            ],
            "(clock in ms, ticks ready then) with Delay: the tick scheduled at 10 completes at \
             35, and the next one is 35 + 10 = 45: next tick = now + period"
        );
    });
}

#[test]
fn skip_drops_the_missed_ticks_and_keeps_the_grid() {
    watchdog("MissedTickBehavior::Skip").run(|| {
        assert_eq!(
            missed_ticks(MissedTickBehavior::Skip),
            [
                (0, vec![0]),
                (35, vec![10]),
                (40, vec![40]),
                (45, vec![]),
                (50, vec![50]),
                (55, vec![])
            ],
            "(clock in ms, ticks ready then) with Skip: the tick scheduled at 10 completes at \
             35; 20 and 30 are skipped and the grid is kept: the next tick is 40, the first grid \
             point after now"
        );
    });
}

#[test]
fn skip_on_a_grid_point_goes_to_the_next_one() {
    watchdog("Skip when the clock is exactly on a grid point").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut interval = interval(ms(10));
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        assert_eq!(ticks_now(&mut interval, start), [0]);
        reactor.advance(ms(30));
        assert_eq!(
            ticks_now(&mut interval, start),
            [10],
            "at exactly 30 ms, Skip completes the late tick 10 and schedules the first grid \
             point STRICTLY after now (40), not 30 (a second tick at the same instant)"
        );
        reactor.advance(ms(10));
        assert_eq!(ticks_now(&mut interval, start), [40]);
    });
}

#[test]
fn a_zero_period_panics() {
    watchdog("interval(0)").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut working = interval(ms(1));
        assert_eq!(ticks_now(&mut working, start), [0]);
        let outcome = catch_panic(|| {
            let _zero = interval(Duration::ZERO);
        });
        assert!(
            outcome.is_err(),
            "interval(Duration::ZERO) must panic: it would tick forever"
        );
        for start in [reactor.now(), reactor.now() + ms(5)] {
            let outcome = catch_panic(|| {
                let _zero = interval_at(start, Duration::ZERO);
            });
            assert!(
                outcome.is_err(),
                "interval_at(start, Duration::ZERO) must panic too (its doc: \"# Panics If \
                 `period` is zero\"), whether `start` has passed or not: it returned an \
                 Interval that would tick forever at `start`. Check the period in \
                 interval_at, the function every interval is made by"
            );
        }
    });
}

#[test]
fn an_interval_of_duration_max_ticks_once_and_does_not_panic() {
    watchdog("interval(Duration::MAX)").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut interval = interval(Duration::MAX);
        let ticks = catch_panic(move || {
            let first = ticks_now(&mut interval, start);
            (first, interval)
        });
        let (first, _interval) = ticks.unwrap_or_else(|message| {
            panic!(
                "an interval of Duration::MAX panicked at its first tick ({message}): the next \
                 tick's instant must saturate (now + FAR_FUTURE) like sleep's deadline"
            )
        });
        assert_eq!(
            first,
            [0],
            "the first tick completes at once; the next is far away"
        );
    });
}

#[test]
fn a_dropped_interval_leaves_no_timer() {
    watchdog("dropping an Interval").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        {
            let mut interval = interval(ms(10));
            assert_eq!(ticks_now(&mut interval, start), [0]);
            assert!(ticks_now(&mut interval, start).is_empty());
            assert_eq!(
                reactor.timers(),
                1,
                "a waiting tick is one registered timer"
            );
        } // dropped here
        assert_eq!(
            reactor.timers(),
            0,
            "a dropped interval must leave no timer behind"
        );
    });
}

#[test]
fn a_cancelled_tick_loses_no_tick() {
    watchdog("dropping a tick() future before it completes").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let start = reactor.now();
        let mut interval = interval(ms(10));
        assert_eq!(ticks_now(&mut interval, start), [0]);
        let (waker, _) = counting_waker();
        {
            let mut tick = std::pin::pin!(interval.tick());
            assert!(
                tick.as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending(),
                "the 10 ms tick is not due at 0 ms"
            );
        } // the tick() future is dropped here, before it completed
        reactor.advance(ms(10));
        assert_eq!(
            ticks_now(&mut interval, start),
            [10],
            "a tick() future dropped while waiting must not lose or move the tick: the next \
             poll_tick returns the 10 ms tick"
        );
    });
}

/// The ticks ready now (at most 10), as offsets from `start` in microseconds.
fn ticks_now_us(interval: &mut Interval, start: Instant) -> Vec<u128> {
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut ticks = Vec::new();
    while let Poll::Ready(at) = interval.poll_tick(&mut cx) {
        ticks.push((at - start).as_micros());
        if ticks.len() == 10 {
            break;
        }
    }
    ticks
}

#[test]
fn skip_keeps_a_grid_that_is_not_whole_milliseconds() {
    watchdog("Skip with periods of 1.5 ms and 0.5 ms").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        // (period, how late the clock jumps, the late tick, the next grid point after now)
        for (period_us, jump_us, late_tick, next) in [
            (1500u64, 2000u64, 1500u64, 3000u64),
            (500, 1200, 500, 1500),
            (2500, 6000, 2500, 7500),
        ] {
            let start = reactor.now();
            let mut interval = interval(Duration::from_micros(period_us));
            interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
            assert_eq!(ticks_now_us(&mut interval, start), [0]);
            reactor.advance(Duration::from_micros(jump_us));
            let late = catch_panic(|| ticks_now_us(&mut interval, start));
            assert_eq!(
                late.as_deref(),
                Ok(&[u128::from(late_tick)][..]),
                "period {period_us} µs, clock at {jump_us} µs: Skip completes the late tick \
                 {late_tick} µs (ticks shown in µs from the start; Err is a panic)"
            );
            reactor.advance(Duration::from_micros(next - jump_us - 1));
            assert!(
                ticks_now_us(&mut interval, start).is_empty(),
                "period {period_us} µs: the next tick is the grid point {next} µs, not earlier"
            );
            reactor.advance(Duration::from_micros(1));
            assert_eq!(
                ticks_now_us(&mut interval, start),
                [u128::from(next)],
                "period {period_us} µs, late at {jump_us} µs: Skip's next tick is the first \
                 grid point start + k × period strictly after now ({next} µs). Compute how far \
                 into the period `now` is in nanoseconds (`as_nanos`), not whole milliseconds: \
                 a period that is not a whole number of ms leaves the grid, and one under 1 ms \
                 divides by zero"
            );
        }
    });
}

#[test]
fn interval_at_a_start_in_the_past_keeps_that_start_as_its_grid() {
    watchdog("interval_at a start 5 ms in the past").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let now = reactor.now();
        let start = now - ms(5);
        let mut interval = interval_at(start, ms(10));
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let first = interval.poll_tick(&mut cx);
        assert_eq!(
            first,
            Poll::Ready(start),
            "interval_at(now - 5 ms, 10 ms): the first tick completes at once and returns its \
             SCHEDULED instant, `start` (5 ms ago), not now: a start in the past is not moved \
             to now"
        );
        reactor.advance(ms(5) - Duration::from_nanos(1));
        assert!(
            interval.poll_tick(&mut cx).is_pending(),
            "the second tick is at start + 10 ms = now + 5 ms, not before"
        );
        reactor.advance(Duration::from_nanos(1));
        assert_eq!(
            interval.poll_tick(&mut cx),
            Poll::Ready(start + ms(10)),
            "the grid is start, start + period, ...: the second tick is at start + 10 ms \
             (now + 5 ms), not now + 10 ms"
        );
    });
}
