//! A list of tasks of any type, polled round-robin: the storage every executor needs.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};

/// One task: a future of any type, with no output, pinned in a heap allocation of its own.
///
/// * `dyn Future` lets one list hold futures of different types (every `async` block has a type
///   of its own).
/// * `Box` gives each future its own place on the heap. When the `Vec` grows it moves the
///   *boxes* (pointers) to a new buffer; the futures they point to stay where they are.
/// * `Pin` records the promise `poll` needs: this future will not move again before it is
///   dropped. `Box::pin` can make that promise safely, because nothing else owns the box.
type Task = Pin<Box<dyn Future<Output = ()>>>;

/// A list of tasks of any type, polled in the order they were pushed.
#[derive(Default)]
pub struct TaskList {
    /// Unfinished tasks only: a task is dropped as soon as it returns `Ready`.
    tasks: Vec<Task>,
}

impl TaskList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a task at the end of the list. It is not polled yet.
    pub fn push<F>(&mut self, future: F)
    where
        F: Future<Output = ()> + 'static,
    {
        // Pin first, store second: once in the list the future is only ever reached through
        // its box, so however often the Vec reallocates, the future itself never moves.
        self.tasks.push(Box::pin(future));
    }

    /// How many tasks have not finished yet.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether every task has finished (or none was pushed).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Polls every unfinished task once, in the order they were pushed, with `cx`. A task that
    /// returns `Ready` is dropped at once (by this call, before it returns), so it is never
    /// polled again. Returns how many tasks are still unfinished.
    pub fn poll_round(&mut self, cx: &mut Context<'_>) -> usize {
        // `as_mut` reborrows the `Pin<Box<_>>` as a `Pin<&mut dyn Future>` for this one poll;
        // the box stays in the list, pinned, for the next round.
        self.tasks
            .retain_mut(|task| task.as_mut().poll(cx).is_pending());
        self.tasks.len()
    }

    /// Polls rounds until every task has finished.
    ///
    /// Like Stage 1's `block_on`, this spins: it ignores wakes and polls again at once.
    pub fn run(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        while self.poll_round(&mut cx) > 0 {
            std::hint::spin_loop();
        }
    }
}

impl fmt::Debug for TaskList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A `dyn Future` cannot be printed; its count can.
        f.debug_struct("TaskList")
            .field("unfinished", &self.tasks.len())
            .finish()
    }
}
