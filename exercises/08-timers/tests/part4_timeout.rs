//! Part 4 — `timeout`: the inner future first, the deadline fixed at creation.

mod common;

use std::future::{pending, ready};
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{manual_reactor, ms, watchdog};
use futures::channel::oneshot;
use harness::counting_waker;
use timers::{Elapsed, timeout};

#[test]
fn a_ready_future_gives_ok_and_registers_no_timer() {
    watchdog("timeout around a ready future").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(timeout(ms(10), ready(7)));
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
        assert_eq!(
            reactor.timers(),
            0,
            "a timeout whose future is ready on the first poll must not register its deadline \
             (poll the future first; the Sleep registers only when polled)"
        );
    });
}

#[test]
fn a_pending_future_times_out_at_the_deadline_and_is_woken_for_it() {
    watchdog("timeout around a future that never completes").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, wakes) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(timeout(ms(10), pending::<u8>()));
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(
            reactor.timers(),
            1,
            "a pending timeout registers its deadline"
        );
        reactor.advance(ms(10) - Duration::from_nanos(1));
        assert_eq!(
            fut.as_mut().poll(&mut cx),
            Poll::Pending,
            "1 ns early is not elapsed"
        );
        reactor.advance(Duration::from_nanos(1));
        reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(
            wakes.get(),
            1,
            "the reactor must wake the timeout's task at the deadline"
        );
        assert_eq!(
            fut.as_mut().poll(&mut cx),
            Poll::Ready(Err(Elapsed::new())),
            "at the deadline a pending future gives Err(Elapsed)"
        );
        assert_eq!(Elapsed::new().to_string(), "deadline has elapsed");
        assert_eq!(reactor.timers(), 0);
    });
}

#[test]
fn a_future_ready_after_the_deadline_still_gives_ok() {
    watchdog("timeout whose future and deadline are both ready").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let (tx, rx) = oneshot::channel::<u8>();
        let mut fut = pin!(timeout(ms(10), rx));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        reactor.advance(ms(20));
        tx.send(9).unwrap();
        assert_eq!(
            fut.as_mut().poll(&mut cx),
            Poll::Ready(Ok(Ok(9))),
            "the future was ready when polled, though the deadline had passed: poll the inner \
             future FIRST, and report Elapsed only if it is still pending"
        );
    });
}

#[test]
fn the_deadline_counts_from_creation_not_from_the_first_poll() {
    watchdog("timeout created, then polled late").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(timeout(ms(10), pending::<()>()));
        reactor.advance(ms(10));
        assert_eq!(
            fut.as_mut().poll(&mut cx),
            Poll::Ready(Err(Elapsed::new())),
            "timeout(10 ms) created at 0 and first polled at 10 ms has elapsed: the deadline \
             is fixed when the timeout is created"
        );
    });
}

#[test]
fn a_dropped_timeout_leaves_no_timer() {
    watchdog("dropping a pending timeout").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        {
            let mut fut = pin!(timeout(ms(10), pending::<()>()));
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert_eq!(reactor.timers(), 1);
        }
        assert_eq!(
            reactor.timers(),
            0,
            "a dropped timeout must remove its deadline's timer"
        );
    });
}

#[test]
fn a_timeout_of_duration_max_never_elapses_and_does_not_panic() {
    watchdog("timeout(Duration::MAX)").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let (waker, _) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(timeout(Duration::MAX, pending::<()>()));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        reactor.advance(Duration::from_secs(86_400 * 365));
        assert!(
            fut.as_mut().poll(&mut cx).is_pending(),
            "timeout(Duration::MAX) must not elapse after a year"
        );
    });
}

#[test]
fn get_ref_and_into_inner_give_the_wrapped_future() {
    watchdog("Timeout::get_ref and into_inner").run(|| {
        let reactor = manual_reactor();
        let _enter = reactor.enter();
        let fut = timeout(ms(10), ready(3));
        assert_eq!(fut.get_ref().clone().into_inner(), 3);
        let inner = fut.into_inner();
        assert_eq!(inner.into_inner(), 3);
        assert_eq!(reactor.timers(), 0);
    });
}
