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
use reactor::{Direction, Runtime};

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
