//! Stage 8 — time in the reactor. Read `README.md` in this directory first.
//!
//! The public API is fixed (the tests use it); everything behind it is yours to design:
//!
//! * `store.rs`: [`TimerStore`]: the timers, ordered by (deadline, id).
//! * `reactor.rs`: [`Reactor`]: the store beside a `mio::Poll`; [`Reactor::turn`] waits for
//!   the earliest deadline and wakes what is due; [`Reactor::park`] is the runtime's idle
//!   path, with a paused clock's auto-advance.
//! * `sleep.rs`: [`Sleep`], [`sleep`], [`sleep_until`].
//! * `timeout.rs`: [`timeout`].
//! * `interval.rs`: [`Interval`], [`interval`], [`interval_at`], [`MissedTickBehavior`].
//!
//! Given whole (nothing to write): `clock.rs` ([`Clock`]: real or paused), `context.rs` (the
//! current reactor, [`Reactor::enter`]), `runtime.rs` ([`Runtime`], [`spawn`]) and `sync.rs`.
//!
//! `cargo test -p timers` runs the parts in order. Take every `Mutex` and atomic from
//! [`sync`] (`use crate::sync::...`), not from `std::sync`: the race tests swap in a model
//! checker's.

// The stubs name their parameters so you can see what each function receives; until you use
// them the compiler would warn. Delete this line when you have finished the stage.
#![allow(unused_variables)]
// The given `clock.rs` and `context.rs` have crate-private helpers your code will call
// (`Clock::advance`, `context::current`): unused until then. Delete this line too.
#![allow(dead_code)]

mod clock;
mod context;
mod interval;
mod reactor;
mod runtime;
mod sleep;
mod store;
pub mod sync;
mod timeout;

pub use clock::{Clock, FAR_FUTURE};
pub use context::EnterGuard;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use reactor::{Reactor, Turn};
pub use runtime::{Runtime, spawn};
pub use sleep::{Sleep, sleep, sleep_until};
pub use store::{TimerKey, TimerStore};
pub use timeout::{Elapsed, Timeout, timeout};
