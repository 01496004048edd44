//! The wrapper that gives a future a task number and records what happens to it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::event::{Event, TaskId, WokenBy};
use super::recorder::{self, Attribution};

/// Wraps `future` so the trace shows its polls, their results and every wake of its waker,
/// under a task number (`#1`, `#2`, ... in creation order) and `label`.
///
/// The code that drives the future (the learner's executor) needs to know nothing: the
/// wrapper records the start and the result of each poll, and polls the inner future with a
/// *tracing waker* that records each `wake`/`wake_by_ref` and then forwards it to the waker
/// it was given. The wrapper is created "spawned": call it where the task is spawned,
/// `executor.spawn(traced("timer", async { ... }))`.
///
/// When no trace is being recorded as the wrapper is created, it is a plain pass-through
/// forever (one atomic load, then the inner future's own poll).
///
/// With tracing on, each poll passes a fresh tracing waker down, so `will_wake` between two
/// polls' wakers is false. That is allowed (a future must cope with a new waker on every
/// poll), and it keeps the wrapper from holding the driver's waker between polls, which
/// could otherwise keep a task alive through a reference cycle.
pub fn traced<F: Future>(label: &str, future: F) -> Traced<F> {
    let tag = recorder::enabled().then(|| {
        let tag = Tag {
            task: recorder::next_task(),
            generation: recorder::current_generation(),
        };
        recorder::record(
            tag.generation,
            Event::Spawned {
                task: tag.task,
                label: label.to_owned(),
            },
        );
        tag
    });
    Traced {
        // Boxing keeps `Traced` itself `Unpin` whatever `F` is: no pin projection needed.
        future: Box::pin(future),
        tag,
    }
}

/// A future wrapped by [`traced`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Traced<F> {
    future: Pin<Box<F>>,
    tag: Option<Tag>,
}

#[derive(Debug, Clone, Copy)]
struct Tag {
    task: TaskId,
    /// The trace this future belongs to (0: only the `HARNESS_TRACE` file).
    generation: u64,
}

impl<F> Traced<F> {
    /// The task number, if a trace was being recorded when the wrapper was made.
    pub fn task(&self) -> Option<TaskId> {
        self.tag.map(|tag| tag.task)
    }
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Some(tag) = self.tag else {
            return self.future.as_mut().poll(cx);
        };
        recorder::record(tag.generation, Event::Poll { task: tag.task });
        let waker = Waker::from(Arc::new(TracingWaker {
            tag,
            inner: cx.waker().clone(),
        }));
        let poll = {
            // Wakes during this poll, on this thread, are this task's doing.
            let _attribution = Attribution::enter(WokenBy::Task(tag.task), Some(tag.generation));
            self.future.as_mut().poll(&mut Context::from_waker(&waker))
        };
        let event = match poll {
            Poll::Pending => Event::Pending { task: tag.task },
            Poll::Ready(_) => Event::Ready { task: tag.task },
        };
        recorder::record(tag.generation, event);
        poll
    }
}

/// Records a wake, then passes it on to the waker the driver gave.
struct TracingWaker {
    tag: Tag,
    inner: Waker,
}

impl Wake for TracingWaker {
    fn wake(self: Arc<Self>) {
        match Arc::try_unwrap(self) {
            Ok(this) => {
                recorder::record_wake(this.tag.generation, this.tag.task);
                this.inner.wake();
            }
            Err(this) => this.wake_by_ref(),
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Record first: whatever the wake causes (a poll, maybe on another thread) comes after.
        recorder::record_wake(self.tag.generation, self.tag.task);
        self.inner.wake_by_ref();
    }
}
