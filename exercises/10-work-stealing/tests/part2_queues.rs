//! Part 2 — the local queue, the LIFO slot and its cap, the injector's turn, the overflow.
//!
//! Every test here runs on ONE worker (or one worker per runtime), so the order in which
//! tasks are polled is fixed by the rules alone: the tests read it from a journal and from
//! `Metrics`, never from time.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::task::{Context, Poll};

use common::{Counter, Parked, watchdog};
use harness::Journal;
use stealing::{Builder, INJECTOR_INTERVAL, LIFO_CAP, LOCAL_QUEUE_CAPACITY, Runtime};

fn one_worker(lifo: bool) -> Runtime {
    Builder::new().worker_threads(1).lifo_slot(lifo).build()
}

/// Spawns (from inside a task) three tasks that write their names, and returns the order in
/// which they ran.
fn order_of_three_spawns(rt: &Runtime) -> Vec<String> {
    let journal = Journal::new();
    let children = {
        let journal = journal.clone();
        rt.spawn(async move {
            ["c1", "c2", "c3"]
                .into_iter()
                .map(|name| {
                    let journal = journal.clone();
                    stealing::spawn(async move { journal.write(name) })
                })
                .collect::<Vec<_>>()
        })
    };
    rt.block_on(async move {
        for child in children.await.unwrap() {
            child.await.unwrap();
        }
    });
    journal.entries()
}

#[test]
fn the_task_spawned_last_on_a_worker_runs_first_from_the_lifo_slot() {
    watchdog("a task spawning c1, c2, c3 on one worker").run(|| {
        let rt = one_worker(true);
        let order = order_of_three_spawns(&rt);
        assert_eq!(
            order,
            ["c3", "c1", "c2"],
            "a spawn on a worker goes to its LIFO slot, and the slot's previous task to the \
             BACK of the local queue: c1 (slot) → local, c2 (slot) → local, c3 stays in the \
             slot; the worker polls the slot first (c3), then the local queue in order"
        );
        assert_eq!(
            rt.metrics().lifo_polls,
            1,
            "exactly one task (c3) was taken from the LIFO slot: {:?}",
            rt.metrics()
        );
    });
}

#[test]
fn without_the_lifo_slot_spawns_on_a_worker_run_in_order() {
    watchdog("a task spawning c1, c2, c3 on one worker, LIFO slot off").run(|| {
        let rt = one_worker(false);
        let order = order_of_three_spawns(&rt);
        assert_eq!(
            order,
            ["c1", "c2", "c3"],
            "with Builder::lifo_slot(false), a spawn on a worker goes to the back of its local \
             queue, which is FIFO"
        );
        assert_eq!(
            rt.metrics().lifo_polls,
            0,
            "no LIFO slot: lifo_polls stays 0"
        );
    });
}

