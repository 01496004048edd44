//! Part 2 — `select(a, b)`: the first to finish wins; the other comes back unfinished.
//!
//! Run just these with `cargo test -p combinators --test part2_select`.

mod common;

use std::future::{self, Future};
use std::task::Poll;

use combinators::{Either, select};
use common::{Gate, Logged, PollLog, watchdog};
use harness::{Poller, bounded, catch_panic, recorded};

#[test]
fn the_first_to_finish_wins_and_the_other_comes_back_unfinished() {
    watchdog("select of two gates, the second opened first").run(|| {
        let (a, b) = (Gate::new("a"), Gate::new("b"));
        let mut raced = Poller::new(select(a.clone(), b.clone()));
        assert!(
            raced.poll().is_pending(),
            "neither gate is open: select must be Pending"
        );
        b.open();
        assert!(
            raced.wakes() >= 1,
            "b's event did not wake the task: select must poll BOTH futures with the task's \
             `cx`, so whichever finishes first can wake it",
        );
        let Poll::Ready(Either::Right(("b", mut loser))) = raced.poll() else {
            panic!(
                "b finished first, so select must be Ready(Either::Right((\"b\", a))) on the poll \
                 after b's wake",
            );
        };
        let polls = a.polls();
        assert!(
            Poller::new(&mut loser).poll().is_pending(),
            "the loser is handed back unfinished: it is still Pending",
        );
        assert_eq!(
            a.polls(),
            polls + 1,
            "the loser handed back is the same future `a`"
        );
        a.open();
        assert_eq!(
            Poller::new(&mut loser).poll(),
            Poll::Ready("a"),
            "the loser carries on where it was: the caller may keep polling it to the end",
        );
    });
}

#[test]
fn when_a_is_ready_b_is_not_polled() {
    watchdog("select(ready, b)").run(|| {
        let (b, stats) = recorded("b", Gate::new(2));
        let mut raced = Poller::new(select(future::ready(1), b));
        let Poll::Ready(Either::Left((1, _b))) = raced.poll() else {
            panic!("a was ready on the first poll, so select must be Ready(Left((1, b)))");
        };
        assert_eq!(
            stats.polls(),
            0,
            "a was ready, yet select polled b in the same poll. Polling a future has effects \
             (a `recv` can take a message): once a has won, return at once and leave b \
             untouched for the caller",
        );
    });
}

#[test]
fn a_wins_when_both_are_ready() {
    watchdog("select(ready, ready)").run(|| {
        let mut raced = Poller::new(select(future::ready("a"), future::ready("b")));
        let Poll::Ready(winner) = raced.poll() else {
            panic!("both futures were ready: select must be Ready on its first poll");
        };
        assert!(
            matches!(winner, Either::Left(("a", _))),
            "both were ready; select promises to poll `a` first, so `a` wins a tie. Poll a, \
             then b.",
        );
    });
}

#[test]
fn a_is_polled_first_on_every_poll_not_only_the_first() {
    watchdog("select of two gates, both opened after some Pending polls").run(|| {
        for pending_polls in 1..=3 {
            let log = PollLog::new();
            let (a, b) = (Gate::new("a"), Gate::new("b"));
            let mut raced = Poller::new(select(
                Logged::new("a", &log, a.clone()),
                Logged::new("b", &log, b.clone()),
            ));
            for poll in 1..=pending_polls {
                assert!(raced.poll().is_pending(), "both gates are closed");
                let order = log.take();
                assert_eq!(
                    order,
                    ["a", "b"],
                    "poll #{poll} of select polled [{}]; every poll polls `a`, then `b`: not \
                     only the first one. Taking turns to be fair breaks the contract that a \
                     tie goes to `a`.",
                    bounded::list(&order, 4, 2),
                );
            }
            // Both become ready between two polls (one event can make both ready).
            a.open();
            b.open();
            let winner = raced.poll();
            let order = log.take();
            assert!(
                matches!(winner, Poll::Ready(Either::Left(("a", _)))),
                "after {pending_polls} Pending poll(s), both a and b became ready: `a` must win \
                 the tie (it is polled first on EVERY poll), but it did not (polled, in that \
                 poll: [{}]). Does your select change its order from poll to poll?",
                bounded::list(&order, 4, 2),
            );
            assert_eq!(
                order,
                ["a"],
                "a was ready, so b must not be polled in that poll (polled: [{}])",
                bounded::list(&order, 4, 2),
            );
        }
    });
}

#[test]
fn every_poll_polls_both_until_one_finishes() {
    watchdog("select of two pending futures").run(|| {
        let (a, stats_a) = recorded("a", Gate::new(1));
        let (b, stats_b) = recorded("b", Gate::new(2));
        let mut raced = Poller::new(select(a, b));
        for _ in 0..3 {
            assert!(raced.poll().is_pending());
        }
        assert_eq!(
            (stats_a.polls(), stats_b.polls()),
            (3, 3),
            "each poll of select must poll both a and b (polls of a and b shown): a future \
             that is not polled with the task's waker cannot wake the task",
        );
    });
}

#[test]
fn select_of_mut_references_leaves_the_loser_with_the_caller() {
    watchdog("select(&mut a, &mut b) in a loop").run(|| {
        let (a, b) = (Gate::new(1), Gate::new(2));
        let (mut fut_a, mut fut_b) = (a.clone(), b.clone());
        b.open();
        let first = futures::executor::block_on(select(&mut fut_a, &mut fut_b));
        assert!(matches!(first, Either::Right((2, _))), "b was open: b wins");
        a.open();
        let second = futures::executor::block_on(select(&mut fut_a, future::pending::<u8>()));
        assert!(
            matches!(second, Either::Left((1, _))),
            "`a` lost the first select but was only borrowed, so it could race again and win",
        );
    });
}

#[test]
fn select_panics_when_polled_after_completion() {
    watchdog("select polled after Ready").run(|| {
        let mut raced = Poller::new(select(future::ready(1), future::pending::<()>()));
        assert!(raced.poll().is_ready());
        let message = catch_panic(|| raced.poll().is_ready()).expect_err(
            "select was polled again after it returned Ready and did not panic: it has handed \
             both futures out, there is nothing left to poll",
        );
        assert!(
            message.contains("polled after completion"),
            "the panic should say \"polled after completion\"; it said: {message}",
        );
    });
}

/// `Select` must be usable with any pair of `Unpin` futures (it names its output type).
#[allow(dead_code)]
fn output_type_is_either_of_winner_and_loser<A: Future + Unpin, B: Future + Unpin>(
    raced: combinators::Select<A, B>,
) -> impl Future<Output = Either<(A::Output, B), (B::Output, A)>> {
    raced
}
