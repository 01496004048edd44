//! Synchronisation types that a race test can take control of.
//!
//! Stage 2's code imports its `Mutex`, `Condvar`, atomics and parking from here (through the
//! stage's own `src/sync.rs`), never from `std` directly. Outside a race test every type is
//! `std`'s, unchanged: same API, same behaviour, same cost but for one branch. Inside
//! [`crate::model::check`], the same types are created as [shuttle]'s, whose scheduler decides
//! which thread runs at every lock, unlock, wait, notify and atomic access, and tries the
//! interleavings one after another. A lost wakeup then shows up deterministically, as a
//! deadlock in one of the explored schedules, instead of once in thousands of real runs.
//!
//! A value takes its flavour when it is created: a `Mutex` made inside a model run is a model
//! mutex for its whole life. Nothing made outside a model run may be used inside one, and the
//! other way round (the race tests create everything inside).
//!
//! [shuttle]: https://docs.rs/shuttle

use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError};
use std::time::Duration;

thread_local! {
    /// True while this thread runs a model (shuttle runs every model thread on the test's own
    /// OS thread, so one thread-local covers them all).
    static IN_MODEL: Cell<bool> = const { Cell::new(false) };
    /// Operations on model types since the model run started.
    static MODEL_OPS: Cell<usize> = const { Cell::new(0) };
}

pub(crate) fn in_model() -> bool {
    IN_MODEL.with(Cell::get)
}

pub(crate) fn set_in_model(on: bool) {
    IN_MODEL.with(|flag| flag.set(on));
}

pub(crate) fn model_ops() -> usize {
    MODEL_OPS.with(Cell::get)
}

/// Operations on model types by any thread since the process started: a progress count that
/// another thread (the watchdog of a model check) can read. A real block stops it.
static MODEL_PROGRESS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub(crate) fn model_progress() -> usize {
    MODEL_PROGRESS.load(std::sync::atomic::Ordering::Relaxed)
}

pub(crate) fn reset_model_ops() {
    MODEL_OPS.with(|ops| ops.set(0));
}

fn counted() {
    MODEL_OPS.with(|ops| ops.set(ops.get() + 1));
    MODEL_PROGRESS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

#[inline]
fn map_lock<G, H>(result: LockResult<G>, wrap: impl FnOnce(G) -> H) -> LockResult<H> {
    match result {
        Ok(guard) => Ok(wrap(guard)),
        Err(poisoned) => Err(PoisonError::new(wrap(poisoned.into_inner()))),
    }
}

/// A mutual exclusion lock: `std::sync::Mutex`, or a model checker's inside a race test.
pub struct Mutex<T> {
    inner: MutexInner<T>,
}

enum MutexInner<T> {
    Std(std::sync::Mutex<T>),
    // Boxed: a model mutex is large (176 bytes inline) and only race tests create one, so
    // the `std` case stays small (a task holding a few of these stays cache-friendly).
    Model(Box<shuttle::sync::Mutex<T>>),
}

/// What [`Mutex::lock`] returns: the lock is held until it is dropped.
pub struct MutexGuard<'a, T> {
    inner: GuardInner<'a, T>,
}

