//! A list of tasks of any type, polled round-robin: the storage every executor needs.

use std::future::Future;
use std::task::Context;

/// A list of tasks of any type (each a future with no output), polled in the order they were
/// pushed.
///
/// - Store each task as a `Pin<Box<dyn Future<Output = ()>>>`: `dyn` because every `async`
///   block has a type of its own, `Box` so that each future has a place on the heap that does
///   not move when the list grows, `Pin` because `poll` needs that promise.
/// - A task that returned `Ready` is finished: it is dropped, and never polled again.
/// - Once a task has been polled it must not move, however many tasks are pushed afterwards.
#[derive(Debug, Default)]
pub struct TaskList {
    // TODO: the unfinished tasks. (`Pin<Box<dyn Future>>` is not `Debug`: when you add the
    // field, replace `#[derive(Debug)]` with an `impl fmt::Debug` that prints how many tasks
    // are left.)
}

impl TaskList {
    /// An empty list.
    pub fn new() -> Self {
        todo!("start with no tasks")
    }

    /// Adds a task at the end of the list. It is not polled yet.
    pub fn push<F>(&mut self, future: F)
    where
        F: Future<Output = ()> + 'static,
    {
        todo!("pin the future on the heap with Box::pin, then store the box")
    }

    /// How many tasks have not finished yet.
    pub fn len(&self) -> usize {
        todo!("count the unfinished tasks")
    }

    /// Whether every task has finished (or none was pushed).
    pub fn is_empty(&self) -> bool {
        todo!("no unfinished task left")
    }

    /// Polls every unfinished task once, in the order they were pushed, with `cx`. A task that
    /// returns `Ready` is dropped at once (by this call, before it returns), so it is never
    /// polled again. Returns how many tasks are still unfinished.
    pub fn poll_round(&mut self, cx: &mut Context<'_>) -> usize {
        todo!("poll each task through `task.as_mut()`; keep only those still Pending")
    }

    /// Polls rounds until every task has finished, with a waker that does nothing
    /// (`std::task::Waker::noop()`): like Stage 1's `block_on`, it polls again at once.
    pub fn run(&mut self) {
        todo!("call poll_round until it returns 0")
    }
}
