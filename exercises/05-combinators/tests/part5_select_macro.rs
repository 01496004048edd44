//! Part 5 — `select!`: N branches, fair or `biased`, run by your `select_n`.
//!
//! Run just these with `cargo test -p combinators --test part5_select_macro`.
//!
//! The macro is given (src/select_n.rs); these tests check the engine you write under it:
//! `branch`, `select_n` and `SelectN::poll`.

mod common;

use std::future::{self, Future};
use std::pin::Pin;
use std::task::Poll;

use combinators::{Start, branch, select, select_n};
use common::{Gate, Logged, OnDrop, PollLog, watchdog};
use harness::{Journal, Poller, bounded, catch_panic, recorded};

/// One `select!` over three branches that are all ready at once; returns the winner's index.
async fn three_ready(biased: bool) -> usize {
    let (mut a, mut b, mut c) = (future::ready(0), future::ready(1), future::ready(2));
    if biased {
        select! {
            biased;
            x = &mut a => x,
            x = &mut b => x,
            x = &mut c => x,
        }
    } else {
        select! {
            x = &mut a => x,
            x = &mut b => x,
            x = &mut c => x,
        }
    }
}

#[test]
fn select_runs_the_body_of_the_branch_that_finished() {
    watchdog("select! with one ready branch").run(|| {
        let out = futures::executor::block_on(async {
            let mut words = Vec::new();
            let never = future::pending::<&str>();
            let (mut pending_a, mut pending_b) = (Gate::new("a"), Gate::new("b"));
            let n: usize = select! {
                w = never => { words.push(w); 0 }
                ,
                w = &mut pending_a => { words.push(w); 1 },
                (w, n) = future::ready(("c", 3)) => { words.push(w); n },
                w = &mut pending_b => { words.push(w); 2 },
            };
            (n, words)
        });
        assert_eq!(
            out,
            (3, vec!["c"]),
            "only the third branch was ready: select! must bind its output to its pattern and \
             evaluate its body, and no other body",
        );
    });
}

#[test]
fn a_biased_select_always_tries_the_first_branch_first() {
    watchdog("select! { biased; ... } with three ready branches, 30 times").run(|| {
        let winners: Vec<usize> = (0..30)
            .map(|_| futures::executor::block_on(three_ready(true)))
            .collect();
        assert!(
            winners.iter().all(|&w| w == 0),
            "with `biased;` the branches are tried in the order written, every time, so when \
             all three are ready the first one always wins. Winners seen: {winners:?}. \
             `Start::Biased` means start at branch 0.",
        );
    });
}

#[test]
fn a_fair_select_gives_every_ready_branch_its_share() {
    watchdog("select! with three ready branches, 300 times").run(|| {
        let mut wins = [0_usize; 3];
        for _ in 0..300 {
            wins[futures::executor::block_on(three_ready(false))] += 1;
        }
        assert!(
            wins.iter().all(|&w| w >= 50),
            "a fair select! starts at a different branch from call to call, so that a branch \
             that is always ready cannot starve the others. With three always-ready branches \
             and 300 selects, every branch should win at least 50 times; wins were {wins:?}. \
             Where does the start come from? State that lives in one `SelectN` is new on every \
             call: keep a rotating counter per thread (a `thread_local!`), or pick at random.",
        );
    });
}

#[test]
fn a_fair_select_wraps_around_to_the_branches_before_its_start() {
    watchdog("select! whose only ready branch is the first, 12 times").run(|| {
        for call in 0..12 {
            let mut raced = Poller::new(async {
                let (mut x, mut y) = (future::pending::<u8>(), future::pending::<u8>());
                select! {
                    v = future::ready(7_u8) => v,
                    v = &mut x => v,
                    v = &mut y => v,
                }
            });
            assert_eq!(
                raced.poll(),
                Poll::Ready(7),
                "select #{call}: branch 0 was ready, yet the first poll was Pending. A fair \
                 select starting at branch k must go on past the last branch to 0, 1, ..., \
                 k-1 (index (start + i) % n): every branch is polled in every poll.",
            );
        }
    });
}

/// A fair `select_n` over `n` gates, each logged under its index; the gates are returned to
/// open them.
fn logged_gates(
    n: usize,
    log: &PollLog,
) -> (
    Vec<Gate<usize>>,
    Poller<combinators::SelectN<'static, usize>>,
) {
    let gates: Vec<Gate<usize>> = (0..n).map(Gate::new).collect();
    let branches = gates
        .iter()
        .enumerate()
        .map(|(i, gate)| branch(Logged::new(i.to_string(), log, gate.clone()), |v| v))
        .collect();
    (gates, Poller::new(select_n(Start::Fair, branches)))
}

