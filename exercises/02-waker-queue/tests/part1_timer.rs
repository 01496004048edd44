//! Part 1 — `Timer`: a future completed from outside, that must keep its promise to wake.
//!
//! `Timer::manual()` gives a timer and the `Trigger` that completes it: the tests decide when
//! "time is up", so nothing here depends on the clock.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use harness::{Poller, WakeProbe, Watchdog, model};
use waker_queue::{Timer, Trigger};

/// Runs a test body under a watchdog: a `poll` or `fire` that never returns (a lock taken twice
/// on one thread, say) fails within seconds with this message instead of hanging `cargo test`.
fn bounded(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(format!("part 1: {what}"))
        .likely_cause(
            "`poll` or `fire` never returned: a `std::sync::Mutex` taken twice on one thread \
             deadlocks (it is not reentrant). Take the timer's lock once per call, and never \
             call back into the timer (or wake) while holding it.",
        )
        .run(body)
}

#[test]
fn a_timer_is_pending_until_its_trigger_fires() {
    bounded("a timer is pending until its trigger fires", || {
        let (timer, _trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        assert_eq!(
            timer.poll(),
            Poll::Pending,
            "a timer whose trigger has not fired returned Ready"
        );
        assert_eq!(
            timer.wakes(),
            0,
            "the timer woke its waker although nothing happened. Unlike Stage 1's busy waits, this \
         future has someone to wake it (the trigger): it must not wake itself."
        );
    });
}

#[test]
fn firing_wakes_the_waker_of_the_last_poll() {
    bounded("firing wakes the waker of the last poll", || {
        let (timer, trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        assert!(timer.poll().is_pending());
        trigger.fire();
        assert_eq!(
            timer.wakes(),
            1,
            "trigger.fire() did not wake the waker the timer was polled with. Store \
         `cx.waker().clone()` when you return Pending, and have `fire` take it and call \
         `wake()`."
        );
        assert_eq!(
            timer.poll(),
            Poll::Ready(()),
            "the timer was woken but its next poll was still Pending: `fire` must also record that \
         the timer has fired."
        );
    });
}

#[test]
fn a_fire_before_the_first_poll_is_not_lost() {
    bounded("a fire before the first poll is not lost", || {
        let (timer, trigger) = Timer::manual();
        trigger.fire();
        let mut timer = Poller::new(timer);
        assert_eq!(
            timer.poll(),
            Poll::Ready(()),
            "the trigger fired before the first poll, and the first poll said Pending. Nobody will \
         ever wake this task again: a lost wakeup. `fire` must record \"fired\" even when no \
         waker is stored yet, and `poll` must check that record."
        );
    });
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    bounded("the latest waker is the one woken", || {
        // A future can move from one task to another between polls (think of select!, or a
        // future handed to a new task); each poll may bring a different waker.
        let (timer, trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        let (first, second) = (WakeProbe::new(), WakeProbe::new());
        assert!(timer.poll_with(&first.waker()).is_pending());
        assert!(timer.poll_with(&second.waker()).is_pending());
        trigger.fire();
        assert_eq!(
            second.wakes(),
            1,
            "the timer was polled with waker A, then waker B, then fired: B was not woken (A was \
         woken {} time(s)). Replace the stored waker when a poll brings a different one \
         (`Waker::will_wake` tells you whether it did).",
            first.wakes()
        );
    });
}

#[test]
fn polling_again_does_not_pile_up_waker_clones() {
    bounded("polling again does not pile up waker clones", || {
        let (timer, _trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        let probe = WakeProbe::new();
        let waker = probe.waker();
        for _ in 0..100 {
            assert!(timer.poll_with(&waker).is_pending());
        }
        assert!(
            probe.live_wakers() <= 2,
            "after 100 polls with the same waker, {} clones of it are alive. Keep one stored waker \
         and replace it; don't collect a new clone on every poll (a Vec that grows, or a new \
         thread per poll holding one).",
            probe.live_wakers()
        );
    });
}

#[test]
fn a_fire_from_another_thread_wakes_the_task() {
    bounded("a fire from another thread wakes the task", || {
        let (timer, trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        let probe = WakeProbe::new();
        assert!(timer.poll_with(&probe.waker()).is_pending());
        let firing = thread::spawn(move || trigger.fire());
        let woken = probe.wait_for_wakes(1, Duration::from_secs(5));
        firing.join().expect("the firing thread panicked");
        assert!(
            woken,
            "a trigger fired on another thread did not wake the waker within 5s"
        );
        assert_eq!(timer.poll_with(&probe.waker()), Poll::Ready(()));
    });
}

#[test]
fn firing_twice_is_harmless() {
    bounded("firing twice is harmless", || {
        let (timer, trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        assert!(timer.poll().is_pending());
        trigger.fire();
        trigger.fire();
        assert_eq!(
            timer.wakes(),
            1,
            "two fires after one Pending poll woke the task {} time(s), expected once: \
             \"firing again does nothing\". `fire` must *take* the stored waker out of the state \
             (`Option::take`) and wake that, not wake a clone and leave it stored.",
            timer.wakes()
        );
        assert_eq!(
            timer.poll(),
            Poll::Ready(()),
            "after two fires the timer was Pending: a second fire must not undo the first \
         (\"fired\" is a flag that stays set)"
        );
    });
}

#[test]
fn a_clone_of_the_trigger_fires_the_same_timer() {
    bounded("a clone of the trigger fires the same timer", || {
        let (timer, trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        assert!(timer.poll().is_pending());
        let clone = trigger.clone();
        clone.fire();
        assert!(
            timer.wakes() >= 1,
            "firing a clone of the trigger did not wake the task. Every clone of a Trigger is a \
         handle on the same shared state (an `Arc` around it), not a copy of the state."
        );
        assert_eq!(timer.poll(), Poll::Ready(()));
    });
}

#[test]
fn firing_after_the_timer_was_dropped_is_harmless() {
    bounded("firing after the timer was dropped is harmless", || {
        // A trigger may outlive its timer (the task gave up waiting): firing then has nobody to
        // wake, and must simply do nothing.
        let (timer, trigger) = Timer::manual();
        let mut polled = Poller::new(timer);
        assert!(polled.poll().is_pending());
        drop(polled);
        trigger.fire();
    });
}

/// A waker that, when woken, does what an executor running tasks inline might do: fire the
/// timer's trigger again and poll the timer, on the waking thread, right away.
struct ReentrantWaker {
    trigger: Trigger,
    timer: Arc<Mutex<Option<Timer>>>,
    /// What the inline poll returned.
    polled: Arc<Mutex<Option<Poll<()>>>>,
}

impl std::task::Wake for ReentrantWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.trigger.fire();
        // try_lock: a wake during the test's own poll (which holds this lock) skips the poll.
        if let Some(timer) = self
            .timer
            .try_lock()
            .ok()
            .as_mut()
            .and_then(|slot| slot.as_mut())
        {
            let poll = std::pin::Pin::new(timer)
                .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
            *self.polled.lock().unwrap() = Some(poll);
        }
    }
}

#[test]
fn fire_wakes_outside_the_timers_lock() {
    let polled = Watchdog::new("trigger.fire() whose waker fires and polls the timer again")
        .likely_cause(
            "`fire` calls `wake()` while still holding the timer's lock; this waker fires the \
             trigger and polls the timer, which take that lock again on the same thread. \
             `std::sync::Mutex` is not reentrant: it deadlocks. Take the waker out of the \
             state, let the guard go (end the block, or `drop(guard)`), then wake.",
        )
        .run(|| {
            let (timer, trigger) = Timer::manual();
            let timer = Arc::new(Mutex::new(Some(timer)));
            let polled = Arc::new(Mutex::new(None));
            let waker = std::task::Waker::from(Arc::new(ReentrantWaker {
                trigger: trigger.clone(),
                timer: Arc::clone(&timer),
                polled: Arc::clone(&polled),
            }));
            let first = {
                let mut slot = timer.lock().unwrap();
                let timer = slot.as_mut().unwrap();
                std::pin::Pin::new(timer).poll(&mut std::task::Context::from_waker(&waker))
            };
            assert!(
                first.is_pending(),
                "the timer was Ready before it was fired"
            );
            trigger.fire();
            polled.lock().unwrap().take()
        });
    assert_eq!(
        polled,
        Some(Poll::Ready(())),
        "fire() woke the task, and the task's poll (run by the waker, right away) did not see \
         Ready (None: the waker was never woken). Record \"fired\" before you wake."
    );
}

/// Every (delay, trigger) a timer's start function was called with.
type Started = Arc<Mutex<Vec<(Duration, Trigger)>>>;

/// A start function for `Timer::after_with` that keeps every trigger it is given.
fn recording_start() -> (Started, impl FnOnce(Duration, Trigger) + Send + 'static) {
    let started = Started::default();
    let record = Arc::clone(&started);
    (started, move |delay, trigger| {
        record.lock().unwrap().push((delay, trigger))
    })
}

#[test]
fn a_timer_starts_its_clock_once_on_the_first_poll() {
    bounded("a timer starts its clock once on the first poll", || {
        let (started, start) = recording_start();
        let timer = Timer::after_with(Duration::from_secs(30), start);
        assert_eq!(
            started.lock().unwrap().len(),
            0,
            "the timer's clock was started before the timer was polled. Futures are lazy: start it \
         on the first poll."
        );
        let mut timer = Poller::new(timer);
        for _ in 0..100 {
            assert!(timer.poll().is_pending());
        }
        let started = started.lock().unwrap();
        assert_eq!(
            started.len(),
            1,
            "after 100 polls the timer had started its clock {} times. Start it once (a thread or \
         timer entry per poll is the classic leak); keep the start function in an `Option` and \
         `take()` it.",
            started.len()
        );
        assert_eq!(
            started[0].0,
            Duration::from_secs(30),
            "started with the wrong delay"
        );
    });
}

#[test]
fn the_started_trigger_completes_the_timer() {
    bounded("the started trigger completes the timer", || {
        let (started, start) = recording_start();
        let mut timer = Poller::new(Timer::after_with(Duration::from_millis(5), start));
        assert!(timer.poll().is_pending());
        let (_, trigger) = started
            .lock()
            .unwrap()
            .pop()
            .expect("the clock was not started");
        trigger.fire();
        assert_eq!(
            timer.wakes(),
            1,
            "firing the started trigger did not wake the task"
        );
        assert_eq!(timer.poll(), Poll::Ready(()));
    });
}

#[test]
fn timer_after_fires_by_itself() {
    // The real clock, as a smoke test: the outcome does not depend on timing, only how long
    // it takes, which the watchdog bounds.
    let probe = WakeProbe::new();
    let waker = probe.waker();
    let woken = Watchdog::new("a Timer::after(1ms) firing")
        .likely_cause("`Timer::after` does not start a thread that sleeps and then fires")
        .run(move || {
            let mut timer = Poller::new(Timer::after(Duration::from_millis(1)));
            if timer.poll_with(&waker).is_ready() {
                return true;
            }
            probe.wait_for_wakes(1, Duration::from_secs(10)) && timer.poll_with(&waker).is_ready()
        });
    assert!(woken, "Timer::after(1ms) never completed");
}

#[test]
fn a_fire_racing_the_first_poll_is_never_lost() {
    // A race test: the model checker runs this scenario again and again, each time with a
    // different order of the two threads' steps (every lock, unlock and atomic access of
    // `crate::sync` is a point where it may switch threads), until it has tried them all.
    model::check(
        "a trigger fired on another thread while the timer is being polled",
        &[
            "`poll` checks \"fired?\" and stores the waker in two separate steps (two locks, \
             or a lock released in between): a fire that lands between them finds no waker \
             and wakes nobody, and the Pending that follows is never woken. Check and store \
             under one lock, the same one `fire` takes.",
            "`fire` sets \"fired\" and takes the waker in two separate steps: do both under \
             the one lock.",
        ],
        || {
            let (timer, trigger) = Timer::manual();
            let firing = model::thread::spawn(move || trigger.fire());
            let mut timer = Poller::new(timer);
            let first = timer.poll();
            firing.join().unwrap();
            if first.is_pending() {
                assert!(
                    timer.wakes() >= 1,
                    "the first poll returned Pending, then the trigger (which fired during that \
                     poll) finished without waking the waker it was polled with: a lost \
                     wakeup. The task would wait forever."
                );
                assert_eq!(
                    timer.poll(),
                    Poll::Ready(()),
                    "the trigger has fired and woken the task, yet the next poll was Pending"
                );
            }
        },
    );
}

#[test]
fn a_fire_racing_a_poll_with_a_new_waker_wakes_the_new_one() {
    // The timer is Pending with waker A; then, while another thread fires, it is polled with
    // waker B (the future moved to another task). Every order must end with the timer Ready
    // on that poll, or with B woken.
    model::check(
        "a trigger fired on another thread while the timer is polled with a new waker",
        &[
            "`poll` decides whether to replace the stored waker (`will_wake`) under the lock \
             and stores the new one under a second lock: a fire in between wakes the old \
             waker, and the new one waits forever. Compare and store under the one lock `fire` \
             takes.",
        ],
        || {
            let (timer, trigger) = Timer::manual();
            let mut timer = Poller::new(timer);
            let (first, second) = (WakeProbe::new(), WakeProbe::new());
            assert!(timer.poll_with(&first.waker()).is_pending());
            let firing = model::thread::spawn(move || trigger.fire());
            let again = timer.poll_with(&second.waker());
            firing.join().unwrap();
            assert!(
                again.is_ready() || second.wakes() >= 1,
                "the timer, polled with a new waker while the trigger fired, returned Pending, \
                 and the fire woke only the old waker ({} wake(s)) or nobody: the task that now \
                 owns the timer waits forever.",
                first.wakes()
            );
        },
    );
}

#[test]
fn a_start_function_that_fires_at_once_is_not_called_under_the_lock() {
    // A start function may fire at once (a delay that has already passed): on this thread,
    // or on another thread it waits for. If `poll` calls `start` while holding the timer's
    // lock, that fire takes the same lock: a deadlock. Either way the fire must count: the
    // first poll is Ready, or Pending with its waker woken and the next poll Ready.
    type Start = Box<dyn FnOnce(Duration, Trigger) + Send>;
    type Route = (&'static str, fn() -> Start);
    let routes: [Route; 2] = [
        ("fires on the polling thread", || {
            Box::new(|_, trigger: Trigger| trigger.fire())
        }),
        ("fires on another thread and waits for it", || {
            Box::new(|_, trigger: Trigger| {
                thread::spawn(move || trigger.fire())
                    .join()
                    .expect("the firing thread panicked")
            })
        }),
    ];
    for (route, start) in routes {
        Watchdog::new(format!(
            "the first poll of Timer::after_with(ZERO, a start function that {route})"
        ))
        .likely_cause(
            "`poll` calls `start(delay, trigger)` while it holds the timer's lock; this start \
             function fires the trigger, and `fire` takes that same lock: a deadlock. Take the \
             start function out (`self.start.take()`) and call it *before* you lock the state \
             (README, \"Start lazily, and once\"; hint 4).",
        )
        .run(move || {
            let mut timer = Poller::new(Timer::after_with(Duration::ZERO, start()));
            if timer.poll().is_ready() {
                return;
            }
            assert!(
                timer.wakes() >= 1,
                "the start function fired the trigger during the first poll ({route}), and the \
                 poll returned Pending without that fire waking its waker: a lost wakeup. Call \
                 `start` before checking \"fired?\", or make sure the fire finds the stored waker."
            );
            assert_eq!(
                timer.poll(),
                Poll::Ready(()),
                "the start function fired the trigger ({route}), yet the next poll was Pending"
            );
        });
    }
}

#[test]
fn polls_alternating_between_two_wakers_keep_one_stored_waker() {
    bounded("polls alternating between two wakers", || {
        // A future moved back and forth between two tasks (a select! loop, say): every poll
        // brings the other waker. Keeping "the latest, and only one" means one stored clone.
        let (timer, trigger) = Timer::manual();
        let mut timer = Poller::new(timer);
        let (a, b) = (WakeProbe::new(), WakeProbe::new());
        let (waker_a, waker_b) = (a.waker(), b.waker());
        for _ in 0..50 {
            assert!(timer.poll_with(&waker_a).is_pending());
            assert!(timer.poll_with(&waker_b).is_pending());
        }
        // Each probe's count includes the test's own clone.
        let (live_a, live_b) = (a.live_wakers(), b.live_wakers());
        assert!(
            live_a <= 2 && live_b <= 2,
            "after 100 polls alternating between waker A and waker B, the timer holds {} clones \
             of A and {} of B (the test holds one of each). Keep one stored waker and *replace* \
             it when a poll brings a different one; skipping only a waker equal to the last one \
             stored still piles up a clone per poll when two wakers take turns.",
            live_a - 1,
            live_b - 1
        );
        trigger.fire();
        assert_eq!(
            b.wakes(),
            1,
            "the last poll brought waker B, but firing did not wake B"
        );
    });
}

/// The names (`comm`) of this process's threads, or `None` where `/proc` is unavailable.
fn thread_names() -> Option<Vec<String>> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim_end().to_owned())
            .collect(),
    )
}

#[test]
fn timer_after_starts_no_thread_before_its_first_poll() {
    // A thread started without a name carries its creator's name (Linux), so the threads
    // started while this uniquely named thread runs `Timer::after` can be counted.
    const NAME: &str = "after-is-lazy";
    bounded("Timer::after created and not polled", || {
        thread::Builder::new()
            .name(NAME.into())
            .spawn(|| {
                let count = || {
                    thread_names().map(|names| names.iter().filter(|name| *name == NAME).count())
                };
                let Some(before) = count() else {
                    return; // no /proc: nothing can be observed here
                };
                let timer = Timer::after(Duration::from_secs(3600));
                let after = count().unwrap_or(before);
                assert_eq!(
                    after,
                    before,
                    "`Timer::after(1 hour)` started {} thread(s) before it was ever polled. \
                     Futures are lazy: a timer that is never polled, or polled only later, must \
                     not be counting down already. Build `after` on `after_with`, whose start \
                     function runs on the first poll, and spawn the sleeping thread in that \
                     start function, not in the constructor.",
                    after - before
                );
                drop(timer);
            })
            .unwrap()
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    });
}
