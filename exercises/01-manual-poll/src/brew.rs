//! Write this `async fn` by hand, the way the compiler does: as an enum with one variant per
//! place the function can be paused at, and a `poll` that moves from variant to variant.
//!
//! ```text
//! async fn brew(journal: Journal) -> &'static str {
//!     journal.write("kettle on");
//!     Countdown::new(2).await;   // the water heats
//!     journal.write("pour");
//!     Countdown::new(3).await;   // the tea steeps
//!     journal.write("serve");
//!     "tea"
//! }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use harness::Journal;

#[allow(unused_imports)] // you will need it in `poll`
use crate::Countdown;

/// Starts brewing. Like calling an `async fn`, this only builds the state machine: nothing may
/// be written to the journal before the first poll.
pub fn brew(journal: Journal) -> Brew {
    todo!("return the state machine in its starting state")
}

/// The state machine for `brew`. Like `.await`, every `poll` polls the countdown it is waiting
/// on with the `cx` it was given in *that* poll (never a waker saved from an earlier poll).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub enum Brew {
    // TODO: one variant per place the function can be paused at: before the first line, at
    // each `.await`, and finished. Each variant holds what the rest of the function still
    // needs (the journal, the countdown being awaited).
    /// A placeholder so that this stub compiles. Delete it when you add your variants.
    Todo,
}

impl Future for Brew {
    type Output = &'static str;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        todo!("run from the current state up to the next `.await` that is Pending, or the end")
    }
}
