//! Part 3 — `Runtime`: Stage 2's executor, sleeping in the reactor instead of on a condition
//! variable, and woken through the reactor's `mio::Waker` from other threads.
//!
//! "The runtime is blocked in its poll" is not guessed with a sleep: on Linux the tests read
//! the runtime thread's current system call from `/proc` and wait until it is `epoll_wait`
//! with no timeout.

mod common;

use std::future::{Future, poll_fn};
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::{Blocked, KernelThread, mio_pair, never_blocked_message, new_runtime};
use futures::channel::oneshot;
use harness::Watchdog;
use reactor::mio::Interest;
use reactor::{Direction, Reactor, Runtime};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(format!("part 3: {what}"))
        .likely_cause(
            "the runtime is blocked in the reactor and a wake from another thread did not reach \
             it: a push (spawn or wake) that finds the runtime sleeping must call \
             `reactor.wake()`",
        )
        .likely_cause(
            "the idle path lost a wake: decide to block (and set `sleeping`) under the queue's \
             lock, the same lock every push takes, so that no push can slip in between",
        )
}

/// Runs `body` with the runtime on a thread of its own; returns the thread and what the
/// kernel says that thread is doing.
fn on_its_own_thread<T: Send + 'static>(
    mut runtime: Runtime,
    body: impl FnOnce(&mut Runtime) -> T + Send + 'static,
) -> (JoinHandle<T>, KernelThread) {
    let (started_tx, started) = mpsc::channel();
    let thread = thread::spawn(move || {
        started_tx.send(KernelThread::current()).unwrap();
        body(&mut runtime)
    });
    (thread, started.recv().unwrap())
}

/// Waits until the runtime's thread is blocked in epoll_wait, or fails the test.
fn wait_until_idle(thread: &KernelThread) {
    if let Blocked::Never(last) = thread.wait_until_blocked_in_poll(Duration::from_secs(3)) {
        panic!("{}", never_blocked_message("the runtime's thread", &last));
    }
}

/// Pending once, after waking itself: lets every other ready task run.
fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    poll_fn(move |cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

#[test]
fn block_on_returns_the_output_of_its_future() {
    let output = watchdog("block_on(async { 7 })").run(|| {
        let mut runtime = Runtime::new().expect("Runtime::new");
        runtime.block_on(async { 7 })
    });
    assert_eq!(output, 7);
}

#[test]
fn spawned_tasks_run_while_block_on_waits() {
    let got = watchdog("block_on waiting for a task that spawns a task").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let handle = runtime.handle();
        let (tx, rx) = oneshot::channel();
        runtime.spawn(async move {
            handle.spawn(async move {
                yield_now().await;
                let _ = tx.send("from the grandchild");
            });
        });
        runtime.block_on(rx).ok()
    });
    assert_eq!(
        got,
        Some("from the grandchild"),
        "the tasks were dropped before they ran"
    );
}

#[test]
fn an_idle_runtime_blocks_in_the_reactor_poll() {
    watchdog("block_on of a future that waits for another thread").run(|| {
        let runtime = Runtime::new().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let (thread, kernel_thread) = on_its_own_thread(runtime, move |rt| rt.block_on(rx).ok());
        wait_until_idle(&kernel_thread);
        // The block_on future's waker, woken from this thread.
        tx.send(()).unwrap();
        assert_eq!(
            thread.join().unwrap(),
            Some(()),
            "block_on did not return the output of its future"
        );
    });
}

#[test]
fn a_spawn_from_another_thread_wakes_a_blocked_runtime() {
    watchdog("handle.spawn from another thread while the runtime is blocked in its poll").run(
        || {
            let runtime = Runtime::new().unwrap();
            let handle = runtime.handle();
            let (tx, rx) = oneshot::channel::<&str>();
            let (thread, kernel_thread) =
                on_its_own_thread(runtime, move |rt| rt.block_on(rx).ok());
            wait_until_idle(&kernel_thread);
            handle.spawn(async move {
                let _ = tx.send("spawned from another thread");
            });
            assert_eq!(thread.join().unwrap(), Some("spawned from another thread"));
        },
    );
}