#[test]
fn spawns_from_outside_go_through_the_injector() {
    watchdog("5 tasks spawned from the test's thread").run(|| {
        let rt = one_worker(true);
        let handles: Vec<_> = (0..5).map(|i| rt.spawn(async move { i })).collect();
        rt.block_on(async move {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        let m = rt.metrics();
        assert_eq!(
            (m.injector_pops, m.lifo_polls),
            (5, 0),
            "the test's thread is not a worker: its spawns go to the injector, from which the \
             worker takes each one (injector_pops), never to a LIFO slot: {m:?}"
        );
    });
}

#[test]
fn a_chain_of_spawns_cannot_starve_the_local_queue() {
    watchdog("a chain of tasks each spawning the next, and a task waiting in the local queue").run(
        || {
            let rt = one_worker(true);
            let chain_polls = Counter::default();
            let seen_by_waiting = Arc::new(Mutex::new(None));
            fn link(left: usize, polls: Counter) {
                polls.tick();
                if left > 0 {
                    drop(stealing::spawn(async move { link(left - 1, polls) }));
                }
            }
            let root = {
                let chain_polls = chain_polls.clone();
                let seen = Arc::clone(&seen_by_waiting);
                rt.spawn(async move {
                    // The waiting task first (LIFO slot), then the chain's head: the waiting
                    // task moves to the local queue, the head takes the slot.
                    let polls = chain_polls.clone();
                    let waiting = stealing::spawn(async move {
                        *seen.lock().unwrap() = Some(polls.get());
                    });
                    let polls = chain_polls.clone();
                    drop(stealing::spawn(async move { link(1_000, polls) }));
                    [waiting]
                })
            };
            rt.block_on(async move {
                let [waiting] = root.await.unwrap();
                waiting.await.unwrap()
            });
            let seen = seen_by_waiting
                .lock()
                .unwrap()
                .expect("the waiting task ran");
            assert!(
                seen <= LIFO_CAP as usize,
                "a task waited in the local queue while a chain of tasks, each spawning the \
                 next into the LIFO slot, ran {seen} links before it: at most LIFO_CAP = \
                 {LIFO_CAP} polls in a row may come from the LIFO slot; then the slot's task \
                 goes to the back of the local queue and the front one gets its turn"
            );
        },
    );
}

/// A task that wakes its partner on every poll, and (once) a third task when told to.
struct PingPong {
    me: Parked,
    partner: Parked,
    polls: Counter,
    left: usize,
    /// `(after this many pair polls, wake this)`, once.
    wake_third: Option<WakeThird>,
}

/// After this many pair polls, wake this task and record when.
type WakeThird = (usize, Parked, Arc<Mutex<Option<usize>>>);

impl Future for PingPong {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let polls = self.polls.tick();
        if let Some((at, _, _)) = &self.wake_third
            && polls >= *at
        {
            let (_, third, woken_at) = self.wake_third.take().unwrap();
            *woken_at.lock().unwrap() = Some(polls);
            third.wake();
        }
        self.me.store(cx.waker());
        self.partner.wake();
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        Poll::Pending
    }
}

#[test]
fn a_ping_pong_pair_cannot_starve_a_woken_task() {
    watchdog("two tasks waking each other, and a third woken meanwhile").run(|| {
        let rt = one_worker(true);
        let pair_polls = Counter::default();
        let (ping, pong, third) = (Parked::default(), Parked::default(), Parked::default());
        let woken_at = Arc::new(Mutex::new(None));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let root = {
            let (pair_polls, woken_at, seen) =
                (pair_polls.clone(), Arc::clone(&woken_at), Arc::clone(&seen));
            rt.spawn(async move {
                // The third task parks its waker on its first poll, then waits to be woken.
                let third_task = {
                    let (third, pair_polls, seen) =
                        (third.clone(), pair_polls.clone(), Arc::clone(&seen));
                    stealing::spawn(std::future::poll_fn(move |cx| {
                        let mut seen = seen.lock().unwrap();
                        seen.push(pair_polls.get());
                        if seen.len() == 2 {
                            return Poll::Ready(());
                        }
                        third.store(cx.waker());
                        Poll::Pending
                    }))
                };
                let first = stealing::spawn(PingPong {
                    me: ping.clone(),
                    partner: pong.clone(),
                    polls: pair_polls.clone(),
                    left: 2_000,
                    wake_third: Some((20, third, woken_at)),
                });
                let second = stealing::spawn(PingPong {
                    me: pong,
                    partner: ping,
                    polls: pair_polls,
                    left: 2_000,
                    wake_third: None,
                });
                (third_task, first, second)
            })
        };
        rt.block_on(async move {
            let (third, first, second) = root.await.unwrap();
            third.await.unwrap();
            first.await.unwrap();
            second.await.unwrap();
        });
        let woken_at = woken_at
            .lock()
            .unwrap()
            .expect("the pair woke the third task");
        let seen = seen.lock().unwrap().clone();
        let waited = seen[1] - woken_at;
        assert!(
            waited <= LIFO_CAP as usize,
            "two tasks waking each other (each wake goes to the LIFO slot) were polled {waited} \
             times between waking a third task and that task's poll: at most LIFO_CAP = \
             {LIFO_CAP} polls in a row may come from the LIFO slot, then its task goes to the \
             back of the local queue, behind the woken one"
        );
        assert!(
            rt.metrics().lifo_polls > 0,
            "the pair's wakes go through the LIFO slot"
        );
    });
}

#[test]
fn a_self_waking_task_cannot_starve_the_injector() {
    watchdog("a task that wakes itself on every poll, and tasks spawned from outside")
        .likely_cause(
            "the worker always finds local work (the self-waking task) and looks at the \
             injector only when its own queues are empty: on every INJECTOR_INTERVAL-th tick it \
             must take from the injector first",
        )
        .run(|| {
            let rt = one_worker(true);
            let busy_polls = Counter::default();
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let busy = {
                let (busy_polls, stop) = (busy_polls.clone(), Arc::clone(&stop));
                rt.spawn(std::future::poll_fn(move |cx| {
                    busy_polls.tick();
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        return Poll::Ready(());
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }))
            };
            assert!(
                common::eventually(|| busy_polls.get() >= 10),
                "the self-waking task was not polled again and again"
            );
            // Several outsiders one after the other: each lands at another point of the worker's
            // cycle of ticks, so a turn that comes only on some ticks is seen to fail.
            let mut waits = Vec::new();
            for _ in 0..12 {
                let seen = Arc::new(Mutex::new(None));
                let outsider = {
                    let (seen, busy_polls) = (Arc::clone(&seen), busy_polls.clone());
                    rt.spawn(async move { *seen.lock().unwrap() = Some(busy_polls.get()) })
                };
                let after_spawn = busy_polls.get();
                rt.block_on(outsider).unwrap();
                let seen = seen.lock().unwrap().expect("the outsider ran");
                waits.push(seen.saturating_sub(after_spawn));
            }
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            rt.block_on(busy).unwrap();
            let longest = waits.iter().copied().max().unwrap_or(0);
            assert!(
                longest <= INJECTOR_INTERVAL as usize,
                "tasks spawned from outside waited in the injector while a self-waking task was \
             polled up to {longest} times (each outsider: {waits:?}): on EVERY \
             INJECTOR_INTERVAL-th tick ({INJECTOR_INTERVAL}) a worker must take from the \
             injector first, before its LIFO slot and its local queue, even when it has local \
             work (not only when its local queue is empty)"
            );
        });
}

/// A task on the only worker spawns `count` tasks without awaiting them; returns the
/// metrics once all have run, and how many ran.
fn spawn_many_from_a_worker(lifo: bool, count: usize) -> (stealing::Metrics, usize) {
    let rt = one_worker(lifo);
    let runs = Counter::default();
    let root = {
        let runs = runs.clone();
        rt.spawn(async move {
            (0..count)
                .map(|_| {
                    let runs = runs.clone();
                    stealing::spawn(async move {
                        runs.tick();
                    })
                })
                .collect::<Vec<_>>()
        })
    };
    rt.block_on(async move {
        for handle in root.await.unwrap() {
            handle.await.unwrap();
        }
    });
    (rt.metrics(), runs.get())
}

#[test]
fn a_full_local_queue_moves_half_of_itself_and_the_task_to_the_injector() {
    watchdog("a task spawning 257 to 300 tasks on one worker").run(|| {
        // 300 spawns; and exactly one more than fits (LIFO off: the queue's capacity + 1;
        // LIFO on: + 2, since the last one stays in the slot).
        let cases = [
            (true, 300),
            (false, 300),
            (false, LOCAL_QUEUE_CAPACITY + 1),
            (true, LOCAL_QUEUE_CAPACITY + 2),
        ];
        for (lifo, count) in cases {
            let (m, runs) = spawn_many_from_a_worker(lifo, count);
            assert_eq!(
                runs, count,
                "every spawned task must run once (LIFO slot on: {lifo})"
            );
            assert_eq!(
                m.overflows,
                (LOCAL_QUEUE_CAPACITY / 2 + 1) as u64,
                "{count} spawns from one task (LIFO slot on: {lifo}) fill the local queue once: the \
                 push that finds it holding LOCAL_QUEUE_CAPACITY = {LOCAL_QUEUE_CAPACITY} tasks \
                 moves the front half ({}) AND the pushed task to the injector, {} in all \
                 (Metrics::overflows); the queue then has room for the rest: {m:?}",
                LOCAL_QUEUE_CAPACITY / 2,
                LOCAL_QUEUE_CAPACITY / 2 + 1
            );
        }
    });
}

#[test]
fn a_local_queue_that_is_never_full_never_overflows() {
    watchdog("a task spawning exactly as many tasks as the local queue holds").run(|| {
        // LIFO off: `LOCAL_QUEUE_CAPACITY` spawns fill the queue exactly; LIFO on: one more
        // fits (the last one stays in the slot).
        for (lifo, count) in [
            (false, LOCAL_QUEUE_CAPACITY),
            (true, LOCAL_QUEUE_CAPACITY + 1),
        ] {
            let (m, runs) = spawn_many_from_a_worker(lifo, count);
            assert_eq!(runs, count);
            assert_eq!(
                m.overflows, 0,
                "{count} spawns from one task (LIFO slot on: {lifo}) leave the local queue with \
                 exactly LIFO_QUEUE_CAPACITY = {LOCAL_QUEUE_CAPACITY} tasks: that is full, not \
                 over-full, so nothing moves to the injector: {m:?}"
            );
        }
    });
}

#[test]
fn a_spawn_onto_another_runtime_from_a_worker_goes_to_that_runtimes_injector() {
    watchdog("a task on runtime A spawning onto runtime B").run(|| {
        let a = one_worker(true);
        let b = one_worker(true);
        let b_thread = b
            .block_on(b.spawn(async { std::thread::current().id() }))
            .unwrap();
        let b_handle = b.handle();
        let ran_on = a
            .block_on(
                a.spawn(async move { b_handle.spawn(async { std::thread::current().id() }).await }),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            ran_on, b_thread,
            "a task spawned onto runtime B from a worker of runtime A ran on A's worker: a \
             worker's LIFO slot and local queue are only for its OWN runtime's tasks; for \
             another runtime the worker is \"outside\" (use its injector)"
        );
        assert_eq!(b.metrics().injector_pops, 2, "{:?}", b.metrics());
    });
}

#[test]
fn the_lifo_streak_starts_again_after_a_task_from_elsewhere() {
    watchdog("a chain of 100 tasks, each spawning the next, alone on one worker").run(|| {
        let rt = one_worker(true);
        fn link(left: usize) {
            if left > 1 {
                drop(stealing::spawn(async move { link(left - 1) }));
            }
        }
        let root = rt.spawn(async { link(101) }); // the root and 100 links
        rt.block_on(root).unwrap();
        assert!(common::eventually(|| rt.metrics().polls == 101));
        let m = rt.metrics();
        assert_eq!(
            m.lifo_polls, 75,
            "alone on one worker, a chain of 100 links (each spawning the next into the LIFO \
             slot) takes 3 links from the slot, then the 4th goes to the back of the local \
             queue and is taken from there, which starts the streak again: 3 of every 4 links \
             come from the slot, 75 in all. Fewer means the streak never restarts after a task \
             from elsewhere (the slot is used for 3 polls and then never again): {m:?}"
        );
    });
}

/// Outsiders pushed while a ping-pong pair keeps the only worker busy: one per hold.
const HOLDS: usize = 8;

#[test]
fn the_injectors_turn_comes_first_even_when_the_lifo_slot_is_full() {
    watchdog(
        "a ping-pong pair keeping one worker's LIFO slot busy on every tick, and a task pushed \
         into the injector at 8 points of the worker's cycle",
    )
    .run(|| {
        let rt = one_worker(true);
        let pair_polls = Counter::default();
        // The pair stops inside its poll number `50 + 62 * i` until the test thread has pushed
        // outsider `i` into the injector: every push lands at a known point of the worker's
        // cycle, 62 polls apart, so each outsider has had its turn before the next is pushed,
        // and together they cover every phase of a turn that came only every 2 × 61 polls or
        // more (three LIFO polls and a capped one: the same four-poll cycle, over and over).
        let holds: Vec<usize> = (0..HOLDS).map(|i| 50 + 62 * i).collect();
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<usize>();
        let (ack_tx, ack_rx) = std::sync::mpsc::channel::<()>();
        let ack_rx = Arc::new(Mutex::new(ack_rx));
        let (ping, pong) = (Parked::default(), Parked::default());
        let member = |me: Parked, partner: Parked| {
            let (polls, holds, hold_tx, ack_rx) = (
                pair_polls.clone(),
                holds.clone(),
                hold_tx.clone(),
                Arc::clone(&ack_rx),
            );
            let mut left = 2_000;
            std::future::poll_fn(move |cx| {
                let n = polls.tick();
                if holds.contains(&n) {
                    // Hold the worker, for real, while the test thread pushes an outsider.
                    let _ = hold_tx.send(n);
                    let acked = ack_rx
                        .lock()
                        .unwrap()
                        .recv_timeout(std::time::Duration::from_secs(10));
                    assert!(acked.is_ok(), "the test thread never pushed its outsider");
                }
                me.store(cx.waker());
                partner.wake();
                if left == 0 {
                    return Poll::Ready(());
                }
                left -= 1;
                Poll::Pending
            })
        };
        let (first, second) = (member(ping.clone(), pong.clone()), member(pong, ping));
        let pair = rt
            .block_on(rt.spawn(async move {
                // Both on the worker: the second in the LIFO slot, the first in the local queue.
                (stealing::spawn(first), stealing::spawn(second))
            }))
            .unwrap();
        let mut outsiders = Vec::new();
        for _ in 0..HOLDS {
            let at = hold_rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .expect("the ping-pong pair never reached its next hold");
            let seen = Arc::new(Mutex::new(None));
            let handle = {
                let (seen, polls) = (Arc::clone(&seen), pair_polls.clone());
                rt.spawn(async move { *seen.lock().unwrap() = Some(polls.get()) })
            };
            outsiders.push((at, seen, handle));
            ack_tx.send(()).unwrap();
        }
        let mut waits = Vec::new();
        for (at, seen, handle) in outsiders {
            rt.block_on(handle).unwrap();
            let seen = seen.lock().unwrap().expect("the outsider ran");
            waits.push(seen - at);
        }
        rt.block_on(async move {
            pair.0.await.unwrap();
            pair.1.await.unwrap();
        });
        let longest = waits.iter().copied().max().unwrap_or(0);
        assert!(
            longest <= INJECTOR_INTERVAL as usize,
            "the task at the front of the injector must be polled within \
             INJECTOR_INTERVAL = {INJECTOR_INTERVAL} polls of a busy worker, but while two tasks woke each other \
             (every wake goes to the LIFO slot, so the slot is full on every tick) outsiders \
             waited up to {longest} polls of the pair (each outsider, pushed at 8 points of the \
             worker's cycle: {waits:?}). The injector's turn is step 1 of every turn \
             whose tick is a multiple of {INJECTOR_INTERVAL}, before the LIFO slot: a turn that \
             polls the slot first, or a tick that counts only some polls (not those from the \
             slot), skips it"
        );
    });
}

/// Spawns link `at` of the chain `name` (from a task: into the LIFO slot); each link spawns the
/// next, and the last one (`len`) calls `then`.
fn chain(
    name: &'static str,
    at: usize,
    len: usize,
    journal: Journal,
    then: impl FnOnce() + Send + 'static,
) {
    drop(stealing::spawn(async move {
        journal.write(format!("{name}{at}"));
        if at < len {
            chain(name, at + 1, len, journal, then);
        } else {
            then();
        }
    }));
}

#[test]
fn the_lifo_streak_starts_again_after_a_task_from_the_local_queue_or_the_injector() {
    watchdog("two LIFO polls, a task from the local queue or the injector, then three more").run(
        || {
            // Route 1: c1, c2 from the slot; then `a` from the local queue; then b1 … b3.
            let rt = one_worker(true);
            let journal = Journal::new();
            let done = common::Gate::new();
            {
                let (journal, done) = (journal.clone(), done.clone());
                drop(rt.spawn(async move {
                    let a_journal = journal.clone();
                    drop(stealing::spawn(async move {
                        a_journal.write("a");
                        chain("b", 1, 3, a_journal, move || done.open());
                    }));
                    // c1 takes the slot; `a` moves to the back of the local queue.
                    chain("c", 1, 2, journal, || {});
                }));
            }
            assert!(
                done.wait(),
                "the tasks never all ran: {:?}",
                journal.entries()
            );
            let local_route = (journal.entries(), rt.metrics().lifo_polls);

            // Route 2: c1, c2 from the slot; c2 holds the worker until the test thread has
            // pushed `x` into the injector; then `x` from the injector; then b1 … b3.
            let rt = one_worker(true);
            let journal = Journal::new();
            let done = common::Gate::new();
            let (pushed, held) = (common::Gate::new(), common::Gate::new());
            {
                let (journal, pushed, held) = (journal.clone(), pushed.clone(), held.clone());
                drop(rt.spawn(async move {
                    chain("c", 1, 2, journal, move || {
                        held.open();
                        assert!(pushed.wait(), "the test thread never pushed x");
                    });
                }));
            }
            assert!(held.wait(), "c2 never ran: {:?}", journal.entries());
            {
                let (journal, done) = (journal.clone(), done.clone());
                drop(rt.spawn(async move {
                    journal.write("x");
                    chain("b", 1, 3, journal, move || done.open());
                }));
            }
            pushed.open();
            assert!(
                done.wait(),
                "the tasks never all ran: {:?}",
                journal.entries()
            );
            let injector_route = (journal.entries(), rt.metrics().lifo_polls);

            for (route, (order, lifo_polls)) in [
                ("the local queue (a)", local_route),
                ("the injector (x)", injector_route),
            ] {
                assert_eq!(
                    lifo_polls, 5,
                    "on one worker, c1 and c2 came from the LIFO slot (a streak of 2), then a \
                     task from {route}, then b1, b2, b3 from the slot: the streak starts again \
                     whenever a task comes from anywhere else, so b1 … b3 are 3 polls in a row \
                     and all 5 links come from the slot (Metrics::lifo_polls). It counted \
                     {lifo_polls} (order: {order:?}): fewer means the streak went on from 2 \
                     across the task from {route} and the cap moved a b-link to the local \
                     queue; reset the streak for a task taken from any queue, not only when the \
                     cap is hit or only for the local queue"
                );
            }
        },
    );
}

/// A task on the only worker spawns `count` tasks, each of which notes whether it was taken
/// from the injector; returns the names (spawn order: c0, c1, …) of those that were, in the
/// order they ran.
fn taken_from_the_injector_after_spawning(lifo: bool, count: usize) -> Vec<usize> {
    let rt = one_worker(lifo);
    let seen = Arc::new(Mutex::new(Vec::<(usize, u64)>::new()));
    let root = {
        let seen = Arc::clone(&seen);
        rt.spawn(async move {
            let before = stealing::Handle::current().metrics().injector_pops;
            seen.lock().unwrap().push((usize::MAX, before));
            (0..count)
                .map(|i| {
                    let seen = Arc::clone(&seen);
                    stealing::spawn(async move {
                        let pops = stealing::Handle::current().metrics().injector_pops;
                        seen.lock().unwrap().push((i, pops));
                    })
                })
                .collect::<Vec<_>>()
        })
    };
    rt.block_on(async move {
        for handle in root.await.unwrap() {
            handle.await.unwrap();
        }
    });
    // One worker: a task taken from the injector is the only poll before which
    // `injector_pops` grew.
    let seen = seen.lock().unwrap();
    seen.windows(2)
        .filter(|pair| pair[1].1 > pair[0].1)
        .map(|pair| pair[1].0)
        .collect()
}

/// `a..=b` as a list, for messages and comparisons.
fn span(a: usize, b: usize) -> Vec<usize> {
    (a..=b).collect()
}

#[test]
fn an_overflow_moves_the_older_half_from_the_front() {
    watchdog("a task spawning one more task than its local queue holds, on one worker").run(|| {
        let half = LOCAL_QUEUE_CAPACITY / 2;
        // LIFO off: c0 … c255 fill the queue and c256 finds it full; LIFO on: c257 stays in the
        // slot and c256, displaced from it, finds the queue (c0 … c255) full.
        for (lifo, count) in [
            (false, LOCAL_QUEUE_CAPACITY + 1),
            (true, LOCAL_QUEUE_CAPACITY + 2),
        ] {
            let moved = taken_from_the_injector_after_spawning(lifo, count);
            let mut expected = span(0, half - 1);
            expected.push(LOCAL_QUEUE_CAPACITY);
            let describe = |tasks: &[usize]| match tasks {
                [] => "none".to_owned(),
                [only] => format!("c{only} only"),
                [first, .., before, last] if tasks.len() > 2 => {
                    format!("{} tasks: c{first} … c{before}, then c{last}", tasks.len())
                }
                _ => format!("{tasks:?}"),
            };
            assert!(
                moved == expected,
                "{count} spawns from one task (LIFO slot on: {lifo}): the push of \
                 c{LOCAL_QUEUE_CAPACITY} finds the local queue full (c0 … c{}) and must move its \
                 OLDER half, from the front (c0 … c{}), and the pushed task itself to the \
                 injector, where they run in that order; the newer half stays in the local queue. \
                 Tasks the worker took from the injector: {}. Expected: {}",
                LOCAL_QUEUE_CAPACITY - 1,
                half - 1,
                describe(&moved),
                describe(&expected)
            );
        }
    });
}
