//! Part 6 — cancellation: dropping a future cancels it; a select loop that loses nothing.
//!
//! Run just these with `cargo test -p combinators --test part6_cancellation`.
//!
//! The workers here are `ticker`s (tests/common): they write "<name> tick" into a journal
//! every few milliseconds of the test's `Timer`, and "<name> dropped" when dropped. Cancelled
//! means: the drop ran, and no tick comes after it, however far the clock moves.

mod common;

use std::task::Poll;

use blocks::mailbox::Mailbox;
use blocks::timer::Timer;
use combinators::{
    Either, Elapsed, PairReader, join_all, pairs_with_heartbeat, read_pair, select, timeout,
};
use common::{count, drive, ms, ticker, watchdog};
use harness::{Journal, Poller};

#[test]
fn dropping_a_join_all_cancels_every_unfinished_child() {
    watchdog("join_all of two tickers, dropped while running").run(|| {
        let (timer, journal) = (Timer::new(), Journal::new());
        let mut joined = Poller::new(join_all([
            Box::pin(ticker("a", timer.clone(), ms(10), journal.clone())),
            Box::pin(ticker("b", timer.clone(), ms(10), journal.clone())),
        ]));
        assert!(joined.poll().is_pending());
        timer.advance(ms(10));
        assert!(joined.poll().is_pending());
        assert_eq!(
            (count(&journal, "a tick"), count(&journal, "b tick")),
            (1, 1)
        );
        drop(joined);
        assert_eq!(
            (count(&journal, "a dropped"), count(&journal, "b dropped")),
            (1, 1),
            "dropping a join_all must drop every child it still runs: that is how an async \
             operation is cancelled in Rust",
        );
        timer.advance(ms(100));
        assert_eq!(
            journal.len(),
            4,
            "after the drop no child may tick again: {:?}",
            journal.entries()
        );
        assert_eq!(
            timer.registered(),
            0,
            "the children's sleeps were dropped with them"
        );
    });
}

#[test]
fn a_timeout_that_elapsed_cancels_its_future_when_dropped() {
    watchdog("timeout(25ms, a ticker)").run(|| {
        let (timer, journal) = (Timer::new(), Journal::new());
        let mut limited = Poller::new(timeout(
            &timer,
            ms(25),
            ticker("worker", timer.clone(), ms(10), journal.clone()),
        ));
        for step in [10, 10, 5] {
            assert!(limited.poll().is_pending());
            timer.advance(ms(step));
        }
        assert_eq!(
            limited.poll(),
            Poll::Ready(Err(Elapsed)),
            "25 ms: the deadline"
        );
        drop(limited);
        let ticks = count(&journal, "worker tick");
        assert_eq!(
            ticks, 2,
            "the worker ticked at 10 and 20 ms, before the 25 ms deadline"
        );
        timer.advance(ms(100));
        assert_eq!(
            journal.entries().last().map(String::as_str),
            Some("worker dropped"),
            "once the timed-out future is dropped, it is gone: no tick after its drop",
        );
    });
}

#[test]
fn the_loser_of_select_runs_on_until_the_caller_drops_it() {
    watchdog("select(ticker, gate) and its loser").run(|| {
        let (timer, journal) = (Timer::new(), Journal::new());
        let gate = common::Gate::new(());
        let worker = Box::pin(ticker("loser", timer.clone(), ms(10), journal.clone()));
        let mut raced = Poller::new(select(worker, gate.clone()));
        assert!(raced.poll().is_pending());
        gate.open();
        let Poll::Ready(Either::Right(((), mut loser))) = raced.poll() else {
            panic!("the gate opened first: select must be Ready(Right(((), ticker)))");
        };
        timer.advance(ms(10));
        assert!(Poller::new(&mut loser).poll().is_pending());
        assert_eq!(
            count(&journal, "loser tick"),
            1,
            "the handed-back loser still works"
        );
        drop(loser);
        timer.advance(ms(50));
        assert_eq!(
            journal.entries(),
            vec!["loser tick", "loser dropped"],
            "dropped, the loser stops for good"
        );
    });
}

