//! Part 6 — `Reactor::park`: the runtime's idle path, and the paused clock's auto-advance.
//!
//! The first tests call `park` by hand; the others run the given `Runtime` on a paused clock,
//! where a one-hour sleep takes microseconds because time jumps to the next deadline whenever
//! no task is ready.

mod common;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{manual_reactor, ms, real_reactor, watchdog};
use futures::channel::oneshot;
use harness::{ThreadWatch, counting_waker};
use timers::{Runtime, interval, sleep, spawn, timeout};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn park_on_a_paused_clock_jumps_exactly_to_the_earliest_deadline() {
    watchdog("park with a paused clock").run(|| {
        let reactor = manual_reactor();
        let start = reactor.now();
        let (first, first_wakes) = counting_waker();
        let (second, second_wakes) = counting_waker();
        reactor.insert_timer(start + ms(20), &second);
        reactor.insert_timer(start + ms(10), &first);
        // A poke left over from the inserts (allowed: a poke nobody needed) would make park
        // return without moving the clock; take it first. Nothing is due: this fires nothing.
        reactor.turn(Some(Duration::ZERO)).unwrap();
        let turn = reactor.park().unwrap();
        assert_eq!(
            reactor.now() - start,
            ms(10),
            "park with nothing ready must move a paused clock EXACTLY to the earliest deadline \
             (10 ms), never past it"
        );
        assert_eq!(turn.fired, 1, "and fire what is due then: {turn:?}");
        assert_eq!((first_wakes.get(), second_wakes.get()), (1, 0));
        reactor.turn(Some(Duration::ZERO)).unwrap();
        reactor.park().unwrap();
        assert_eq!(
            reactor.now() - start,
            ms(20),
            "the next park jumps to the next deadline"
        );
        assert_eq!(second_wakes.get(), 1);
    });
}

#[test]
fn park_does_not_move_the_clock_when_a_timer_is_already_due() {
    watchdog("park with a due timer").run(|| {
        let reactor = manual_reactor();
        let start = reactor.now();
        let (due, due_wakes) = counting_waker();
        let (later, later_wakes) = counting_waker();
        reactor.insert_timer(start, &due);
        reactor.insert_timer(start + ms(10), &later);
        let turn = reactor.park().unwrap();
        assert_eq!(
            (reactor.now(), due_wakes.get(), later_wakes.get()),
            (start, 1, 0),
            "a timer was already due: park must fire it WITHOUT moving the clock (something \
             became ready, so the runtime has work); {turn:?}"
        );
        assert_eq!(reactor.timers(), 1);
    });
}

#[test]
fn park_does_not_move_the_clock_after_a_wake() {
    watchdog("park after Reactor::wake").run(|| {
        let reactor = manual_reactor();
        let start = reactor.now();
        let (waker, wakes) = counting_waker();
        reactor.insert_timer(start + ms(10), &waker);
        reactor.wake();
        let turn = reactor.park().unwrap();
        assert!(
            turn.poked,
            "the wake before park must show in its report: {turn:?}"
        );
        assert_eq!(
            (reactor.now(), wakes.get()),
            (start, 0),
            "park was woken (a task may have become ready on another thread): it must not jump \
             the clock then; time skips only when nothing at all happened"
        );
    });
}

#[test]
fn park_on_a_paused_clock_with_no_timer_waits_for_a_wake() {
    watchdog("park with no timer").run(|| {
        let reactor = manual_reactor();
        let start = reactor.now();
        let (watch_tx, watch_rx) = std::sync::mpsc::channel();
        let parked = {
            let reactor = Arc::clone(&reactor);
            thread::spawn(move || {
                watch_tx.send(ThreadWatch::current()).unwrap();
                reactor.park().unwrap()
            })
        };
        let watch = watch_rx.recv().unwrap();
        let _ = watch.wait_until_asleep(Duration::from_secs(5));
        reactor.wake();
        let turn = parked.join().unwrap();
        assert!(turn.poked, "park with no timer waits until woken: {turn:?}");
        assert_eq!(
            reactor.now(),
            start,
            "with no deadline to jump to, the clock stays"
        );
    });
}