#[test]
fn a_wake_from_another_thread_wakes_a_blocked_runtime() {
    watchdog("a task woken from another thread while the runtime is blocked in its poll").run(
        || {
            let runtime = Runtime::new().unwrap();
            let (go_tx, go) = oneshot::channel::<u32>();
            let (done_tx, done) = oneshot::channel::<u32>();
            runtime.spawn(async move {
                if let Ok(n) = go.await {
                    let _ = done_tx.send(n + 1);
                }
            });
            let (thread, kernel_thread) =
                on_its_own_thread(runtime, move |rt| rt.block_on(done).ok());
            wait_until_idle(&kernel_thread);
            // The task's waker (stored by the oneshot) is woken from this thread.
            go_tx.send(41).unwrap();
            assert_eq!(thread.join().unwrap(), Some(42));
        },
    );
}

#[test]
fn readiness_wakes_the_task_waiting_for_it() {
    watchdog("a task waiting to read, data written while the runtime is blocked").run(|| {
        let runtime = Runtime::new().unwrap();
        let (server, mut client) = mio_pair();
        let source = runtime
            .reactor()
            .register(server, Interest::READABLE | Interest::WRITABLE)
            .unwrap();
        let (done_tx, done) = oneshot::channel::<Vec<u8>>();
        runtime.spawn(async move {
            let mut buf = [0; 16];
            let read = poll_fn(|cx| {
                source.poll_io(Direction::Read, cx, |mut stream| stream.read(&mut buf))
            })
            .await;
            if let Ok(n) = read {
                let _ = done_tx.send(buf[..n].to_vec());
            }
        });
        let (thread, kernel_thread) = on_its_own_thread(runtime, move |rt| rt.block_on(done).ok());
        wait_until_idle(&kernel_thread);
        client.write_all(b"hello").unwrap();
        assert_eq!(
            thread.join().unwrap().as_deref(),
            Some(&b"hello"[..]),
            "the reading task did not get the bytes"
        );
    });
}

#[test]
fn a_task_that_never_stops_yielding_does_not_starve_io() {
    watchdog("a task that yields in a loop, beside a task waiting for I/O")
        .likely_cause(
            "the reactor is only turned when no task is ready: with a task that always wakes \
             itself, I/O is never collected. Turn it with a zero timeout between batches too.",
        )
        .run(|| {
            let mut runtime = Runtime::new().unwrap();
            let (server, mut client) = mio_pair();
            // The data is there before the runtime starts.
            client.write_all(b"x").unwrap();
            let source = runtime
                .reactor()
                .register(server, Interest::READABLE)
                .unwrap();
            let finished = Arc::new(AtomicBool::new(false));
            let stop = Arc::clone(&finished);
            runtime.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    yield_now().await;
                }
            });
            let (done_tx, done) = oneshot::channel::<usize>();
            runtime.spawn(async move {
                let mut buf = [0; 4];
                let read = poll_fn(|cx| {
                    source.poll_io(Direction::Read, cx, |mut stream| stream.read(&mut buf))
                })
                .await;
                finished.store(true, Ordering::SeqCst);
                let _ = done_tx.send(read.unwrap_or(0));
            });
            assert_eq!(runtime.block_on(done).ok(), Some(1));
        });
}

#[test]
fn two_runtimes_run_side_by_side() {
    watchdog("two runtimes in one process, each on its own thread").run(|| {
        let runtimes: Vec<Runtime> = (0..2).map(|_| new_runtime()).collect();
        let mut threads = Vec::new();
        let mut clients = Vec::new();
        for runtime in runtimes {
            let (server, client) = mio_pair();
            let source = runtime
                .reactor()
                .register(server, Interest::READABLE)
                .unwrap();
            assert_eq!(
                runtime.reactor().registered_sources(),
                1,
                "each runtime's reactor must count only its own sources"
            );
            let (thread, kernel_thread) = on_its_own_thread(runtime, move |rt| {
                rt.block_on(poll_fn(|cx| {
                    let mut buf = [0; 8];
                    source.poll_io(Direction::Read, cx, |mut stream| stream.read(&mut buf))
                }))
                .ok()
            });
            threads.push((thread, kernel_thread));
            clients.push(client);
        }
        for (_, kernel_thread) in &threads {
            wait_until_idle(kernel_thread);
        }
        for client in &mut clients {
            client.write_all(b"hi").unwrap();
        }
        for (n, (thread, _)) in threads.into_iter().enumerate() {
            assert_eq!(
                thread.join().unwrap(),
                Some(2),
                "runtime #{} did not read its own socket",
                n + 1
            );
        }
    });
}

