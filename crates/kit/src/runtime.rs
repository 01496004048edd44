//! The runtime: one thread, a ready queue, the reactor (Stages 2 and 4), and `spawn` with a
//! `JoinHandle` through a thread-local context (Stage 7).
//!
//! `block_on` loops: poll the main future if it was woken, poll every task that was woken (a
//! batch: a task woken while the batch runs waits for the next round, so a task that keeps
//! waking itself cannot starve the others or the reactor), then turn the reactor: without
//! waiting when something is queued, else blocking until an event, a due timer or a wake from
//! another thread. A wake pushes the task once (its `scheduled` flag) and pokes the reactor
//! only if the runtime said it was going to sleep (`sleeping`, set and read under the queue's
//! lock: Stage 4's lost-wake-up rule).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

use crate::reactor::Reactor;
use crate::time::Clock;

/// A task's future. Tasks never leave the runtime's thread, so it need not be `Send`.
type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A single-threaded runtime. See the module docs.
pub struct Runtime {
    core: Rc<Core>,
}

/// What the runtime's thread owns.
struct Core {
    reactor: Reactor,
    /// Every unfinished task: its future (taken out while it is polled) and its waker.
    tasks: RefCell<Slab<TaskSlot>>,
    /// Numbers tasks, so a stale wake for a reused slab key is recognised and ignored.
    next_id: Cell<u64>,
    /// What other threads may touch: the queue and the reactor's poke.
    shared: Arc<Shared>,
}

struct TaskSlot {
    /// `None` while the task is being polled.
    future: Option<LocalFuture>,
    /// The task's waker (one per task: the `scheduled` flag lives in it).
    waker: Arc<TaskWaker>,
}

/// Shared with wakers on any thread.
struct Shared {
    queue: Mutex<Queue>,
    /// Ends a blocking reactor turn.
    poke: Arc<mio::Waker>,
}

#[derive(Default)]
struct Queue {
    /// Woken tasks: (slab key, task id).
    ready: VecDeque<(usize, u64)>,
    /// The main future was woken since its last poll.
    main_woken: bool,
    /// The runtime is (about to be) blocked in the reactor: a wake must poke it.
    sleeping: bool,
}

struct TaskWaker {
    key: usize,
    id: u64,
    /// True while the task is in the ready queue: a second wake does not queue it twice.
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

struct MainWaker {
    shared: Arc<Shared>,
}

thread_local! {
    /// The runtime whose `block_on` is running on this thread.
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

impl Runtime {
    /// A runtime on the real clock.
    pub fn new() -> io::Result<Runtime> {
        Runtime::with_clock(Clock::real())
    }

    /// A runtime on `clock`; with [`Clock::paused`], time moves only by [`Clock::advance`].
    pub fn with_clock(clock: Clock) -> io::Result<Runtime> {
        let reactor = Reactor::new(clock)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            poke: reactor.waker(),
        });
        Ok(Runtime {
            core: Rc::new(Core {
                reactor,
                tasks: RefCell::new(Slab::new()),
                next_id: Cell::new(0),
                shared,
            }),
        })
    }

    /// This runtime's clock (clone it to another thread to [`advance`](Clock::advance) it).
    pub fn clock(&self) -> Clock {
        self.core.reactor.clock().clone()
    }

    /// This runtime's reactor.
    pub fn reactor(&self) -> &Reactor {
        &self.core.reactor
    }

    /// How many spawned tasks have not finished.
    pub fn live_tasks(&self) -> usize {
        self.core.tasks.borrow().len()
    }

    /// Runs `future` to completion on this thread, together with every spawned task, and
    /// returns its output. Tasks still unfinished then stay in the runtime (a later
    /// `block_on` goes on with them) until it is dropped, which drops them.
    ///
    /// # Panics
    ///
    /// Inside another `block_on` on the same thread.
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        let _enter = Enter::new(&self.core);
        let mut future = pin!(future);
        let main_waker = Waker::from(Arc::new(MainWaker {
            shared: Arc::clone(&self.core.shared),
        }));
        let mut cx = Context::from_waker(&main_waker);
        self.core.shared.lock().main_woken = true;
        let mut batch = VecDeque::new();
        let mut wakers = Vec::new();
        loop {
            let poll_main = {
                let mut queue = self.core.shared.lock();
                mem::swap(&mut queue.ready, &mut batch);
                mem::take(&mut queue.main_woken)
            };
            if poll_main && let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                let mut queue = self.core.shared.lock();
                batch.append(&mut queue.ready);
                mem::swap(&mut queue.ready, &mut batch);
                return output;
            }
            for (key, id) in batch.drain(..) {
                self.core.run(key, id);
            }
            self.park(&mut wakers);
        }
    }

    fn park(&self, wakers: &mut Vec<Waker>) {
        let shared = &self.core.shared;
        let block = {
            let mut queue = shared.lock();
            let idle = queue.ready.is_empty() && !queue.main_woken;
            queue.sleeping = idle;
            idle
        };
        if let Err(err) = self.core.reactor.turn(block, wakers) {
            panic!("the runtime's reactor failed to poll for events: {err}");
        }
        if block {
            shared.lock().sleeping = false;
        }
        for waker in wakers.drain(..) {
            waker.wake();
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Drop the tasks inside the context (their sockets and timers deregister), and
        // outside the slab's borrow (a dropped task may drop a JoinHandle, or spawn).
        let _enter = Enter::new(&self.core);
        let futures: Vec<_> = self.core.tasks.borrow_mut().drain().collect();
        drop(futures);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("live_tasks", &self.live_tasks())
            .field("reactor", &self.core.reactor)
            .finish()
    }
}