#[test]
fn park_on_a_real_clock_waits_for_the_earliest_timer() {
    watchdog("park with a real clock").run(|| {
        let reactor = real_reactor();
        let (waker, _) = counting_waker();
        reactor.insert_timer(reactor.now() + HOUR, &waker);
        reactor.wake();
        let before = reactor.now();
        let turn = reactor.park().unwrap();
        let timeout = turn
            .timeout
            .expect("a real-clock park with a timer must have a timeout");
        assert!(
            timeout > HOUR - Duration::from_secs(1) && timeout <= HOUR,
            "a real-clock park must wait for the earliest timer (about 1 h), not spin with a zero \
             timeout or jump the clock: {turn:?}"
        );
        assert!(
            reactor.now() - before < Duration::from_secs(60),
            "a real clock never jumps"
        );
    });
}

#[test]
fn a_paused_runtime_sleeps_an_hour_in_no_time() {
    watchdog("sleep(1 h) on a paused runtime").run(|| {
        let rt = Runtime::paused().unwrap();
        let start = rt.reactor().now();
        let real = Instant::now();
        rt.block_on(async { sleep(HOUR).await });
        assert_eq!(
            rt.reactor().now() - start,
            HOUR,
            "the paused clock must read exactly start + 1 h when the sleep completes"
        );
        assert!(
            real.elapsed() < Duration::from_secs(60),
            "it took no real hour"
        );
        assert_eq!(rt.reactor().timers(), 0);
    });
}

#[test]
fn a_paused_runtime_wakes_its_sleepers_in_order_at_their_deadlines() {
    watchdog("three tasks sleeping on a paused runtime").run(|| {
        let rt = Runtime::paused().unwrap();
        let start = rt.reactor().now();
        let log: Arc<Mutex<Vec<(u64, Duration)>>> = Arc::default();
        let mut done = Vec::new();
        for d in [30u64, 10, 20] {
            let (tx, rx) = oneshot::channel::<()>();
            done.push(rx);
            let log = Arc::clone(&log);
            let reactor = Arc::clone(rt.reactor());
            rt.spawn(async move {
                sleep(ms(d)).await;
                log.lock().unwrap().push((d, reactor.now() - start));
                let _ = tx.send(());
            });
        }
        rt.block_on(async {
            for rx in done {
                rx.await.unwrap();
            }
        });
        assert_eq!(
            *log.lock().unwrap(),
            [(10, ms(10)), (20, ms(20)), (30, ms(30))],
            "(sleep, clock when it completed): each sleeper must complete in deadline order, with \
             the clock exactly at its deadline (auto-advance jumps to the earliest deadline, \
             never further)"
        );
    });
}

#[test]
fn a_paused_runtime_lets_ready_tasks_run_before_time_moves() {
    watchdog("a busy task beside a sleeper on a paused runtime").run(|| {
        let rt = Runtime::paused().unwrap();
        let start = rt.reactor().now();
        let reactor = Arc::clone(rt.reactor());
        let clock_seen = rt.block_on(async move {
            let (tx, rx) = oneshot::channel::<Vec<Duration>>();
            spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..5 {
                    seen.push(reactor.now() - start);
                    yield_now().await;
                }
                let _ = tx.send(seen);
            });
            sleep(ms(10)).await;
            rx.await.unwrap()
        });
        assert_eq!(
            clock_seen,
            [Duration::ZERO; 5],
            "a task that keeps yielding is always ready: the paused clock must not move while \
             any task is ready (park runs only when nothing is)"
        );
    });
}

