//! bug: when the kettle finishes, poll moves to the next state and returns Pending without
//! polling the new countdown, so nothing has arranged a wake
//! replaces: src/brew.rs
//! caught-by: part3_brew::every_pending_from_brew_comes_with_a_wake
//! caught-by: part3_brew::brew_is_pending_five_times_then_serves_tea

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use harness::Journal;

use crate::Countdown;

/// Starts brewing.
pub fn brew(journal: Journal) -> Brew {
    Brew::Start { journal }
}

/// The state machine for `brew`.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub enum Brew {
    Start { journal: Journal },
    Boiling { journal: Journal, kettle: Countdown },
    Steeping { journal: Journal, pot: Countdown },
    Done,
}

impl Future for Brew {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        let this = &mut *self;
        // No loop: every transition ends the poll.
        let (next, poll) = match mem::replace(this, Brew::Done) {
            Brew::Start { journal } => {
                journal.write("kettle on");
                let mut kettle = Countdown::new(2);
                let _ = Pin::new(&mut kettle).poll(cx);
                (Brew::Boiling { journal, kettle }, Poll::Pending)
            }
            Brew::Boiling {
                journal,
                mut kettle,
            } => match Pin::new(&mut kettle).poll(cx) {
                Poll::Pending => (Brew::Boiling { journal, kettle }, Poll::Pending),
                Poll::Ready(()) => {
                    journal.write("pour");
                    let pot = Countdown::new(3);
                    (Brew::Steeping { journal, pot }, Poll::Pending)
                }
            },
            Brew::Steeping { journal, mut pot } => match Pin::new(&mut pot).poll(cx) {
                Poll::Pending => (Brew::Steeping { journal, pot }, Poll::Pending),
                Poll::Ready(()) => {
                    journal.write("serve");
                    (Brew::Done, Poll::Ready("tea"))
                }
            },
            Brew::Done => panic!("Brew polled after completion"),
        };
        *this = next;
        poll
    }
}
