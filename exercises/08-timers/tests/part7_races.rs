//! Part 7 — races: a timer inserted, or the clock advanced, while the reactor is about to wait.
//!
//! The model-checker tests run a tiny scenario under `harness::model::check`: the reactor's
//! `crate::sync` locks become the checker's, and it tries every order in which the two threads'
//! lock steps can interleave. The reactor's wait itself is a real `epoll_wait` of at most
//! `WAIT`: in a bad order the turn sleeps its whole `WAIT` although the other thread's timer
//! (or clock move) came before the wait began, which a correct reactor never does (it is
//! poked, or it saw the change when it computed its timeout). Your locks and atomics must come
//! from `crate::sync` for the checker to see them.

mod common;

use std::sync::{Arc, Mutex};
use std::task::Context;
use std::thread;
use std::time::{Duration, Instant};

use common::{manual_reactor, ms, waker_fn, watchdog};
use futures::channel::oneshot;
use harness::{ThreadWatch, counting_waker, model};
use timers::{Runtime, Turn, sleep, spawn};

/// The longest a turn may wait in the model tests.
const WAIT: Duration = Duration::from_millis(10);
const HOUR: Duration = Duration::from_secs(3600);

/// Fails if the turn slept its whole `WAIT`, unpoked, though `other` happened before it began
/// waiting (`began` is when the turn was called: an event before `began + WAIT` happened
/// before the wait ended, and in the model, where a thread blocked in `epoll_wait` stops every
/// other, that means before the wait began).
fn assert_not_slept_through(turn: Turn, began: Instant, other: Instant, what: &str) {
    let slept_through = !turn.poked && turn.timeout == Some(WAIT) && other < began + WAIT;
    assert!(
        !slept_through,
        "{what} before the reactor's wait began, yet the turn computed its timeout without it \
         and was not poked: it slept its whole {WAIT:?} ({turn:?}). Compute the timeout and \
         mark \"waiting, until T\" in ONE critical section, and have the other side check that \
         mark under the same lock (then wake the mio::Waker)"
    );
}

#[test]
fn a_timer_inserted_while_the_reactor_is_about_to_wait_is_never_missed() {
    model::check(
        "Reactor::insert_timer on another thread while turn computes its timeout and waits",
        &[
            "turn computes its timeout and marks \"waiting\" in two critical sections: an insert \
             in between sees no waiting turn and does not poke",
            "insert_timer never wakes the mio::Waker, or only when the new timer is earlier than \
             every stored one but not earlier than the turn's max",
        ],
        || {
            let reactor = manual_reactor();
            let (far, _) = counting_waker();
            reactor.insert_timer(reactor.now() + HOUR, &far);
            let inserted_at = Arc::new(Mutex::new(None));
            let due = reactor.now();
            let inserter = {
                let reactor = Arc::clone(&reactor);
                let inserted_at = Arc::clone(&inserted_at);
                model::thread::spawn(move || {
                    let (waker, _) = counting_waker();
                    reactor.insert_timer(due, &waker);
                    *inserted_at.lock().unwrap() = Some(Instant::now());
                })
            };
            let began = Instant::now();
            let turn = reactor.turn(Some(WAIT)).unwrap();
            inserter.join().unwrap();
            let inserted = inserted_at.lock().unwrap().expect("the inserter ran");
            assert_not_slept_through(turn, began, inserted, "a timer due now was inserted");
        },
    );
}

#[test]
fn advancing_the_clock_while_the_reactor_is_about_to_wait_is_never_missed() {
    model::check(
        "Reactor::advance on another thread while turn computes its timeout and waits",
        &[
            "advance looks at \"is a turn waiting?\" before it moves the clock: a turn can read \
             the old time and mark itself waiting in between. Move the clock first, then check \
             under the lock",
            "advance never wakes the mio::Waker, or the turn marks \"waiting\" in a second \
             critical section after computing its timeout",
        ],
        || {
            let reactor = manual_reactor();
            let (waker, _) = counting_waker();
            reactor.insert_timer(reactor.now() + HOUR, &waker);
            let advanced_at = Arc::new(Mutex::new(None));
            let advancer = {
                let reactor = Arc::clone(&reactor);
                let advanced_at = Arc::clone(&advanced_at);
                model::thread::spawn(move || {
                    reactor.advance(HOUR);
                    *advanced_at.lock().unwrap() = Some(Instant::now());
                })
            };
            let began = Instant::now();
            let turn = reactor.turn(Some(WAIT)).unwrap();
            advancer.join().unwrap();
            let advanced = advanced_at.lock().unwrap().expect("the advancer ran");
            assert_not_slept_through(
                turn,
                began,
                advanced,
                "the clock was advanced past the timer's deadline",
            );
        },
    );
}

#[test]
fn a_sleep_started_on_another_thread_wakes_a_parked_runtime_in_time() {
    watchdog("a 5 ms sleep started on another thread while the runtime waits an hour")
        .limit(Duration::from_secs(10))
        .run(|| {
            let rt = Runtime::new().unwrap();
            let reactor = Arc::clone(rt.reactor());
            let (watch_tx, watch_rx) = std::sync::mpsc::channel();
            let (done_tx, done_rx) = oneshot::channel::<()>();
            let other = thread::spawn(move || {
                let watch: ThreadWatch = watch_rx.recv().unwrap();
                let _ = watch.wait_until_asleep(Duration::from_secs(5));
                let _enter = reactor.enter();
                let done_tx = Mutex::new(Some(done_tx));
                let waker = waker_fn(move || {
                    if let Some(tx) = done_tx.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                });
                let mut sleep = sleep(ms(5));
                assert!(
                    std::pin::Pin::new(&mut sleep)
                        .poll(&mut Context::from_waker(&waker))
                        .is_pending()
                );
                sleep
            });
            let started = Instant::now();
            rt.block_on(async move {
                spawn(async {
                    sleep(HOUR).await;
                });
                watch_tx.send(ThreadWatch::current()).unwrap();
                done_rx.await.unwrap();
            });
            let took = started.elapsed();
            drop(other.join().unwrap());
            assert!(
                took < Duration::from_secs(5),
                "the runtime slept {took:?} with a 5 ms timer registered from another thread"
            );
        });
}