/// Pending forever, and never wakes: stands for I/O that never comes.
struct Forever;

impl Future for Forever {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

#[test]
fn tasks_left_when_block_on_returns_run_at_the_next_block_on() {
    watchdog("a task queued when block_on's future completes, then a second block_on").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let (tx, rx) = oneshot::channel();
        {
            let ran = Arc::clone(&ran);
            runtime.spawn(async move {
                ran.store(true, Ordering::SeqCst);
                let _ = tx.send(());
            });
        }
        // Ready on its first poll, in the same round as the queued task.
        runtime.block_on(async {});
        assert!(
            runtime.block_on(rx).is_ok(),
            "the task was dropped instead of run"
        );
        assert!(ran.load(Ordering::SeqCst));
    });
}

#[test]
fn dropping_the_runtime_drops_the_tasks_it_still_holds() {
    let token = Arc::new(());
    let held = Arc::clone(&token);
    watchdog("dropping a runtime with a task waiting for I/O").run(move || {
        let mut runtime = Runtime::new().unwrap();
        let (server, _client) = mio_pair();
        let source = runtime
            .reactor()
            .register(server, Interest::READABLE)
            .unwrap();
        let reactor = runtime.reactor().clone();
        runtime.spawn(async move {
            let _keep = held;
            let mut buf = [0; 8];
            let _ = poll_fn(|cx| {
                source.poll_io(Direction::Read, cx, |mut stream| stream.read(&mut buf))
            })
            .await;
            Forever.await;
        });
        // One round, so that the task is polled and waits in the reactor.
        runtime.block_on(yield_now());
        drop(runtime);
        assert_eq!(
            reactor.registered_sources(),
            0,
            "the runtime was dropped, but the socket its waiting task owned is still \
             registered: the task was never dropped"
        );
    });
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the runtime was dropped, and the task waiting for I/O (its waker stored only in the \
         reactor) was leaked"
    );
}

/// Asked from inside a task or `block_on`'s future (on the runtime's thread, so the runtime
/// is not in its poll): is a wake of the reactor (a `mio::Waker` write) pending? Another thread
/// turns the reactor with no timeout. With nothing pending it blocks in `epoll_wait`, which the
/// kernel shows (then it is woken, and the answer is no); with a pending wake it returns at once
/// with 0 events. `None`: this system cannot tell.
fn a_reactor_wake_is_pending(reactor: &Reactor) -> Option<bool> {
    let (started_tx, started) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let turning = {
        let reactor = reactor.clone();
        thread::spawn(move || {
            started_tx.send(KernelThread::current()).unwrap();
            let _ = done_tx.send(reactor.turn(None));
        })
    };
    let kernel = started.recv().unwrap();
    let limit = Instant::now() + Duration::from_secs(3);
    let answer = loop {
        if let Ok(turned) = done.try_recv() {
            let events = turned.expect("turn");
            assert_eq!(
                events, 0,
                "test setup: a turn found {events} readiness event(s) nobody caused"
            );
            break Some(true);
        }
        match kernel.wait_until_blocked_in_poll(Duration::ZERO) {
            Blocked::InPoll => break Some(false),
            Blocked::Unknown => break None,
            Blocked::Never(_) => {}
        }
        assert!(
            Instant::now() < limit,
            "a turn(None) on another thread neither returned nor blocked in epoll_wait in 3 s"
        );
        // Only how often to look again; the answer is the kernel's.
        thread::sleep(Duration::from_micros(200));
    };
    if answer != Some(true) {
        reactor.wake().expect("wake");
    }
    turning.join().expect("the turning thread panicked");
    answer
}