impl Core {
    /// Polls task `key` if it is still the task `id` and not finished.
    fn run(&self, key: usize, id: u64) {
        let (mut future, waker) = {
            let mut tasks = self.tasks.borrow_mut();
            let Some(slot) = tasks.get_mut(key) else {
                return;
            };
            if slot.waker.id != id {
                return; // a wake for a finished task whose key was reused
            }
            let Some(future) = slot.future.take() else {
                return;
            };
            (future, Arc::clone(&slot.waker))
        };
        waker.scheduled.store(false, Ordering::SeqCst);
        let as_waker = Waker::from(Arc::clone(&waker));
        let done = future
            .as_mut()
            .poll(&mut Context::from_waker(&as_waker))
            .is_ready();
        if done {
            let slot = self.tasks.borrow_mut().remove(key);
            drop(slot);
            drop(future); // outside the borrow: its drop may spawn or drop other tasks
        } else if let Some(slot) = self.tasks.borrow_mut().get_mut(key) {
            slot.future = Some(future);
        }
    }

    fn spawn(&self, future: LocalFuture) {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let key = {
            let mut tasks = self.tasks.borrow_mut();
            let entry = tasks.vacant_entry();
            let key = entry.key();
            entry.insert(TaskSlot {
                future: Some(future),
                waker: Arc::new(TaskWaker {
                    key,
                    id,
                    scheduled: AtomicBool::new(true),
                    shared: Arc::clone(&self.shared),
                }),
            });
            key
        };
        self.shared.push(key, id);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, key: usize, id: u64) {
        let mut queue = self.lock();
        queue.ready.push_back((key, id));
        let poke = mem::take(&mut queue.sleeping);
        drop(queue);
        if poke {
            self.poke();
        }
    }

    fn poke(&self) {
        if let Err(err) = self.poke.wake() {
            panic!("could not wake the runtime's reactor: {err}");
        }
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::SeqCst) {
            self.shared.push(self.key, self.id);
        }
    }
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut queue = self.shared.lock();
        queue.main_woken = true;
        let poke = mem::take(&mut queue.sleeping);
        drop(queue);
        if poke {
            self.shared.poke();
        }
    }
}

/// Sets the thread's current runtime for its lifetime and restores the previous one after.
struct Enter {
    previous: Option<Rc<Core>>,
}

impl Enter {
    fn new(core: &Rc<Core>) -> Enter {
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            assert!(
                current.as_ref().is_none_or(|c| !Rc::ptr_eq(c, core)),
                "block_on inside block_on on the same runtime would deadlock it"
            );
            Enter {
                previous: current.replace(Rc::clone(core)),
            }
        })
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

fn current() -> Rc<Core> {
    CURRENT.with(|current| {
        current
            .borrow()
            .clone()
            .expect("no runtime here: call this inside kit::Runtime::block_on")
    })
}

/// The current runtime's reactor.
///
/// # Panics
///
/// Outside a runtime's `block_on`.
pub fn reactor() -> Reactor {
    current().reactor.clone()
}

/// How many spawned tasks of the current runtime have not finished.
///
/// # Panics
///
/// Outside a runtime's `block_on`.
pub fn live_tasks() -> usize {
    current().tasks.borrow().len()
}

/// Starts `future` as a task on the current runtime. It runs concurrently with the caller
/// (first polled after the caller yields) until it finishes or the runtime is dropped; its
/// output is in the returned handle. Dropping the handle detaches the task (it keeps running).
///
/// # Panics
///
/// Outside a runtime's `block_on`.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let state = Rc::new(RefCell::new(JoinState {
        output: None,
        finished: false,
        waker: None,
    }));
    let task_state = Rc::clone(&state);
    current().spawn(Box::pin(async move {
        let output = future.await;
        let waker = {
            let mut state = task_state.borrow_mut();
            state.output = Some(output);
            state.finished = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }));
    JoinHandle { state }
}

/// The output of a spawned task (Stage 7). Await it for the output; drop it to detach.
pub struct JoinHandle<T> {
    state: Rc<RefCell<JoinState<T>>>,
}

struct JoinState<T> {
    /// The task's output, until the handle takes it.
    output: Option<T>,
    /// The task finished (stays true after the output was taken).
    finished: bool,
    /// The waker of the handle's latest Pending poll.
    waker: Option<Waker>,
}

impl<T> JoinHandle<T> {
    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.state.borrow().finished
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    /// # Panics
    ///
    /// If polled again after it returned the output.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state.borrow_mut();
        if state.finished {
            let output = state.output.take();
            return Poll::Ready(output.expect("JoinHandle polled after it returned the output"));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
