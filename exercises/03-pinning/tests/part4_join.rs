//! Part 4 — `join`: two child futures, polled concurrently, with pin projection by hand.
//!
//! Run just these with `cargo test -p pinning --test part4_join`.
//!
//! The children are often `!Unpin` `async` blocks wrapped in `assert_unmoved()`, so a
//! projection that moves a child (say, with `mem::replace`) is caught on the next poll. Whether
//! `Join` is `!Unpin` when a child is can only be seen by the compiler: part 6 checks that.
//!
//! Part 5 checks `join_lite` against the same contract: the body of each check is in
//! `tests/common/join_contract.rs`; this file says what is checked and how to advise you.

mod common;

use std::future::Future;

use common::join_contract::{self as contract, Subject, unpin_facts};
use harness::YieldTimes;

/// `pinning::join`, whose projection is written by hand.
struct HandWritten;

impl Subject for HandWritten {
    const FUNCTION: &'static str = "join";
    const TYPE: &'static str = "Join";
    const PROJECTION_ADVICE: &'static str = "Reach them only through your projection \
        (`Pin::new_unchecked(&mut this.a)` on a `&mut` obtained with `get_unchecked_mut`), and \
        never move one out (`mem::replace`, `mem::swap`, `Option::take`, returning it by value) \
        to poll it somewhere else.";
    const UNPINNED_FIELD: &'static str = "a field that is not pinned";
    const UNPIN_ADVICE: &'static str = "A Join is Unpin exactly when both children are: keep \
        each child in a field whose type contains it (`a: A`, or an enum holding an `A`: the \
        auto trait Unpin then follows them), and write no `impl Unpin for Join`: an unconditional one would let safe code move \
        a pinned !Unpin child (`Pin::new`, `mem::swap`).";

    type Join<A: Future, B: Future> = pinning::Join<A, B>;

    fn join<A: Future, B: Future>(a: A, b: B) -> Self::Join<A, B> {
        pinning::join(a, b)
    }
}

#[test]
fn join_completes_with_both_outputs_once_the_slower_child_does() {
    contract::completes_with_both_outputs_once_the_slower_child_does::<HandWritten>();
}

#[test]
fn join_keeps_both_children_where_they_were_first_polled() {
    contract::keeps_both_children_where_they_were_first_polled::<HandWritten>();
}

#[test]
fn an_unfinished_join_drops_its_children_where_they_were_polled() {
    contract::an_unfinished_one_drops_its_children_where_they_were_polled::<HandWritten>();
}

#[test]
fn join_never_polls_a_finished_child_again() {
    contract::never_polls_a_finished_child_again::<HandWritten>();
}

#[test]
fn join_polls_both_children_on_every_poll_until_they_finish() {
    contract::polls_both_children_on_every_poll_until_they_finish::<HandWritten>();
}

#[test]
fn a_wake_from_either_child_wakes_the_task() {
    contract::a_wake_from_either_child_wakes_the_task::<HandWritten>();
}

#[test]
fn join_polls_children_with_the_waker_of_each_poll() {
    contract::polls_the_children_with_the_waker_of_each_poll::<HandWritten>();
}

#[test]
fn join_of_unpin_children_is_unpin_and_can_be_polled_in_place() {
    // Compile-time check: a Join of two Unpin children is itself Unpin. (The other half, that
    // a Join of a !Unpin child is not, is a compile-fail case in part 6.)
    static_assertions::assert_impl_all!(pinning::Join<std::future::Ready<u8>, YieldTimes>: Unpin);
    contract::of_unpin_children_is_unpin_and_can_be_polled_in_place::<HandWritten>();
}

#[test]
fn join_is_not_unpin_when_a_child_is_not() {
    contract::is_not_unpin_when_a_child_is_not::<HandWritten>(unpin_facts!(pinning::Join));
}

#[test]
fn join_panics_when_polled_after_completion() {
    contract::panics_when_polled_after_completion::<HandWritten>();
}