fn stale_wake_message(who: &str) -> String {
    format!(
        "the runtime was asleep in its reactor; data arrived, and the wake that its own turn \
         delivered to {who} (on the runtime's thread) also woke the reactor through its \
         mio::Waker: a wake was pending afterwards, so the next idle turn returns at once with \
         nothing to do. That costs a system call and a useless turn for every I/O wake-up. The \
         wake found `sleeping` still set: in `park`, clear `sleeping` first (under the queue's \
         lock), and only then wake the wakers the turn collected."
    )
}

#[test]
fn a_wake_from_the_runtimes_own_turn_does_not_wake_the_reactor_again() {
    watchdog("I/O wakes a task, then block_on's future; each asks whether a wake is pending").run(
        || {
            // Route 1: the turn wakes a spawned task.
            let runtime = Runtime::new().unwrap();
            let (server, mut client) = mio_pair();
            let source = runtime
                .reactor()
                .register(server, Interest::READABLE)
                .unwrap();
            let reactor = runtime.reactor().clone();
            let (tx, rx) = oneshot::channel();
            runtime.spawn(async move {
                let mut buf = [0; 8];
                let read = poll_fn(|cx| {
                    source.poll_io(Direction::Read, cx, |mut stream| stream.read(&mut buf))
                })
                .await;
                let _ = tx.send((read.ok(), a_reactor_wake_is_pending(&reactor)));
            });
            let (thread, kernel_thread) =
                on_its_own_thread(runtime, move |rt| rt.block_on(rx).ok());
            wait_until_idle(&kernel_thread);
            client.write_all(b"x").unwrap();
            let (read, stale) = thread.join().unwrap().expect("the task was dropped");
            assert_eq!(read, Some(1), "the task did not read the byte sent to it");
            assert_ne!(stale, Some(true), "{}", stale_wake_message("a task"));

            // Route 2: the turn wakes block_on's own future.
            let runtime = Runtime::new().unwrap();
            let (server, mut client) = mio_pair();
            let source = runtime
                .reactor()
                .register(server, Interest::READABLE)
                .unwrap();
            let reactor = runtime.reactor().clone();
            let (thread, kernel_thread) = on_its_own_thread(runtime, move |rt| {
                rt.block_on(async move {
                    let mut buf = [0; 8];
                    let read = poll_fn(|cx| {
                        source.poll_io(Direction::Read, cx, |mut stream| stream.read(&mut buf))
                    })
                    .await;
                    (read.ok(), a_reactor_wake_is_pending(&reactor))
                })
            });
            wait_until_idle(&kernel_thread);
            client.write_all(b"x").unwrap();
            let (read, stale) = thread.join().unwrap();
            assert_eq!(
                read,
                Some(1),
                "block_on's future did not read the byte sent to it"
            );
            assert_ne!(
                stale,
                Some(true),
                "{}",
                stale_wake_message("block_on's future")
            );
        },
    );
}

/// A waker for a task's I/O that, when woken, calls back into the runtime's reactor (turns it,
/// registers a socket, counts its sources), then wakes the task.
struct CallsBack {
    reactor: Reactor,
    task: Waker,
}

impl std::task::Wake for CallsBack {
    fn wake(self: Arc<Self>) {
        let _ = self.reactor.turn(Some(Duration::ZERO));
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let socket = reactor::mio::net::UdpSocket::from_std(socket);
        drop(self.reactor.register(socket, Interest::READABLE).unwrap());
        let _ = self.reactor.registered_sources();
        self.task.wake_by_ref();
    }
}

