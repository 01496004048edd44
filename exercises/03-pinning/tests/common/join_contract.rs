//! The contract of a `join` combinator, written once and checked against each implementation:
//! `pinning::join` (part 4, pin projection by hand) and `pinning::join_lite` (part 5,
//! projection by `pin_project_lite`).
//!
//! Each check is a function generic over a [`Subject`]: how to build the combinator, what to
//! call it in messages, and what to advise when it goes wrong. The `#[test]` functions are in
//! `part4_join.rs` and `part5_join_lite.rs`, one call each.
//!
//! The children are often `!Unpin` `async` blocks wrapped in `assert_unmoved()`, so a
//! projection that moves a child (say, with `mem::replace`) is caught on the next poll.

use std::any::Any;
use std::future::Future;
use std::marker::{PhantomData, PhantomPinned};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_test::future::FutureTestExt;
use harness::{
    AwokenCount, Poller, Watchdog, YieldTimes, counting_waker, noop_context, recorded, yield_times,
};

/// One implementation of the contract, as the checks see it.
pub trait Subject: 'static {
    /// The constructor's name, as messages say it: `join`.
    const FUNCTION: &'static str;
    /// The name of the future it returns: `Join`.
    const TYPE: &'static str;
    /// What to do instead when a child moved: how this implementation reaches its pinned
    /// children (one or more sentences).
    const PROJECTION_ADVICE: &'static str;
    /// Where a finished child's output is kept, in this implementation's words: "a field that
    /// is not pinned".
    const UNPINNED_FIELD: &'static str;
    /// How to make the future `Unpin` exactly when both children are (one or more sentences).
    const UNPIN_ADVICE: &'static str;

    /// The future the constructor returns, for any two children.
    type Join<A: Future, B: Future>: Future<Output = (A::Output, B::Output)>;

    /// The constructor: `pinning::join(a, b)`.
    fn join<A: Future, B: Future>(a: A, b: B) -> Self::Join<A, B>;
}

fn watchdog<S: Subject>(what: &str) -> Watchdog {
    let ty = S::TYPE;
    Watchdog::new(what).likely_cause(format!(
        "`{ty}::poll` waits inside poll (a loop until a child is Ready): poll each unfinished \
         child once and return Pending if either is still Pending. The children woke the task \
         already.",
    ))
}

/// Polls `poller` until Ready, at most `max` times; returns the output and the poll it came on.
fn drive<S: Subject, F: Future>(poller: &mut Poller<F>, max: usize) -> (F::Output, usize) {
    let name = S::FUNCTION;
    loop {
        if let Poll::Ready(output) = poller.poll() {
            return (output, poller.polls());
        }
        assert!(
            poller.polls() < max,
            "{name} was still Pending after {max} polls, though both children would have \
             finished long before. Does poll go on polling a child that is Pending, and keep \
             the output of one that finished?",
        );
    }
}