#[test]
fn read_pair_loses_a_number_when_a_select_cancels_it_half_way() {
    // read_pair is given; this test shows what it does in a select: it is NOT cancel-safe.
    watchdog("select(read_pair, sleep) with the tick between the two numbers").run(|| {
        let (mailbox, timer) = (Mailbox::new(), Timer::new());
        mailbox.send(1);
        let mut raced = Poller::new(select(
            Box::pin(read_pair(&mailbox)),
            Box::pin(timer.sleep(ms(10))),
        ));
        assert!(
            raced.poll().is_pending(),
            "read_pair took 1 and waits for the second number"
        );
        timer.advance(ms(10));
        assert!(
            matches!(raced.poll(), Poll::Ready(Either::Right(_))),
            "the sleep won"
        );
        drop(raced); // the read in progress is cancelled
        mailbox.send(2);
        mailbox.send(3);
        let next = futures::executor::block_on(read_pair(&mailbox));
        assert_eq!(
            next,
            (2, 3),
            "the 1 was taken by the cancelled read_pair and dropped with it",
        );
    });
}

#[test]
fn a_read_dropped_half_way_keeps_its_first_number_in_the_reader() {
    watchdog("PairReader::read dropped after one number").run(|| {
        let mailbox = Mailbox::new();
        let mut reader = PairReader::new();
        mailbox.send(1);
        {
            let mut read = Poller::new(reader.read(&mailbox));
            assert!(read.poll().is_pending(), "one number of two: Pending");
        } // cancelled here
        assert_eq!(
            reader.pending_half(),
            Some(1),
            "the read took 1 from the mailbox and was dropped: a cancel-safe reader keeps the \
             1 in ITSELF (a field), not in a local variable of the future, which dies with it",
        );
        mailbox.send(2);
        let pair = drive(
            &mut Poller::new(reader.read(&mailbox)),
            3,
            "both numbers are there",
        );
        assert_eq!(pair, (1, 2), "the next read completes the pair it started");
        assert_eq!(
            reader.pending_half(),
            None,
            "a completed pair leaves nothing behind"
        );
        mailbox.send(3);
        mailbox.send(4);
        let pair = drive(
            &mut Poller::new(reader.read(&mailbox)),
            3,
            "both numbers are there",
        );
        assert_eq!(pair, (3, 4), "a pair that was never cancelled");
    });
}

#[test]
fn a_half_read_pair_stays_in_the_reader_through_every_cancelled_read() {
    watchdog("PairReader::read dropped three times before the second number").run(|| {
        let mailbox = Mailbox::new();
        let mut reader = PairReader::new();
        mailbox.send(1);
        for read in 1..=3 {
            {
                let mut reading = Poller::new(reader.read(&mailbox));
                for _ in 0..2 {
                    assert!(reading.poll().is_pending(), "one number of two: Pending");
                }
            } // cancelled here
            assert_eq!(
                reader.pending_half(),
                Some(1),
                "read #{read} of the same pair was dropped before the second number came. \
                 The 1 taken by the first read must still be in the reader, after EVERY \
                 cancelled read, not only the first: a read that resumes a half-read pair \
                 must leave the half in the reader until the pair is complete (a `take()` \
                 into a local at the start of the read puts it back into the future, which \
                 the next cancellation drops)",
            );
        }
        mailbox.send(2);
        let pair = drive(
            &mut Poller::new(reader.read(&mailbox)),
            3,
            "both numbers are there",
        );
        assert_eq!(
            pair,
            (1, 2),
            "three reads of the pair were cancelled; the fourth completes it"
        );
        assert_eq!(
            reader.pending_half(),
            None,
            "a completed pair leaves nothing behind"
        );
    });
}

#[test]
fn the_heartbeat_loop_loses_no_number_when_a_tick_cancels_a_read() {
    ticks_between_the_halves_of_a_pair(
        1,
        "a tick cancelled the read that had taken 1, and 1 was lost (or the pairs shifted). \
         In a select loop every branch may be dropped whenever another wins: read with \
         PairReader::read, which keeps a half-read pair in the reader, not read_pair.",
    );
}

