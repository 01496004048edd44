//! Part 7 — your combinators under tokio and smol.
//!
//! Run just these with `cargo test -p combinators --test part7_runtimes`.
//!
//! Nothing in your combinators knows which executor polls them: they only pass wakers on.
//! Here the wakers are tokio's and smol's, and the events come from their channels, their
//! tasks and other threads.

mod common;

use std::time::Duration;

use blocks::timer::Timer;
use combinators::{Either, join_all, select, timeout};
use common::watchdog;

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio current-thread runtime")
}

#[test]
fn join_all_under_tokio_keeps_input_order() {
    watchdog("tokio: join_all of 5 oneshot receivers answered in reverse").run(|| {
        let outputs = tokio_runtime().block_on(async {
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..5)
                .map(|_| tokio::sync::oneshot::channel::<usize>())
                .unzip();
            for (i, sender) in senders.into_iter().enumerate().rev() {
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    let _ = sender.send(i * 10);
                });
            }
            join_all(receivers).await
        });
        let outputs: Vec<usize> = outputs.into_iter().map(|r| r.expect("sent")).collect();
        assert_eq!(
            outputs,
            vec![0, 10, 20, 30, 40],
            "under tokio, with tokio's wakers, join_all must still finish and keep input order",
        );
    });
}

#[test]
fn select_under_tokio_hands_back_the_loser() {
    watchdog("tokio: select of two mpsc receivers").run(|| {
        tokio_runtime().block_on(async {
            let (tx_a, mut rx_a) = tokio::sync::mpsc::unbounded_channel::<&str>();
            let (tx_b, mut rx_b) = tokio::sync::mpsc::unbounded_channel::<&str>();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                tx_b.send("b").expect("receiver alive");
            });
            let won = select(Box::pin(rx_a.recv()), Box::pin(rx_b.recv())).await;
            let Either::Right((Some("b"), loser)) = won else {
                panic!("only b was sent: select must return Right((Some(\"b\"), a's recv))");
            };
            tx_a.send("a").expect("receiver alive");
            assert_eq!(
                loser.await,
                Some("a"),
                "the loser, awaited later, gets a's message"
            );
        });
    });
}

#[test]
fn timeout_under_smol_elapses_when_another_thread_moves_the_clock() {
    watchdog("smol::block_on(timeout(10ms, pending)) with the clock moved by a thread").run(|| {
        let timer = Timer::new();
        let mover = {
            let timer = timer.clone();
            std::thread::spawn(move || {
                // Move the clock only once the timeout waits on it (no guessing at timing).
                while timer.registered() == 0 {
                    std::thread::yield_now();
                }
                timer.advance(Duration::from_millis(10));
            })
        };
        let outcome = smol::block_on(timeout(
            &timer,
            Duration::from_millis(10),
            std::future::pending::<()>(),
        ));
        mover.join().expect("the clock mover");
        assert!(
            outcome.is_err(),
            "the timer fired from another thread, through smol's waker: timeout must elapse",
        );
    });
}

#[test]
fn the_select_macro_under_smol_with_async_channel() {
    watchdog("smol: select! in a loop over two async-channel receivers").run(|| {
        let (tx_a, rx_a) = async_channel::unbounded::<u32>();
        let (tx_b, rx_b) = async_channel::unbounded::<u32>();
        // The thread sends on clones; the originals stay open until the loop is done, so a
        // drained channel is never a closed one (a closed channel's recv is ready at once).
        let sender = {
            let (tx_a, tx_b) = (tx_a.clone(), tx_b.clone());
            std::thread::spawn(move || {
                for i in 0..10 {
                    let tx = if i % 2 == 0 { &tx_a } else { &tx_b };
                    tx.send_blocking(i).expect("receiver alive");
                }
            })
        };
        let total = smol::block_on(async {
            let mut seen = Vec::new();
            while seen.len() < 10 {
                combinators::select! {
                    v = Box::pin(rx_a.recv()) => seen.push(v.expect("open")),
                    v = Box::pin(rx_b.recv()) => seen.push(v.expect("open")),
                }
            }
            seen.sort_unstable();
            seen
        });
        sender.join().expect("the sender thread");
        drop((tx_a, tx_b));
        assert_eq!(
            total,
            (0..10).collect::<Vec<_>>(),
            "every message arrives exactly once: async-channel's recv is cancel-safe, and a \
             select! loop over it loses nothing",
        );
    });
}
