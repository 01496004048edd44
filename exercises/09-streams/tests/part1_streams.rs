//! Part 1 — `next`, `map`, `filter`, `take`.
//!
//! The sources are scripted streams: the test says when each returns an item, `Pending` or
//! the end, and each counts its polls and panics if it is polled after it ended.

mod common;

use std::task::Poll;

use common::{Script, ScriptHandle, Step, StreamPoller, items, script, shape, watchdog};
use futures::StreamExt;
use futures::executor::block_on;
use harness::{Poller, counting_waker};
use streams::{filter, map, next, take};

const PART: &str = "part 1";

fn pending_then(item: u32) -> (Script<u32>, ScriptHandle<u32>) {
    script([Step::Pending, Step::Item(item), Step::End])
}

#[test]
fn next_returns_each_item_then_none() {
    watchdog(PART, "next() over a stream of 3 items").run(|| {
        let mut stream = futures::stream::iter([1, 2, 3]);
        let got: Vec<_> = (0..4).map(|_| block_on(next(&mut stream))).collect();
        assert_eq!(
            got,
            [Some(1), Some(2), Some(3), None],
            "next() must resolve to Some(item) for each item, then None when the stream ends"
        );
    });
}

#[test]
fn next_is_pending_while_the_stream_is_and_passes_the_latest_waker_on() {
    watchdog(PART, "next() on a stream that is Pending twice").run(|| {
        let (mut source, handle) = script([Step::Pending, Step::Pending]);
        let mut future = Poller::new(next(&mut source));
        let (first, first_wakes) = counting_waker();
        let (second, second_wakes) = counting_waker();
        assert!(future.poll_with(&first).is_pending());
        assert!(
            future.poll_with(&second).is_pending(),
            "next() must return Pending while the stream does"
        );
        handle.push_and_wake([Step::Item(7)]);
        assert_eq!(
            (first_wakes.get(), second_wakes.get()),
            (0, 1),
            "the stream stored the waker it was polled with; next() must poll it with the \
             Context of each of its own polls, so the latest waker is the one woken"
        );
        assert_eq!(future.poll(), Poll::Ready(Some(7)));
        drop(future);
        assert_eq!(
            handle.polls(),
            3,
            "each poll of next() polls the stream once"
        );
    });
}

#[test]
fn map_applies_the_function_to_every_item_in_order() {
    watchdog(PART, "map(iter(1..=5), x * 10)").run(|| {
        let mapped: Vec<u32> = block_on(map(futures::stream::iter(1..=5u32), |x| x * 10).collect());
        assert_eq!(mapped, [10, 20, 30, 40, 50]);
    });
}

#[test]
fn map_is_pending_exactly_when_its_source_is() {
    watchdog(PART, "map over a source that is Pending once").run(|| {
        let (source, handle) = pending_then(4);
        let mut calls = 0;
        let mut stream = StreamPoller::new(map(source, |x: u32| {
            calls += 1;
            x + 1
        }));
        let first = stream.poll();
        assert!(
            first.is_pending(),
            "the source returned Pending, so map must too (got {})",
            shape(&first)
        );
        assert!(
            handle.push_and_wake([]),
            "map returned Pending but its source holds no waker: map must poll its source with \
             the Context it was given"
        );
        assert_eq!(
            stream.wakes(),
            1,
            "the source woke the waker it was given, which must be the one map was polled with"
        );
        assert_eq!(stream.poll(), Poll::Ready(Some(5)));
        assert_eq!(stream.poll(), Poll::Ready(None));
        drop(stream);
        assert_eq!(
            calls, 1,
            "f must be called once per item, and only for items"
        );
        assert_eq!(handle.polls(), 3, "each poll of map polls the source once");
    });
}

#[test]
fn filter_keeps_the_matching_items_in_order() {
    watchdog(PART, "filter(iter(1..=10), even)").run(|| {
        let kept: Vec<u32> =
            block_on(filter(futures::stream::iter(1..=10u32), |x| x.is_multiple_of(2)).collect());
        assert_eq!(kept, [2, 4, 6, 8, 10]);
    });
}