#[test]
fn the_heartbeat_loop_loses_no_number_when_two_ticks_cancel_the_same_pair() {
    ticks_between_the_halves_of_a_pair(
        2,
        "two ticks cancelled two reads of the same pair, and the 1 was lost (or the pairs \
         shifted): the half must stay in the reader through every cancelled read, not \
         only the first",
    );
}

/// `pairs_with_heartbeat` receives 1, then `ticks` ticks each win over (and cancel) the read
/// of the pair's second half, then 2..=5 arrive: the pairs must be (1, 2) and (3, 4).
fn ticks_between_the_halves_of_a_pair(ticks: usize, lost: &'static str) {
    watchdog(&format!(
        "pairs_with_heartbeat, {ticks} tick(s) between the halves of a pair"
    ))
    .run(move || {
        let (mailbox, timer) = (Mailbox::new(), Timer::new());
        let mut looped = Poller::new(pairs_with_heartbeat(&mailbox, &timer, ms(10), 2));
        assert!(looped.poll().is_pending());
        mailbox.send(1);
        assert!(looped.poll().is_pending(), "the first number of a pair");
        for _ in 0..ticks {
            timer.advance(ms(10));
            assert!(
                looped.poll().is_pending(),
                "the tick wins and cancels the read in progress"
            );
        }
        for n in 2..=5 {
            mailbox.send(n);
        }
        let report = drive(
            &mut looped,
            5,
            "four more numbers are queued: two pairs can finish",
        );
        assert_eq!(report.pairs, vec![(1, 2), (3, 4)], "{lost}");
        assert_eq!(report.ticks, ticks, "{ticks} tick(s) elapsed while waiting");
        assert_eq!(mailbox.len(), 1, "5 is left for later");
    });
}

#[test]
fn the_heartbeat_loop_starts_a_fresh_sleep_after_a_pair() {
    watchdog("pairs_with_heartbeat, a pair read 6 ms into a 10 ms tick").run(|| {
        let (mailbox, timer) = (Mailbox::new(), Timer::new());
        let mut looped = Poller::new(pairs_with_heartbeat(&mailbox, &timer, ms(10), 2));
        assert!(looped.poll().is_pending());
        timer.advance(ms(6));
        mailbox.send(1);
        mailbox.send(2);
        assert!(
            looped.poll().is_pending(),
            "the first pair is read; the loop waits for the second"
        );
        // The round after the pair began at 6 ms: its fresh sleep is due at 16 ms, not 10.
        timer.advance(ms(4));
        assert!(looped.poll().is_pending(), "10 ms: no pair yet");
        mailbox.send(3);
        mailbox.send(4);
        let report = drive(&mut looped, 5, "the second pair is queued");
        assert_eq!(
            report,
            combinators::Report {
                pairs: vec![(1, 2), (3, 4)],
                ticks: 0
            },
            "a pair was read at 6 ms, so the next round began then with a fresh 10 ms sleep, \
             due at 16 ms; the clock reached only 10 ms, so no tick elapsed. A tick counted \
             here came from the sleep of the round before (due at 10 ms), kept across the \
             pair. Make a fresh `timer.sleep(tick)` each time round the loop, whichever \
             branch won the last round.",
        );
    });
}

#[test]
fn the_heartbeat_loop_counts_one_tick_per_elapsed_tick() {
    watchdog("pairs_with_heartbeat, three ticks with nothing to read").run(|| {
        let (mailbox, timer) = (Mailbox::new(), Timer::new());
        let mut looped = Poller::new(pairs_with_heartbeat(&mailbox, &timer, ms(10), 1));
        assert!(looped.poll().is_pending());
        for _ in 0..3 {
            timer.advance(ms(10));
            assert!(looped.poll().is_pending());
        }
        assert_eq!(
            timer.registered(),
            1,
            "one sleep waits for the next tick, no more"
        );
        mailbox.send(1);
        mailbox.send(2);
        let report = drive(&mut looped, 5, "a pair is queued");
        assert_eq!(
            report,
            combinators::Report {
                pairs: vec![(1, 2)],
                ticks: 3
            },
            "the clock moved three ticks while the loop waited: three heartbeats. Make a fresh \
             sleep each time round the loop (a finished Sleep stays ready).",
        );
    });
}
