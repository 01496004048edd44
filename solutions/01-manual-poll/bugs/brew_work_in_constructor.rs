//! bug: brew() runs the first line of the body when called, instead of on the first poll
//! replaces: src/brew.rs
//! caught-by: part3_brew::calling_brew_does_nothing_until_the_first_poll

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use harness::Journal;

use crate::Countdown;

/// Starts brewing, eagerly: the journal is written before anyone polls.
pub fn brew(journal: Journal) -> Brew {
    journal.write("kettle on");
    Brew::Boiling {
        journal,
        kettle: Countdown::new(2),
    }
}

/// The state machine for `brew`.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub enum Brew {
    Boiling { journal: Journal, kettle: Countdown },
    Steeping { journal: Journal, pot: Countdown },
    Done,
}

impl Future for Brew {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        let this = &mut *self;
        loop {
            *this = match mem::replace(this, Brew::Done) {
                Brew::Boiling {
                    journal,
                    mut kettle,
                } => match Pin::new(&mut kettle).poll(cx) {
                    Poll::Pending => {
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
