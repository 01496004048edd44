//! The course's test harness.
//!
//! Every stage's tests are written against this crate, so that a test reads as the idea it
//! checks rather than as plumbing. It has five jobs:
//!
//! * **Turn hangs into failures** ([`Watchdog`]): async bugs usually show up as a program that
//!   waits forever. A test body runs under a deadline; when it expires the test fails with a
//!   message that names the likely causes instead of freezing the terminal.
//! * **Observe wakers** ([`counting_waker`], [`WakeProbe`]): wakers that count how often they were
//!   woken (and, for a probe, how many clones are alive), so a test can ask "did this `Pending`
//!   come with a way to make progress?" or wait for a wake from another thread.
//! * **Observe polls** ([`Poller`], [`recorded`]): drive a future by hand one poll at a time, or
//!   wrap a future so the test can see how a driver polled it.
//! * **Control the world** ([`ManualClock`], [`Journal`], [`yield_times`]): time that only moves
//!   when the test says so, and a shared log of side effects in the order they happened.
//! * **Show what happened** ([`trace`]): record each traced task's polls, results and wakes
//!   (and the executor's sleeps, if it calls the hooks), then draw the timeline as text or SVG
//!   with a diagnosis. Tests snapshot it; `cargo xtask trace <stage> <test>` draws it for any
//!   test.
//!
//! Nothing here sleeps to decide whether a test passes. Where a test needs another thread, the
//! outcome does not depend on how the threads are scheduled, only the time it takes does, and
//! that time is bounded by a watchdog.

mod asleep;
pub mod bounded;
mod clock;
mod journal;
pub mod model;
mod panics;
mod poller;
mod probe;
mod recorded;
pub mod sync;
pub mod trace;
mod watchdog;
mod yield_times;

pub use asleep::{Asleep, ThreadWatch};
pub use clock::ManualClock;
pub use journal::Journal;
pub use panics::{catch_panic, panic_message};
pub use poller::Poller;
pub use probe::WakeProbe;
pub use recorded::{PollStats, Recorded, recorded};
pub use watchdog::Watchdog;
pub use yield_times::{YieldTimes, yield_times};

/// A waker that counts its wakes, and the counter to read them from.
///
/// Every clone of the waker shares the counter; `wake` and `wake_by_ref` both count. Two calls
/// give two *distinct* wakers (`will_wake` is false between them), which is how a test checks
/// that a future replaced an outdated waker.
pub use futures_test::task::{AwokenCount, new_count_waker as counting_waker};

/// A `Context` whose waker does nothing, for polls where wakes do not matter.
pub use futures_test::task::noop_context;
