//! One module per command (a folder groups the subcommands that share code: `learn` is the
//! learner's loop with `watch`, `grade` has `--submissions` in `class`). Commands may use
//! every lower layer (`report`, `exec`, `course`, `files`, `ui`); no command imports another
//! (what two need lives a layer down), and no lower layer ever imports a command.

pub mod authoring;
pub mod classroom;
pub mod grade;
pub mod learn;
pub mod mistakes;
pub mod trace;
pub mod verify;
