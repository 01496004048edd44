//! Helpers the parts share: messages that count how many of them are alive, a receive future
//! to hand to a `Poller`, and the two-task pipeline of the backpressure lesson. (Not a test
//! target: cargo only builds `tests/*.rs` files as targets; each part includes this with
//! `mod common;`.)

// Each part uses some of these helpers, not all.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Counts the [`Item`]s made from it that have not been dropped yet: messages buffered in a
/// channel, held by a pending send, or not yet thrown away by the consumer. It measures what a
/// queue keeps in memory by counting, not by timing or by reading the process's memory.
#[derive(Debug, Clone, Default)]
pub struct Live(Arc<AtomicUsize>);

/// A message that [`Live`] counts while it exists.
#[derive(Debug)]
pub struct Item {
    pub n: u64,
    live: Arc<AtomicUsize>,
}

impl Live {
    pub fn new() -> Live {
        Live::default()
    }

    pub fn item(&self, n: u64) -> Item {
        self.0.fetch_add(1, Ordering::SeqCst);
        Item {
            n,
            live: Arc::clone(&self.0),
        }
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the consumer of a pipeline writes down: what it received, and the longest it saw the
/// channel's buffer (`len()`, looked at before every receive).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    received: Arc<std::sync::Mutex<Vec<u64>>>,
    peak_len: Arc<AtomicUsize>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }

    pub fn saw_len(&self, len: usize) {
        self.peak_len.fetch_max(len, Ordering::SeqCst);
    }

    pub fn received(&self, n: u64) {
        self.received.lock().unwrap().push(n);
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

/// What the pipeline saw.
#[derive(Debug)]
pub struct Pipeline {
    /// The most messages that were ever alive at once.
    pub peak_live: usize,
    /// The longest the channel's buffer was when the consumer looked.
    pub peak_len: usize,
    /// What the consumer received, in order.
    pub received: Vec<u64>,
    /// Whether the producer had finished (sent everything) before the consumer received
    /// anything.
    pub producer_done_before_first_receive: bool,
}

/// Runs a producer and a slow consumer side by side on this thread, as a single-threaded
/// executor would: one poll of the producer, then one of the consumer, and again, until both
/// are done. After every poll it counts the messages alive.
///
/// Panics (with `what` in the message) if the pair is not done after `max_rounds` rounds: a
/// lost wakeup or a producer that never finishes cannot hang the test.
pub fn run_pipeline<P, C>(
    what: &str,
    live: &Live,
    tally: &Tally,
    producer: P,
    consumer: C,
    max_rounds: usize,
) -> Pipeline
where
    P: Future<Output = ()>,
    C: Future<Output = ()>,
{
    let mut producer = Box::pin(producer);
    let mut consumer = Box::pin(consumer);
    let mut cx = Context::from_waker(Waker::noop());
    let (mut producer_done, mut consumer_done) = (false, false);
    let mut producer_done_before_first_receive = false;
    let mut peak_live = 0;
    for _ in 0..max_rounds {
        if !producer_done {
            producer_done = producer.as_mut().poll(&mut cx).is_ready();
            if producer_done && tally.count() == 0 {
                producer_done_before_first_receive = true;
            }
        }
        peak_live = peak_live.max(live.count());
        if !consumer_done {
            consumer_done = consumer.as_mut().poll(&mut cx).is_ready();
        }
        peak_live = peak_live.max(live.count());
        if producer_done && consumer_done {
            return Pipeline {
                peak_live,
                peak_len: tally.peak_len.load(Ordering::SeqCst),
                received: tally.received.lock().unwrap().clone(),
                producer_done_before_first_receive,
            };
        }
    }
    panic!(
        "{what}: the producer and the consumer were not both done after {max_rounds} rounds of \
         polling each (producer done: {producer_done}, consumer done: {consumer_done}, {} \
         received). A send that never completes although the consumer keeps receiving, or a \
         recv that never sees the end of the channel, would do this.",
        tally.count()
    );
}

/// A future that is Pending once (waking itself), then Ready: a consumer "doing other work".
pub struct YieldOnce(bool);

pub fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A waker whose `wake` re-enters the channel at once, on the waking thread, as an executor that
/// runs the woken task inline would: it runs `action` on a channel handle (a receiver to poll, a
/// sender to `try_send` with) that the test hands it, and writes down what the action returned.
///
/// The action takes the channel's lock. A `wake()` made while the waking code still holds that
/// lock therefore deadlocks right there, on the same thread; the tests run such steps under a
/// `Watchdog` that names the cause. Until a handle is handed over (and after it is taken back),
/// a wake does nothing but count.
pub struct OnWake<H, R> {
    handle: Mutex<Option<H>>,
    action: fn(&mut H) -> R,
    got: Mutex<Vec<R>>,
    wakes: AtomicUsize,
}

impl<H: std::marker::Send + 'static, R: std::marker::Send + 'static> OnWake<H, R> {
    /// The shared state and a waker on it.
    pub fn new(action: fn(&mut H) -> R) -> (Arc<Self>, Waker) {
        let on_wake = Arc::new(OnWake {
            handle: Mutex::new(None),
            action,
            got: Mutex::new(Vec::new()),
            wakes: AtomicUsize::new(0),
        });
        let waker = Waker::from(Arc::clone(&on_wake));
        (on_wake, waker)
    }

    /// From now on, a wake runs the action on `handle`.
    pub fn hand(&self, handle: H) {
        *self.handle.lock().unwrap() = Some(handle);
    }

    /// Takes the handle back (a wake does nothing after this).
    pub fn take_back(&self) -> Option<H> {
        self.handle.lock().unwrap().take()
    }

    /// What the action returned, one entry per wake that ran it.
    pub fn got(&self) -> Vec<R> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }

    /// How many times the waker was woken.
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl<H: std::marker::Send + 'static, R: std::marker::Send + 'static> Wake for OnWake<H, R> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        // `try_lock`: a wake from inside the action itself (or while the test hands the handle
        // over) only counts.
        if let Ok(mut handle) = self.handle.try_lock()
            && let Some(handle) = handle.as_mut()
        {
            let got = (self.action)(handle);
            self.got.lock().unwrap().push(got);
        }
    }
}
