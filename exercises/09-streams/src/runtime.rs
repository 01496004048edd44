//! Given (Stage 4's reference runtime, without its test seam): an executor that sleeps in the
//! reactor. Nothing to write here.
//!
//! ```text
//!   block_on(main) loop:
//!     1. main woken?      poll it; Ready -> return its output
//!     2. ready tasks?     take the whole queue, poll each (scheduled flag cleared first)
//!     3. park:            under the queue lock: nothing ready and main not woken?
//!                           yes -> sleeping = true, react(None): block in epoll_wait
//!                           no  -> react(Some(0)): just collect the events already there
//!                         sleeping = false, then wake the collected wakers (they push tasks)
//!
//!   a wake from another thread: push under the queue lock; if `sleeping`, reactor.wake()
//! ```
//!
//! Invariants:
//! * `sleeping` is set and read under the queue lock, where every push also looks: either the
//!   park sees the pushed task (and does not block), or the push sees `sleeping` and wakes the
//!   reactor through its `mio::Waker`. That wake is latched by the OS (an eventfd that stays
//!   readable), so it also works if it lands before the thread has entered `epoll_wait`.
//! * `sleeping` is cleared before the wakers collected by the turn are woken, so the wakes that
//!   the turn itself delivers (on this thread) never pay for a `mio::Waker` system call.
//! * The reactor is turned (with a zero timeout) between batches even when tasks are always
//!   ready, so a task that keeps waking itself cannot starve I/O.
//! * Every unfinished task is in `tasks`, so dropping the runtime drops every future, including
//!   those that only a waker stored in the reactor still points to (Stage 2's open question).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use slab::Slab;

use crate::reactor::Reactor;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A single-threaded runtime: an executor whose idle thread blocks in its [`Reactor`].
pub struct Runtime {
    shared: Arc<Shared>,
}

/// A handle on a [`Runtime`]: spawn onto it and reach its reactor, from any thread.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

struct Shared {
    reactor: Reactor,
    queue: Mutex<Queue>,
    /// Every unfinished task, by its key; see the module invariants.
    tasks: Mutex<Slab<Arc<Task>>>,
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<Arc<Task>>,
    /// The `block_on` future was woken and must be polled.
    main_woken: bool,
    /// The runtime's thread is blocked (or about to block) in the reactor: a push must wake it.
    sleeping: bool,
    /// The runtime was dropped: nothing will run again.
    closed: bool,
}

struct Task {
    /// `None` once the future has completed (or the runtime has been dropped).
    future: Mutex<Option<BoxFuture>>,
    /// True while the task is in the ready queue.
    scheduled: AtomicBool,
    /// Its key in `Shared::tasks`.
    key: usize,
    shared: Arc<Shared>,
}

/// Wakes the `block_on` future.
struct MainWaker {
    shared: Arc<Shared>,
}

impl Runtime {
    /// A runtime with its own reactor.
    pub fn new() -> io::Result<Runtime> {
        Ok(Runtime {
            shared: Arc::new(Shared {
                reactor: Reactor::new()?,
                queue: Mutex::new(Queue::default()),
                tasks: Mutex::new(Slab::new()),
            }),
        })
    }

    /// A handle for spawning onto this runtime from tasks or other threads.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The runtime's reactor, to register I/O with.
    pub fn reactor(&self) -> &Reactor {
        &self.shared.reactor
    }