#[test]
fn a_waker_that_calls_back_into_the_reactor_does_not_deadlock_the_runtime() {
    watchdog("a task whose I/O waker turns the reactor, woken by the runtime's own turn")
        .likely_cause(
            "the runtime wakes the wakers its turn collected while it still holds a lock of \
             the reactor (the poll's or the slab's) or of the queue: `react` must return with \
             every lock released, and `park` must wake only after that",
        )
        .run(|| {
            let runtime = Runtime::new().unwrap();
            let (server, mut client) = mio_pair();
            let source = runtime
                .reactor()
                .register(server, Interest::READABLE)
                .unwrap();
            let reactor = runtime.reactor().clone();
            let (tx, rx) = oneshot::channel();
            runtime.spawn(async move {
                let mut buf = [0; 8];
                let read = poll_fn(|cx| {
                    let waker = Waker::from(Arc::new(CallsBack {
                        reactor: reactor.clone(),
                        task: cx.waker().clone(),
                    }));
                    source.poll_io(
                        Direction::Read,
                        &mut Context::from_waker(&waker),
                        |mut s| s.read(&mut buf),
                    )
                })
                .await;
                let _ = tx.send(read.ok());
            });
            let (thread, kernel_thread) =
                on_its_own_thread(runtime, move |rt| rt.block_on(rx).ok());
            wait_until_idle(&kernel_thread);
            client.write_all(b"x").unwrap();
            assert_eq!(
                thread.join().unwrap(),
                Some(Some(1)),
                "the task did not read the byte sent to it"
            );
        });
}

/// Installs a seam hook that holds `probe`: the hook lives as long as the runtime's shared
/// state, so `probe`'s count says whether that state was freed.
fn watch_shared_state(runtime: &Runtime) -> Arc<()> {
    let probe = Arc::new(());
    let held = Arc::clone(&probe);
    runtime.on_queue_lock(move |_: QueuePoint| {
        let _ = &held;
    });
    probe
}

#[test]
fn a_spawn_onto_a_dropped_runtime_drops_the_task() {
    let token = Arc::new(());
    let held = Arc::clone(&token);
    let probe = watchdog("handle.spawn after the runtime was dropped").run(move || {
        let runtime = Runtime::new().unwrap();
        let probe = watch_shared_state(&runtime);
        let handle = runtime.handle();
        drop(runtime);
        handle.spawn(async move {
            let _keep = held;
        });
        probe
    });
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "a task was spawned through a Handle after its runtime was dropped, and its future was \
         not dropped: nothing will ever run it, so it must not be kept. `push` must look at \
         `closed` under the queue's lock and, if it is set, drop the task and return false \
         (spawn then forgets it too)."
    );
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "after the runtime and its last Handle were dropped, the runtime's shared state is \
         still alive: a task queued after the drop holds it, and it holds the task (a cycle \
         that leaks). `push` must refuse (return false, queue nothing) once `closed` is set."
    );
}