#[test]
fn filter_skips_rejected_items_within_one_poll() {
    watchdog(PART, "filter over 1 000 rejected items and then one kept").run(|| {
        let (source, handle) = items((0..1000u32).map(|_| 1).chain([2]));
        let mut stream = StreamPoller::new(filter(source, |x: &u32| *x == 2));
        let first = stream.poll();
        assert_eq!(
            first,
            Poll::Ready(Some(2)),
            "the source had 1 000 rejected items ready, then a kept one: one poll_next must \
             skip them all and return the kept item. Returning Pending after a rejected item \
             waits for a wake that no one sends (the source was Ready, it stored no waker)"
        );
        assert_eq!(handle.polls(), 1001);
        assert_eq!(stream.poll(), Poll::Ready(None));
    });
}

#[test]
fn filter_returns_pending_only_when_its_source_does_and_its_waker_is_stored() {
    watchdog(PART, "filter over rejected items and then a Pending source").run(|| {
        let (source, handle) = script([Step::Item(1), Step::Item(3), Step::Pending]);
        let mut stream = StreamPoller::new(filter(source, |x: &u32| x.is_multiple_of(2)));
        assert!(stream.poll().is_pending());
        assert_eq!(
            handle.polls(),
            3,
            "filter must poll its source again after each rejected item, in the same poll, \
             until the source itself is Pending"
        );
        handle.push_and_wake([Step::Item(4), Step::End]);
        assert_eq!(
            stream.wakes(),
            1,
            "the source's wake must reach the task that polled filter"
        );
        assert_eq!(stream.poll(), Poll::Ready(Some(4)));
        assert_eq!(stream.poll(), Poll::Ready(None));
    });
}

#[test]
fn take_yields_the_first_n_items_and_never_pulls_the_next() {
    watchdog(PART, "take(source of 5, 2)").run(|| {
        let (source, handle) = items(1..=5u32);
        let mut stream = StreamPoller::new(take(source, 2));
        assert_eq!(stream.poll(), Poll::Ready(Some(1)));
        assert_eq!(stream.poll(), Poll::Ready(Some(2)));
        assert_eq!(
            stream.poll(),
            Poll::Ready(None),
            "take(_, 2) must end after two items"
        );
        assert_eq!(stream.poll(), Poll::Ready(None), "and stay ended");
        assert_eq!(
            handle.polls(),
            2,
            "take(_, 2) must not poll its source after the second item: the third item must \
             never be pulled (it may be a line read off a socket, or a message taken off a \
             channel, and would be lost)"
        );
    });
}

#[test]
fn take_zero_never_polls_its_source() {
    watchdog(PART, "take(source, 0)").run(|| {
        let (source, handle) = items([1u32]);
        let mut stream = StreamPoller::new(take(source, 0));
        assert_eq!(stream.poll(), Poll::Ready(None));
        assert_eq!(
            handle.polls(),
            0,
            "take(_, 0) has nothing to give: it must not poll its source"
        );
    });
}

#[test]
fn take_does_not_poll_a_source_that_ended_early() {
    watchdog(PART, "take(source of 1, 5)").run(|| {
        let (source, handle) = items([1u32]);
        let mut stream = StreamPoller::new(take(source, 5));
        assert_eq!(stream.poll(), Poll::Ready(Some(1)));
        assert_eq!(stream.poll(), Poll::Ready(None));
        // The scripted source panics if it is polled again after its end.
        assert_eq!(stream.poll(), Poll::Ready(None));
        assert_eq!(handle.polls(), 2);
    });
}

#[test]
fn take_passes_pending_through_without_counting_it() {
    watchdog(PART, "take(source that is Pending first, 1)").run(|| {
        let (source, handle) = pending_then(9);
        let mut stream = StreamPoller::new(take(source, 1));
        assert!(stream.poll().is_pending());
        assert!(
            handle.push_and_wake([]),
            "take returned Pending but its source holds no waker"
        );
        assert_eq!(
            stream.poll(),
            Poll::Ready(Some(9)),
            "a Pending is not an item: take(_, 1) must still yield the first item"
        );
        assert_eq!(stream.poll(), Poll::Ready(None));
        assert_eq!(handle.polls(), 2);
    });
}

#[test]
fn combinators_compose_and_poll_lazily() {
    watchdog(PART, "take(map(filter(source)), 3)").run(|| {
        let (source, handle) = items(1..=100u32);
        let stream = take(
            map(filter(source, |x: &u32| x.is_multiple_of(3)), |x| x * 2),
            3,
        );
        let got: Vec<u32> = block_on(stream.collect());
        assert_eq!(got, [6, 12, 18]);
        assert_eq!(
            handle.polls(),
            9,
            "the three items kept are 3, 6 and 9: nothing after 9 may be pulled"
        );
    });
}
