//! The `async fn` below, written the way the compiler writes it: an enum with one variant per
//! place the function can be paused at.
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
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use harness::Journal;

use crate::Countdown;

/// Starts brewing. Like calling an `async fn`, this only builds the state machine: nothing is
/// written to the journal until the first poll.
pub fn brew(journal: Journal) -> Brew {
    Brew::Start { journal }
}

/// The state machine for `brew`. Each variant holds exactly what is still needed from that
/// point on, as the compiler-generated future does.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub enum Brew {
    /// Created, not yet polled: no code of the function body has run.
    Start { journal: Journal },
    /// Paused at the first `.await`: "kettle on" has been written.
    Boiling { journal: Journal, kettle: Countdown },
    /// Paused at the second `.await`: "pour" has been written.
    Steeping { journal: Journal, pot: Countdown },
    /// Returned `Ready`. Polling again is a bug in the caller.
    Done,
}

impl Future for Brew {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        // `Brew` is `Unpin` (all its fields are), so we can work on `&mut Brew` directly.
        let this = &mut *self;
        // Loop so that each transition runs straight on into the next state: after the kettle
        // is done we must poll the pot *in this same poll*, or we would return Pending with
        // nobody arranged to wake us.
        loop {
            // Take the current state out, leaving `Done` behind. If a child future panics we
            // stay `Done` rather than in a half-moved state.
            *this = match mem::replace(this, Brew::Done) {
                Brew::Start { journal } => {
                    journal.write("kettle on");
                    Brew::Boiling {
                        journal,
                        kettle: Countdown::new(2),
                    }
                }
                Brew::Boiling {
                    journal,
                    mut kettle,
                } => match Pin::new(&mut kettle).poll(cx) {
                    Poll::Pending => {
                        // The kettle woke our waker (or arranged to): put the state back and
                        // pause here.
                        *this = Brew::Boiling { journal, kettle };
                        return Poll::Pending;
                    }
                    Poll::Ready(()) => {
                        journal.write("pour");
                        Brew::Steeping {
                            journal,
                            pot: Countdown::new(3),
                        }
                    }
                },
                Brew::Steeping { journal, mut pot } => match Pin::new(&mut pot).poll(cx) {
                    Poll::Pending => {
                        *this = Brew::Steeping { journal, pot };
                        return Poll::Pending;
                    }
                    Poll::Ready(()) => {
                        journal.write("serve");
                        return Poll::Ready("tea");
                    }
                },
                Brew::Done => panic!("Brew polled after completion"),
            }
        }
    }
}
