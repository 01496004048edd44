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
use common::{Gate, OnDrop, watchdog};
use harness::{Journal, Poller, catch_panic, recorded};

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
