//! Part 1 — `join_all`: N children, outputs in input order, one waker per child.
//!
//! Run just these with `cargo test -p combinators --test part1_join_all`.
//!
//! The children are mostly `Gate`s (tests/common): Pending until the test opens them, keeping
//! the waker they were polled with, so the test controls who finishes when and whose waker
//! fires. `recorded()` wraps a child to count its polls, and panics if it is polled after it
//! returned Ready.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use combinators::join_all;
use common::{Gate, Guarded, OnDrop, drive, watchdog};
use harness::{Journal, Poller, WakeProbe, Watchdog, catch_panic, recorded, yield_times};

#[test]
fn join_all_returns_the_outputs_in_input_order_not_completion_order() {
    watchdog("join_all of three gates opened in the order 2, 0, 1").run(|| {
        let gates = [Gate::new(10), Gate::new(11), Gate::new(12)];
        let mut joined = Poller::new(join_all(gates.clone()));
        assert!(
            joined.poll().is_pending(),
            "no gate is open yet: join_all must be Pending"
        );
        for i in [2, 0] {
            gates[i].open();
            assert!(
                joined.poll().is_pending(),
                "gate {i} opened but another gate is still closed: join_all must stay Pending \
                 until EVERY child has finished",
            );
        }
        gates[1].open();
        let outputs = drive(
            &mut joined,
            5,
            "Every gate is open and woke its waker. Does a wake lead to the poll of the child \
             it belongs to?",
        );
        assert_eq!(
            outputs,
            vec![10, 11, 12],
            "join_all must return outputs[i] = the output of the i-th future GIVEN (input \
             order), whatever order they finished in (here 2, 0, 1). Keep an output slot per \
             child (`Vec<Option<T>>`) instead of pushing outputs as they arrive.",
        );
    });
}

#[test]
fn join_all_runs_children_that_are_not_unpin() {
    watchdog("join_all of three async blocks that borrow from themselves").run(|| {
        // Each child keeps a reference to one of its own locals across an .await: !Unpin.
        let children = (0..3_usize).map(|i| async move {
            let values = [i * 100, 0];
            let first = &values[0];
            yield_times(3 - i).await;
            *first
        });
        let mut joined = Poller::new(join_all(children));
        let outputs = drive(
            &mut joined,
            10,
            "the children yield 3, 2 and 1 times: a few polls are enough",
        );
        assert_eq!(
            outputs,
            vec![0, 100, 200],
            "join_all must run futures that are not Unpin (every async block that borrows \
             across an .await): pin each child where it stays, e.g. Box::pin",
        );
    });
}

#[test]
fn join_all_of_no_futures_is_ready_at_once_with_no_outputs() {
    watchdog("join_all of an empty list").run(|| {
        let mut joined = Poller::new(join_all(Vec::<Gate<u8>>::new()));
        assert_eq!(
            joined.poll(),
            Poll::Ready(vec![]),
            "join_all of nothing has nothing to wait for: its first poll is Ready(vec![])",
        );
    });
}

#[test]
fn the_first_poll_polls_every_child_once() {
    watchdog("the first poll of join_all").run(|| {
        let gates = [Gate::new(0), Gate::new(1), Gate::new(2)];
        let mut joined = Poller::new(join_all(gates.clone()));
        assert!(joined.poll().is_pending());
        let polls: Vec<usize> = gates.iter().map(Gate::polls).collect();
        assert_eq!(
            polls,
            vec![1, 1, 1],
            "the first poll of join_all must poll every child exactly once (a child that was \
             never polled has no waker to wake, so it could never make progress)",
        );
    });
}

#[test]
fn a_wake_polls_only_the_child_it_belongs_to() {
    watchdog("join_all woken by one of three children").run(|| {
        let gates = [Gate::new(0), Gate::new(1), Gate::new(2)];
        let mut joined = Poller::new(join_all(gates.clone()));
        assert!(joined.poll().is_pending());
        gates[1].wake_again();
        assert!(
            joined.wakes() >= 1,
            "child 1 woke the waker it was polled with, but the task that polled join_all was \
             not woken: a child's waker must record the wake and then wake the join_all's \
             task (the waker of its latest poll)",
        );
        assert!(joined.poll().is_pending());
        let polls: Vec<usize> = gates.iter().map(Gate::polls).collect();
        assert_eq!(
            polls,
            vec![1, 2, 1],
            "only child 1 woke its waker, so the poll after that wake must poll child 1 and \
             no other (polls per child shown). Polling every child on every wake costs N \
             polls per event: give each child a waker of its own that records WHICH child \
             woke, and poll only those.",
        );
        assert!(joined.poll().is_pending());
        let polls_after: Vec<usize> = gates.iter().map(Gate::polls).collect();
        assert_eq!(
            polls_after, polls,
            "a poll of join_all with no child woken since must poll no child (a spurious \
             poll, which executors may do, costs nothing)",
        );
    });
}