/// `order`, as indexes: what the `Logged` gates of [`logged_gates`] wrote.
fn indexes(order: &[String]) -> Vec<usize> {
    order.iter().filter_map(|i| i.parse().ok()).collect()
}

#[test]
fn a_fair_select_keeps_one_start_for_every_poll_of_one_call() {
    watchdog("fair select_n over three closed gates, polled four times, 6 calls").run(|| {
        for call in 0..6 {
            let log = PollLog::new();
            let (_gates, mut raced) = logged_gates(3, &log);
            assert!(raced.poll().is_pending(), "every gate is closed");
            let first = log.take();
            for poll in 2..=4 {
                assert!(raced.poll().is_pending(), "every gate is closed");
                let order = log.take();
                assert_eq!(
                    order,
                    first,
                    "call #{call} of select_n: poll 1 polled the branches in the order [{}], \
                     poll {poll} in the order [{}]. The start branch is chosen ONCE per call, \
                     in `select_n`, and every poll of that SelectN starts there. Drawing a new \
                     start at each poll moves the order under a waiting select (and moves the \
                     counter once per poll instead of once per call).",
                    bounded::list(&first, 4, 2),
                    bounded::list(&order, 4, 2),
                );
            }
        }
    });
}

#[test]
fn a_fair_select_polls_from_its_start_in_wrapping_order() {
    watchdog("fair select_n over four gates, all but the start opened, 8 calls").run(|| {
        for call in 0..8 {
            let n = 4;
            let log = PollLog::new();
            let (gates, mut raced) = logged_gates(n, &log);
            assert!(raced.poll().is_pending(), "every gate is closed");
            let order = log.take();
            let polled = indexes(&order);
            let start = polled.first().copied().unwrap_or(0);
            let expected: Vec<usize> = (0..n).map(|i| (start + i) % n).collect();
            assert_eq!(
                polled,
                expected,
                "call #{call} of select_n started at branch {start}, so its poll must go \
                 {start}, {start}+1, ... and wrap around past the last branch to 0: [{}]. It \
                 polled [{}]. Index (start + i) % n, for i in 0..n.",
                bounded::list(&expected, 4, 2),
                bounded::list(&order, 4, 2),
            );
            // Every branch but the start becomes ready: the one right after the start wins.
            for (i, gate) in gates.iter().enumerate() {
                if i != start {
                    gate.open();
                }
            }
            let winner = raced.poll();
            let order = log.take();
            let next = (start + 1) % n;
            assert_eq!(
                winner,
                Poll::Ready(next),
                "call #{call}: every branch but the start ({start}) became ready; in wrapping \
                 order from {start} the first ready one is {next}, so it wins (polled in that \
                 poll: [{}])",
                bounded::list(&order, 4, 2),
            );
            assert_eq!(
                indexes(&order),
                [start, next],
                "call #{call}: branch {next} won, so no branch after it may be polled in that \
                 poll (polled: [{}])",
                bounded::list(&order, 4, 2),
            );
        }
    });
}

/// Runs `calls` fair `select!`s of two always-ready branches on this thread, each after the
/// other thread's turn (`turn`/`pass`); returns the wins of each branch.
fn take_turns(
    calls: usize,
    turn: &std::sync::mpsc::Receiver<()>,
    pass: &std::sync::mpsc::Sender<()>,
) -> [usize; 2] {
    let mut wins = [0; 2];
    for _ in 0..calls {
        if turn.recv().is_err() {
            break;
        }
        let won = futures::executor::block_on(async {
            let (mut a, mut b) = (future::ready(0), future::ready(1));
            select! {
                x = &mut a => x,
                x = &mut b => x,
            }
        });
        wins[won] += 1;
        // The other thread may have finished its calls already.
        let _ = pass.send(());
    }
    wins
}

#[test]
fn a_fair_select_changes_its_start_from_call_to_call_on_every_thread() {
    watchdog("two threads taking turns at a fair select! of two ready branches").run(|| {
        let calls = 200;
        let (to_a, a_turn) = std::sync::mpsc::channel();
        let (to_b, b_turn) = std::sync::mpsc::channel();
        to_a.send(()).expect("thread a's first turn");
        let a = std::thread::spawn(move || take_turns(calls, &a_turn, &to_b));
        let b = std::thread::spawn(move || take_turns(calls, &b_turn, &to_a));
        let wins = [
            a.join().expect("thread a's selects"),
            b.join().expect("thread b's selects"),
        ];
        for (thread, wins) in ["a", "b"].iter().zip(wins) {
            assert!(
                wins.iter().all(|&w| w >= calls / 4),
                "thread {thread} ran {calls} fair select!s of two always-ready branches, taking \
                 turns with another thread; the wins of branches 0 and 1 were {wins:?}. The \
                 start must change from call to call ON EACH THREAD: one counter shared by \
                 every thread (a `static` atomic) gives thread a the even numbers and thread \
                 b the odd ones, and each always starts at the same branch. Keep the counter \
                 per thread (`thread_local!`) or pick at random.",
            );
        }
    });
}

