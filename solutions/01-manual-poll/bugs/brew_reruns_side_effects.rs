//! bug: the Start state is left in place while the kettle is Pending, so every poll re-runs
//! the body from the top ("kettle on" again, and a fresh kettle that never finishes)
//! replaces: src/brew.rs
//! caught-by: part3_brew::each_step_is_written_once_when_its_await_completes

use std::future::Future;
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
    Steeping { journal: Journal, pot: Countdown },
    Done,
}

impl Future for Brew {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        let this = &mut *self;
        match this {
            Brew::Start { journal } => {
                journal.write("kettle on");
                let mut kettle = Countdown::new(2);
                if Pin::new(&mut kettle).poll(cx).is_pending() {
                    // The kettle is dropped here and the state stays Start.
                    return Poll::Pending;
                }
                journal.write("pour");
                *this = Brew::Steeping {
                    journal: journal.clone(),
                    pot: Countdown::new(3),
                };
                self.poll(cx)
            }
            Brew::Steeping { journal, pot } => match Pin::new(pot).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => {
                    journal.write("serve");
                    *this = Brew::Done;
                    Poll::Ready("tea")
                }
            },
            Brew::Done => panic!("Brew polled after completion"),
        }
    }
}
