//! A spawned task: its future, its result slot, and the way back onto the ready queue.
//!
//! Nothing here is public: design it as you like (the README's "A task" section sketches
//! one way). It needs to: be polled by `block_on` with a waker that queues it again; catch
//! a panic of its future (`std::panic::catch_unwind`) and turn it into `JoinError::Panic`;
//! notice an abort before it polls; drop its future as soon as it has finished.
