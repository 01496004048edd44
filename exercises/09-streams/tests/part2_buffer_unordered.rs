//! Part 2 — `buffer_unordered(source, limit)`.
//!
//! The futures are `Job`s the test finishes by hand, so "which is in flight", "which finished
//! first" and "who was woken" are the test's choice, every run.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use common::{Job, JobHandle, Step, StreamPoller, items, job, script, shape, watchdog};
use futures::StreamExt;
use futures::executor::block_on;
use harness::{catch_panic, counting_waker};
use streams::buffer_unordered;

const PART: &str = "part 2";

fn jobs(n: usize) -> (Vec<Job<usize>>, Vec<JobHandle<usize>>) {
    (0..n).map(|_| job()).unzip()
}

/// How many jobs have been pulled (polled at least once or not) and not finished.
fn in_flight(handles: &[JobHandle<usize>], pulled: usize) -> usize {
    handles[..pulled].iter().filter(|h| !h.is_done()).count()
}

#[test]
fn every_output_is_yielded_once() {
    watchdog(PART, "buffer_unordered over 20 ready futures, limit 3").run(|| {
        let source = futures::stream::iter((0..20).map(|i| async move { i }));
        let mut got: Vec<i32> = block_on(buffer_unordered(source, 3).collect());
        got.sort_unstable();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
    });
}

#[test]
fn a_future_that_is_ready_at_once_is_yielded_in_the_same_poll() {
    watchdog(PART, "buffer_unordered over one ready future").run(|| {
        let (source, _handle) = items([std::future::ready(7)]);
        let mut stream = StreamPoller::new(buffer_unordered(source, 2));
        let first = stream.poll();
        assert_eq!(
            first,
            Poll::Ready(Some(7)),
            "a future pulled from the source must be polled in the same poll_next: this one \
             was ready at once (got {})",
            shape(&first)
        );
        assert_eq!(stream.poll(), Poll::Ready(None));
    });
}

#[test]
fn a_new_future_is_polled_in_the_poll_that_pulled_it() {
    watchdog(PART, "buffer_unordered pulls a pending future").run(|| {
        let (futures, handles) = jobs(1);
        let (source, _source) = script(futures.into_iter().map(Step::Item));
        let mut stream = StreamPoller::new(buffer_unordered(source, 2));
        assert!(stream.poll().is_pending());
        assert_eq!(
            handles[0].polls(),
            1,
            "the future was pulled from the source but not polled: it has stored no waker, so \
             nothing would ever wake the task. Poll every future in the poll that pulls it"
        );
        // Spurious wakes during a poll are allowed; the one that counts comes after it.
        let before = stream.wakes();
        assert!(
            handles[0].finish(5),
            "the future holds the waker of its first poll"
        );
        assert!(
            stream.wakes() > before,
            "the future's wake must reach the task"
        );
        assert_eq!(stream.poll(), Poll::Ready(Some(5)));
    });
}

#[test]
fn outputs_come_in_the_order_the_futures_finish() {
    watchdog(PART, "three futures finished in the order 2, 0, 1").run(|| {
        let (futures, handles) = jobs(3);
        let (source, _source) = items(futures);
        let mut stream = StreamPoller::new(buffer_unordered(source, 3));
        assert!(stream.poll().is_pending());
        let mut order = Vec::new();
        for which in [2, 0, 1] {
            handles[which].finish(which);
            match stream.poll() {
                Poll::Ready(Some(output)) => order.push(output),
                other => panic!(
                    "future {which} finished and woke the task, but poll_next returned {}",
                    shape(&other)
                ),
            }
        }
        assert_eq!(
            order,
            [2, 0, 1],
            "outputs must come as soon as their future finishes, not in the source's order"
        );
        assert_eq!(stream.poll(), Poll::Ready(None));
    });
}

