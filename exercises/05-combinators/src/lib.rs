//! Stage 5 — combinators and cancellation. Read `README.md` in this directory first.
//!
//! Six pieces, each in its own file. Do them in order; `cargo test -p combinators` shows what
//! is left, and `cargo test -p combinators --test part1_join_all` runs one part.
//!
//! 1. `join_all.rs`: [`join_all`], N children, outputs in input order, and a waker per child
//!    so that a wake polls only the child it belongs to.
//! 2. `select.rs`: [`select`] of two futures: the first to finish wins, the other is handed
//!    back unfinished ([`Either`]).
//! 3. `fuse.rs`: [`Fuse`], a future that is safe to poll after it finished.
//! 4. `timeout.rs`: [`timeout`], a future with a deadline on a [`blocks::timer::Timer`].
//! 5. `select_n.rs`: the engine of the [`select!`] macro (N branches, fair or `biased`).
//! 6. `cancel_safety.rs`: a `select!` loop that loses nothing when a branch is cancelled.
//!
//! Part 7 has no file of its own: it runs your combinators under tokio and smol.

// The stubs name their parameters so you can see what each function receives; until you use
// them the compiler would warn. Delete this line when you have finished the stage.
#![allow(unused_variables)]

mod cancel_safety;
mod fuse;
mod join_all;
mod select;
mod select_n;
mod timeout;

pub use cancel_safety::{PairReader, Report, pairs_with_heartbeat, read_pair};
pub use fuse::Fuse;
pub use join_all::{JoinAll, join_all};
pub use select::{Either, Select, select};
pub use select_n::{Branch, SelectN, Start, branch, select_n};
pub use timeout::{Elapsed, Timeout, timeout};
