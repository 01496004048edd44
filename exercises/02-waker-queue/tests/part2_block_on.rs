//! Part 2 — `block_on` that sleeps until woken, instead of spinning.
//!
//! Every test runs under a watchdog: the classic bugs here hang. The futures are wrapped in
//! `harness::trace::traced` (a pass-through unless tracing is on), so
//! `cargo xtask trace waker-queue <test>` can draw what your `block_on` did with them.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use harness::trace::traced;
use harness::{Asleep, ThreadWatch, Watchdog, model, recorded, yield_times};
use waker_queue::{Timer, block_on};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what).likely_cause(
        "`block_on` went to sleep and missed a wake: a wake must set a flag that `block_on` \
         checks before (and after) sleeping, so that a wake that came early is not lost",
    )
}

#[test]
fn block_on_returns_the_output() {
    let output = watchdog("block_on(ready(7))").run(|| block_on(std::future::ready(7)));
    assert_eq!(output, 7);
}

#[test]
fn block_on_polls_again_after_a_wake_during_poll() {
    let stats = watchdog("block_on of a future that wakes itself 3 times").run(|| {
        let (future, stats) = recorded("yield_times(3)", yield_times(3));
        block_on(traced("yields 3 times", future));
        stats
    });
    assert_eq!(
        (stats.pendings(), stats.readies()),
        (3, 1),
        "a future that wakes itself during poll must be polled again"
    );
}

#[test]
fn block_on_finishes_a_timer_fired_from_another_thread() {
    watchdog("block_on(timer) fired from another thread").run(|| {
        let (timer, trigger) = Timer::manual();
        let firing = thread::Builder::new()
            .name("trigger".into())
            .spawn(move || trigger.fire())
            .unwrap();
        block_on(traced("waits for timer", timer));
        firing.join().unwrap();
    });
}

/// A future that is Pending `rounds` times without waking itself, hands its waker to the test
/// each time, and counts polls that came without a wake.
struct WakeOnlyWhenTold {
    rounds: usize,
    wakers: mpsc::Sender<Waker>,
    polls_without_wake: usize,
    woken: Arc<AtomicBool>,
}

