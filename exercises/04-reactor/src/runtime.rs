//! A runtime: Stage 2's executor, with the reactor as its way to sleep.
//!
//! Given (you know it from Stage 2): tasks in `Arc`s with a `scheduled` flag, the ready queue,
//! `spawn`, and the busy path of `block_on`, which polls the main future when it was woken and
//! runs every queued task. Also given: every unfinished task is kept in `tasks`, so that
//! dropping the runtime drops tasks whose only waker sits in the reactor.
//!
//! Yours (three functions, marked `todo!()`):
//! * `Runtime::park`, the idle path: when nothing is ready, block in the reactor (never spin);
//!   otherwise turn it without waiting, so I/O is collected even when tasks keep running.
//! * `Shared::push` and `Shared::wake_main`: a wake that finds the runtime blocked in the
//!   reactor must wake it, through the reactor's `mio::Waker`.
//!
//! Take the queue's lock only through the given `lock_queue()`: it is the tests' seam (see
//! `Runtime::on_queue_lock`), which lets them stop a thread at every point around that lock and
//! find a lost wake-up deterministically.
//!
//! ```text
//!   block_on(main) loop:
//!     1. main woken?      poll it; Ready -> return its output
//!     2. ready tasks?     take the whole queue, poll each (scheduled flag cleared first)
//!     3. park:            decide under the queue lock: nothing ready and main not woken?
//!                           yes -> sleeping = true, react(None): block in epoll_wait
//!                           no  -> react(Some(ZERO)): collect the events already there
//!                         sleeping = false, then wake the collected wakers (they push tasks)
//!
//!   a wake from another thread: push under the queue lock; if `sleeping`, reactor.wake()
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem;
use std::ops::{Deref, DerefMut};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Wake, Waker};

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
    /// The tests' seam, if a test installed one: see [`Runtime::on_queue_lock`].
    hook: OnceLock<Hook>,
}

/// Where a test may step in around the ready queue's lock (see [`Runtime::on_queue_lock`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuePoint {
    /// About to take the queue's lock (not held yet).
    BeforeLock,
    /// Just released it.
    AfterUnlock,
}

type Hook = Arc<dyn Fn(QueuePoint) + Send + Sync>;

/// The ready queue, locked: a `MutexGuard` that tells the tests' seam when it is released.
/// Use it like the guard itself (`queue.ready`, `queue.sleeping`, `drop(queue)`).
struct QueueGuard<'a> {
    guard: Option<MutexGuard<'a, Queue>>,
    shared: &'a Shared,
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
                hook: OnceLock::new(),
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

    /// For the tests (given; do not call it yourself): runs `hook` on whichever thread is about
    /// to take the ready queue's lock (through `lock_queue`), and again just after that thread
    /// released it, with no lock of the runtime held. A test uses it to make another thread act
    /// at exactly that point, which is how it finds a lost wake-up every time instead of once in
    /// a thousand runs. Only the first hook installed counts.
    #[doc(hidden)]
    pub fn on_queue_lock(&self, hook: impl Fn(QueuePoint) + Send + Sync + 'static) {
        let _ = self.shared.hook.set(Arc::new(hook));
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

    /// The idle path, after every round: turns the reactor once.
    ///
    /// - Nothing ready (queue empty, main not woken, decided under the queue lock): set
    ///   `sleeping` and block in `reactor.react(None, wakers)`. Never poll in a loop with a
    ///   zero timeout: that spins a core while waiting.
    /// - Something ready: `react(Some(Duration::ZERO), wakers)`, so that I/O events are
    ///   collected even while tasks keep the queue busy.
    /// - Then clear `sleeping` and wake the collected wakers (their wakes push tasks; with
    ///   `sleeping` already cleared they cost no `mio::Waker` system call). A reactor error is
    ///   unrecoverable here: panic with it.
    fn park(&self, wakers: &mut Vec<Waker>) {
        todo!(
            "under the queue lock: nothing ready and main not woken? then sleeping = true and \
             react(None), else react(Some(ZERO)); afterwards sleeping = false, then wake"
        )
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
    /// Locks the ready queue (and its flags). Always take it through here: the tests' seam
    /// (see [`Runtime::on_queue_lock`]) watches this lock.
    fn lock_queue(&self) -> QueueGuard<'_> {
        if let Some(hook) = self.hook.get() {
            hook(QueuePoint::BeforeLock);
        }
        // Only pushes, swaps and flag updates happen under this lock.
        let guard = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        QueueGuard {
            guard: Some(guard),
            shared: self,
        }
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
        todo!(
            "under the queue lock: closed? drop the task, return false; else push_back; if \
             `sleeping` was set, clear it and wake the reactor (after unlocking)"
        )
    }

    /// Marks the `block_on` future as woken and, if the runtime's thread is blocked in the
    /// reactor, wakes it (the same protocol as [`Shared::push`]).
    fn wake_main(&self) {
        todo!("like push, but set `main_woken` instead of queuing a task")
    }

    fn wake_reactor(&self) {
        if let Err(err) = self.reactor.wake() {
            panic!("could not wake the runtime's reactor: {err}");
        }
    }
}

impl Deref for QueueGuard<'_> {
    type Target = Queue;

    fn deref(&self) -> &Queue {
        self.guard.as_ref().expect("held until dropped")
    }
}

impl DerefMut for QueueGuard<'_> {
    fn deref_mut(&mut self) -> &mut Queue {
        self.guard.as_mut().expect("held until dropped")
    }
}

impl Drop for QueueGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        if let Some(hook) = self.shared.hook.get() {
            hook(QueuePoint::AfterUnlock);
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
