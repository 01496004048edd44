//! Part 3 — `Fuse`: safe to poll after it finished.
//!
//! Run just these with `cargo test -p combinators --test part3_fuse`.

mod common;

use std::task::Poll;

use combinators::Fuse;
use common::{Gate, Guarded, OnDrop, watchdog};
use harness::{Journal, Poller, recorded, yield_times};

#[test]
fn a_fuse_gives_the_inner_output_when_it_is_ready() {
    watchdog("Fuse of a future that yields twice").run(|| {
        let mut fused = Poller::new(Fuse::new(async {
            yield_times(2).await;
            "done"
        }));
        assert!(fused.poll().is_pending());
        assert!(fused.poll().is_pending());
        assert_eq!(
            fused.poll(),
            Poll::Ready("done"),
            "until the inner future is ready, a Fuse polls it with the same `cx` and passes \
             its result through",
        );
        assert_eq!(
            fused.wakes(),
            2,
            "the inner future's wakes go to the task's waker"
        );
    });
}

#[test]
fn after_ready_a_fuse_stays_pending_and_never_polls_the_inner_future() {
    watchdog("Fuse polled after Ready").run(|| {
        let (inner, stats) = recorded("the inner future", std::future::ready(5));
        let mut fused = Poller::new(Fuse::new(inner));
        assert_eq!(fused.poll(), Poll::Ready(5));
        for _ in 0..3 {
            let poll = harness::catch_panic(|| fused.poll());
            assert_eq!(
                poll,
                Ok(Poll::Pending),
                "a Fuse polled after it returned Ready must return Pending WITHOUT polling the \
                 finished inner future (which may panic, as this one does, or misbehave)",
            );
        }
        assert_eq!(stats.polls(), 1);
    });
}

#[test]
fn a_terminated_fuse_does_not_wake_the_task() {
    watchdog("Fuse polled after Ready").run(|| {
        let mut fused = Poller::new(Fuse::new(std::future::ready(5)));
        assert_eq!(fused.poll(), Poll::Ready(5));
        assert!(fused.poll().is_pending());
        assert_eq!(
            fused.wakes(),
            0,
            "a terminated Fuse woke the task when polled: nothing will ever happen to it, so \
             a wake only makes the executor poll again and again (a busy loop). Return \
             Pending and wake nobody.",
        );
    });
}

#[test]
fn is_terminated_turns_true_in_the_poll_that_returns_ready() {
    watchdog("Fuse::is_terminated").run(|| {
        let gate = Gate::new(1);
        let mut fused = Fuse::new(gate.clone());
        assert!(!fused.is_terminated(), "a new Fuse has not finished");
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(
            std::pin::Pin::new(&mut fused)
                .poll_unpin_helper(&mut cx)
                .is_pending()
        );
        assert!(
            !fused.is_terminated(),
            "the inner future returned Pending: not terminated yet"
        );
        gate.open();
        assert_eq!(
            std::pin::Pin::new(&mut fused).poll_unpin_helper(&mut cx),
            Poll::Ready(1)
        );
        assert!(
            fused.is_terminated(),
            "the inner future returned Ready: from then on is_terminated() must be true (a \
             select! loop uses it to skip the branch)",
        );
    });
}

#[test]
fn the_inner_future_is_dropped_in_the_poll_where_it_finishes() {
    watchdog("Fuse of a future with a drop guard").run(|| {
        let journal = Journal::new();
        let gate = Gate::new(());
        let mut fused = Poller::new(Fuse::new(Guarded {
            future: gate.clone(),
            guard: OnDrop {
                name: "inner".into(),
                journal: journal.clone(),
            },
        }));
        assert!(fused.poll().is_pending());
        assert!(journal.is_empty());
        gate.open();
        assert!(fused.poll().is_ready());
        assert_eq!(
            journal.entries(),
            vec!["inner dropped"],
            "the inner future finished but the Fuse still holds it: drop it in the poll that \
             returns Ready (whatever it owns is released then, not when the Fuse goes)",
        );
    });
}

#[test]
fn a_fuse_made_terminated_is_terminated_and_never_ready() {
    watchdog("Fuse::terminated()").run(|| {
        let fused: Fuse<Gate<u8>> = Fuse::terminated();
        assert!(
            fused.is_terminated(),
            "Fuse::terminated() is terminated from the start"
        );
        let mut fused = Poller::new(fused);
        assert!(
            fused.poll().is_pending(),
            "a terminated Fuse is Pending, always"
        );
        assert_eq!(fused.wakes(), 0, "and wakes nobody");
    });
}

#[test]
fn a_fuse_of_an_unpin_future_is_unpin() {
    static_assertions::assert_impl_all!(Fuse<Gate<u8>>: Unpin);
    watchdog("Fuse of an Unpin future, polled through &mut").run(|| {
        let mut fused = Fuse::new(std::future::ready(3));
        assert_eq!(futures::executor::block_on(&mut fused), 3);
        assert!(fused.is_terminated());
    });
}

/// Polls an `Unpin` future in place.
trait PollUnpinHelper: std::future::Future + Unpin {
    fn poll_unpin_helper(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Self::Output> {
        std::future::Future::poll(self, cx)
    }
}

impl<F: std::future::Future + Unpin> PollUnpinHelper for F {}