impl Future for WakeOnlyWhenTold {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        if self.rounds == 0 {
            return Poll::Ready(self.polls_without_wake);
        }
        // Was this poll preceded by a wake? (`woken` starts true: the first poll needs none.)
        if !self.woken.swap(false, Ordering::AcqRel) {
            self.polls_without_wake += 1;
        }
        self.rounds -= 1;
        let _ = self.wakers.send(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn block_on_sleeps_until_woken_instead_of_spinning() {
    let (wakers_tx, wakers) = mpsc::channel::<Waker>();
    let woken = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&woken);
    // The test thread wakes the future each time it hands over its waker.
    let waking = thread::Builder::new()
        .name("waking thread".into())
        .spawn(move || {
            for waker in wakers {
                flag.store(true, Ordering::Release);
                waker.wake();
            }
        })
        .unwrap();
    let spurious = Watchdog::new("block_on of a future woken 100 times by another thread")
        .likely_cause("`block_on` sleeps without checking a latched \"woken\" flag")
        .run(move || {
            block_on(traced(
                "woken 100 times",
                WakeOnlyWhenTold {
                    rounds: 100,
                    wakers: wakers_tx,
                    polls_without_wake: 0,
                    woken,
                },
            ))
        });
    waking.join().unwrap();
    assert_eq!(
        spurious, 0,
        "block_on polled the future {spurious} time(s) without it having been woken: it is \
         spinning. After Pending, sleep until the waker is woken (a Mutex<bool> + Condvar, or \
         thread::park with a flag), then poll again."
    );
}

#[test]
fn block_on_survives_a_future_that_steals_the_unpark_token() {
    // The future wakes itself, then parks briefly: if block_on relies on thread::park/unpark
    // alone, the future's park consumes the unpark meant for block_on, which then sleeps
    // forever.
    let mut first = true;
    watchdog("block_on of a future that calls thread::park_timeout inside poll")
        .likely_cause(
            "`block_on` uses thread::park/unpark with no flag of its own: code inside the \
             future that parks (here `thread::park_timeout`) swallows the unpark",
        )
        .run(move || {
            block_on(traced(
                "parks inside poll",
                poll_fn(move |cx| {
                    if first {
                        first = false;
                        cx.waker().wake_by_ref();
                        thread::park_timeout(Duration::from_millis(1));
                        Poll::Pending
                    } else {
                        Poll::Ready(())
                    }
                }),
            ))
        });
}

/// A future that, on its first poll, hands a clone of its waker to a new thread that wakes
/// it, and returns Pending; Ready on the next poll. In a race test the wake can land anywhere:
/// during the poll, before `block_on` sleeps, or while it sleeps.
fn woken_by_another_thread() -> impl Future<Output = ()> {
    let mut handed_over = false;
    poll_fn(move |cx| {
        if handed_over {
            return Poll::Ready(());
        }
        handed_over = true;
        let waker = cx.waker().clone();
        model::thread::spawn(move || waker.wake());
        Poll::Pending
    })
}

#[test]
fn a_wake_racing_block_on_going_to_sleep_is_never_lost() {
    model::check(
        "block_on of a future woken by another thread at any moment",
        &[
            "the waker sets the \"woken\" flag without holding the lock `block_on` checks it \
             under (an atomic, or a second lock): it can set the flag and notify just after \
             `block_on` saw it clear and just before it waits, and the notify finds nobody \
             waiting. Set the flag under the same lock, then notify.",
            "`block_on` checks the flag and goes to sleep in two steps (unlocking in between): \
             check and `Condvar::wait` must happen under one lock (wait releases it for you).",
            "`block_on` sleeps before checking the flag: a wake that came during the poll is \
             already over. Check first, sleep only while it is clear.",
        ],
        || block_on(woken_by_another_thread()),
    );
}

#[test]
fn an_idle_block_on_sleeps_instead_of_spinning() {
    // The future waits for a timer. Meanwhile block_on's thread must be blocked, not looping
    // on its flag: the kernel tells us which.
    let (watch_tx, watch) = mpsc::channel::<ThreadWatch>();
    let (timer, trigger) = Timer::manual();
    let observer = thread::Builder::new()
        .name("observer".into())
        .spawn(move || {
            let seen = watch
                .recv()
                .map(|watch| watch.wait_until_asleep(Duration::from_secs(3)));
            trigger.fire(); // whatever was seen, let block_on finish
            seen
        })
        .unwrap();
    watchdog("block_on of a future waiting for a timer, watched while it waits").run(move || {
        block_on(traced("waits for timer", async move {
            let _ = watch_tx.send(ThreadWatch::current());
            timer.await;
        }))
    });
    let seen = observer.join().unwrap();
    if let Ok(Asleep::Never(last)) = seen {
        panic!(
            "while the future waited for a timer, block_on's thread was never seen asleep; \
             last seen: {last}. After Pending, block until the waker is woken \
             (`Condvar::wait` while the flag is clear, or `park` in a loop on your flag), \
             instead of looping on the flag with `yield_now` or short sleeps."
        );
    }
}

/// A future that is woken twice, each time by a new model thread, and counts the polls that
/// came with no wake since the one before (the wake's thread raises `woken` before waking).
fn woken_twice_by_other_threads(no_wake_polls: Arc<AtomicUsize>) -> impl Future<Output = ()> {
    // `true`: the first poll needs no wake.
    let woken = Arc::new(AtomicBool::new(true));
    let mut rounds = 2;
    poll_fn(move |cx| {
        if !woken.swap(false, Ordering::SeqCst) {
            // Polled without a wake: a wake from the thread started last is still on its way.
            no_wake_polls.fetch_add(1, Ordering::SeqCst);
            return Poll::Pending;
        }
        if rounds == 0 {
            return Poll::Ready(());
        }
        rounds -= 1;
        let (waker, woken) = (cx.waker().clone(), Arc::clone(&woken));
        model::thread::spawn(move || {
            woken.store(true, Ordering::SeqCst);
            waker.wake();
        });
        Poll::Pending
    })
}

#[test]
fn a_notify_that_comes_late_does_not_poll_without_a_wake() {
    // A waker sets the flag (under the lock), releases the lock, then notifies. Between the
    // two, `block_on` may see the flag, poll, and go back to sleep: the notify then arrives
    // at a wait it was not meant for, with the flag clear. Only a loop that checks the flag
    // again after every wait sleeps on; an `if` polls the future although nobody woke it.
    model::check(
        "block_on of a future woken twice, each time by a new thread",
        &[
            "`block_on` checks the flag with an `if` and calls `Condvar::wait` once: a wait \
             can return with the flag clear (a notify meant for an earlier wake, or a spurious \
             wake-up), and the future is then polled without a wake. Wait in a loop: \
             `while !*woken { woken = condvar.wait(woken)... }`.",
        ],
        || {
            let no_wake_polls = Arc::new(AtomicUsize::new(0));
            block_on(woken_twice_by_other_threads(Arc::clone(&no_wake_polls)));
            let polls = no_wake_polls.load(Ordering::SeqCst);
            assert_eq!(
                polls, 0,
                "block_on polled the future {polls} time(s) without a wake: its wait returned \
                 with the \"woken\" flag clear, and it polled anyway"
            );
        },
    );
}

#[test]
fn a_nested_block_on_does_not_swallow_the_outer_wake() {
    // The outer future is woken (by itself, or by another thread) and then, in the same poll,
    // runs a nested block_on on the same thread. The nested call has its own future and its
    // own waker: the outer wake must still be there when the outer block_on decides to sleep.
    type Inner = fn(Option<Timer>) -> std::pin::Pin<Box<dyn Future<Output = ()>>>;
    let routes: [(&str, bool, Inner); 3] = [
        ("wakes itself, then block_on(ready(()))", false, |_| {
            Box::pin(std::future::ready(()))
        }),
        (
            "wakes itself, then block_on of a future that wakes itself twice",
            false,
            |_| Box::pin(yield_times(2)),
        ),
        (
            "is woken by another thread, then block_on of a timer that thread fires",
            true,
            |timer| Box::pin(timer.expect("a timer")),
        ),
    ];
    for (route, from_another_thread, inner) in routes {
        watchdog(&format!("block_on of a future that {route}"))
            .likely_cause(
                "a nested `block_on` shares the outer call's flag (a thread-local signal, or \
                 one `static`) and clears it: the outer future's wake is swallowed and the \
                 outer `block_on` sleeps forever. Give every call its own flag and waker (an \
                 `Arc` made in `block_on`), so that nothing but your own waker touches it.",
            )
            .run(move || {
                let mut first = true;
                let mut firing: Option<thread::JoinHandle<()>> = None;
                block_on(traced(
                    "outer",
                    poll_fn(move |cx| {
                        if !std::mem::take(&mut first) {
                            if let Some(firing) = firing.take() {
                                firing.join().expect("the waking thread panicked");
                            }
                            return Poll::Ready(());
                        }
                        let timer = if from_another_thread {
                            let (timer, trigger) = Timer::manual();
                            let waker = cx.waker().clone();
                            firing = Some(
                                thread::Builder::new()
                                    .name("waker".into())
                                    .spawn(move || {
                                        waker.wake();
                                        trigger.fire();
                                    })
                                    .unwrap(),
                            );
                            Some(timer)
                        } else {
                            cx.waker().wake_by_ref();
                            None
                        };
                        block_on(traced("inner", inner(timer)));
                        Poll::Pending
                    }),
                ));
            });
    }
}

#[test]
fn block_on_does_not_poll_again_while_nothing_wakes_the_future() {
    // The future returns Pending and hands its waker to an observer, which holds it for a
    // second once block_on's thread is asleep, then wakes it. Any poll in that second came
    // without a wake: a "safety net" timeout that polls anyway breaks the contract (and
    // costs a poll every period for every waiting future).
    const HOLD: Duration = Duration::from_secs(1);
    let (first_tx, first) = mpsc::channel::<(ThreadWatch, Waker)>();
    let (again_tx, again) = mpsc::channel::<()>();
    let observer = thread::Builder::new()
        .name("observer".into())
        .spawn(move || {
            let Ok((watch, waker)) = first.recv() else {
                return None;
            };
            let _ = watch.wait_until_asleep(Duration::from_secs(3));
            let started = std::time::Instant::now();
            let early = again.recv_timeout(HOLD).ok().map(|()| started.elapsed());
            waker.wake(); // whatever was seen, let block_on finish
            early
        })
        .unwrap();
    let polls =
        watchdog("block_on of a future woken once, a second after it waits").run(move || {
            let mut polls = 0;
            let mut first_tx = Some(first_tx);
            block_on(traced(
                "woken after a second",
                poll_fn(move |cx| {
                    polls += 1;
                    match first_tx.take() {
                        Some(first_tx) => {
                            let _ = first_tx.send((ThreadWatch::current(), cx.waker().clone()));
                            Poll::Pending
                        }
                        None => {
                            let _ = again_tx.send(());
                            Poll::Ready(polls)
                        }
                    }
                }),
            ))
        });
    let early = observer.join().unwrap();
    if let Some(after) = early {
        panic!(
            "block_on polled the future again {after:?} after its thread fell asleep, although \
             nobody had woken it (the test held its only waker for {HOLD:?}). Sleep until the \
             waker is woken, without a timeout that polls anyway: `Condvar::wait` in a loop \
             on your flag (a `wait_timeout` is fine only if it goes back to sleep while the \
             flag is clear)."
        );
    }
    assert_eq!(
        polls, 2,
        "expected two polls: the first, and one after the wake"
    );
}
