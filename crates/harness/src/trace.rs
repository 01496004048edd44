//! A picture of what an executor did: record what happens to each task, then draw it.
//!
//! "My executor hangs" is hard to debug; "task #3 returned Pending at step 12 and nobody ever
//! woke it" is not. This module records, for futures wrapped with [`traced`]:
//!
//! * each task's creation (its number and label), each poll, and each poll's result;
//! * each wake of its waker, and by whom: the traced task being polled on the waking thread
//!   (a task that wakes itself, or wakes another), a label from [`waking_as`], or the waking
//!   thread's name;
//! * when the executor goes to sleep and wakes up, if the executor calls [`parked`] and
//!   [`unparked`] (the reference solutions do; a learner's executor may), and free-form
//!   [`note`]s (a reactor's events).
//!
//! Then it renders them ([`text`], [`svg`]) with a diagnosis ([`diagnose`]): tasks left
//! Pending that nobody woke, wakes that were never followed by a poll, polls after `Ready`,
//! polls that came without a wake.
//!
//! # Turning it on
//!
//! Recording is **off** unless one of these turns it on; off, every hook costs one atomic load.
//!
//! * A test calls [`start`] and reads the returned [`Trace`]. Stage tests snapshot its text
//!   (with [`tasks_only`]) where the exact order of events is the lesson.
//! * The environment variable `HARNESS_TRACE=<file>` appends every event to that file, one line
//!   per event, written as it happens, so a test that hangs and is killed still leaves its
//!   events on disk. `cargo xtask trace <stage> <test>` sets it for one test and draws the result.
//!
//! # Order and time
//!
//! Events are numbered in the order they were recorded (a logical clock). Views number them by
//! position ("step"), so a filtered trace has no gaps. Wall time is kept as extra information
//! for the terminal view and is never part of a snapshot or of the SVG.
//!
//! ```
//! use harness::trace::{self, traced};
//! use harness::{Poller, yield_times};
//!
//! let trace = trace::start();
//! let mut task = Poller::new(traced("yield once", yield_times(1)));
//! task.poll();
//! task.poll();
//! let view = trace::text(&trace.records(), &trace.options());
//! assert!(view.contains("#1 yield once  woken by itself"), "{view}");
//! assert!(view.contains("nothing suspicious"), "{view}");
//! ```

mod analysis;
mod event;
mod recorder;
mod svg;
mod text;
mod traced;

pub use analysis::{Finding, diagnose};
pub use event::{Event, Record, TaskId, WokenBy, parse};
pub use recorder::{ENV_VAR, Trace, is_on, note, parked, start, unparked, wait_for, waking_as};
pub use svg::svg;
pub use text::{RenderOptions, text};
pub use traced::{Traced, traced};

/// The events that are the same for every correct executor running the same scenario: the
/// tasks' own (spawned, poll, result, woken). Executor sleeps and notes depend on timing and on
/// whether the executor calls the hooks at all, so snapshots leave them out.
pub fn tasks_only(records: &[Record]) -> Vec<Record> {
    records
        .iter()
        .filter(|record| record.event.task().is_some())
        .cloned()
        .collect()
}

impl Trace {
    /// How this trace's views are rendered: no wall time, and wakes from the test's own thread
    /// read "by the test".
    pub fn options(&self) -> RenderOptions {
        RenderOptions {
            wall_time: false,
            test_thread: self.test_thread().map(str::to_owned),
        }
    }

    /// The text view of every event so far.
    pub fn text(&self) -> String {
        text(&self.records(), &self.options())
    }

    /// The text view of the tasks' own events ([`tasks_only`]): what a snapshot compares.
    pub fn tasks_text(&self) -> String {
        text(&tasks_only(&self.records()), &self.options())
    }

    /// The SVG view of every event so far.
    pub fn svg(&self) -> String {
        svg(&self.records(), &self.options())
    }
}
