//! Part 2: `buffer_unordered`, a stream of futures run `limit` at a time.
//!
//! ```text
//!   source: fut1 fut2 fut3 fut4 fut5 ...        limit = 2
//!             │    │
//!             v    v
//!   in flight: [fut1, fut2]   (the source is not polled while 2 are in flight)
//!   fut2 ready ─► yield its output; its slot is free ─► next poll pulls fut3
//!   ...
//!   source ended and nothing in flight ─► Ready(None)
//! ```
//!
//! Invariants (they hold between polls):
//! * at most `limit` futures are in flight (pulled from the source, not yet finished);
//! * every future in flight, and the source unless it has ended or `limit` futures are in
//!   flight, was last polled with the latest `Context`: a wake from any of them reaches the
//!   task that polls this stream.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use pin_project_lite::pin_project;

pin_project! {
    /// The stream returned by [`buffer_unordered`].
    #[must_use = "streams do nothing unless you poll them"]
    pub struct BufferUnordered<S: Stream> {
        #[pin]
        source: S,
        // The source returned `Ready(None)`: never poll it again.
        source_done: bool,
        // The futures pulled from the source and not finished yet; boxed so that they stay
        // pinned while the vector moves them around.
        in_flight: Vec<Pin<Box<S::Item>>>,
        // The most futures in flight at once (at least 1).
        limit: usize,
    }
}

/// Runs the futures that `source` yields, at most `limit` at a time, and yields their outputs
/// in the order they finish.
///
/// Each `poll_next`:
/// 1. pulls futures from `source` while fewer than `limit` are in flight (pulled and not
///    finished yet), until `source` returns `Pending` or `Ready(None)`. `source` is not polled
///    at all while `limit` futures are in flight, and never again once it returned
///    `Ready(None)`;
/// 2. polls the futures in flight (a future just pulled is polled in this same call, so one
///    that is ready at once is yielded at once); the first that is ready is dropped, which
///    frees its slot, and its output is returned at once: this call pulls nothing more from
///    `source` (futures it did not get to poll are polled by the next call). The next
///    `poll_next`, not this one, pulls a future into the free slot;
/// 3. returns `Ready(None)` once `source` has ended and no future is in flight, and `Pending`
///    otherwise. When it returns `Pending`, every future in flight, and `source` if it may be
///    pulled from, have been polled with this call's `Context`: a wake from any of them wakes
///    the task (the waker of the latest poll, not an older one).
///
/// # Panics
///
/// If `limit` is 0 (no future could ever run).
pub fn buffer_unordered<S>(source: S, limit: usize) -> BufferUnordered<S>
where
    S: Stream,
    S::Item: Future,
{
    assert!(
        limit > 0,
        "buffer_unordered: a limit of 0 would never run a future"
    );
    BufferUnordered {
        source,
        source_done: false,
        in_flight: Vec::with_capacity(limit),
        limit,
    }
}

impl<S> Stream for BufferUnordered<S>
where
    S: Stream,
    S::Item: Future,
{
    type Item = <S::Item as Future>::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        // 1. Fill the free slots.
        while !*this.source_done && this.in_flight.len() < *this.limit {
            match this.source.as_mut().poll_next(cx) {
                Poll::Ready(Some(future)) => this.in_flight.push(Box::pin(future)),
                Poll::Ready(None) => *this.source_done = true,
                Poll::Pending => break,
            }
        }
        // 2. Poll what is in flight; the first ready one frees its slot.
        for index in 0..this.in_flight.len() {
            if let Poll::Ready(output) = this.in_flight[index].as_mut().poll(cx) {
                // Order among the futures in flight does not matter: swap_remove is O(1).
                drop(this.in_flight.swap_remove(index));
                return Poll::Ready(Some(output));
            }
        }
        // 3. Nothing ready.
        if *this.source_done && this.in_flight.is_empty() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

impl<S> fmt::Debug for BufferUnordered<S>
where
    S: Stream + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferUnordered")
            .field("source", &self.source)
            .field("source_done", &self.source_done)
            .field("in_flight", &self.in_flight.len())
            .field("limit", &self.limit)
            .finish()
    }
}
