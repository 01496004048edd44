//! One module per command. Commands may use every lower layer (`report`, `exec`, `course`,
//! `files`, `ui`); a command may use another command's module only as ARCHITECTURE.md's import
//! graph shows, and no lower layer ever imports a command.

pub mod authoring;
pub mod class;
pub mod classroom;
pub mod grade;
pub mod learn;
pub mod mistakes;
pub mod trace;
pub mod verify;
pub mod watch;