#[test]
fn never_more_than_limit_futures_in_flight() {
    watchdog(PART, "10 futures through limit 3").run(|| {
        let (futures, handles) = jobs(10);
        let (source, source_handle) = items(futures);
        let mut stream = StreamPoller::new(buffer_unordered(source, 3));
        let pulled =
            |source_handle: &common::ScriptHandle<Job<usize>>| source_handle.polls().min(10);
        let mut finished = 0;
        let mut yielded = Vec::new();
        while finished < 10 {
            match stream.poll() {
                Poll::Ready(Some(output)) => yielded.push(output),
                Poll::Ready(None) => panic!("the stream ended with futures unfinished"),
                Poll::Pending => {
                    let now = pulled(&source_handle);
                    let flying = in_flight(&handles, now);
                    assert!(
                        flying <= 3,
                        "{flying} futures were in flight (pulled and not finished) with a limit \
                         of 3: pull from the source only while fewer than limit are in flight"
                    );
                    assert_eq!(
                        flying,
                        3.min(10 - finished),
                        "with free slots and futures left in the source, poll_next must pull \
                         until limit futures are in flight"
                    );
                    // Finish the oldest one in flight.
                    let next = (0..now).find(|&i| !handles[i].is_done()).unwrap();
                    handles[next].finish(next);
                    finished += 1;
                }
            }
        }
        while let Poll::Ready(Some(output)) = stream.poll() {
            yielded.push(output);
        }
        yielded.sort_unstable();
        assert_eq!(yielded, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn the_source_is_not_polled_while_the_limit_is_reached() {
    watchdog(PART, "limit 2 reached, polled again").run(|| {
        let (futures, handles) = jobs(4);
        let (source, source_handle) = items(futures);
        let mut stream = StreamPoller::new(buffer_unordered(source, 2));
        assert!(stream.poll().is_pending());
        let polls = source_handle.polls();
        assert_eq!(
            polls, 2,
            "with limit 2, the first poll must pull exactly 2 futures"
        );
        assert!(stream.poll().is_pending());
        assert!(stream.poll().is_pending());
        assert_eq!(
            source_handle.polls(),
            2,
            "with 2 futures in flight and a limit of 2, the source must not be polled: \
             polling it would pull a third future (or drop it)"
        );
        drop(handles);
    });
}

#[test]
fn a_freed_slot_is_filled_on_the_next_poll() {
    watchdog(PART, "limit 1: two futures one after the other").run(|| {
        let (futures, handles) = jobs(2);
        let (source, source_handle) = items(futures);
        let mut stream = StreamPoller::new(buffer_unordered(source, 1));
        assert!(stream.poll().is_pending());
        assert_eq!(
            handles[1].polls(),
            0,
            "limit 1: the second future must wait"
        );
        handles[0].finish(0);
        assert_eq!(stream.poll(), Poll::Ready(Some(0)));
        assert!(stream.poll().is_pending());
        assert_eq!(
            handles[1].polls(),
            1,
            "the first future finished, freeing its slot: the next poll_next must pull the \
             second future and poll it"
        );
        handles[1].finish(1);
        assert_eq!(stream.poll(), Poll::Ready(Some(1)));
        assert_eq!(stream.poll(), Poll::Ready(None));
        assert_eq!(source_handle.polls(), 3);
    });
}

#[test]
fn the_poll_that_yields_an_output_does_not_pull_another_future() {
    watchdog(PART, "a future finishes and frees its slot, limits 1 and 3").run(|| {
        for limit in [1, 3] {
            let n = limit + 3;
            let (futures, handles) = jobs(n);
            let (source, source_handle) = items(futures);
            let mut stream = StreamPoller::new(buffer_unordered(source, limit));
            let freed_slot = |route: &str, before: usize, after: usize| {
                assert_eq!(
                    after,
                    before,
                    "limit {limit}, {route}: the poll that returned the finished future's output \
                     also polled the source ({} more time(s)). The slot it frees is filled by the \
                     NEXT poll_next (step 1), not this one: a consumer that takes this output and \
                     stops (take, a select that moves on) would leave a future pulled off the \
                     source (a request read off a socket) and dropped unrun. Return the output \
                     as soon as a future is ready; pull only at the start of a poll_next",
                    after.saturating_sub(before)
                );
            };
            // The first poll: future 0 is ready at once.
            handles[0].finish(0);
            let first = stream.poll();
            assert_eq!(
                first,
                Poll::Ready(Some(0)),
                "limit {limit}: future 0 was ready at once (got {})",
                shape(&first)
            );
            freed_slot("the first poll", limit, source_handle.polls());
            // A later poll, with the limit reached: one in flight finishes.
            assert!(stream.poll().is_pending());
            let before = source_handle.polls();
            assert_eq!(before, limit + 1, "limit {limit}: the freed slot is filled");
            let which = limit; // the one pulled into the freed slot
            handles[which].finish(which);
            assert_eq!(stream.poll(), Poll::Ready(Some(which)));
            freed_slot("a later poll", before, source_handle.polls());
            // Then the next poll does pull into the free slot, and polls what it pulled.
            assert!(stream.poll().is_pending());
            assert_eq!(
                source_handle.polls(),
                before + 1,
                "limit {limit}: the poll after an output must pull a future into the free slot"
            );
            assert_eq!(
                handles[limit + 1].polls(),
                1,
                "limit {limit}: the future pulled into the free slot must be polled in the \
                 poll that pulled it"
            );
        }
    });
}

#[test]
fn a_finished_future_is_dropped_when_its_output_is_yielded() {
    watchdog(PART, "a finished future's slot").run(|| {
        let (futures, handles) = jobs(2);
        let (source, _source) = items(futures);
        let mut stream = StreamPoller::new(buffer_unordered(source, 2));
        assert!(stream.poll().is_pending());
        handles[1].finish(1);
        assert_eq!(stream.poll(), Poll::Ready(Some(1)));
        assert!(
            handles[1].is_dropped(),
            "the finished future must be dropped when its output is yielded: that frees its slot \
             (and whatever it holds: a socket, a buffer)"
        );
        assert!(!handles[0].is_dropped());
    });
}

#[test]
fn the_stream_ends_only_when_the_source_ended_and_nothing_is_in_flight() {
    watchdog(PART, "a source of one future, then its end").run(|| {
        let (futures, handles) = jobs(1);
        let (source, source_handle) = items(futures);
        let mut stream = StreamPoller::new(buffer_unordered(source, 4));
        let first = stream.poll();
        assert!(
            first.is_pending(),
            "the source has ended but a future is still in flight: poll_next must return \
             Pending, not Ready(None) (got {})",
            shape(&first)
        );
        // The scripted source panics if it is polled again after its end.
        assert!(stream.poll().is_pending());
        handles[0].finish(3);
        assert_eq!(stream.poll(), Poll::Ready(Some(3)));
        assert_eq!(
            stream.poll(),
            Poll::Ready(None),
            "the source ended and nothing is in flight: the stream must end"
        );
        assert_eq!(stream.poll(), Poll::Ready(None));
        assert_eq!(source_handle.polls(), 2);
    });
}

#[test]
fn a_wake_from_any_future_in_flight_wakes_the_task() {
    watchdog(PART, "three futures in flight, the middle one finishes").run(|| {
        for which in 0..3 {
            let (futures, handles) = jobs(3);
            let (source, _source) = items(futures);
            let mut stream = StreamPoller::new(buffer_unordered(source, 3));
            assert!(stream.poll().is_pending());
            assert!(stream.poll().is_pending());
            // Spurious wakes during a poll are allowed; the one that counts comes after it.
            let before = stream.wakes();
            assert!(
                handles[which].finish(which),
                "future {which} in flight holds no waker: every future in flight must be polled \
                 with the stream's Context"
            );
            assert!(
                stream.wakes() > before,
                "future {which} finished, but the task polling the stream was not woken"
            );
            assert_eq!(stream.poll(), Poll::Ready(Some(which)));
        }
    });
}

#[test]
fn the_latest_waker_is_the_one_woken_by_a_future() {
    watchdog(PART, "polled with waker A, then B, then a future finishes").run(|| {
        let (futures, handles) = jobs(2);
        let (source, _source) = items(futures);
        let mut stream = StreamPoller::new(buffer_unordered(source, 2));
        let (a, a_wakes) = counting_waker();
        let (b, b_wakes) = counting_waker();
        assert!(stream.poll_with(&a).is_pending());
        assert!(stream.poll_with(&b).is_pending());
        // Spurious wakes during a poll are allowed; the one that counts comes after it.
        let before = (a_wakes.get(), b_wakes.get());
        handles[0].finish(0);
        let after = (a_wakes.get(), b_wakes.get());
        assert!(
            after.0 == before.0 && after.1 > before.1,
            "after polls with waker A then waker B, a finishing future must wake B (the task \
             may have moved): poll the futures in flight on every poll_next (wakes of A and \
             B before the finish: {before:?}, after: {after:?})"
        );
    });
}

#[test]
fn the_latest_waker_is_the_one_woken_by_the_source() {
    watchdog(PART, "a Pending source, polled with waker A, then B").run(|| {
        let (source, source_handle) =
            script::<std::future::Ready<u32>>([Step::Pending, Step::Pending]);
        let mut stream = StreamPoller::new(buffer_unordered(source, 2));
        let (a, a_wakes) = counting_waker();
        let (b, b_wakes) = counting_waker();
        assert!(stream.poll_with(&a).is_pending());
        assert!(stream.poll_with(&b).is_pending());
        let before = (a_wakes.get(), b_wakes.get());
        assert!(source_handle.push_and_wake([Step::Item(std::future::ready(1)), Step::End]));
        let after = (a_wakes.get(), b_wakes.get());
        assert!(
            after.0 == before.0 && after.1 > before.1,
            "with free slots, the source must be polled on every poll_next, with that poll's \
             Context, so that it wakes the latest waker (wakes of A and B before: {before:?}, \
             after: {after:?})"
        );
        assert_eq!(stream.poll(), Poll::Ready(Some(1)));
        assert_eq!(stream.poll(), Poll::Ready(None));
    });
}

#[test]
fn limit_one_runs_the_futures_one_at_a_time_in_order() {
    watchdog(PART, "buffer_unordered(_, 1) over 50 async blocks").run(|| {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(Mutex::new(0));
        let source = futures::stream::iter((0..50).map(|i| {
            let running = Arc::clone(&running);
            let most = Arc::clone(&most);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                {
                    let mut most = most.lock().unwrap();
                    *most = (*most).max(now);
                }
                harness::yield_times(2).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i
            }
        }));
        let got: Vec<i32> = block_on(buffer_unordered(source, 1).collect());
        assert_eq!(
            got,
            (0..50).collect::<Vec<_>>(),
            "limit 1 keeps the source's order"
        );
        assert_eq!(
            *most.lock().unwrap(),
            1,
            "limit 1: never two futures at once"
        );
    });
}

#[test]
fn a_limit_of_zero_panics() {
    let result = catch_panic(|| {
        let _ = buffer_unordered(futures::stream::iter([std::future::ready(1)]), 0);
    });
    assert!(
        result.is_err(),
        "buffer_unordered(_, 0) could never run a future: it must panic when it is made"
    );
    let message = result.unwrap_err();
    assert!(
        !message.contains("not yet implemented"),
        "buffer_unordered is not written yet: {message}"
    );
}