#[test]
fn a_wake_after_the_runtime_was_dropped_queues_nothing() {
    let probe = watchdog("a task's waker, kept outside the task, woken after the drop").run(|| {
        let mut runtime = Runtime::new().unwrap();
        let probe = watch_shared_state(&runtime);
        let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
        let slot = Arc::clone(&stored);
        runtime.spawn(poll_fn(move |cx| {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        // One round, so that the task is polled and its waker stored.
        runtime.block_on(yield_now());
        drop(runtime);
        let waker = stored.lock().unwrap().take();
        waker.expect("the spawned task was never polled").wake();
        probe
    });
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "a task's waker was woken after its runtime had been dropped, and the runtime's shared \
         state stayed alive afterwards: the wake queued the task on the closed queue, the queue \
         holds the task and the task holds the queue (a cycle that leaks). `push` must look at \
         `closed` under the queue's lock and, if it is set, drop the task and return false."
    );
}

// ---------------------------------------------------------------------------------------------
// Lost wake-ups, found by controlling the schedule.
//
// A race between the runtime going to sleep and a push from another thread needs the push to
// land in a window a few instructions wide. Instead of running it a million times and hoping,
// these tests use the runtime's seam (`Runtime::on_queue_lock`, given code): a hook that runs
// just before the ready queue's lock is taken and just after it is released. They try every
// such point in turn, one schedule per point:
//
// * runtime side: at the runtime thread's k-th point, another thread spawns a task (or wakes
//   the `block_on` future) from start to end, while the runtime thread waits there;
// * pusher side: at the pushing thread's k-th point, the pusher waits until the runtime has
//   gone (back) to sleep in `epoll_wait`, then goes on.
//
// Every correct protocol finishes on every schedule. A protocol with a window (the decision to
// sleep and `sleeping = true` under two locks; a push that checks `sleeping`, unlocks, then
// queues) leaves the runtime asleep in `epoll_wait` with work queued on one of them, every run.
// What this cannot see: races around locks other than the queue's, and orders that need two
// preemptions at once.

use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, OnceLock};
use std::task::Waker;
use std::thread::ThreadId;
use std::time::Instant;

use reactor::{Handle, QueuePoint};

/// How the other thread reaches the runtime.
#[derive(Debug, Clone, Copy)]
enum Push {
    /// `handle.spawn(task)`; the task wakes the `block_on` future when it runs.
    Spawn,
    /// Wakes the `block_on` future's waker directly.
    WakeMain,
}

/// The `block_on` future of a schedule: Ready once `open` was called. Its own state is under
/// one lock, so the test itself has no lost wake-up.
#[derive(Clone, Default)]
struct Latch(Arc<Mutex<(bool, Option<Waker>)>>);

impl Latch {
    fn open(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn wait(&self) -> impl Future<Output = ()> + 'static {
        let latch = self.clone();
        poll_fn(move |cx| {
            let mut state = latch.0.lock().unwrap();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

fn push(kind: Push, handle: &Handle, latch: &Latch) {
    let latch = latch.clone();
    match kind {
        Push::Spawn => handle.spawn(async move { latch.open() }),
        Push::WakeMain => latch.open(),
    }
}

enum Outcome {
    /// `block_on` returned.
    Finished,
    /// The runtime went to sleep in `epoll_wait` with the push done: a lost wake-up.
    LostWake,
    /// The runtime went to sleep before the chosen point came: every point has been tried.
    NotReached,
    /// This system cannot see what a thread is blocked in (not Linux).
    Unknown,
}

/// Samples the thread `n` times (200 µs apart): blocked in `epoll_wait` every time?
fn asleep_in_poll(thread: &KernelThread, n: usize) -> Option<bool> {
    for _ in 0..n {
        match thread.wait_until_blocked_in_poll(Duration::ZERO) {
            Blocked::InPoll => {}
            Blocked::Unknown => return None,
            Blocked::Never(_) => return Some(false),
        }
        thread::sleep(Duration::from_micros(200));
    }
    Some(true)
}

/// One run of the runtime, with its seam installed.
struct Schedule {
    shared: Schedule0,
    done: mpsc::Receiver<()>,
    thread: JoinHandle<()>,
    kernel: KernelThread,
}

/// What a seam hook sees of its schedule.
#[derive(Clone)]
struct Schedule0 {
    handle: Handle,
    latch: Latch,
    /// The other thread has started its push.
    pushed: Arc<AtomicBool>,
    /// The hook acted at the chosen point (false: the schedule ran out of points first).
    reached: Arc<AtomicBool>,
    /// `block_on` returned.
    finished: Arc<AtomicBool>,
    runtime_thread: Arc<OnceLock<ThreadId>>,
    /// Seam points seen on the runtime's thread so far.
    runtime_points: Arc<AtomicUsize>,
    kernel: Arc<OnceLock<KernelThread>>,
}

/// Starts a runtime on its own thread running `block_on(latch.wait())`, with
/// `hook(schedule, on the runtime's thread?)` called at every seam point.
fn start_schedule(hook: impl Fn(&Schedule0, bool) + Send + Sync + 'static) -> Schedule {
    let runtime = new_runtime();
    let shared = Schedule0 {
        handle: runtime.handle(),
        latch: Latch::default(),
        pushed: Arc::default(),
        reached: Arc::default(),
        finished: Arc::default(),
        runtime_thread: Arc::default(),
        runtime_points: Arc::default(),
        kernel: Arc::default(),
    };
    let seen = shared.clone();
    runtime.on_queue_lock(move |_: QueuePoint| {
        let on_runtime = seen.runtime_thread.get() == Some(&thread::current().id());
        hook(&seen, on_runtime);
        if on_runtime {
            seen.runtime_points.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (done_tx, done) = mpsc::channel();
    let inner = shared.clone();
    let (thread, kernel) = on_its_own_thread(runtime, move |rt| {
        inner.runtime_thread.set(thread::current().id()).unwrap();
        rt.block_on(inner.latch.wait());
        inner.finished.store(true, Ordering::SeqCst);
        let _ = done_tx.send(());
    });
    let _ = shared.kernel.set(kernel.clone());
    Schedule {
        shared,
        done,
        thread,
        kernel,
    }
}

impl Schedule {
    /// Waits until `block_on` returns, or the runtime sleeps in `epoll_wait` for good.
    fn outcome(self) -> Outcome {
        let limit = Instant::now() + Duration::from_secs(4);
        let outcome = loop {
            match self.done.recv_timeout(Duration::from_micros(500)) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break Outcome::Finished,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            match asleep_in_poll(&self.kernel, 1) {
                None => break Outcome::Unknown,
                Some(false) => {}
                // Asleep: for good only if it stays asleep (20 ms) with nothing returning.
                Some(true) => {
                    if self.done.recv_timeout(Duration::from_millis(20)).is_ok() {
                        break Outcome::Finished;
                    }
                    if asleep_in_poll(&self.kernel, 20) == Some(true) {
                        break if self.shared.pushed.load(Ordering::SeqCst) {
                            Outcome::LostWake
                        } else {
                            Outcome::NotReached
                        };
                    }
                }
            }
            assert!(
                Instant::now() < limit,
                "the runtime neither finished nor went to sleep in epoll_wait within 4 s; \
                 last seen: {:?}",
                self.kernel.wait_until_blocked_in_poll(Duration::ZERO)
            );
        };
        // Unstick the runtime (a lost wake leaves it asleep), then let its thread end.
        if !matches!(outcome, Outcome::Finished) {
            self.shared.latch.open();
            let _ = self.shared.handle.reactor().wake();
            let _ = self.done.recv_timeout(Duration::from_secs(2));
        }
        let _ = self.thread.join();
        match outcome {
            Outcome::Finished if !self.shared.reached.load(Ordering::SeqCst) => Outcome::NotReached,
            outcome => outcome,
        }
    }
}

/// The most seam points a schedule tries before concluding the runtime never gets idle.
const MAX_POINTS: usize = 64;

/// Tries `schedule(0)`, `schedule(1)`, ... until a schedule runs out of points. `min_points`:
/// how many seam points that side must at least pass (the given code's own, plus one lock
/// section in the idle path or the push), so that a protocol that bypasses `lock_queue()`
/// cannot escape the search.
fn explore(side: &str, kind: Push, min_points: usize, schedule: impl Fn(usize) -> Schedule) {
    for point in 0..MAX_POINTS {
        match schedule(point).outcome() {
            Outcome::Finished => {}
            Outcome::Unknown => return, // cannot see epoll_wait here: nothing to conclude
            Outcome::NotReached => {
                assert!(
                    point >= min_points,
                    "{side}: only {point} points around the ready queue's lock were seen, at \
                     least {min_points} expected. The idle path must decide under the queue's \
                     lock, and a push must queue under it, both taken through the given \
                     `lock_queue()` (it is the seam these tests watch)."
                );
                return;
            }
            Outcome::LostWake => panic!(
                "LOST WAKE-UP ({side}, {kind:?}): the test stopped a thread at point #{point} \
                 around the ready queue's lock and let the other one act there; afterwards the \
                 runtime slept in epoll_wait with work waiting, and nothing woke it. The \
                 decision to sleep (queue empty, main not woken) and `sleeping = true` must be \
                 one step under the queue's lock, and a push must queue its task and look at \
                 `sleeping` in that same locked step (then wake the reactor after unlocking). \
                 Any gap between two lock sections is a window where the other side acts on a \
                 stale view."
            ),
        }
    }
    panic!("the runtime passed the queue's lock {MAX_POINTS} times without ever going to sleep")
}

/// At the runtime thread's `point`-th seam point, another thread pushes, start to end.
fn runtime_side(kind: Push, point: usize) -> Schedule {
    start_schedule(move |s, on_runtime| {
        if on_runtime && s.runtime_points.load(Ordering::SeqCst) == point {
            s.reached.store(true, Ordering::SeqCst);
            s.pushed.store(true, Ordering::SeqCst);
            let (handle, latch) = (s.handle.clone(), s.latch.clone());
            thread::spawn(move || push(kind, &handle, &latch))
                .join()
                .expect("the pushing thread panicked");
        }
    })
}

/// The runtime goes to sleep; then this thread pushes, and at its own `point`-th seam point
/// waits until the runtime has gone (back) to sleep.
fn pusher_side(kind: Push, point: usize) -> Schedule {
    let pusher_points = Arc::new(AtomicUsize::new(0));
    let schedule = start_schedule(move |s, on_runtime| {
        if on_runtime || !s.pushed.load(Ordering::SeqCst) {
            return;
        }
        if pusher_points.fetch_add(1, Ordering::SeqCst) != point {
            return;
        }
        s.reached.store(true, Ordering::SeqCst);
        let Some(kernel) = s.kernel.get() else { return };
        // Wait until the runtime has reacted to what this push did so far (it passed the
        // queue's lock again) and is asleep, or has stayed asleep for 20 ms without moving,
        // or has finished.
        let before = s.runtime_points.load(Ordering::SeqCst);
        let limit = Instant::now() + Duration::from_secs(2);
        let mut still = 0;
        while Instant::now() < limit && !s.finished.load(Ordering::SeqCst) {
            let moved = s.runtime_points.load(Ordering::SeqCst) != before;
            match asleep_in_poll(kernel, 1) {
                Some(true) if moved => return,
                Some(true) => still += 1,
                Some(false) => still = 0,
                None => return,
            }
            if still >= 100 {
                return;
            }
        }
    });
    // First let the runtime fall asleep, then push from this thread.
    if asleep_until(&schedule.kernel) {
        schedule.shared.pushed.store(true, Ordering::SeqCst);
        push(kind, &schedule.shared.handle, &schedule.shared.latch);
    }
    schedule
}

/// Waits (bounded) until the thread sleeps in epoll_wait; false if this system cannot tell.
fn asleep_until(kernel: &KernelThread) -> bool {
    match kernel.wait_until_blocked_in_poll(Duration::from_secs(3)) {
        Blocked::InPoll => true,
        Blocked::Unknown => false,
        Blocked::Never(last) => panic!("{}", never_blocked_message("the runtime's thread", &last)),
    }
}

#[test]
fn no_lost_wake_up_when_a_spawn_lands_while_the_runtime_goes_to_sleep() {
    watchdog("a spawn from another thread at every point of the runtime's way to sleep")
        .limit(Duration::from_secs(10))
        .run(|| {
            explore("runtime side", Push::Spawn, 6, |k| {
                runtime_side(Push::Spawn, k)
            })
        });
}

#[test]
fn no_lost_wake_up_when_a_wake_lands_while_the_runtime_goes_to_sleep() {
    watchdog("a wake from another thread at every point of the runtime's way to sleep")
        .limit(Duration::from_secs(10))
        .run(|| {
            explore("runtime side", Push::WakeMain, 6, |k| {
                runtime_side(Push::WakeMain, k)
            })
        });
}

#[test]
fn no_lost_wake_up_when_the_runtime_sleeps_in_the_middle_of_a_spawn() {
    watchdog("a spawn from another thread, paused at every point until the runtime sleeps")
        .limit(Duration::from_secs(10))
        .run(|| {
            explore("pusher side", Push::Spawn, 2, |k| {
                pusher_side(Push::Spawn, k)
            })
        });
}

#[test]
fn no_lost_wake_up_when_the_runtime_sleeps_in_the_middle_of_a_wake() {
    watchdog("a wake from another thread, paused at every point until the runtime sleeps")
        .limit(Duration::from_secs(10))
        .run(|| {
            explore("pusher side", Push::WakeMain, 2, |k| {
                pusher_side(Push::WakeMain, k)
            })
        });
}