#[test]
fn a_timeout_on_a_paused_runtime_elapses_at_its_deadline() {
    watchdog("timeout on a paused runtime").run(|| {
        let rt = Runtime::paused().unwrap();
        let start = rt.reactor().now();
        let outcome = rt.block_on(async {
            timeout(Duration::from_secs(5), std::future::pending::<()>()).await
        });
        assert!(
            outcome.is_err(),
            "a pending future under timeout(5 s) must give Err(Elapsed)"
        );
        assert_eq!(rt.reactor().now() - start, Duration::from_secs(5));
        let outcome = rt.block_on(async { timeout(Duration::from_secs(5), sleep(ms(1))).await });
        assert!(
            outcome.is_ok(),
            "a 1 ms sleep under timeout(5 s) completes first"
        );
        assert_eq!(rt.reactor().timers(), 0, "nothing is left registered");
    });
}

#[test]
fn an_interval_on_a_paused_runtime_ticks_on_its_grid() {
    watchdog("interval on a paused runtime").run(|| {
        let rt = Runtime::paused().unwrap();
        let start = rt.reactor().now();
        let ticks = rt.block_on(async {
            let mut interval = interval(Duration::from_secs(60));
            let mut ticks = Vec::new();
            for _ in 0..4 {
                ticks.push(interval.tick().await - start);
            }
            ticks
        });
        let minute = Duration::from_secs(60);
        assert_eq!(ticks, [Duration::ZERO, minute, 2 * minute, 3 * minute]);
        assert_eq!(rt.reactor().now() - start, 3 * minute);
    });
}