/// Runs `body`. If an `assert_unmoved()` future inside it panicked because it was moved,
/// fails with an explanation instead of the wrapper's terse message.
fn explain_moves<S: Subject, T>(what: &str, body: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            let message = panic_text(&payload);
            if message.contains("moved between poll calls") || message.contains("moved before drop")
            {
                let (ty, advice) = (S::TYPE, S::PROJECTION_ADVICE);
                panic!(
                    "{what}: a child future MOVED in memory (AssertUnmoved said: {}). The \
                     children are structurally pinned: while the {ty} is pinned, each child must \
                     stay in its field until the {ty} is dropped. {advice}",
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
/// socket would: if the join never polled it with the task's waker, the wake is lost.
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

/// Tells, at run time, whether the compiler considers `T` to be `Unpin`:
/// `(&Probe::<T>(PhantomData)).is_unpin()`, with both traits below in scope.
///
/// How: method lookup tries `Probe<T>` itself before `&Probe<T>`, and takes the first method
/// whose trait bounds hold. The `T: Unpin` impl answers true; when `T` is not `Unpin`, lookup
/// falls through to the impl for `&Probe<T>`, which answers false. This works only where `T`
/// is a concrete type (in a generic function it would always answer false), so the test files
/// probe their own type with [`unpin_facts!`] and hand the answers to
/// [`is_not_unpin_when_a_child_is_not`].
pub struct Probe<T>(pub PhantomData<T>);

// Which of the two traits a test uses depends on the types it probes.
#[allow(dead_code)]
pub trait UnpinYes {
    fn is_unpin(&self) -> bool {
        true
    }
}

impl<T: Unpin> UnpinYes for Probe<T> {}

#[allow(dead_code)]
pub trait UnpinNo {
    fn is_unpin(&self) -> bool {
        false
    }
}

impl<T> UnpinNo for &Probe<T> {}

/// Whether the compiler considers three instances of the subject's type `Unpin`: `Unpin` with
/// two `Unpin` children, and with a `!Unpin` child in either place. Built by [`unpin_facts!`].
pub struct UnpinFacts {
    /// `T<Ready, YieldTimes>`.
    pub unpin_children: bool,
    /// `T<NotUnpin, Ready>`.
    pub not_unpin_first: bool,
    /// `T<Ready, NotUnpin>`.
    pub not_unpin_second: bool,
}

/// `unpin_facts!(pinning::Join)`: the [`UnpinFacts`] of that (concrete) type constructor.
macro_rules! unpin_facts {
    ($($join:ident)::+) => {{
        use ::std::marker::PhantomData;
        // Which of the two traits is used depends on the types probed.
        #[allow(unused_imports)]
        use $crate::common::join_contract::{
            NotUnpin, Probe, UnpinFacts, UnpinNo as _, UnpinYes as _,
        };
        type Ready = ::std::future::Ready<u8>;
        type YieldTimes = ::harness::YieldTimes;
        UnpinFacts {
            unpin_children: (&Probe::<$($join)::+<Ready, YieldTimes>>(PhantomData)).is_unpin(),
            not_unpin_first: (&Probe::<$($join)::+<NotUnpin, Ready>>(PhantomData)).is_unpin(),
            not_unpin_second: (&Probe::<$($join)::+<Ready, NotUnpin>>(PhantomData)).is_unpin(),
        }
    }};
}
pub(crate) use unpin_facts;

/// A future that is `!Unpin` (it holds a `PhantomPinned`), like an `async` block that borrows
/// from itself. It is Ready at once.
pub struct NotUnpin {
    _pinned: PhantomPinned,
}

impl Future for NotUnpin {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

pub fn completes_with_both_outputs_once_the_slower_child_does<S: Subject>() {
    let (name, ty) = (S::FUNCTION, S::TYPE);
    let (output, polls) = watchdog::<S>(&format!(
        "{name}(Pending 2 times then 1, Pending 3 times then \"two\")"
    ))
    .run(move || {
        let a = async {
            yield_times(2).await;
            1
        };
        let b = async {
            yield_times(3).await;
            "two"
        };
        drive::<S, _>(&mut Poller::new(S::join(a, b)), 10)
    });
    assert_eq!(
        output,
        (1, "two"),
        "{name} must return (a's output, b's output)"
    );
    assert_eq!(
        polls, 4,
        "the children need 3 and 4 polls, so run side by side they are both done on poll 4, \
         but {name} was Ready on poll {polls}. Poll both children on every poll of the {ty} (not \
         a first, then b)."
    );
}

pub fn keeps_both_children_where_they_were_first_polled<S: Subject>() {
    let name = S::FUNCTION;
    let output =
        watchdog::<S>(&format!("{name} of two assert_unmoved() async blocks")).run(move || {
            explain_moves::<S, _>(name, || {
                let a = self_borrowing(3, 10).interleave_pending().assert_unmoved();
                let b = self_borrowing(6, 20).interleave_pending().assert_unmoved();
                let mut joined = Poller::new(S::join(a, b));
                let (output, _) = drive::<S, _>(&mut joined, 20);
                // Dropping checks once more: pinned children stay put until they are dropped.
                drop(joined);
                output
            })
        });
    assert_eq!(
        output,
        (10, 20),
        "{name} must complete with (a's output, b's output)"
    );
}

pub fn an_unfinished_one_drops_its_children_where_they_were_polled<S: Subject>() {
    // Dropping a join before it finished (cancelling it) drops its children too.
    // AssertUnmoved checks its address once more when it is dropped ("moved before drop"): a
    // pinned future must stay where it was polled until its destructor has run, finished or
    // not.
    let name = S::FUNCTION;
    watchdog::<S>(&format!(
        "dropping a {name} of two assert_unmoved() async blocks after 3 polls"
    ))
    .run(move || {
        explain_moves::<S, _>(&format!("{name}, dropped before it finished"), || {
            let a = self_borrowing(5, 1).interleave_pending().assert_unmoved();
            let b = self_borrowing(6, 2).interleave_pending().assert_unmoved();
            let mut joined = Poller::new(S::join(a, b));
            for poll in 1..=3 {
                assert!(
                    joined.poll().is_pending(),
                    "the children need 7 and 8 polls, yet {name} was Ready on poll {poll}"
                );
            }
            drop(joined);
        })
    });
}

pub fn never_polls_a_finished_child_again<S: Subject>() {
    let (name, unpinned_field) = (S::FUNCTION, S::UNPINNED_FIELD);
    let (output, a_polls) =
        watchdog::<S>(&format!("{name}(ready(1), yield_times(3))")).run(move || {
            // `recorded` panics if its future is polled after Ready, and so would
            // `futures::future::ready` itself.
            let (a, a_stats) = recorded(
                &format!(
                    "{name}'s first child, futures::future::ready(1) (Ready on its first poll)"
                ),
                futures::future::ready(1),
            );
            let (output, _) = drive::<S, _>(&mut Poller::new(S::join(a, yield_times(3))), 10);
            (output, a_stats.polls())
        });
    assert_eq!(
        output,
        (1, ()),
        "{name}(ready(1), yield_times(3)) must complete with (1, ())"
    );
    assert_eq!(
        a_polls, 1,
        "the first child was Ready on its first poll, then polled {a_polls} times in all. Keep \
         a finished child's output (in {unpinned_field}) and never poll it again."
    );
}

pub fn polls_both_children_on_every_poll_until_they_finish<S: Subject>() {
    let (name, ty) = (S::FUNCTION, S::TYPE);
    watchdog::<S>(&format!(
        "{name}(yield_times(2), yield_times(4)), one poll at a time"
    ))
    .run(move || {
        let (a, a_stats) = recorded("child a (Pending twice, then Ready)", yield_times(2));
        let (b, b_stats) = recorded("child b (Pending 4 times, then Ready)", yield_times(4));
        let mut joined = Poller::new(S::join(a, b));
        for poll in 1..=5 {
            let result = joined.poll();
            let expected = (poll.min(3), poll);
            let seen = (a_stats.polls(), b_stats.polls());
            assert_eq!(
                seen, expected,
                "after poll {poll} of the {ty}, children a and b had been polled {seen:?} \
                 times; expected {expected:?}. Every poll of the {ty} polls each child that has \
                 not finished (a is Ready on its 3rd poll, and is then left alone)."
            );
            assert_eq!(
                result.is_ready(),
                poll == 5,
                "on poll {poll} the {ty} returned {}; it should be Ready exactly when b \
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

pub fn a_wake_from_either_child_wakes_the_task<S: Subject>() {
    let name = S::FUNCTION;
    watchdog::<S>(&format!("{name} of two gates, opened one after the other")).run(move || {
        for first in ["a", "b"] {
            let a = Gate::new("a");
            let b = Gate::new("b");
            let (first_gate, second_gate) = if first == "a" { (&a, &b) } else { (&b, &a) };
            let mut joined = Poller::new(S::join(a.clone(), b.clone()));
            assert!(
                joined.poll().is_pending(),
                "both gates are closed, so the first poll of {name} must be Pending"
            );
            // Counts are taken relative to the moment a gate opens: waking the task more often
            // (say, once more when a child finishes) is wasteful but never wrong.
            let before = joined.wakes();
            first_gate.open();
            assert!(
                joined.wakes() > before,
                "after the first poll, gate {first} opened and woke the waker it was last polled \
             with, but the task's waker saw no new wake ({before} before the gate opened, {} \
             after). On every poll, pass the `cx` you were given to *both* unfinished \
             children: a child that was not polled (or was polled with another waker) cannot \
             wake this task, and it may be the one whose event comes first.",
                joined.wakes()
            );
            assert!(
                joined.poll().is_pending(),
                "one gate is still closed, so {name} must be Pending"
            );
            let before = joined.wakes();
            second_gate.open();
            assert!(
                joined.wakes() > before,
                "gate {first} finished on the second poll; then the other gate opened, but the \
             task's waker saw no new wake ({before} before the gate opened, {} after). The \
             second poll must have polled the other child with the task's `cx` too.",
                joined.wakes()
            );
            assert_eq!(
                joined.poll(),
                Poll::Ready(("a", "b")),
                "both gates are open, so this poll must find both children Ready and return \
             Ready((\"a\", \"b\")), a's output first. Poll every unfinished child on every \
             poll."
            );
        }
    });
}

pub fn polls_the_children_with_the_waker_of_each_poll<S: Subject>() {
    let (name, ty) = (S::FUNCTION, S::TYPE);
    watchdog::<S>(&format!(
        "{name} polled with a new waker on every poll (children that wake the waker they got)"
    ))
    .run(move || {
        // Route 1: children that wake the waker of the poll that gave them Pending, at once
        // (yield_times). a is Pending twice, b 4 times: on polls 1 to 5 of the join, 2, 2, 1, 1
        // and 0 children answer Pending, each after waking the waker it was given.
        let mut joined = Poller::new(S::join(yield_times(2), yield_times(4)));
        let mut earlier = Vec::new();
        for (poll, pending_children) in (1..).zip([2, 2, 1, 1, 0]) {
            let (waker, wakes) = counting_waker();
            let result = joined.poll_with(&waker);
            assert_eq!(
                result.is_ready(),
                poll == 5,
                "poll {poll} of {name}(yield_times(2), yield_times(4)) should be {}",
                if poll == 5 { "Ready" } else { "Pending" }
            );
            let earlier_wakes: Vec<usize> = earlier.iter().map(AwokenCount::get).collect();
            assert!(
                wakes.get() >= pending_children,
                "poll {poll} of the {ty} was given a NEW waker, and {pending_children} \
                 child(ren) answered Pending after waking the waker they were polled with, but \
                 this poll's waker saw {} wake(s) (the wakers of the earlier polls, poll 1 \
                 first, have seen [{}] wakes). Pass the `cx` of THIS poll to each unfinished child, on every poll: \
                 do not keep a waker (or a Context) from an earlier poll, and do not make one \
                 of your own. Between two polls the task's waker may change (the task moved to \
                 another executor or thread), and a wake sent to an old waker is lost.",
                wakes.get(),
                harness::bounded::list(&earlier_wakes, 6, 2),
            );
            earlier.push(wakes);
        }

        // Route 2: gates that keep the waker of their latest poll and are opened later, one
        // of them from another thread, as a timer or a socket would.
        for first in ["a", "b"] {
            let a = Gate::new("a");
            let b = Gate::new("b");
            let (first_gate, second_gate) = if first == "a" { (&a, &b) } else { (&b, &a) };
            let second = second_gate.name;
            let mut joined = Poller::new(S::join(a.clone(), b.clone()));
            let (w1, w1_wakes) = counting_waker();
            let (w2, w2_wakes) = counting_waker();
            assert!(joined.poll_with(&w1).is_pending(), "both gates are closed");
            assert!(joined.poll_with(&w2).is_pending(), "both gates are closed");
            first_gate.open();
            assert!(
                w2_wakes.get() >= 1,
                "the {ty} was polled with waker 1, then with waker 2; then gate {first} opened \
                 and woke the waker it was last polled with, but waker 2 saw no wake (waker 1 \
                 saw {}). The second poll must pass ITS `cx` to both children: keep no waker \
                 from the first poll.",
                w1_wakes.get()
            );
            let (w3, w3_wakes) = counting_waker();
            assert!(
                joined.poll_with(&w3).is_pending(),
                "gate {second} is still closed, so {name} must be Pending"
            );
            let opener = second_gate.clone();
            std::thread::spawn(move || opener.open())
                .join()
                .expect("opening a gate does not panic");
            assert!(
                w3_wakes.get() >= 1,
                "after a third poll with waker 3, gate {second} was opened on another thread \
                 and woke the waker it was last polled with, but waker 3 saw no wake (wakers 1 \
                 and 2 saw {} and {}). Every poll must hand its own `cx` to each unfinished \
                 child.",
                w1_wakes.get(),
                w2_wakes.get()
            );
            let (w4, _) = counting_waker();
            assert_eq!(
                joined.poll_with(&w4),
                Poll::Ready(("a", "b")),
                "both gates are open, so {name} must be Ready((\"a\", \"b\"))"
            );
        }
    });
}

/// The caller also asserts, at compile time and on its concrete type, that the subject's type
/// of two `Unpin` children is `Unpin` (the bound below says so too, or `Pin::new` would not
/// compile here).
pub fn of_unpin_children_is_unpin_and_can_be_polled_in_place<S: Subject>()
where
    S::Join<std::future::Ready<u8>, YieldTimes>: Unpin,
{
    let name = S::FUNCTION;
    let (output, polls) =
        watchdog::<S>(&format!("polling an Unpin {name} with Pin::new")).run(move || {
            let mut joined = S::join(std::future::ready(1u8), yield_times(2));
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
                    "{name}(ready(1), yield_times(2)) was Pending 10 times"
                );
            }
        });
    assert_eq!(
        (output, polls),
        ((1, ()), 3),
        "{name}(ready(1), yield_times(2)) polled in place: expected Ready((1, ())) on poll 3 (when \
         the slower child finishes), got {output:?} on poll {polls}"
    );
}

/// `facts` must come from `unpin_facts!` on the subject's own type (see [`Probe`]).
pub fn is_not_unpin_when_a_child_is_not<S: Subject>(facts: UnpinFacts) {
    let (name, ty, advice) = (S::FUNCTION, S::TYPE, S::UNPIN_ADVICE);
    let seen = [
        (
            format!("{ty}<Ready, YieldTimes>"),
            facts.unpin_children,
            true,
        ),
        (
            format!("{ty}<NotUnpin, Ready>"),
            facts.not_unpin_first,
            false,
        ),
        (
            format!("{ty}<Ready, NotUnpin>"),
            facts.not_unpin_second,
            false,
        ),
    ];
    for (instance, unpin, expected) in seen {
        assert_eq!(
            unpin,
            expected,
            "`{instance}` is {}Unpin, but it must {}be. {advice}",
            if unpin { "" } else { "not " },
            if expected { "" } else { "not " }
        );
    }
    // NotUnpin is really a future: the join of it still works.
    let mut joined = Poller::new(S::join(
        NotUnpin {
            _pinned: PhantomPinned,
        },
        std::future::ready(1),
    ));
    assert_eq!(
        joined.poll(),
        Poll::Ready(((), 1)),
        "{name}(NotUnpin, ready(1)): both children are Ready on their first poll, so the {ty} must \
         be Ready((), 1) on its first poll too"
    );
}

/// A child that is Ready with `value` on every poll, and never panics: polled after it
/// finished, it simply answers Ready again. With such children only the join's *own* guard can
/// notice a poll after completion.
struct AlwaysReady(u32);

impl Future for AlwaysReady {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(self.0)
    }
}

pub fn panics_when_polled_after_completion<S: Subject>() {
    let (name, ty) = (S::FUNCTION, S::TYPE);
    watchdog::<S>(&format!(
        "{name} of two ready children, polled once more after Ready"
    ))
    .run(move || {
        let mut joined = Poller::new(S::join(AlwaysReady(1), AlwaysReady(2)));
        // The steps before the one under test must work: a panic here is a failure, not a pass.
        assert_eq!(
            joined.poll(),
            Poll::Ready((1, 2)),
            "{name} of two children that are Ready at once must be Ready((1, 2)) on its first poll"
        );
        // Like a compiler-generated future, a finished join refuses to run again. Its children here
        // would happily answer Ready again (they never panic), so only the {ty}'s own record that
        // it has finished can notice: panic with a message containing "polled after completion".
        match panic::catch_unwind(AssertUnwindSafe(|| joined.poll())) {
            Ok(result) => panic!(
                "{name} returned Ready, then was polled once more and returned {result:?} instead \
             of panicking. A finished future must not run again: keep a flag (or a state) \
             saying the {ty} has handed its outputs over, and panic with a message containing \
             \"polled after completion\" when polled after that. Don't rely on the children \
             to panic: these two would answer Ready again."
            ),
            Err(payload) => {
                let message = panic_text(&payload);
                assert!(
                    message.contains("polled after completion"),
                    "{name}, polled after it returned Ready, panicked as it should, but with \
                 {message:?}; say \"polled after completion\" in the message so that whoever \
                 polled it knows what they did wrong."
                );
            }
        }
    });
}
