//! `join_all`: run N futures of one type concurrently; complete with every output, in input
//! order. Each child gets a waker of its own, so a wake polls only the child it belongs to.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// Starts joining every future of `futures`. Like any future, nothing happens until the first
/// poll.
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let children: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let count = children.len();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            // Every child is polled once on the first poll: start with all of them woken.
            woken: vec![true; count],
            parent: None,
        }),
    });
    let wakers = (0..count)
        .map(|index| {
            Waker::from(Arc::new(ChildWaker {
                index,
                shared: Arc::clone(&shared),
            }))
        })
        .collect();
    JoinAll {
        children,
        outputs: (0..count).map(|_| None).collect(),
        wakers,
        shared,
        remaining: count,
        finished: false,
    }
}

/// The future returned by [`join_all`]: `Ready(outputs)` once every child is, with
/// `outputs[i]` the output of the `i`-th future given (input order, not completion order).
///
/// - The first poll polls every child once. After that, a poll polls only the children whose
///   own waker was woken since they were last polled (each child is polled with a waker of its
///   own, which records "child i is ready" and then wakes the task that polled the `JoinAll`
///   most recently).
/// - A child that wakes its waker *during* its own poll is polled again (in this poll of the
///   `JoinAll` or the next one: the wake is not lost).
/// - A finished child is dropped at once and never polled again, even if its waker is woken.
/// - Polled again after it returned `Ready`, it panics with a message containing "polled
///   after completion".
#[must_use = "futures do nothing unless polled"]
pub struct JoinAll<F: Future> {
    /// The children still running; `None` once finished (dropped in place of a flag).
    children: Vec<Option<Pin<Box<F>>>>,
    outputs: Vec<Option<F::Output>>,
    /// Child `i` is polled with `wakers[i]`; made once, cloned by the children that keep one.
    wakers: Vec<Waker>,
    shared: Arc<Shared>,
    remaining: usize,
    finished: bool,
}

/// What the children's wakers and the `JoinAll` share.
struct Shared {
    state: Mutex<State>,
}

struct State {
    /// `woken[i]`: child `i` woke its waker since it was last polled.
    woken: Vec<bool>,
    /// The waker of the latest poll of the `JoinAll`: the task to wake.
    parent: Option<Waker>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The waker child `index` is polled with.
struct ChildWaker {
    index: usize,
    shared: Arc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut state = self.shared.state();
            state.woken[self.index] = true;
            state.parent.clone()
        };
        // Woken outside the lock: the parent's waker may run anything, even poll us.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

// Nothing in a `JoinAll` is pinned through it: each child sits in a `Box` of its own (which
// never moves when the `Vec` does), and the outputs are plain values. So it is `Unpin` whatever
// `F` is; without this line, a `Vec<Option<F::Output>>` would make it `!Unpin` for an output
// type that is. (`Unpin` is a safe trait: this needs no `unsafe`.)
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.finished, "JoinAll polled after completion");
        // `JoinAll` is Unpin (every child is boxed), so the fields are plain `&mut`.
        let this = &mut *self;
        // Take the list of woken children and remember who to wake, in one critical section.
        // A flag is cleared BEFORE its child is polled: a wake during that poll sets it again.
        let woken = {
            let mut state = this.shared.state();
            // `clone_from` keeps the stored waker when it `will_wake` the new one (no clone).
            match &mut state.parent {
                Some(parent) => parent.clone_from(cx.waker()),
                None => state.parent = Some(cx.waker().clone()),
            }
            let count = state.woken.len();
            std::mem::replace(&mut state.woken, vec![false; count])
        };
        for (index, was_woken) in woken.into_iter().enumerate() {
            if !was_woken {
                continue;
            }
            // A finished child is gone; a stale wake of its waker is ignored.
            let Some(child) = this.children[index].as_mut() else {
                continue;
            };
            let mut child_cx = Context::from_waker(&this.wakers[index]);
            if let Poll::Ready(output) = child.as_mut().poll(&mut child_cx) {
                this.outputs[index] = Some(output);
                this.children[index] = None;
                this.remaining -= 1;
            }
        }
        if this.remaining > 0 {
            return Poll::Pending;
        }
        this.finished = true;
        let outputs = this
            .outputs
            .iter_mut()
            .map(|output| output.take().expect("every child has finished"))
            .collect();
        Poll::Ready(outputs)
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("children", &self.children.len())
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}
