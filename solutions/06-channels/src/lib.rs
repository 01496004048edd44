//! Stage 6 — channels and backpressure. Read `README.md` in this directory first.
//!
//! 1. `oneshot.rs`: [`oneshot::channel`], one value from one task to another.
//! 2. `chan.rs`: the core of the multi-producer channels: a buffer, the waiting senders and
//!    the receiver's waker under one lock. `mpsc.rs` wraps it into [`mpsc::channel`] (bounded,
//!    with backpressure) and [`mpsc::unbounded_channel`]; it is written for you.
//!
//! Take every `Mutex` from [`sync`] (`use crate::sync::...`), not from `std::sync`: the race
//! tests swap in a model checker's (README, "Races, found every time").

mod chan;
pub mod error;
pub mod mpsc;
pub mod oneshot;
pub mod sync;

pub use error::{Canceled, SendError, TryRecvError, TrySendError};