enum GuardInner<'a, T> {
    Std(std::sync::MutexGuard<'a, T>),
    // Boxed, so that dropping a guard is small enough to inline: outside a race test it is just
    // `std`'s unlock.
    Model(Box<shuttle::sync::MutexGuard<'a, T>>),
}

impl<T> Mutex<T> {
    pub fn new(value: T) -> Mutex<T> {
        let inner = if in_model() {
            MutexInner::Model(Box::new(shuttle::sync::Mutex::new(value)))
        } else {
            MutexInner::Std(std::sync::Mutex::new(value))
        };
        Mutex { inner }
    }

    /// Blocks until the lock is free, then takes it. As with `std`, the error case means a
    /// thread panicked while holding it; `PoisonError::into_inner` gives the guard anyway.
    //
    // Inlined, with the model's branch kept out of line: outside a race test this costs what
    // `std`'s `lock` costs (Stage 6's channel benchmark takes a lock per message).
    #[inline]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        match &self.inner {
            MutexInner::Std(mutex) => map_lock(mutex.lock(), |guard| MutexGuard {
                inner: GuardInner::Std(guard),
            }),
            MutexInner::Model(mutex) => Self::lock_model(mutex),
        }
    }

    #[cold]
    #[inline(never)]
    fn lock_model(mutex: &shuttle::sync::Mutex<T>) -> LockResult<MutexGuard<'_, T>> {
        counted();
        map_lock(mutex.lock(), |guard| MutexGuard {
            inner: GuardInner::Model(Box::new(guard)),
        })
    }

    /// The value, for the owner of the only handle.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        match &mut self.inner {
            MutexInner::Std(mutex) => mutex.get_mut(),
            MutexInner::Model(mutex) => mutex.get_mut(),
        }
    }

    pub fn into_inner(self) -> LockResult<T> {
        match self.inner {
            MutexInner::Std(mutex) => mutex.into_inner(),
            MutexInner::Model(mutex) => (*mutex).into_inner(),
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        match &self.inner {
            GuardInner::Std(guard) => guard,
            GuardInner::Model(guard) => guard,
        }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.inner {
            GuardInner::Std(guard) => &mut *guard,
            GuardInner::Model(guard) => &mut *guard,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A condition variable: `std::sync::Condvar`, or a model checker's inside a race test.
///
/// Use it with a [`Mutex`] from this module. (The model checker never wakes a `wait`
/// spuriously, so it cannot catch an `if` that should be a `while`; `std` may, so keep the
/// loop.)
pub struct Condvar {
    inner: CondvarInner,
}

enum CondvarInner {
    Std(std::sync::Condvar),
    Model(Box<shuttle::sync::Condvar>),
}

/// Whether [`Condvar::wait_timeout`] returned because the time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    pub fn new() -> Condvar {
        let inner = if in_model() {
            CondvarInner::Model(Box::new(shuttle::sync::Condvar::new()))
        } else {
            CondvarInner::Std(std::sync::Condvar::new())
        };
        Condvar { inner }
    }

    /// Releases the guard's lock and sleeps until notified, then takes the lock again.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        match (&self.inner, guard.inner) {
            (CondvarInner::Std(condvar), GuardInner::Std(guard)) => {
                map_lock(condvar.wait(guard), |guard| MutexGuard {
                    inner: GuardInner::Std(guard),
                })
            }
            (CondvarInner::Model(condvar), GuardInner::Model(guard)) => {
                counted();
                map_lock(condvar.wait(*guard), |guard| MutexGuard {
                    inner: GuardInner::Model(Box::new(guard)),
                })
            }
            _ => panic!("a Condvar and a Mutex from different worlds (test and model) were mixed"),
        }
    }

    /// Waits while `condition` holds (checking it before the first wait and after each).
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Like [`Condvar::wait`], giving up after `limit`. (In a model run time never passes: it
    /// behaves like `wait`.)
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        limit: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        match (&self.inner, guard.inner) {
            (CondvarInner::Std(condvar), GuardInner::Std(guard)) => {
                map_lock(condvar.wait_timeout(guard, limit), |(guard, result)| {
                    (
                        MutexGuard {
                            inner: GuardInner::Std(guard),
                        },
                        WaitTimeoutResult(result.timed_out()),
                    )
                })
            }
            (CondvarInner::Model(condvar), GuardInner::Model(guard)) => {
                counted();
                map_lock(condvar.wait(*guard), |guard| {
                    (
                        MutexGuard {
                            inner: GuardInner::Model(Box::new(guard)),
                        },
                        WaitTimeoutResult(false),
                    )
                })
            }
            _ => panic!("a Condvar and a Mutex from different worlds (test and model) were mixed"),
        }
    }

    pub fn notify_one(&self) {
        match &self.inner {
            CondvarInner::Std(condvar) => condvar.notify_one(),
            CondvarInner::Model(condvar) => {
                counted();
                condvar.notify_one()
            }
        }
    }

    pub fn notify_all(&self) {
        match &self.inner {
            CondvarInner::Std(condvar) => condvar.notify_all(),
            CondvarInner::Model(condvar) => {
                counted();
                condvar.notify_all()
            }
        }
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

/// Atomic integers and booleans: `std`'s, or a model checker's inside a race test.
pub mod atomic {
    use std::fmt;

    pub use std::sync::atomic::Ordering;

    use super::{counted, in_model};

    macro_rules! atomic {
        ($name:ident, $int:ty, [$($method:ident),*]) => {
            #[doc = concat!("`std::sync::atomic::", stringify!($name), "`, or a model checker's inside a race test.")]
            pub struct $name {
                inner: Inner,
            }

            enum Inner {
                Std(std::sync::atomic::$name),
                Model(Box<shuttle::sync::atomic::$name>),
            }

            impl $name {
                pub fn new(value: $int) -> Self {
                    let inner = if in_model() {
                        Inner::Model(Box::new(shuttle::sync::atomic::$name::new(value)))
                    } else {
                        Inner::Std(std::sync::atomic::$name::new(value))
                    };
                    $name { inner }
                }

                pub fn load(&self, order: Ordering) -> $int {
                    match &self.inner {
                        Inner::Std(atomic) => atomic.load(order),
                        Inner::Model(atomic) => {
                            counted();
                            atomic.load(order)
                        }
                    }
                }

                pub fn store(&self, value: $int, order: Ordering) {
                    match &self.inner {
                        Inner::Std(atomic) => atomic.store(value, order),
                        Inner::Model(atomic) => {
                            counted();
                            atomic.store(value, order)
                        }
                    }
                }

                pub fn compare_exchange(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    match &self.inner {
                        Inner::Std(atomic) => atomic.compare_exchange(current, new, success, failure),
                        Inner::Model(atomic) => {
                            counted();
                            atomic.compare_exchange(current, new, success, failure)
                        }
                    }
                }

                pub fn compare_exchange_weak(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    self.compare_exchange(current, new, success, failure)
                }

                $(
                    pub fn $method(&self, value: $int, order: Ordering) -> $int {
                        match &self.inner {
                            Inner::Std(atomic) => atomic.$method(value, order),
                            Inner::Model(atomic) => {
                                counted();
                                atomic.$method(value, order)
                            }
                        }
                    }
                )*
            }

            impl Default for $name {
                fn default() -> Self {
                    $name::new(<$int>::default())
                }
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    let value = match &self.inner {
                        Inner::Std(atomic) => atomic.load(Ordering::Relaxed),
                        // Reading a model atomic is a scheduling point: don't, from Debug.
                        Inner::Model(_) => return f.write_str(concat!(stringify!($name), "(model)")),
                    };
                    f.debug_tuple(stringify!($name)).field(&value).finish()
                }
            }
        };
    }

    mod bool_ {
        use super::*;
        atomic!(AtomicBool, bool, [swap, fetch_or, fetch_and]);
    }
    mod usize_ {
        use super::*;
        atomic!(
            AtomicUsize,
            usize,
            [swap, fetch_add, fetch_sub, fetch_or, fetch_and]
        );
    }
    mod u32_ {
        use super::*;
        atomic!(
            AtomicU32,
            u32,
            [swap, fetch_add, fetch_sub, fetch_or, fetch_and]
        );
    }
    mod u64_ {
        use super::*;
        atomic!(
            AtomicU64,
            u64,
            [swap, fetch_add, fetch_sub, fetch_or, fetch_and]
        );
    }
    mod u8_ {
        use super::*;
        atomic!(
            AtomicU8,
            u8,
            [swap, fetch_add, fetch_sub, fetch_or, fetch_and]
        );
    }

    pub use bool_::AtomicBool;
    pub use u8_::AtomicU8;
    pub use u32_::AtomicU32;
    pub use u64_::AtomicU64;
    pub use usize_::AtomicUsize;
}

