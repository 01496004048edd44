//! Part 4 — `join`: two child futures, polled concurrently, with pin projection by hand.
//!
//! Run just these with `cargo test -p pinning --test part4_join`.
//!
//! The children are often `!Unpin` `async` blocks wrapped in `assert_unmoved()`, so a
//! projection that moves a child (say, with `mem::replace`) is caught on the next poll. Whether
//! `Join` is `!Unpin` when a child is can only be seen by the compiler: part 6 checks that.

use std::any::Any;
use std::future::Future;
use std::marker::{PhantomData, PhantomPinned};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_test::future::FutureTestExt;
use harness::{Poller, Watchdog, YieldTimes, noop_context, recorded, yield_times};
use pinning::join;

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what).likely_cause(
        "`Join::poll` waits inside poll (a loop until a child is Ready): poll each unfinished \
         child once and return Pending if either is still Pending. The children woke the task \
         already.",
    )
}

/// Polls `poller` until Ready, at most `max` times; returns the output and the poll it came on.
fn drive<F: Future>(poller: &mut Poller<F>, max: usize) -> (F::Output, usize) {
    loop {
        if let Poll::Ready(output) = poller.poll() {
            return (output, poller.polls());
        }
        assert!(
            poller.polls() < max,
            "join was still Pending after {max} polls, though both children would have \
             finished long before. Does poll go on polling a child that is Pending, and keep \
             the output of one that finished?",
        );
    }
}