#[test]
fn a_child_that_wakes_itself_during_its_own_poll_is_polled_again() {
    watchdog("join_all of a child that yields once").run(|| {
        let (yielder, stats) = recorded("the yielding child", async {
            yield_times(1).await;
            7_u32
        });
        let gate = Gate::new(8_u32);
        let mut joined = Poller::new(join_all(vec![
            Box::pin(yielder) as Pin<Box<dyn Future<Output = u32> + Send>>,
            Box::pin(gate.clone()),
        ]));
        assert!(joined.poll().is_pending());
        if stats.readies() == 0 {
            // Not re-polled within that poll (that is allowed): then the wake must be pending.
            assert!(
                joined.wakes() >= 1,
                "the first child woke its own waker while it was being polled; that wake must \
                 reach the join_all's task",
            );
            assert!(joined.poll().is_pending());
        }
        assert_eq!(
            stats.readies(),
            1,
            "child 0 woke its waker DURING its own poll (it yielded), so join_all must poll it \
             again (it then finishes). It did not: the wake was lost. Clear a child's 'woken' \
             mark BEFORE polling it, never after: a wake that comes while it runs must survive.",
        );
        gate.open();
        assert_eq!(
            drive(&mut joined, 5, "both children can finish"),
            vec![7, 8]
        );
    });
}

#[test]
fn a_wake_reaches_the_task_that_polled_most_recently() {
    watchdog("join_all moved from one task to another").run(|| {
        let gate = Gate::new(1);
        let mut joined = Poller::new(join_all([gate.clone(), Gate::new(2)]));
        let first = WakeProbe::new();
        let second = WakeProbe::new();
        assert!(joined.poll_with(&first.waker()).is_pending());
        assert!(joined.poll_with(&second.waker()).is_pending());
        let before = (first.wakes(), second.wakes());
        gate.open();
        assert!(
            second.wakes() > before.1,
            "join_all was last polled with a second waker (as when a future moves to another \
             task); a child's wake must wake THAT waker. It did not: keep the waker of every \
             poll (replace it when `!will_wake`), not only the first one.",
        );
        assert_eq!(
            first.wakes(),
            before.0,
            "a child's wake woke the waker of an older poll; only the latest one counts",
        );
    });
}

#[test]
fn a_finished_child_is_never_polled_again_even_when_its_waker_fires() {
    watchdog("join_all whose finished child wakes again").run(|| {
        let gate = Gate::new(1_u32);
        let (child, _stats) = recorded("child 0", gate.clone());
        let (other, _) = recorded("child 1", Gate::new(2_u32));
        let other_gate_open = Gate::new(());
        let mut joined = Poller::new(join_all([
            Box::pin(child) as Pin<Box<dyn Future<Output = u32> + Send>>,
            Box::pin(async move {
                other_gate_open.await;
                other.await
            }),
        ]));
        assert!(joined.poll().is_pending());
        gate.open();
        assert!(joined.poll().is_pending(), "child 1 has not finished");
        // A stale wake: child 0 finished, but its waker fires again (an I/O source may do that).
        gate.wake_again();
        let result = catch_panic(|| joined.poll());
        assert!(
            result.is_ok(),
            "join_all polled a child that had already returned Ready, because its waker fired \
             again: {}. A finished child must be skipped (drop it: `children[i] = None`) \
             whatever its waker says.",
            result.err().unwrap_or_default(),
        );
    });
}

#[test]
fn a_finished_child_is_dropped_as_soon_as_it_finishes() {
    watchdog("join_all with one child finished and one running").run(|| {
        let journal = Journal::new();
        let gate = Gate::new(());
        let guarded = Guarded {
            future: gate.clone(),
            guard: OnDrop {
                name: "child 0".into(),
                journal: journal.clone(),
            },
        };
        let mut joined = Poller::new(join_all([
            Box::pin(guarded) as Pin<Box<dyn Future<Output = ()> + Send>>,
            Box::pin(Gate::new(())),
        ]));
        assert!(joined.poll().is_pending());
        gate.open();
        assert!(joined.poll().is_pending(), "child 1 has not finished");
        assert_eq!(
            journal.entries(),
            vec!["child 0 dropped"],
            "child 0 returned Ready, but join_all did not drop it: a finished child still \
             holds whatever it owned (buffers, sockets, timers) until the whole join_all \
             ends. Keep only its output and drop the future (`children[i] = None`).",
        );
    });
}