/// Parking a thread: `std::thread`'s, or a model checker's inside a race test.
///
/// In a race test, park and unpark are modelled with a per-thread token under a model
/// `Mutex` and `Condvar`: exactly `std`'s semantics (one token, kept until consumed) except
/// that a park never returns spuriously. (The model checker's own `park` may return
/// spuriously at any moment, which its depth-first search explores as an endless loop.)
pub mod thread {
    use std::fmt;
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Condvar, Mutex, counted, in_model};

    /// A model thread's unpark token.
    struct Token {
        available: Mutex<bool>,
        unparked: Condvar,
    }

    shuttle::thread_local! {
        static TOKEN: Arc<Token> = Arc::new(Token {
            available: Mutex::new(false),
            unparked: Condvar::new(),
        });
    }

    /// A handle to a thread, to unpark it.
    #[derive(Clone)]
    pub struct Thread {
        inner: Inner,
    }

    #[derive(Clone)]
    enum Inner {
        Std(std::thread::Thread),
        Model(Arc<Token>),
    }

    impl Thread {
        /// Gives the thread its unpark token (at most one is kept), waking it if it is parked.
        pub fn unpark(&self) {
            match &self.inner {
                Inner::Std(thread) => thread.unpark(),
                Inner::Model(token) => {
                    counted();
                    let mut available = token
                        .available
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    *available = true;
                    token.unparked.notify_one();
                }
            }
        }
    }

    impl fmt::Debug for Thread {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match &self.inner {
                Inner::Std(thread) => fmt::Debug::fmt(thread, f),
                Inner::Model(_) => f.write_str("Thread(model)"),
            }
        }
    }

    /// The calling thread.
    pub fn current() -> Thread {
        let inner = if in_model() {
            Inner::Model(TOKEN.with(Arc::clone))
        } else {
            Inner::Std(std::thread::current())
        };
        Thread { inner }
    }

    /// Sleeps until this thread's unpark token is available (and takes it). With `std` it may
    /// also return for no reason: always re-check your own flag.
    pub fn park() {
        if in_model() {
            counted();
            let token = TOKEN.with(Arc::clone);
            let mut available = token
                .available
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            while !*available {
                available = token
                    .unparked
                    .wait(available)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            *available = false;
        } else {
            std::thread::park();
        }
    }

    /// Like [`park`], giving up after `limit` (in a model run time never passes: it is
    /// [`park`]).
    pub fn park_timeout(limit: Duration) {
        if in_model() {
            park();
        } else {
            std::thread::park_timeout(limit);
        }
    }

    /// What [`spawn`] returns: wait for the thread with [`JoinHandle::join`].
    pub struct JoinHandle<T> {
        inner: JoinInner<T>,
    }

    enum JoinInner<T> {
        Std(std::thread::JoinHandle<T>),
        Model(shuttle::thread::JoinHandle<T>),
    }

    impl<T> JoinHandle<T> {
        /// Waits for the thread to finish; `Err` holds its panic's payload.
        pub fn join(self) -> std::thread::Result<T> {
            match self.inner {
                JoinInner::Std(handle) => handle.join(),
                JoinInner::Model(handle) => {
                    counted();
                    handle.join()
                }
            }
        }
    }

    impl<T> fmt::Debug for JoinHandle<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("JoinHandle").finish_non_exhaustive()
        }
    }

    /// Starts a thread running `f`: an `std` thread, or a model thread inside a race test (so
    /// that a runtime's worker threads take part in the model checker's interleavings).
    pub fn spawn<F, T>(f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let inner = if in_model() {
            counted();
            JoinInner::Model(shuttle::thread::spawn(f))
        } else {
            JoinInner::Std(std::thread::spawn(f))
        };
        JoinHandle { inner }
    }

    /// Tells the threads of a race test apart in a `std` `thread_local!`: every model thread
    /// runs on the test's one OS thread, so they all share its thread-locals. `None` outside a
    /// race test (where a thread-local is the thread's own); inside one, a number unique to
    /// the calling model thread. A thread-local that must be per thread keys its entries by it.
    pub fn model_thread_key() -> Option<usize> {
        if in_model() {
            Some(usize::from(shuttle::thread::current().id()))
        } else {
            None
        }
    }

    /// Lets other threads run.
    pub fn yield_now() {
        if in_model() {
            counted();
            shuttle::thread::yield_now();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Channels: `std::sync::mpsc`'s, or a model checker's inside a race test.
pub mod mpsc {
    use std::fmt;

    pub use std::sync::mpsc::{RecvError, SendError, TryRecvError};

    use super::{counted, in_model};

    /// The sending half of a [`channel`]; clone it to send from several places.
    pub struct Sender<T> {
        inner: SenderInner<T>,
    }

    enum SenderInner<T> {
        Std(std::sync::mpsc::Sender<T>),
        Model(shuttle::sync::mpsc::Sender<T>),
    }

    /// The receiving half of a [`channel`].
    pub struct Receiver<T> {
        inner: ReceiverInner<T>,
    }

    enum ReceiverInner<T> {
        Std(std::sync::mpsc::Receiver<T>),
        Model(shuttle::sync::mpsc::Receiver<T>),
    }

    /// An unbounded channel.
    pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
        if in_model() {
            let (tx, rx) = shuttle::sync::mpsc::channel();
            (
                Sender {
                    inner: SenderInner::Model(tx),
                },
                Receiver {
                    inner: ReceiverInner::Model(rx),
                },
            )
        } else {
            let (tx, rx) = std::sync::mpsc::channel();
            (
                Sender {
                    inner: SenderInner::Std(tx),
                },
                Receiver {
                    inner: ReceiverInner::Std(rx),
                },
            )
        }
    }

    impl<T> Sender<T> {
        /// Sends `value`; gives it back if the receiver is gone.
        pub fn send(&self, value: T) -> Result<(), SendError<T>> {
            match &self.inner {
                SenderInner::Std(tx) => tx.send(value),
                SenderInner::Model(tx) => {
                    counted();
                    tx.send(value)
                }
            }
        }
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            let inner = match &self.inner {
                SenderInner::Std(tx) => SenderInner::Std(tx.clone()),
                SenderInner::Model(tx) => SenderInner::Model(tx.clone()),
            };
            Sender { inner }
        }
    }

    impl<T> Receiver<T> {
        /// Blocks until a value arrives, or every sender is gone.
        pub fn recv(&self) -> Result<T, RecvError> {
            match &self.inner {
                ReceiverInner::Std(rx) => rx.recv(),
                ReceiverInner::Model(rx) => {
                    counted();
                    rx.recv()
                }
            }
        }

        /// A value if one is waiting, without blocking.
        pub fn try_recv(&self) -> Result<T, TryRecvError> {
            match &self.inner {
                ReceiverInner::Std(rx) => rx.try_recv(),
                ReceiverInner::Model(rx) => {
                    counted();
                    rx.try_recv()
                }
            }
        }
    }

    impl<T> fmt::Debug for Sender<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Sender").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Debug for Receiver<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Receiver").finish_non_exhaustive()
        }
    }
}