/// Runs `body`. If an `assert_unmoved()` future inside it panicked because it was moved,
/// fails with an explanation instead of the wrapper's terse message.
fn explain_moves<T>(what: &str, body: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            let message = panic_text(&payload);
            if message.contains("moved between poll calls") || message.contains("moved before drop")
            {
                panic!(
                    "{what}: a child future MOVED in memory (AssertUnmoved said: {}). The \
                     children are structurally pinned: while the Join is pinned, each child must \
                     stay in its field until the Join is dropped. Reach them only through your \
                     projection (`Pin::new_unchecked(&mut this.a)` on a `&mut` obtained with \
                     `get_unchecked_mut`), and never move one out (`mem::replace`, `mem::swap`, \
                     `Option::take`, returning it by value) to poll it somewhere else.",
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

/// An `async fn` whose future borrows one of its own locals across its `.await` (so it is
/// `!Unpin`), returning `value` after `yields` Pendings.
async fn self_borrowing(yields: usize, value: u32) -> u32 {
    let values = [value, 0];
    let first = &values[0];
    yield_times(yields).await;
    *first
}

/// A future that is Pending until the test opens it, then Ready with its name. While closed it
/// keeps the waker of its latest poll, and opening it wakes that waker, the way a timer or a
/// socket would: if the Join never polled it with the task's waker, the wake is lost.
#[derive(Clone)]
struct Gate {
    name: &'static str,
    state: Arc<Mutex<(bool, Option<Waker>)>>,
}

impl Gate {
    fn new(name: &'static str) -> Gate {
        Gate {
            name,
            state: Arc::default(),
        }
    }

    fn open(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Gate {
    type Output = &'static str;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0 {
            Poll::Ready(self.name)
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// `is_unpin!(T)` tells, at run time, whether the compiler considers `T` to be `Unpin`.
///
/// How: method lookup tries `Probe<T>` itself before `&Probe<T>`, and takes the first method
/// whose trait bounds hold. The `T: Unpin` impl answers true; when `T` is not `Unpin`, lookup
/// falls through to the impl for `&Probe<T>`, which answers false. (This works only for
/// concrete types, as here.)
struct Probe<T>(PhantomData<T>);

// Which of the two traits a test uses depends on the types it probes.
#[allow(dead_code)]
trait UnpinYes {
    fn is_unpin(&self) -> bool {
        true
    }
}

impl<T: Unpin> UnpinYes for Probe<T> {}

#[allow(dead_code)]
trait UnpinNo {
    fn is_unpin(&self) -> bool {
        false
    }
}

impl<T> UnpinNo for &Probe<T> {}

macro_rules! is_unpin {
    ($t:ty) => {
        (&Probe::<$t>(PhantomData)).is_unpin()
    };
}

/// A future that is `!Unpin` (it holds a `PhantomPinned`), like an `async` block that borrows
/// from itself. It is Ready at once.
struct NotUnpin {
    _pinned: PhantomPinned,
}

impl Future for NotUnpin {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

#[test]
fn join_completes_with_both_outputs_once_the_slower_child_does() {
    let (output, polls) = watchdog("join(Pending 2 times then 1, Pending 3 times then \"two\")")
        .run(|| {
            let a = async {
                yield_times(2).await;
                1
            };
            let b = async {
                yield_times(3).await;
                "two"
            };
            drive(&mut Poller::new(join(a, b)), 10)
        });
    assert_eq!(
        output,
        (1, "two"),
        "join must return (a's output, b's output)"
    );
    assert_eq!(
        polls, 4,
        "the children need 3 and 4 polls, so run side by side they are both done on poll 4, \
         but join was Ready on poll {polls}. Poll both children on every poll of the Join (not \
         a first, then b)."
    );
}

#[test]
fn join_keeps_both_children_where_they_were_first_polled() {
    let output = watchdog("join of two assert_unmoved() async blocks").run(|| {
        explain_moves("join", || {
            let a = self_borrowing(3, 10).interleave_pending().assert_unmoved();
            let b = self_borrowing(6, 20).interleave_pending().assert_unmoved();
            let mut joined = Poller::new(join(a, b));
            let (output, _) = drive(&mut joined, 20);
            // Dropping checks once more: pinned children stay put until they are dropped.
            drop(joined);
            output
        })
    });
    assert_eq!(
        output,
        (10, 20),
        "join must complete with (a's output, b's output)"
    );
}

#[test]
fn an_unfinished_join_drops_its_children_where_they_were_polled() {
    // Dropping a Join before it finished (cancelling it) drops its children too.
    // AssertUnmoved checks its address once more when it is dropped ("moved before drop"): a
    // pinned future must stay where it was polled until its destructor has run, finished or
    // not.
    watchdog("dropping a join of two assert_unmoved() async blocks after 3 polls").run(|| {
        explain_moves("join, dropped before it finished", || {
            let a = self_borrowing(5, 1).interleave_pending().assert_unmoved();
            let b = self_borrowing(6, 2).interleave_pending().assert_unmoved();
            let mut joined = Poller::new(join(a, b));
            for poll in 1..=3 {
                assert!(
                    joined.poll().is_pending(),
                    "the children need 7 and 8 polls, yet join was Ready on poll {poll}"
                );
            }
            drop(joined);
        })
    });
}

#[test]
fn join_never_polls_a_finished_child_again() {
    let (output, a_polls) = watchdog("join(ready(1), yield_times(3))").run(|| {
        // `recorded` panics if its future is polled after Ready, and so would
        // `futures::future::ready` itself.
        let (a, a_stats) = recorded(
            "join's first child, futures::future::ready(1) (Ready on its first poll)",
            futures::future::ready(1),
        );
        let (output, _) = drive(&mut Poller::new(join(a, yield_times(3))), 10);
        (output, a_stats.polls())
    });
    assert_eq!(
        output,
        (1, ()),
        "join(ready(1), yield_times(3)) must complete with (1, ())"
    );
    assert_eq!(
        a_polls, 1,
        "the first child was Ready on its first poll, then polled {a_polls} times in all. Keep \
         a finished child's output (in a field that is not pinned) and never poll it again."
    );
}

#[test]
fn join_polls_both_children_on_every_poll_until_they_finish() {
    watchdog("join(yield_times(2), yield_times(4)), one poll at a time").run(|| {
        let (a, a_stats) = recorded("child a (Pending twice, then Ready)", yield_times(2));
        let (b, b_stats) = recorded("child b (Pending 4 times, then Ready)", yield_times(4));
        let mut joined = Poller::new(join(a, b));
        for poll in 1..=5 {
            let result = joined.poll();
            let expected = (poll.min(3), poll);
            let seen = (a_stats.polls(), b_stats.polls());
            assert_eq!(
                seen, expected,
                "after poll {poll} of the Join, children a and b had been polled {seen:?} \
                 times; expected {expected:?}. Every poll of the Join polls each child that has \
                 not finished (a is Ready on its 3rd poll, and is then left alone)."
            );
            assert_eq!(
                result.is_ready(),
                poll == 5,
                "on poll {poll} the Join returned {}; it should be Ready exactly when b \
                 finishes, on poll 5",
                if result.is_ready() {
                    "Ready"
                } else {
                    "Pending"
                }
            );
        }
    });
}

#[test]
fn a_wake_from_either_child_wakes_the_task() {
    for first in ["a", "b"] {
        let a = Gate::new("a");
        let b = Gate::new("b");
        let (first_gate, second_gate) = if first == "a" { (&a, &b) } else { (&b, &a) };
        let mut joined = Poller::new(join(a.clone(), b.clone()));
        assert!(
            joined.poll().is_pending(),
            "both gates are closed, so the first poll of join must be Pending"
        );
        first_gate.open();
        assert_eq!(
            joined.wakes(),
            1,
            "after the first poll, gate {first} opened and woke the waker it was last polled \
             with, but the task's waker saw {} wake(s). On every poll, pass the `cx` you were \
             given to *both* unfinished children: a child that was not polled (or was polled \
             with another waker) cannot wake this task, and it may be the one whose event \
             comes first.",
            joined.wakes()
        );
        assert!(
            joined.poll().is_pending(),
            "one gate is still closed, so join must be Pending"
        );
        second_gate.open();
        assert_eq!(
            joined.wakes(),
            2,
            "gate {first} finished on the second poll; then the other gate opened, but the \
             task's waker was not woken. The second poll must have polled the other child with \
             the task's `cx` too.",
        );
        assert_eq!(
            joined.poll(),
            Poll::Ready(("a", "b")),
            "both gates are open, so this poll must find both children Ready and return \
             Ready((\"a\", \"b\")), a's output first. Poll every unfinished child on every \
             poll."
        );
    }
}

#[test]
fn join_of_unpin_children_is_unpin_and_can_be_polled_in_place() {
    // Compile-time check: a Join of two Unpin children is itself Unpin. (The other half, that
    // a Join of a !Unpin child is not, is a compile-fail case in part 6.)
    static_assertions::assert_impl_all!(pinning::Join<std::future::Ready<u8>, YieldTimes>: Unpin);

    let (output, polls) = watchdog("polling an Unpin join with Pin::new").run(|| {
        let mut joined = join(std::future::ready(1u8), yield_times(2));
        let mut cx = noop_context();
        let mut polls = 0;
        loop {
            polls += 1;
            // `Pin::new` only accepts Unpin types: no Box, no `pin!`, no unsafe needed.
            if let Poll::Ready(output) = Pin::new(&mut joined).poll(&mut cx) {
                break (output, polls);
            }
            assert!(
                polls < 10,
                "join(ready(1), yield_times(2)) was Pending 10 times"
            );
        }
    });
    assert_eq!(
        (output, polls),
        ((1, ()), 3),
        "join(ready(1), yield_times(2)) polled in place: expected Ready((1, ())) on poll 3 (when \
         the slower child finishes), got {output:?} on poll {polls}"
    );
}

#[test]
fn join_is_not_unpin_when_a_child_is_not() {
    type Ready = std::future::Ready<u8>;
    let seen = [
        (
            "Join<Ready, YieldTimes>",
            is_unpin!(pinning::Join<Ready, YieldTimes>),
            true,
        ),
        (
            "Join<NotUnpin, Ready>",
            is_unpin!(pinning::Join<NotUnpin, Ready>),
            false,
        ),
        (
            "Join<Ready, NotUnpin>",
            is_unpin!(pinning::Join<Ready, NotUnpin>),
            false,
        ),
    ];
    for (ty, unpin, expected) in seen {
        assert_eq!(
            unpin,
            expected,
            "`{ty}` is {}Unpin, but it must {}be. A Join is Unpin exactly when both children are: \
             store each child directly in a field of type `A` / `B` (the auto trait Unpin then \
             follows them), and write no `impl Unpin for Join`: an unconditional one would let \
             safe code move a pinned !Unpin child (`Pin::new`, `mem::swap`).",
            if unpin { "" } else { "not " },
            if expected { "" } else { "not " }
        );
    }
    // NotUnpin is really a future: the join of it still works.
    let mut joined = Poller::new(join(
        NotUnpin {
            _pinned: PhantomPinned,
        },
        std::future::ready(1),
    ));
    assert_eq!(
        joined.poll(),
        Poll::Ready(((), 1)),
        "join(NotUnpin, ready(1)): both children are Ready on their first poll, so the Join must \
         be Ready((), 1) on its first poll too"
    );
}

#[test]
#[should_panic(expected = "polled after completion")]
fn join_panics_when_polled_after_completion() {
    let mut joined = Poller::new(join(std::future::ready(1), std::future::ready(2)));
    assert_eq!(
        joined.poll(),
        Poll::Ready((1, 2)),
        "join(ready(1), ready(2)) must be Ready((1, 2)) on its first poll"
    );
    // Like a compiler-generated future, a finished Join refuses to run again: panic with a
    // message containing "polled after completion" (its children are done, and their outputs
    // have been handed over).
    let _ = joined.poll();
}