    /// Spawns a task; it runs while [`Runtime::block_on`] runs.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.shared.spawn(Box::pin(future));
    }

    /// Runs `future` on this thread, and spawned tasks with it, until `future` completes.
    /// Tasks that have not finished by then stay, and run again at the next `block_on`.
    /// While nothing is ready the thread blocks in the reactor.
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        let mut future = pin!(future);
        let main_waker = Waker::from(Arc::new(MainWaker {
            shared: Arc::clone(&self.shared),
        }));
        let mut cx = Context::from_waker(&main_waker);
        self.shared.lock_queue().main_woken = true;
        // Both keep their allocations from one round to the next.
        let mut batch = VecDeque::new();
        let mut wakers = Vec::new();
        loop {
            let poll_main = {
                let mut queue = self.shared.lock_queue();
                mem::swap(&mut queue.ready, &mut batch);
                mem::take(&mut queue.main_woken)
            };
            if poll_main && let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                // Tasks taken for this round go back to the front of the queue.
                if !batch.is_empty() {
                    let mut queue = self.shared.lock_queue();
                    batch.append(&mut queue.ready);
                    mem::swap(&mut queue.ready, &mut batch);
                }
                return output;
            }
            for task in batch.drain(..) {
                task.run();
            }
            self.park(&mut wakers);
        }
    }

    /// Turns the reactor: blocks in it if nothing is ready, else only collects what is there.
    fn park(&self, wakers: &mut Vec<Waker>) {
        let shared = &*self.shared;
        let block = {
            let mut queue = shared.lock_queue();
            let idle = queue.ready.is_empty() && !queue.main_woken;
            queue.sleeping = idle;
            idle
        };
        let timeout = if block { None } else { Some(Duration::ZERO) };
        if let Err(err) = shared.reactor.react(timeout, wakers) {
            panic!("the runtime's reactor failed to poll for events: {err}");
        }
        if block {
            shared.lock_queue().sleeping = false;
        }
        for waker in wakers.drain(..) {
            waker.wake();
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Close the queue, then drop every future. Futures are dropped with no lock held: a
        // future's destructor may wake a task (which pushes) or deregister a source.
        let queued = {
            let mut queue = self.shared.lock_queue();
            queue.closed = true;
            mem::take(&mut queue.ready)
        };
        drop(queued);
        let tasks: Vec<Arc<Task>> = self.shared.lock_tasks().drain().collect();
        for task in tasks {
            let future = task.lock_future().take();
            drop(future);
        }
    }
}

impl Handle {
    /// Spawns a task onto the runtime, from any thread. If the runtime is blocked in its
    /// reactor, it wakes up to run it.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.shared.spawn(Box::pin(future));
    }

    /// The runtime's reactor, to register I/O with.
    pub fn reactor(&self) -> &Reactor {
        &self.shared.reactor
    }
}

impl Shared {
    /// Locks the ready queue (and its flags).
    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        // Only pushes, swaps and flag updates happen under this lock.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_tasks(&self) -> MutexGuard<'_, Slab<Arc<Task>>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spawn(self: &Arc<Self>, future: BoxFuture) {
        let task = {
            let mut tasks = self.lock_tasks();
            let entry = tasks.vacant_entry();
            let task = Arc::new(Task {
                future: Mutex::new(Some(future)),
                scheduled: AtomicBool::new(true),
                key: entry.key(),
                shared: Arc::clone(self),
            });
            entry.insert(Arc::clone(&task));
            task
        };
        let key = task.key;
        if !self.push(task) {
            // Spawned onto a dropped runtime: it will never run, so it must not stay listed.
            self.lock_tasks().try_remove(key);
        }
    }

    /// Queues a task (its `scheduled` flag is already set) and, if the runtime's thread is
    /// blocked in the reactor, wakes it. Returns false (and drops the task) if the runtime has
    /// been dropped.
    fn push(&self, task: Arc<Task>) -> bool {
        let mut queue = self.lock_queue();
        if queue.closed {
            drop(queue);
            drop(task);
            return false;
        }
        queue.ready.push_back(task);
        let wake = mem::take(&mut queue.sleeping);
        drop(queue);
        if wake {
            self.wake_reactor();
        }
        true
    }

    /// Marks the `block_on` future as woken and, if the runtime's thread is blocked in the
    /// reactor, wakes it (the same protocol as [`Shared::push`]).
    fn wake_main(&self) {
        let mut queue = self.lock_queue();
        queue.main_woken = true;
        let wake = mem::take(&mut queue.sleeping);
        drop(queue);
        if wake {
            self.wake_reactor();
        }
    }

    fn wake_reactor(&self) {
        if let Err(err) = self.reactor.wake() {
            panic!("could not wake the runtime's reactor: {err}");
        }
    }
}

impl Task {
    fn lock_future(&self) -> MutexGuard<'_, Option<BoxFuture>> {
        self.future.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Polls the task once, if it has not finished.
    fn run(self: Arc<Self>) {
        // Clear before polling: a wake from now on must queue the task again.
        self.scheduled.store(false, Ordering::Release);
        let mut slot = self.lock_future();
        let Some(future) = slot.as_mut() else {
            return; // finished already; this was a late wake
        };
        let waker = Waker::from(Arc::clone(&self));
        let mut cx = Context::from_waker(&waker);
        if future.as_mut().poll(&mut cx).is_ready() {
            *slot = None;
            drop(slot);
            self.shared.lock_tasks().try_remove(self.key);
        }
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            let shared = Arc::clone(&self.shared);
            shared.push(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            self.shared.push(Arc::clone(self));
        }
    }
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.shared.wake_main();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.wake_main();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.shared.lock_tasks().len())
            .field("reactor", &self.shared.reactor)
            .finish()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}
