//! `Fuse`: a future that is safe to poll after it finished (it then stays `Pending`), and
//! can say so ([`Fuse::is_terminated`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// A future wrapped so that polling it after `Ready` is harmless.
    ///
    /// - Until the inner future is ready, each poll polls it (with the same `cx`).
    /// - In the poll where it returns `Ready`, the inner future is dropped, there and then.
    /// - From then on the fuse is *terminated*: every poll returns `Pending` without polling
    ///   anything and without waking the waker (nothing will ever happen), and
    ///   [`is_terminated`](Fuse::is_terminated) is true.
    /// - `Fuse<F>` is `Unpin` when `F` is.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Fuse<F> {
        // Structurally pinned: `Pin<&mut Option<F>>` -> `Option<Pin<&mut F>>` with
        // `as_pin_mut`, and `Pin::set(.., None)` drops the finished future where it is.
        #[pin]
        inner: Option<F>,
    }
}

impl<F: Future> Fuse<F> {
    /// Wraps `future`; not terminated until it finishes.
    pub fn new(future: F) -> Fuse<F> {
        Fuse {
            inner: Some(future),
        }
    }

    /// A fuse that is terminated from the start: it never completes. Handy as the "nothing to
    /// wait for" value of a branch that is refilled later.
    pub fn terminated() -> Fuse<F> {
        Fuse { inner: None }
    }

    /// Whether the inner future has finished (or there never was one).
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }
}

impl<F: Future> Future for Fuse<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut inner = self.project().inner;
        let Some(future) = inner.as_mut().as_pin_mut() else {
            return Poll::Pending;
        };
        let output = std::task::ready!(future.poll(cx));
        inner.set(None);
        Poll::Ready(output)
    }
}
