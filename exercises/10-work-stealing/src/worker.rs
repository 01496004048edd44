//! A worker thread: where it looks for its next task, how it steals, and how it goes to
//! sleep without missing a push.
//!
//! ```text
//!   each turn (tick += 1):
//!     shutdown begun?                        → stop (the thread exits)
//!     1. every INJECTOR_INTERVAL-th tick: the injector first (before the LIFO slot)
//!     2. LIFO slot, if fewer than LIFO_CAP polls in a row came from it
//!        (else: its task goes to the back of the local queue)
//!     3. the local queue (front)
//!     4. the injector (front)
//!     5. search: steal half of another worker's local queue (victims in turn from
//!        a random one; EVERY other worker is tried once before giving up)
//!     6. nothing anywhere: park
//!
//!   park:  announce "I am idle"  (under the idle lock: on the sleepers list; no longer
//!                                 searching)
//!          re-check every queue  (injector, each local queue)  ── work? ──► take myself off
//!          sleep until notified                                           the list, search
//!
//!   push:  task into a queue, THEN "is anyone searching?"  no → take one sleeper off the
//!          list, count it as searching, unpark it
//!   a searcher that finds work stops searching; if it was the last one, it wakes one more
//! ```
//!
//! Why no push is lost: a pusher puts its task in a queue before it reads the searching
//! count (and the sleepers list, under the idle lock); a parking worker announces itself
//! under the idle lock before it re-checks the queues. Either the pusher sees the worker on
//! the list (and unparks it), or it saw someone searching who had not yet announced itself,
//! and that worker's re-check, which comes after its announcement, sees the task.

use crate::runtime::Shared;
use crate::sync::Arc;

// Your types: each worker's queues in the shared state (a local queue, a LIFO slot, a way to
// park and unpark it), the idle state (who sleeps, how many search), and the worker's private
// state (its tick, its LIFO streak, whether it is searching).

/// The worker thread's body: runs tasks until the runtime shuts down.
pub(crate) fn run(shared: Arc<Shared>, index: usize) {
    todo!("enter the context as worker `index`, then loop: next task, steal, or park")
}
