//! Part 3 — stealing: an idle worker takes half of a busy worker's local queue.
//!
//! A worker is made busy for real: its task blocks its thread at a gate (the "blocking call"
//! every runtime warns about). Everything else is decided by the rules and read from a
//! journal and `Metrics`, never from time: a gate's time limit only bounds how long a broken
//! runtime takes to fail.

mod common;

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use common::{Counter, Gate, watchdog};
use harness::Journal;
use stealing::{Builder, Handle, JoinHandle, Runtime};

/// How long a blocked task waits for the others before the test calls the runtime broken.
const PATIENCE: Duration = Duration::from_secs(3);

/// What happened while the blocker held its worker.
struct Blocked {
    /// The gate opened in time (every expected child ran while the blocker blocked).
    opened: bool,
    /// Children that ran, in order.
    order: Vec<String>,
    /// Thread of the blocker, and of each child.
    blocker: ThreadId,
    threads: Vec<(String, ThreadId)>,
    /// `Metrics::steals` as each child saw it when it was polled.
    steals_seen: Vec<(String, u64)>,
}

/// A task, spawned from outside, spawns `children` tasks from its worker (c1 … cN: the last
/// one stays in the LIFO slot, the others go to its local queue), then blocks its thread until
/// `expected` of them ran. `before_blocking` runs just after the spawns.
fn block_a_worker_with_children(
    rt: &Runtime,
    children: usize,
    expected: usize,
    before_blocking: impl FnOnce() + Send + 'static,
) -> Blocked {
    let journal = Journal::new();
    let threads = Arc::new(Mutex::new(Vec::new()));
    let steals_seen = Arc::new(Mutex::new(Vec::new()));
    let ran = Counter::default();
    let gate = Gate::new();
    let blocker = {
        let (journal, threads, gate) = (journal.clone(), Arc::clone(&threads), gate.clone());
        let steals_seen = Arc::clone(&steals_seen);
        rt.spawn(async move {
            let handles: Vec<JoinHandle<()>> = (1..=children)
                .map(|i| {
                    let (journal, threads, ran, gate) = (
                        journal.clone(),
                        Arc::clone(&threads),
                        ran.clone(),
                        gate.clone(),
                    );
                    let steals_seen = Arc::clone(&steals_seen);
                    stealing::spawn(async move {
                        let name = format!("c{i}");
                        let steals = Handle::current().metrics().steals;
                        steals_seen.lock().unwrap().push((name.clone(), steals));
                        threads
                            .lock()
                            .unwrap()
                            .push((name.clone(), std::thread::current().id()));
                        journal.write(name);
                        if ran.tick() == expected {
                            gate.open();
                        }
                    })
                })
                .collect();
            before_blocking();
            let opened = expected == 0 || gate.wait_at_most(PATIENCE);
            (
                handles,
                opened,
                std::thread::current().id(),
                journal.entries(),
            )
        })
    };
    let (opened, blocker, order) = rt.block_on(async move {
        let (handles, opened, blocker, order) = blocker.await.unwrap();
        for handle in handles {
            handle.await.unwrap();
        }
        (opened, blocker, order)
    });
    Blocked {
        opened,
        order,
        blocker,
        threads: threads.lock().unwrap().clone(),
        steals_seen: steals_seen.lock().unwrap().clone(),
    }
}

