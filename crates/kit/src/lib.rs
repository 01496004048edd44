//! `kit`: the course's runtime, assembled from the reference solutions, for the capstone.
//!
//! One thread runs everything: [`Runtime::block_on`] polls the main future and every task
//! [`spawn`]ed on it, and sleeps in the reactor (`epoll`) when nothing is ready. Each module is
//! an earlier stage's reference, made single-threaded and kept small:
//!
//! | Module      | What                                                      | Taught in       |
//! |-------------|-----------------------------------------------------------|-----------------|
//! | [`reactor`] | mio `Poll`, latched readiness per source, the timer store | Stages 4 and 8  |
//! | [`runtime`] | `block_on`, `spawn`, `JoinHandle`, the thread's context   | Stages 2, 4, 7  |
//! | [`time`]    | `sleep`, `sleep_until`, `timeout`, a clock you can pause  | Stage 8         |
//! | [`net`]     | `TcpListener`, `TcpStream` with `futures::io` traits      | Stages 4 and 9  |
//! | [`sync`]    | `Notify`: wake one waiter, keep a permit if none waits    | Stage 6         |
//!
//! Wakers are `Send + Sync` (a waker may be woken from any thread: a oneshot sent by a test
//! thread, [`time::Clock::advance`]), but tasks, sockets and timers belong to the runtime's
//! thread, so futures need not be `Send`.

pub mod net;
pub mod reactor;
pub mod runtime;
pub mod sync;
pub mod time;

pub use runtime::{JoinHandle, Runtime, spawn};
