//! Writing a [`Grade`] out: every format is a function of the one model.
//!
//! | model          | JUnit            | Gradescope       | Classroom         | Exercism v3 |
//! |----------------|------------------|------------------|-------------------|-------------|
//! | pass           | success          | passed, full     | pass, score       | pass        |
//! | fail           | failure          | failed, 0        | fail              | fail        |
//! | timeout        | failure "timeout"| failed           | fail              | error       |
//! | crash          | error "crash"    | failed           | error             | error       |
//! | compile error  | error            | failed + errors  | error             | error (top) |
//! | not run        | skipped          | failed           | error             | error       |
//! | withheld       | failure + review | failed, 0 +review| fail + review     | fail        |
//!
//! `withheld`: the test passed, but its stage shows evidence of memory forgery
//! (`StageGrade::review`): it earns nothing until a person reviews it, and every format says so.
//! Every format is written from `bounded::bounded`'s copy of the grade: texts the submission
//! controls are capped and their control characters escaped.
//!
//! Files are written to a temporary name and renamed, so a reader (or a process killed
//! mid-write) never sees half a report.

pub mod bounded;
mod classroom;
mod exercism;
mod format;
mod gradescope;
mod human;
mod junit;
pub mod model;
mod text;
mod write;

pub use classroom::runner_name;
pub use format::{Format, check_formats};
pub use human::print_human;
pub use write::write_all;
