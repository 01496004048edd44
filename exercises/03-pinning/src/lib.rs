//! Stage 3 — pinning. Read `README.md` in this directory first.
//!
//! Five small pieces, each in its own file. Do them in order; `cargo test -p pinning` shows
//! what is left, and `cargo test -p pinning --test part1_task_list` runs one part.
//!
//! 1. `task_list.rs`: [`TaskList`], futures of any type stored as
//!    `Pin<Box<dyn Future<Output = ()>>>` and polled round-robin.
//! 2. `stack_or_heap.rs`: [`poll_at_most`] pins on the stack with `pin!`, [`poll_once_boxed`]
//!    pins on the heap with `Box::pin`.
//! 3. `sentence.rs`: [`Sentence`], a struct that holds a pointer into itself.
//! 4. `join.rs`: [`join`], a combinator with pin projection written by hand (`unsafe`).
//! 5. `join_lite.rs`: [`join_lite`], the same with `pin_project_lite::pin_project!`.
//!
//! Part 6 has no file of its own: its tests check at compile time that your `Sentence`,
//! `Join` and `JoinLite` are `!Unpin` exactly when they must be.

// The stubs name their parameters so you can see what each function receives; until you use
// them the compiler would warn. Delete this line when you have finished the stage.
#![allow(unused_variables)]

mod join;
mod join_lite;
mod sentence;
mod stack_or_heap;
mod task_list;

pub use join::{Join, join};
pub use join_lite::{JoinLite, join_lite};
pub use sentence::Sentence;
pub use stack_or_heap::{poll_at_most, poll_once_boxed};
pub use task_list::TaskList;