#[test]
fn branches_after_the_winner_are_not_polled() {
    watchdog("select! { biased; pending, ready, ready }").run(|| {
        let (third, stats) = recorded("branch 2", future::ready(2));
        let won = futures::executor::block_on(async {
            let mut third = third;
            let mut first = Gate::new(0);
            select! {
                biased;
                v = &mut first => v,
                v = future::ready(1) => v,
                v = &mut third => v,
            }
        });
        assert_eq!(
            won, 1,
            "branch 0 was pending and branch 1 ready: branch 1 wins"
        );
        assert_eq!(
            stats.polls(),
            0,
            "branch 1 won, yet branch 2 was polled in the same poll. Polling a branch can take \
             something (a message, a connection) that is then dropped with the loser: stop at \
             the first Ready branch.",
        );
    });
}

#[test]
fn every_pending_branch_is_polled_so_that_any_can_wake_the_task() {
    watchdog("select! over three gates, the last one opened").run(|| {
        let gates = [Gate::new(0), Gate::new(1), Gate::new(2)];
        let mut raced = {
            let mut gates = gates.clone();
            Poller::new(async move {
                let [a, b, c] = &mut gates;
                select! {
                    v = a => v,
                    v = b => v,
                    v = c => v,
                }
            })
        };
        assert!(raced.poll().is_pending());
        let polls: Vec<usize> = gates.iter().map(Gate::polls).collect();
        assert_eq!(
            polls,
            vec![1, 1, 1],
            "a Pending select! must have polled EVERY branch once (polls shown): a branch \
             that was not polled left no waker, and its event could never wake the task",
        );
        gates[2].open();
        assert!(raced.wakes() >= 1, "the open gate woke the task");
        assert_eq!(raced.poll(), Poll::Ready(2));
    });
}

#[test]
fn a_losing_future_given_by_value_is_dropped_one_given_by_mut_survives() {
    watchdog("select! with a by-value loser and a &mut loser").run(|| {
        let journal = Journal::new();
        let by_value = {
            let guard = OnDrop {
                name: "by value".into(),
                journal: journal.clone(),
            };
            Box::pin(async move {
                let _guard = guard;
                future::pending::<u8>().await
            })
        };
        let mut kept = Gate::new(5);
        let won = futures::executor::block_on(async {
            select! {
                v = by_value => v,
                v = &mut kept => v,
                v = future::ready(1) => v,
            }
        });
        assert_eq!(won, 1);
        assert_eq!(
            journal.entries(),
            vec!["by value dropped"],
            "a future moved into select! that lost is dropped (cancelled) when select! returns",
        );
        kept.open();
        assert_eq!(
            Poller::new(&mut kept).poll(),
            Poll::Ready(5),
            "a future lent with `&mut` is still the caller's, unfinished, after it lost",
        );
    });
}

#[test]
fn select_n_panics_when_polled_after_completion() {
    watchdog("select_n polled after Ready").run(|| {
        let branches = vec![branch(future::ready(1_u8), |v| v)];
        let mut raced = Poller::new(select_n(Start::Biased, branches));
        assert_eq!(raced.poll(), Poll::Ready(1));
        let message = catch_panic(|| raced.poll()).expect_err(
            "SelectN was polled again after it returned Ready and did not panic: its winner \
             has been handed out",
        );
        assert!(
            message.contains("polled after completion"),
            "the panic should say \"polled after completion\"; it said: {message}",
        );
    });
}

/// `branch` maps the future's output with its function.
#[test]
fn branch_maps_the_output_of_its_future() {
    watchdog("branch(ready(20), |v| v + 1)").run(|| {
        let mut one = branch(future::ready(20_u32), |v| v + 1);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert_eq!(
            one.poll_branch(&mut cx),
            Poll::Ready(21),
            "a branch polls its future and, when it is ready, returns map(output)",
        );
        let mut pending = branch(future::pending::<u32>(), |v| v);
        assert!(pending.poll_branch(&mut cx).is_pending());
    });
}

#[allow(dead_code)]
fn select_n_is_a_future_of_the_common_type<'a>(
    branches: Vec<Box<dyn combinators::Branch<u8> + 'a>>,
) -> Pin<Box<dyn Future<Output = u8> + 'a>> {
    Box::pin(select_n(Start::Fair, branches))
}