#[test]
fn join_all_panics_when_polled_after_completion() {
    watchdog("join_all polled after Ready").run(|| {
        let mut joined = Poller::new(join_all([std::future::ready(1)]));
        assert_eq!(joined.poll(), Poll::Ready(vec![1]));
        let message = catch_panic(|| joined.poll()).expect_err(
            "join_all was polled again after it returned Ready and did not panic. Its outputs \
             were handed out; make the contract breach loud.",
        );
        assert!(
            message.contains("polled after completion"),
            "the panic should say \"polled after completion\"; it said: {message}",
        );
    });
}

#[test]
fn a_wake_from_another_thread_finishes_the_join() {
    watchdog("futures::executor::block_on(join_all(..)) with gates opened by a thread").run(|| {
        let gates: Vec<Gate<usize>> = (0..4).map(Gate::new).collect();
        let opener = {
            let gates = gates.clone();
            std::thread::spawn(move || {
                for gate in gates.iter().rev() {
                    gate.open();
                }
            })
        };
        let outputs = futures::executor::block_on(join_all(gates));
        opener.join().expect("the opener thread");
        assert_eq!(outputs, vec![0, 1, 2, 3]);
    });
}

/// A one-task executor that polls its task *inside* `wake`, on the thread that woke it, as
/// an executor may (a wake that lands on the executor's own thread, a "run on wake" waker). A
/// wake that comes while the task is being polled is remembered and the task polled again
/// after that poll.
struct RunOnWake<F: Future> {
    task: Mutex<Option<Pin<Box<F>>>>,
    woken: AtomicBool,
    output: Mutex<Option<F::Output>>,
}

impl<F> RunOnWake<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn new(future: F) -> Arc<Self> {
        Arc::new(RunOnWake {
            task: Mutex::new(Some(Box::pin(future))),
            woken: AtomicBool::new(false),
            output: Mutex::new(None),
        })
    }

    fn run(self: &Arc<Self>) {
        // Whoever holds `task` is polling it, and looks at `woken` again once it is done.
        while let Ok(mut task) = self.task.try_lock() {
            if !self.woken.swap(false, Ordering::SeqCst) {
                return;
            }
            let Some(future) = task.as_mut() else {
                return;
            };
            let waker = Waker::from(Arc::clone(self));
            if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
                *task = None;
                *self.output.lock().unwrap_or_else(PoisonError::into_inner) = Some(output);
            }
        }
    }

    fn finished(&self) -> bool {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    fn take_output(&self) -> Option<F::Output> {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl<F> Wake for RunOnWake<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.run();
    }
}

#[test]
fn the_task_is_woken_outside_the_lock_so_its_waker_may_poll_the_join_all_at_once() {
    Watchdog::new("join_all run by an executor that polls the task inside `wake`")
        .likely_cause(
            "a child's waker that wakes the task while it still holds the JoinAll's lock (a \
             `MutexGuard` alive across `parent.wake()`): this test's task waker polls the \
             join_all at once, inside `wake`, as an executor may, and that poll waits for a \
             lock its own thread already holds. Take what you need (the parent waker, \
             cloned) in a block that ends the guard, then wake",
        )
        .likely_cause(
            "a JoinAll that holds its lock while it polls a child: a child that wakes its \
             waker during its own poll then waits for that lock",
        )
        .run(|| {
            let gates = [Gate::new(0_u32), Gate::new(1)];
            let children: Vec<Pin<Box<dyn Future<Output = u32> + Send>>> = vec![
                Box::pin(gates[0].clone()),
                Box::pin(gates[1].clone()),
                Box::pin(async {
                    yield_times(2).await;
                    2
                }),
            ];
            let executor = RunOnWake::new(join_all(children));
            // The first poll: child 2 wakes itself twice during its own polls (it yields).
            Waker::from(Arc::clone(&executor)).wake();
            assert!(
                !executor.finished(),
                "gates 0 and 1 are closed: join_all must be Pending"
            );
            // A child's event on this thread: the task's waker polls the join_all right away.
            let opened = catch_panic(|| gates[0].open());
            assert!(
                opened.is_ok(),
                "child 0 woke its waker, whose wake of the task polled the join_all at once \
                 (as an executor may, inside `wake`), and that poll panicked: {}. Did the \
                 child's waker still hold the JoinAll's lock when it woke the task? Wake the \
                 task OUTSIDE the lock.",
                opened.err().unwrap_or_default(),
            );
            assert_eq!(
                gates[0].polls(),
                2,
                "the task's waker polled the join_all inside child 0's wake: that poll must \
                 poll child 0 (it was woken). Does the child's waker record its wake BEFORE \
                 it wakes the task?",
            );
            // The same from another thread.
            let gate = gates[1].clone();
            std::thread::spawn(move || gate.open())
                .join()
                .expect("opening gate 1 on another thread (which polls the join_all there)");
            assert_eq!(
                executor.take_output(),
                Some(vec![0, 1, 2]),
                "every child finished, each wake polled the join_all at once: it must be \
                 Ready with every output",
            );
        });
}
