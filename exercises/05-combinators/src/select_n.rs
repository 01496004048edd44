//! The engine of the `select!` macro: N branches, polled in turn from a start branch that is
//! the first one (`biased;`) or changes from call to call (fair).
//!
//! The macro itself (at the bottom of this file) is given: it turns each branch into a boxed
//! [`Branch`] whose output is "branch k won, with this value", awaits [`select_n`], then
//! matches on the winner to run its body. Everything async is in [`SelectN::poll`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Where a [`select_n`] starts polling its branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Fair: the start branch changes from call to call (rotating through them, or at
    /// random), so that over many calls every branch that is always ready wins its share.
    Fair,
    /// `biased;`: always start at the first branch, so earlier branches win ties.
    Biased,
}

/// One branch of a [`select_n`]: a future whose output is already mapped to the common type
/// `T`. Made by [`branch`].
pub trait Branch<T> {
    /// Polls the branch's future once.
    fn poll_branch(&mut self, cx: &mut Context<'_>) -> Poll<T>;
}

/// Makes a branch of `future`, whose output `map` turns into the common type `T`. The future
/// must be `Unpin`: pass `&mut fut` to keep it after the select (a loser is not finished, only
/// left behind), or a future by value to have a losing one dropped (cancelled) with the select.
pub fn branch<'a, F, M, T>(future: F, map: M) -> Box<dyn Branch<T> + 'a>
where
    F: Future + Unpin + 'a,
    M: FnOnce(F::Output) -> T + 'a,
{
    todo!("a Box of a type of yours that implements Branch<T>: poll the future, map its output")
}

/// Races `branches`: the output of the first one to be ready.
///
/// The start branch is chosen here, once per call: the first (`Start::Biased`) or, for
/// `Start::Fair`, one that changes from call to call on the same thread.
pub fn select_n<'a, T>(start: Start, branches: Vec<Box<dyn Branch<T> + 'a>>) -> SelectN<'a, T> {
    todo!("choose the start branch (once per call), keep the branches")
}

/// The future returned by [`select_n`].
///
/// - Each poll polls the branches in order from the start branch, wrapping around (start,
///   start+1, ..., N-1, 0, ..., start-1), each at most once, with the task's `cx`.
/// - It stops at the first branch that is ready: that output is returned and the branches
///   after it are not polled in that poll (polling one could take an item it would then drop).
/// - `Pending` only after every branch returned `Pending` in this poll.
/// - Polled again after it returned `Ready`, it panics with a message containing "polled
///   after completion".
#[must_use = "futures do nothing unless polled"]
pub struct SelectN<'a, T> {
    // TODO: the branches and where to start. This placeholder keeps the stub compiling;
    // delete it when you add your fields.
    _todo: PhantomData<Box<dyn Branch<T> + 'a>>,
}

impl<T> Future for SelectN<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        todo!(
            "poll each branch once, from the start branch, wrapping around; stop at the first Ready"
        )
    }
}

impl<T> fmt::Debug for SelectN<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectN").finish_non_exhaustive()
    }
}

/// Waits on up to 8 futures at once and runs the body of the first to finish.
///
/// ```text
/// select! {
///     value = &mut fut_a => body_a,     // `pattern = future => expression`
///     _ = fut_b => body_b,              // a future by value is dropped if it loses
/// }
/// select! { biased; ... }               // always try the branches in the order written
/// ```
///
/// Must be used inside an `async` block or function (it `.await`s). Each future must be
/// `Unpin` (`&mut fut` of an `Unpin` future, `Box::pin(fut)`, or a `Fuse` of one); patterns
/// must be irrefutable. The bodies run after the select finished, outside any poll, so they
/// may use `.await`, `break`, `continue`, `return` and borrow anything, as in a `match`.
/// Without `biased;`, each use starts at a different branch ([`Start::Fair`]).
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)+) => {
        $crate::__select!(@zip Biased [] [(B0 T0) (B1 T1) (B2 T2) (B3 T3) (B4 T4) (B5 T5) (B6 T6) (B7 T7)] $($branches)+)
    };
    ($($branches:tt)+) => {
        $crate::__select!(@zip Fair [] [(B0 T0) (B1 T1) (B2 T2) (B3 T3) (B4 T4) (B5 T5) (B6 T6) (B7 T7)] $($branches)+)
    };
}

/// The machinery of [`select!`]: pairs each branch with a variant name, then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __select {
    // Take one branch and give it the next free variant (B0, B1, ...).
    (@zip $start:ident [$($done:tt)*] [($v:ident $t:ident) $($free:tt)*]
        $pat:pat = $fut:expr => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select!(@zip $start [$($done)* ($v $t [$pat] [$fut] [$body])] [$($free)*] $($($rest)*)?)
    };
    (@zip $start:ident [$($done:tt)*] [] $($rest:tt)+) => {
        ::std::compile_error!("select! takes at most 8 branches")
    };
    // Every branch has its variant: race them, then run the winner's body.
    (@zip $start:ident [$(($v:ident $t:ident [$pat:pat] [$fut:expr] [$body:expr]))+] [$($free:tt)*]) => {{
        #[allow(dead_code)]
        enum Won<$($t),+> { $($v($t)),+ }
        let branches = ::std::vec![$($crate::branch($fut, Won::$v)),+];
        match $crate::select_n($crate::Start::$start, branches).await {
            $(Won::$v($pat) => $body,)+
        }
    }};
}
