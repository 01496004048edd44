//! Part 4 — the blocking trap, side by side on three single-threaded runtimes: yours, tokio's
//! current-thread runtime and smol's `LocalExecutor`.
//!
//! A task that makes a blocking call (here: waiting at a gate, as `thread::sleep`, a blocking
//! read or a `Mutex` held elsewhere would) holds the runtime's only thread: NO other task runs
//! until it returns. Handing the call to a blocking pool (`spawn_blocking`, tokio's
//! `spawn_blocking`, smol's `unblock`) frees the thread.
//!
//! Measured by counting, not timing: a ticking task counts its turns; the blocker records the
//! count when it starts blocking and when it is released. Inline, the gate is opened by a
//! helper thread once the blocker says it is blocking, and the count does not move (always 0,
//! however long the wait). Offloaded, the gate is opened by the ticking task itself after 50
//! ticks, so the job can only finish if tasks ran while it blocked (a watchdog bounds it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use runtime::Runtime;

mod common;
use common::{Counter, Gate, watchdog, yield_now};

/// The pieces of one scenario.
#[derive(Clone, Default)]
struct Scene {
    gate: Gate,
    ticks: Counter,
    entered: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Scene {
    /// The ticking task's body.
    async fn tick_until_stopped(self) {
        while !self.stop.load(Ordering::SeqCst) {
            self.ticks.tick();
            yield_now().await;
        }
    }

    /// Inline: the blocking call, made by a task; a helper thread opens the gate once the
    /// blocker is blocking.
    fn block_inline(&self) -> usize {
        let before = self.ticks.get();
        self.entered.store(true, Ordering::SeqCst);
        assert!(self.gate.wait(), "nobody opened the gate");
        self.ticks.get() - before
    }

    fn helper_opens_gate_once_entered(&self) -> thread::JoinHandle<()> {
        let scene = self.clone();
        thread::spawn(move || {
            for _ in 0..5000 {
                if scene.entered.load(Ordering::SeqCst) {
                    break;
                }
                thread::sleep(Duration::from_millis(1)); // paces the look only
            }
            scene.gate.open();
        })
    }

    /// Offloaded: the ticking task opens the gate after 50 ticks counted while blocked.
    async fn tick_then_open(self) {
        while !self.entered.load(Ordering::SeqCst) {
            yield_now().await;
        }
        for _ in 0..50 {
            self.ticks.tick();
            yield_now().await;
        }
        self.gate.open();
    }
}

fn learner_inline() -> usize {
    let scene = Scene::default();
    let helper = scene.helper_opens_gate_once_entered();
    let rt = Runtime::new();
    let during = rt.block_on(async {
        let ticker = runtime::spawn(scene.clone().tick_until_stopped());
        while scene.ticks.get() == 0 {
            yield_now().await;
        }
        let blocker = scene.clone();
        let during = runtime::spawn(async move { blocker.block_inline() })
            .await
            .unwrap();
        scene.stop.store(true, Ordering::SeqCst);
        ticker.await.unwrap();
        during
    });
    helper.join().unwrap();
    during
}

fn learner_offloaded() -> usize {
    let scene = Scene::default();
    let rt = Runtime::new();
    rt.block_on(async {
        let blocker = scene.clone();
        let job = runtime::spawn_blocking(move || blocker.block_inline());
        runtime::spawn(scene.clone().tick_then_open());
        job.await.unwrap()
    })
}

fn tokio_inline() -> usize {
    let scene = Scene::default();
    let helper = scene.helper_opens_gate_once_entered();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let during = rt.block_on(async {
        let ticker = tokio::spawn(scene.clone().tick_until_stopped());
        while scene.ticks.get() == 0 {
            yield_now().await;
        }
        let blocker = scene.clone();
        let during = tokio::spawn(async move { blocker.block_inline() })
            .await
            .unwrap();
        scene.stop.store(true, Ordering::SeqCst);
        ticker.await.unwrap();
        during
    });
    helper.join().unwrap();
    during
}

fn tokio_offloaded() -> usize {
    let scene = Scene::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let blocker = scene.clone();
        let job = tokio::task::spawn_blocking(move || blocker.block_inline());
        tokio::spawn(scene.clone().tick_then_open());
        job.await.unwrap()
    })
}

fn smol_inline() -> usize {
    let scene = Scene::default();
    let helper = scene.helper_opens_gate_once_entered();
    let ex = smol::LocalExecutor::new();
    let during = smol::future::block_on(ex.run(async {
        let ticker = ex.spawn(scene.clone().tick_until_stopped());
        while scene.ticks.get() == 0 {
            yield_now().await;
        }
        let blocker = scene.clone();
        let during = ex.spawn(async move { blocker.block_inline() }).await;
        scene.stop.store(true, Ordering::SeqCst);
        ticker.await;
        during
    }));
    helper.join().unwrap();
    during
}

fn smol_offloaded() -> usize {
    let scene = Scene::default();
    let ex = smol::LocalExecutor::new();
    smol::future::block_on(ex.run(async {
        let blocker = scene.clone();
        let job = smol::unblock(move || blocker.block_inline());
        ex.spawn(scene.clone().tick_then_open()).detach();
        job.await
    }))
}

#[test]
fn a_blocking_call_inside_a_task_stalls_every_task() {
    let counts = watchdog("a task blocking at a gate, with a ticking task beside it").run(|| {
        [
            ("your runtime", learner_inline()),
            ("tokio current_thread", tokio_inline()),
            ("smol LocalExecutor", smol_inline()),
        ]
    });
    for (runtime, during) in counts {
        assert_eq!(
            during, 0,
            "{runtime}: the ticking task ran {during} times while another task was blocked \
             inside its poll. On a single-threaded runtime nothing else can run then: the \
             blocked task holds the only thread. (Your runtime must run every task on the \
             block_on thread, one poll at a time.)"
        );
    }
}

#[test]
fn spawn_blocking_keeps_every_runtime_running() {
    let counts = watchdog("a blocking call handed to each runtime's blocking pool")
        .likely_cause(
            "your spawn_blocking ran the closure on the runtime's own thread, or block_on does \
             not run tasks while a blocking job is in flight: the task that opens the gate never \
             runs",
        )
        .run(|| {
            [
                ("your runtime (spawn_blocking)", learner_offloaded()),
                ("tokio current_thread (spawn_blocking)", tokio_offloaded()),
                ("smol LocalExecutor (unblock)", smol_offloaded()),
            ]
        });
    for (runtime, during) in counts {
        assert!(
            during >= 50,
            "{runtime}: only {during} ticks while the blocking call blocked (expected at least \
             50: the gate opens after 50)"
        );
    }
}
