//! A `select!` loop that loses nothing when a branch is cancelled.
//!
//! The loop reads pairs of numbers from a [`Mailbox`] and, while waiting, counts heartbeats
//! from a timer. Every time the tick wins, the read in progress is dropped (cancelled). A
//! future that already took the first half of a pair and is dropped takes that half with it;
//! a cancel-safe read keeps it where the next read finds it.

use std::time::Duration;

use blocks::mailbox::Mailbox;
use blocks::timer::Timer;

/// Reads two numbers: NOT cancel-safe. Dropped after the first `recv` finished and before the
/// second did, it loses the first number (it lived only inside this future). Given, to read;
/// the tests show what it does in a select loop.
pub async fn read_pair(mailbox: &Mailbox<u32>) -> (u32, u32) {
    let first = mailbox.recv().await;
    let second = mailbox.recv().await;
    (first, second)
}

/// Reads pairs of numbers, cancel-safely: the first half of a pair lives in the reader, not in
/// the future, so a read that is dropped half-way loses nothing.
#[derive(Debug, Default)]
pub struct PairReader {
    // TODO: what a cancelled read must not lose.
}

impl PairReader {
    /// A reader holding no half-read pair.
    pub fn new() -> PairReader {
        PairReader::default()
    }

    /// The next pair. Cancel-safe: if this future is dropped before it is ready, every number
    /// it took from the mailbox is kept in the reader, and the next `read` returns it.
    pub async fn read(&mut self, mailbox: &Mailbox<u32>) -> (u32, u32) {
        todo!("keep the first number in self before waiting for the second")
    }

    /// The first half of a pair read so far, if any.
    pub fn pending_half(&self) -> Option<u32> {
        todo!("the number a cancelled read left in the reader")
    }
}

/// What [`pairs_with_heartbeat`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The pairs, in the order they were read.
    pub pairs: Vec<(u32, u32)>,
    /// How many times `tick` elapsed while waiting for a pair.
    pub ticks: usize,
}

/// Reads `pairs` pairs from `mailbox` and counts heartbeats: in a loop, `select!` between
/// reading a pair and sleeping `tick` on `timer` (a fresh sleep each time round). A tick that
/// wins cancels the read in progress; no number may be lost or reordered because of that.
pub async fn pairs_with_heartbeat(
    mailbox: &Mailbox<u32>,
    timer: &Timer,
    tick: Duration,
    pairs: usize,
) -> Report {
    todo!("loop: select! between a PairReader read and a fresh timer.sleep(tick)")
}
