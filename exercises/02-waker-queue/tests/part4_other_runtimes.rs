//! Part 4 — a correct future is runtime-agnostic: your `Timer` must work under tokio and
//! smol, which know nothing about it.

use std::thread;
use std::time::Duration;

use harness::Watchdog;
use waker_queue::Timer;

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what).likely_cause(
        "the timer relies on something only your own executor does (polling it again without \
         a wake, say); other runtimes poll a task only after its waker is woken",
    )
}

#[test]
fn your_timer_works_under_tokio() {
    watchdog("a Timer fired from another thread, awaited on tokio's current-thread runtime").run(
        || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (timer, trigger) = Timer::manual();
                let firing = thread::spawn(move || trigger.fire());
                timer.await;
                firing.join().unwrap();
            });
        },
    );
}

#[test]
fn your_timer_works_under_smol() {
    watchdog("a Timer fired from another thread, awaited on smol").run(|| {
        smol::block_on(async {
            let (timer, trigger) = Timer::manual();
            let firing = thread::spawn(move || trigger.fire());
            timer.await;
            firing.join().unwrap();
        });
    });
}

#[test]
fn your_timer_after_works_under_tokio() {
    watchdog("Timer::after(1ms) on tokio's current-thread runtime").run(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(Timer::after(Duration::from_millis(1)));
    });
}
