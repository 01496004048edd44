//! Part 2 — where to pin: `pin!` on the stack, `Box::pin` on the heap.
//!
//! Run just these with `cargo test -p pinning --test part2_stack_or_heap`.
//!
//! `poll_at_most` keeps its future to itself, so the stack is enough. `poll_once_boxed` hands
//! its future back after polling it, so the future must already be in its final place, on the
//! heap, before that first poll.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_test::future::FutureTestExt;
use harness::{Watchdog, counting_waker, noop_context, recorded, yield_times};
use pinning::{poll_at_most, poll_once_boxed};

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what).likely_cause(
        "`poll_at_most` does not stop after `max_polls` polls: count the polls and return None \
         when they are used up.",
    )
}

/// Runs `body`. If an `assert_unmoved()` future inside it panicked because it was moved,
/// fails with an explanation instead of the wrapper's terse message.
fn explain_moves<T>(what: &str, advice: &str, body: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            let message = panic_text(&payload);
            if message.contains("moved between poll calls") || message.contains("moved before drop")
            {
                panic!(
                    "{what}: the future MOVED in memory after its first poll (AssertUnmoved said: \
                     {}). Once polled, a future may hold pointers into itself, so it must stay \
                     at one address until it is dropped. {advice}",
                    message.lines().next().unwrap_or_default()
                );
            }
            panic::resume_unwind(payload)
        }
    }
}

fn panic_text(payload: &Box<dyn Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else {
        String::new()
    }
}

/// An `async fn` whose future borrows one of its own locals across its `.await`s (so it is
/// `!Unpin`), returning 1 + 2 + 3 after `yields` Pendings.
async fn self_borrowing(yields: usize) -> i32 {
    let numbers = [1, 2, 3];
    let first_two = &numbers[..2];
    yield_times(yields).await;
    first_two.iter().sum::<i32>() + numbers[2]
}

#[test]
fn poll_at_most_returns_the_output_as_soon_as_the_future_is_ready() {
    let (output, polls, wakes) = watchdog("poll_at_most(a future needing 4 polls, 10)").run(|| {
        let (future, stats) = recorded("the future given to poll_at_most", self_borrowing(3));
        let (waker, wakes) = counting_waker();
        let output = poll_at_most(future, 10, &mut Context::from_waker(&waker));
        (output, stats.polls(), wakes.get())
    });
    assert_eq!(
        output,
        Some(6),
        "the future is Ready with 6 on its 4th poll, within the 10 allowed, so poll_at_most must \
         return Some(6)."
    );
    assert_eq!(
        polls, 4,
        "the future was polled {polls} times; it was Ready on poll 4, and a Ready future is \
         finished: stop polling and return its output."
    );
    assert_eq!(
        wakes, 3,
        "the future woke the waker it was polled with 3 times, but the caller's waker saw \
         {wakes}: poll the future with the `cx` you were given."
    );
}

#[test]
fn poll_at_most_gives_up_after_max_polls() {
    let (output, polls) = watchdog("poll_at_most(a future needing 11 polls, 3)").run(|| {
        let (future, stats) = recorded("the future given to poll_at_most", yield_times(10));
        let output = poll_at_most(future, 3, &mut noop_context());
        (output, stats.polls())
    });
    assert_eq!(
        (output, polls),
        (None, 3),
        "a future that needs 11 polls, given at most 3: expected None after exactly 3 polls, got \
         {output:?} after {polls} poll(s)."
    );
}

#[test]
fn poll_at_most_never_polls_more_than_max_polls_not_even_when_it_is_zero() {
    // (max_polls, Pendings before Ready, expected output, expected polls)
    let cases: [(usize, usize, Option<u8>, usize); 6] = [
        (0, 0, None, 0), // a budget of 0 polls nothing, even a future that would be Ready
        (0, 3, None, 0),
        (1, 0, Some(7), 1),
        (1, 1, None, 1),
        (2, 1, Some(7), 2),
        (2, 2, None, 2),
    ];
    for (max_polls, pendings, expected, expected_polls) in cases {
        let (output, polls, alive) = watchdog(&format!(
            "poll_at_most(a future Ready after {pendings} Pending(s), {max_polls})"
        ))
        .run(move || {
            // The future owns a clone of `token`: once it is dropped, only ours is left.
            let token = std::sync::Arc::new(());
            let owned = token.clone();
            let (future, stats) = recorded("the future given to poll_at_most", async move {
                yield_times(pendings).await;
                drop(owned);
                7u8
            });
            let output = poll_at_most(future, max_polls, &mut noop_context());
            (
                output,
                stats.polls(),
                std::sync::Arc::strong_count(&token) > 1,
            )
        });
        assert_eq!(
            (output, polls),
            (expected, expected_polls),
            "poll_at_most(a future that is Ready after {pendings} Pending(s), max_polls = \
             {max_polls}): expected {expected:?} after {expected_polls} poll(s), got {output:?} \
             after {polls} poll(s). `max_polls` is a budget, checked BEFORE each poll: the \
             function never polls more than `max_polls` times, so with 0 it polls nothing and \
             returns None (a `for _ in 0..max_polls` loop around the poll does exactly that; \
             a poll-then-check loop spends one poll it does not have)."
        );
        assert!(
            !alive,
            "poll_at_most(.., max_polls = {max_polls}) returned, but the future it was given \
             is still alive somewhere: a future that gets no more polls is dropped when the \
             function returns (where it was pinned), whether it was polled or not."
        );
    }
}