#[test]
fn a_blocked_workers_local_queue_is_stolen_but_its_lifo_task_waits() {
    watchdog("a task that spawns 10 tasks, then blocks its worker until 9 of them ran").run(|| {
        let rt = Builder::new().worker_threads(2).build();
        let blocked = block_a_worker_with_children(&rt, 10, 9, || {});
        assert!(
            blocked.opened,
            "a task on one worker spawned c1 … c10 (c10 in its LIFO slot, c1 … c9 in its local \
             queue) and blocked its thread; the other worker, idle, never ran the 9 queued ones \
             ({} ran: {:?}). Does a push onto a local queue wake a sleeping worker, and does an \
             idle worker steal from the others' local queues?",
            blocked.order.len(),
            blocked.order
        );
        assert!(
            !blocked.order.contains(&"c10".to_owned()),
            "c10, in the blocked worker's LIFO slot, ran while its worker was blocked: the LIFO \
             slot is never stolen (it is the owner's private fast path); only local queues are"
        );
        for (name, thread) in &blocked.threads {
            if name != "c10" {
                assert_ne!(
                    *thread, blocked.blocker,
                    "{name} ran on the blocked worker's thread"
                );
            }
        }
        assert_eq!(
            rt.metrics().steals,
            9,
            "every one of c1 … c9 was moved by stealing exactly once: Metrics::steals counts \
             each stolen task (all of a batch): {:?}",
            rt.metrics()
        );
    });
}

#[test]
fn a_thief_takes_half_of_the_queue_from_its_front() {
    watchdog("one worker held, the other with 9 queued tasks, then the first one freed").run(|| {
        let rt = Builder::new().worker_threads(2).build();
        // Worker A is held by `holder` until the blocker's children are all queued.
        let hold = Gate::new();
        let held = Gate::new();
        let holder = {
            let (hold, held) = (hold.clone(), held.clone());
            rt.spawn(async move {
                held.open();
                hold.wait()
            })
        };
        assert!(held.wait_at_most(PATIENCE), "the first task never started");
        let release = hold.clone();
        let blocked = block_a_worker_with_children(&rt, 10, 9, move || {
            // c1 … c10 are queued on this worker; free the other one now. It finds nothing of
            // its own and nothing in the injector: it must steal.
            release.open();
        });
        assert!(rt.block_on(holder).unwrap());
        assert!(blocked.opened, "the freed worker never ran the 9 queued tasks: does it steal?");
        let order: Vec<&str> = blocked.order.iter().map(String::as_str).collect();
        assert_eq!(
            order,
            ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"],
            "the thief runs what it steals in queue order: steal from the victim's FRONT (the \
             oldest), poll the first stolen task and put the rest at the back of your own \
             queue"
        );
        assert_eq!(
            blocked.steals_seen.first(),
            Some(&("c1".to_owned(), 5)),
            "the first steal from a queue of 9 tasks takes half, rounded up: 5 (c1 … c5), and              Metrics::steals counts all 5 before c1 is polled. Polls as (task, steals seen): \
             {:?}",
            blocked.steals_seen
        );
        assert_eq!(rt.metrics().steals, 9, "{:?}", rt.metrics());
    });
}

#[test]
fn a_single_queued_task_is_stolen() {
    watchdog("a task that spawns 2 tasks (1 in its local queue), then blocks until it ran").run(
        || {
            let rt = Builder::new().worker_threads(2).build();
            let blocked = block_a_worker_with_children(&rt, 2, 1, || {});
            assert!(
                blocked.opened,
                "one task waited in a blocked worker's local queue and the idle worker never \
                 took it: half of 1 is 1 when stealing (round up: 1 of 1, 2 of 3, 5 of 9)"
            );
            assert_eq!(blocked.order, ["c1"]);
            assert_eq!(rt.metrics().steals, 1, "{:?}", rt.metrics());
        },
    );
}

/// Called on the blocked worker: wakes the other worker with a task from outside (a thread
/// that is not a worker), waits until it ran it, then until that worker is asleep again: it
/// has looked for work after the task (its own queues, the injector and, with stealing on,
/// the others' local queues) and found none it may take.
fn wake_the_other_worker_until_it_sleeps_again(handle: &Handle) {
    let ran = Gate::new();
    let signal = ran.clone();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            drop(handle.spawn(async move { signal.open() }));
        });
    });
    assert!(ran.wait_at_most(PATIENCE), "a task from outside never ran");
    assert!(
        common::eventually(|| handle.metrics().parked_workers == 1),
        "the other worker never went back to sleep"
    );
}