#[test]
fn a_sleep_completes_beside_a_task_that_never_stops_yielding() {
    watchdog("a 2 ms sleep beside a busy task on a real runtime").run(|| {
        let rt = Runtime::new().unwrap();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let busy_done = Arc::clone(&done);
        rt.spawn(async move {
            while !busy_done.load(std::sync::atomic::Ordering::SeqCst) {
                yield_now().await;
            }
        });
        let started = Instant::now();
        rt.block_on(async move {
            sleep(ms(2)).await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        assert!(
            started.elapsed() >= ms(2),
            "the sleep completed before its deadline"
        );
    });
}

#[test]
fn a_real_runtime_sleep_is_never_early() {
    watchdog("short real sleeps").run(|| {
        let rt = Runtime::new().unwrap();
        for d in [Duration::from_micros(300), ms(1), ms(2)] {
            let started = Instant::now();
            rt.block_on(async { sleep(d).await });
            let took = started.elapsed();
            assert!(
                took >= d,
                "a real sleep of {d:?} completed after {took:?}: a sleep must never complete \
                 before its deadline"
            );
        }
    });
}

/// Returns Pending once (waking itself first), then Ready.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

#[test]
fn a_wake_from_another_thread_ends_a_park() {
    watchdog("a task and the main future woken from another thread").run(|| {
        let rt = Runtime::new().unwrap();
        let (watch_tx, watch_rx) = std::sync::mpsc::channel::<ThreadWatch>();
        let (task_tx, task_rx) = oneshot::channel::<u8>();
        let (main_tx, main_rx) = oneshot::channel::<u8>();
        let sender = thread::spawn(move || {
            for tx in [task_tx, main_tx] {
                let watch = watch_rx.recv().unwrap();
                let _ = watch.wait_until_asleep(Duration::from_secs(5));
                tx.send(7).unwrap();
            }
        });
        let (relay_tx, relay_rx) = oneshot::channel::<u8>();
        let got = rt.block_on(async move {
            spawn(async move {
                let value = task_rx.await.unwrap();
                relay_tx.send(value).unwrap();
            });
            // The runtime parks with no timer: only a wake from the other thread can end it.
            watch_tx.send(ThreadWatch::current()).unwrap();
            let from_task = relay_rx.await.unwrap();
            watch_tx.send(ThreadWatch::current()).unwrap();
            let from_main = main_rx.await.unwrap();
            from_task + from_main
        });
        sender.join().unwrap();
        assert_eq!(
            got, 14,
            "both wakes from another thread reached the parked runtime"
        );
    });
}

#[test]
fn spawn_after_block_on_returned_panics_with_a_clear_message() {
    watchdog("spawn() outside block_on").run(|| {
        let rt = Runtime::paused().unwrap();
        rt.block_on(async { sleep(ms(1)).await });
        let message = harness::catch_panic(|| spawn(async {}))
            .expect_err("spawn() after block_on returned must panic: no runtime is current");
        assert!(message.contains("context of a runtime"), "{message}");
    });
}

#[test]
fn a_due_timer_fires_while_tasks_stay_busy() {
    watchdog("a due timer on a paused runtime that never goes idle").run(|| {
        let rt = Runtime::paused().unwrap();
        let reactor = Arc::clone(rt.reactor());
        let start = reactor.now();
        let (tx, mut rx) = oneshot::channel::<Duration>();
        let sleeper_clock = Arc::clone(&reactor);
        rt.spawn(async move {
            sleep(ms(10)).await;
            let _ = tx.send(sleeper_clock.now() - start);
        });
        let woke_at = rt.block_on(async move {
            yield_now().await; // the sleeper registers its timer
            reactor.advance(ms(10)); // now it is due; this task never lets the runtime idle
            loop {
                if let Ok(Some(at)) = rx.try_recv() {
                    break at;
                }
                yield_now().await;
            }
        });
        assert_eq!(
            woke_at,
            ms(10),
            "the sleeper completed at its deadline though the runtime never parked"
        );
    });
}

#[test]
fn park_jumps_exactly_to_a_deadline_that_is_not_whole_milliseconds_away() {
    watchdog("park with deadlines 1 ns, 0.5 ms and 1.5 ms away").run(|| {
        let reactor = manual_reactor();
        for away in [
            Duration::from_nanos(1),
            Duration::from_micros(500),
            Duration::from_micros(1500),
            ms(2) + Duration::from_nanos(1),
        ] {
            let start = reactor.now();
            let (waker, wakes) = counting_waker();
            reactor.insert_timer(start + away, &waker);
            // Take a poke nobody needed first (allowed), so that park has to jump.
            reactor.turn(Some(Duration::ZERO)).unwrap();
            let turn = reactor.park().unwrap();
            assert_eq!(
                reactor.now() - start,
                away,
                "park must move a paused clock EXACTLY to the earliest deadline ({away:?} \
                 away), never past it: the clock moved {:?}. The epoll timeout is rounded up to \
                 whole milliseconds; the jump is not (advance_to(earliest), not advance(the \
                 rounded timeout))",
                reactor.now() - start
            );
            assert_eq!((turn.fired, wakes.get()), (1, 1), "{turn:?}");
        }
    });
}

#[test]
fn a_paused_runtime_lands_exactly_on_sub_millisecond_deadlines() {
    watchdog("sleep and interval of 1.5 ms on a paused runtime").run(|| {
        let rt = Runtime::paused().unwrap();
        let start = rt.reactor().now();
        let period = Duration::from_micros(1500);
        let (woke, ticks) = rt.block_on(async {
            let begun = rt.reactor().now();
            sleep(period).await;
            let woke = rt.reactor().now() - begun;
            let mut interval = interval(period);
            let mut ticks = Vec::new();
            for _ in 0..3 {
                ticks.push(interval.tick().await - start);
            }
            (woke, ticks)
        });
        assert_eq!(
            woke, period,
            "a 1.5 ms sleep on a paused runtime must complete with the clock exactly at its \
             deadline: park jumps to the earliest deadline, not to the rounded-up timeout"
        );
        assert_eq!(
            ticks,
            [period, 2 * period, 3 * period],
            "a 1.5 ms interval on a paused runtime ticks exactly on its grid"
        );
        assert_eq!(rt.reactor().now() - start, 3 * period);
    });
}
