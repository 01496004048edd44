//! Part 1: a stream's four everyday combinators, as free functions (so they never clash with
//! `futures::StreamExt`'s methods of the same names).
//!
//! ```text
//!   poll_next ─► Ready(Some(item))   an item
//!            ─► Ready(None)         the stream has ended
//!            ─► Pending             nothing yet; the waker of this poll will be woken
//! ```
//!
//! Every combinator here polls its source from inside its own `poll_next`, with the same
//! `Context`: the source stores the caller's waker, so a combinator needs none of its own. It
//! returns `Pending` only when its source just did (never on its own account), and it never
//! polls a source that has already returned `Ready(None)` when it knows (`take`: after the n-th
//! item).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use pin_project_lite::pin_project;

/// The future returned by [`next`].
#[must_use = "futures do nothing unless you poll them"]
pub struct Next<'a, S: ?Sized> {
    stream: &'a mut S,
}

/// Waits for the next item of `stream`: `Some(item)`, or `None` once the stream has ended.
///
/// Each poll of the returned future polls `stream` once, with the future's `Context`, and
/// returns what it returned (`Pending` when it was `Pending`).
pub fn next<S: Stream + Unpin + ?Sized>(stream: &mut S) -> Next<'_, S> {
    Next { stream }
}

impl<S: Stream + Unpin + ?Sized> Future for Next<'_, S> {
    type Output = Option<S::Item>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        todo!("poll the stream once with this Context (Pin::new works: S is Unpin)")
    }
}

pin_project! {
    /// The stream returned by [`map`].
    #[must_use = "streams do nothing unless you poll them"]
    pub struct Map<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

/// `f(item)` for every item of `stream`, in order.
///
/// Each `poll_next` polls `stream` once: `Pending` exactly when `stream` returned `Pending`,
/// `Ready(None)` when it returned `Ready(None)`. `f` is called once per item, when the item
/// arrives.
pub fn map<S, F, U>(stream: S, f: F) -> Map<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> U,
{
    Map { stream, f }
}

impl<S, F, U> Stream for Map<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> U,
{
    type Item = U;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<U>> {
        todo!("project, poll the source once, apply f to an item")
    }
}

pin_project! {
    /// The stream returned by [`filter`].
    #[must_use = "streams do nothing unless you poll them"]
    pub struct Filter<S, P> {
        #[pin]
        stream: S,
        predicate: P,
    }
}

/// The items of `stream` for which `predicate` returns `true`, in order.
///
/// A rejected item is dropped and `stream` is polled again *within the same* `poll_next`:
/// `Pending` only when `stream` returned `Pending`, however many items were rejected before
/// it (returning `Pending` after a rejected item would wait for a wake that nobody sends).
/// `Ready(None)` when `stream` ended.
pub fn filter<S, P>(stream: S, predicate: P) -> Filter<S, P>
where
    S: Stream,
    P: FnMut(&S::Item) -> bool,
{
    Filter { stream, predicate }
}

impl<S, P> Stream for Filter<S, P>
where
    S: Stream,
    P: FnMut(&S::Item) -> bool,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        todo!("loop: poll the source; skip rejected items in this same poll")
    }
}

pin_project! {
    /// The stream returned by [`take`].
    #[must_use = "streams do nothing unless you poll them"]
    pub struct Take<S> {
        #[pin]
        stream: S,
        // How many items may still be yielded.
        remaining: usize,
    }
}

/// The first `n` items of `stream` (fewer if it ends before).
///
/// Once `n` items have been yielded (at once for `n = 0`), or `stream` has returned
/// `Ready(None)`, every `poll_next` returns `Ready(None)` *without polling `stream`*: the
/// items after the n-th are never pulled. Before that, each `poll_next` polls `stream` once
/// and returns what it returned.
pub fn take<S: Stream>(stream: S, n: usize) -> Take<S> {
    Take {
        stream,
        remaining: n,
    }
}

impl<S: Stream> Stream for Take<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        todo!(
            "none left to give (or the source ended)? Ready(None) without polling; else poll once and count"
        )
    }
}

impl<S: ?Sized> fmt::Debug for Next<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

impl<S: fmt::Debug, F> fmt::Debug for Map<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl<S: fmt::Debug, P> fmt::Debug for Filter<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl<S: fmt::Debug> fmt::Debug for Take<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Take")
            .field("stream", &self.stream)
            .field("remaining", &self.remaining)
            .finish()
    }
}