#[test]
fn with_stealing_off_a_blocked_workers_queue_waits_for_it() {
    watchdog("stealing off: a blocked worker's queue, and the other worker going back to sleep")
        .run(|| {
            let rt = Builder::new().worker_threads(2).stealing(false).build();
            let handle = rt.handle();
            let blocked = block_a_worker_with_children(&rt, 5, 0, move || {
                wake_the_other_worker_until_it_sleeps_again(&handle);
            });
            assert!(
                blocked.order.is_empty()
                    && blocked
                        .threads
                        .iter()
                        .all(|(_, thread)| *thread == blocked.blocker),
                "with Builder::stealing(false) a worker never takes tasks from another's local \
                 queue, but tasks queued on the blocked worker ran elsewhere: {:?}",
                blocked.threads
            );
            assert_eq!(rt.metrics().steals, 0, "stealing off: steals stays 0");
        });
}

#[test]
fn with_four_workers_a_blocked_workers_queue_is_still_stolen() {
    watchdog("4 workers; a task spawns 10 tasks, then blocks its worker until 9 of them ran").run(
        || {
            let rt = Builder::new().worker_threads(4).build();
            let blocked = block_a_worker_with_children(&rt, 10, 9, || {});
            assert!(
                blocked.opened,
                "with 4 workers, a blocked worker's 9 queued tasks were not all run by the \
                 other 3 ({} ran: {:?}): every worker that runs out of work must look at every \
                 other worker's local queue (each victim in turn), whatever the number of \
                 workers",
                blocked.order.len(),
                blocked.order
            );
            assert!(
                !blocked.order.contains(&"c10".to_owned()),
                "c10, in the blocked worker's LIFO slot, ran while its worker was blocked"
            );
        },
    );
}

#[test]
fn an_idle_worker_never_takes_a_blocked_workers_lifo_task() {
    watchdog("a task that spawns 1 task (into its LIFO slot) and blocks, and an idle worker").run(
        || {
            let rt = Builder::new().worker_threads(2).build();
            let handle = rt.handle();
            // c1 in the blocked worker's LIFO slot, its local queue empty; the other worker is
            // made to look for work (and find none it may take) while the blocker holds on.
            let blocked = block_a_worker_with_children(&rt, 1, 0, move || {
                wake_the_other_worker_until_it_sleeps_again(&handle);
            });
            assert!(
                blocked.order.is_empty(),
                "c1 waited in the LIFO slot of a blocked worker, whose local queue was empty, \
                 and the other worker, looking for work, ran it ({:?}): the LIFO slot is never \
                 stolen, also when the victim's local queue is empty (only local queues are)",
                blocked.threads
            );
            assert_eq!(
                rt.metrics().steals,
                0,
                "nothing was stealable: {:?}",
                rt.metrics()
            );
        },
    );
}