#[test]
fn poll_at_most_drives_a_future_that_borrows_from_itself() {
    let output = watchdog("poll_at_most(a self-borrowing async block, 10)").run(|| {
        explain_moves(
            "poll_at_most",
            "Pin the future once, before the loop (`let mut future = pin!(future);`), and poll \
             `future.as_mut()` each time.",
            || {
                // Pending 3 times (1 from interleave_pending, 2 of its own), Ready on poll 4.
                let future = self_borrowing(2).interleave_pending().assert_unmoved();
                poll_at_most(future, 10, &mut noop_context())
            },
        )
    });
    assert_eq!(output, Some(6), "the self-borrowing async block returns 6");
}

#[test]
fn poll_at_most_drops_an_unfinished_future_where_it_was_polled() {
    // AssertUnmoved checks its address again when it is dropped ("moved before drop"): a
    // pinned value must stay put until its destructor has run, even if it never finished.
    let output = watchdog("poll_at_most(a self-borrowing async block, 2)").run(|| {
        explain_moves(
            "poll_at_most, giving up on an unfinished future",
            "Let the pinned future be dropped where it is, when the function returns.",
            || {
                let future = self_borrowing(5).interleave_pending().assert_unmoved();
                poll_at_most(future, 2, &mut noop_context())
            },
        )
    });
    assert_eq!(
        output, None,
        "the future needed 7 polls and only 2 were allowed: expected None"
    );
}

#[test]
fn poll_once_boxed_returns_the_output_of_a_ready_future() {
    let (waker, wakes) = counting_waker();
    let result = poll_once_boxed(std::future::ready(7), &mut Context::from_waker(&waker));
    assert!(
        matches!(result, Ok(7)),
        "the future was Ready with 7 on its first poll, so poll_once_boxed must return Ok(7)"
    );
    assert_eq!(wakes.get(), 0, "a Ready future does not wake anyone");
}

#[test]
fn poll_once_boxed_hands_back_a_pending_future_that_never_moves() {
    let (output, polls) = watchdog("poll_once_boxed, then polling the returned box").run(|| {
        explain_moves(
            "poll_once_boxed",
            "The future has to outlive the call, so it must already be in its final place when \
             it is first polled: `Box::pin` it first, poll the box, and return that same box. \
             Polling it on the stack and boxing it afterwards moves it.",
            || {
                let (future, stats) = recorded(
                    "the future given to poll_once_boxed",
                    self_borrowing(2).interleave_pending(),
                );
                let (waker, wakes) = counting_waker();
                let mut cx = Context::from_waker(&waker);
                let mut boxed: Pin<Box<_>> = match poll_once_boxed(future.assert_unmoved(), &mut cx)
                {
                    Ok(output) => panic!(
                        "poll_once_boxed returned Ok({output}) but the future's first poll is \
                         Pending: return Err(the pinned box) instead"
                    ),
                    Err(boxed) => boxed,
                };
                assert_eq!(
                    (stats.polls(), wakes.get()),
                    (1, 1),
                    "poll_once_boxed must poll the future exactly once, with the caller's `cx` \
                     (which the future woke): got {} poll(s) and {} wake(s)",
                    stats.polls(),
                    wakes.get()
                );
                // The caller keeps polling the future where poll_once_boxed left it.
                loop {
                    if let Poll::Ready(output) = boxed.as_mut().poll(&mut cx) {
                        break (output, stats.polls());
                    }
                }
            },
        )
    });
    assert_eq!(
        (output, polls),
        (6, 4),
        "after poll_once_boxed, polling the returned box should finish the future (6) on its \
         4th poll in all"
    );
}