#[test]
fn each_of_four_workers_in_turn_blocked_has_its_queue_stolen() {
    watchdog("4 workers each held by a task; one of them (each worker in turn) queues 2 tasks and blocks")
        .likely_cause(
            "a thief that looks at only some of the other workers: one search must try every \
             other worker once (victims (start + offset) % workers for offset 0 .. workers), so \
             a queue on any worker is found, whatever its index",
        )
        .run(|| {
            let rt = Builder::new().worker_threads(4).build();
            // The worker threads in the order the first round saw them start; round k blocks
            // the k-th, so every worker, whatever its index, is the blocked one once.
            let mut workers: Vec<ThreadId> = Vec::new();
            for round in 0..4 {
                let started: Arc<Mutex<Vec<ThreadId>>> = Arc::default();
                let all_started = Gate::new();
                let chosen: Arc<Mutex<Option<ThreadId>>> = Arc::default();
                let decided = Gate::new();
                let queued = Gate::new();
                let stolen = Gate::new();
                let ran = Counter::default();
                // Each holder gives: c1 and c2 ran in time; how many had run then; its children.
                type Held = (bool, usize, Vec<JoinHandle<()>>);
                let holders: Vec<JoinHandle<Held>> = (0..4)
                    .map(|_| {
                        let (started, all_started) = (Arc::clone(&started), all_started.clone());
                        let (chosen, decided) = (Arc::clone(&chosen), decided.clone());
                        let (queued, stolen, ran) = (queued.clone(), stolen.clone(), ran.clone());
                        rt.spawn(async move {
                            let me = std::thread::current().id();
                            {
                                let mut started = started.lock().unwrap();
                                started.push(me);
                                if started.len() == 4 {
                                    all_started.open();
                                }
                            }
                            // Every holder blocks its worker until the test has chosen.
                            if !decided.wait_at_most(PATIENCE) || *chosen.lock().unwrap() != Some(me)
                            {
                                // Let go only once the blocker's tasks are queued: this worker
                                // then finds nothing of its own, nor in the injector: it must
                                // search the others.
                                queued.wait_at_most(PATIENCE);
                                return (true, 2, Vec::new());
                            }
                            // The chosen one: c1, c2 into its local queue, c3 into its LIFO
                            // slot (never stolen); then it blocks until c1 and c2 ran.
                            let children: Vec<JoinHandle<()>> = (1..=3)
                                .map(|_| {
                                    let (stolen, ran) = (stolen.clone(), ran.clone());
                                    stealing::spawn(async move {
                                        if ran.tick() == 2 {
                                            stolen.open();
                                        }
                                    })
                                })
                                .collect();
                            queued.open();
                            let in_time = stolen.wait_at_most(PATIENCE);
                            (in_time, ran.get(), children)
                        })
                    })
                    .collect();
                let all = all_started.wait_at_most(PATIENCE);
                let threads = started.lock().unwrap().clone();
                if round == 0 {
                    workers = threads.clone();
                }
                let blocker = workers.get(round).copied().filter(|_| all);
                *chosen.lock().unwrap() = blocker.filter(|thread| threads.contains(thread));
                decided.open();
                if chosen.lock().unwrap().is_none() {
                    queued.open(); // nobody blocks: let every holder go before failing
                }
                let (stolen_in_time, ran_then) = rt.block_on(async move {
                    let (mut in_time, mut ran_then) = (true, 2);
                    let mut children = Vec::new();
                    for holder in holders {
                        let (ok, ran, mine) = holder.await.unwrap();
                        in_time &= ok;
                        ran_then = ran_then.min(ran);
                        children.extend(mine);
                    }
                    for child in children {
                        child.await.unwrap();
                    }
                    (in_time, ran_then)
                });
                assert!(
                    all,
                    "4 tasks that each block their worker, spawned from outside onto 4 \
                     workers: only {} started ({threads:?}). Does a push to the injector wake \
                     a sleeping worker while the others are busy?",
                    threads.len()
                );
                assert!(
                    chosen.lock().unwrap().is_some(),
                    "round {round}: the 4 busy worker threads {threads:?} are not the 4 of \
                     the first round {workers:?}: a runtime keeps its worker threads for life"
                );
                assert!(
                    stolen_in_time,
                    "4 workers, each held by a task; then the task on worker thread \
                     #{round} (of {workers:?}, in the order they first started) queued c1, c2 \
                     in its local queue (c3 in its LIFO slot) and blocked its thread, and the \
                     other 3 workers were let go with nothing else to do: in {} s they ran {} \
                     of c1, c2 ({round} earlier round(s), each blocking another worker, \
                     passed). A thief must try EVERY other worker before it gives \
                     up, whatever index the victim has. Look at how your steal loop computes \
                     its victims: (start + offset) % workers, for offset in 0..workers, visits \
                     each worker once; (start + offset) / workers, or start * offset, visits \
                     only some",
                    PATIENCE.as_secs(),
                    ran_then
                );
            }
        });
}
