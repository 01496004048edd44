//! What the tracer records, and the one-line-per-event format it writes to files.
//!
//! A line is tab-separated: the sequence number, the wall time in microseconds since
//! recording began, the event's kind, then the kind's fields. Text fields (labels, thread
//! names, notes) escape `\`, tab, newline and carriage return, so every event stays on one
//! line and a file cut short by a kill loses at most its last, unfinished line.
//!
//! ```text
//! 1   12   spawned   1   burst
//! 2   15   poll      1
//! 3   16   woken     1   task     1
//! 4   18   pending   1
//! 5   20   parked
//! 6   950  woken     1   thread   release
//! ```

use std::fmt;
use std::time::Duration;

/// A traced future's number, given in creation order from 1 by [`traced`](super::traced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Who woke a task: decided on the waking thread, at the moment of the wake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WokenBy {
    /// The wake happened while this traced task was being polled on the waking thread (a
    /// task that wakes itself, or one that wakes another through a channel).
    Task(TaskId),
    /// A label given with [`waking_as`](super::waking_as).
    Label(String),
    /// A thread with a name (`thread::Builder::name`), outside any traced poll.
    Thread(String),
    /// A thread without a name, outside any traced poll.
    UnnamedThread,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// [`traced`](super::traced) wrapped a future and gave it a number.
    Spawned { task: TaskId, label: String },
    /// A poll of the task began.
    Poll { task: TaskId },
    /// The poll returned `Pending`.
    Pending { task: TaskId },
    /// The poll returned `Ready`.
    Ready { task: TaskId },
    /// The task's waker (or a clone of it) was woken, by `wake` or `wake_by_ref`.
    Woken { task: TaskId, by: WokenBy },
    /// The executor is about to sleep until woken ([`parked`](super::parked)).
    Parked,
    /// The executor woke up ([`unparked`](super::unparked)).
    Unparked,
    /// Free text from the code under test ([`note`](super::note)), e.g. a reactor's events.
    Note(String),
}

impl Event {
    /// The task this event is about, if it is about one.
    pub fn task(&self) -> Option<TaskId> {
        match self {
            Event::Spawned { task, .. }
            | Event::Poll { task }
            | Event::Pending { task }
            | Event::Ready { task }
            | Event::Woken { task, .. } => Some(*task),
            Event::Parked | Event::Unparked | Event::Note(_) => None,
        }
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the recording, from 1: the logical clock every view is drawn with.
    pub seq: u64,
    /// Wall time since recording began. Extra information only: no snapshot shows it,
    /// because it differs on every run.
    pub at: Duration,
    pub event: Event,
}

impl Record {
    /// The record as one line of the file format, without the newline.
    pub fn to_line(&self) -> String {
        let mut fields = vec![self.seq.to_string(), self.at.as_micros().to_string()];
        let mut push = |field: &str| fields.push(escape(field));
        match &self.event {
            Event::Spawned { task, label } => {
                push("spawned");
                push(&task.0.to_string());
                push(label);
            }
            Event::Poll { task } => {
                push("poll");
                push(&task.0.to_string());
            }
            Event::Pending { task } => {
                push("pending");
                push(&task.0.to_string());
            }
            Event::Ready { task } => {
                push("ready");
                push(&task.0.to_string());
            }
            Event::Woken { task, by } => {
                push("woken");
                push(&task.0.to_string());
                match by {
                    WokenBy::Task(by) => {
                        push("task");
                        push(&by.0.to_string());
                    }
                    WokenBy::Label(label) => {
                        push("label");
                        push(label);
                    }
                    WokenBy::Thread(name) => {
                        push("thread");
                        push(name);
                    }
                    WokenBy::UnnamedThread => push("unnamed"),
                }
            }
            Event::Parked => push("parked"),
            Event::Unparked => push("unparked"),
            Event::Note(text) => {
                push("note");
                push(text);
            }
        }
        fields.join("\t")
    }

    /// Reads one line written by [`Record::to_line`].
    pub fn from_line(line: &str) -> Result<Record, String> {
        let fields: Vec<String> = line.split('\t').map(unescape).collect();
        let field = |i: usize| -> Result<&str, String> {
            fields
                .get(i)
                .map(String::as_str)
                .ok_or_else(|| format!("missing field {} in `{line}`", i + 1))
        };
        let number = |i: usize| -> Result<u64, String> {
            field(i)?
                .parse()
                .map_err(|_| format!("field {} is not a number in `{line}`", i + 1))
        };
        let task = |i: usize| number(i).map(TaskId);
        let event = match field(2)? {
            "spawned" => Event::Spawned {
                task: task(3)?,
                label: field(4)?.to_owned(),
            },
            "poll" => Event::Poll { task: task(3)? },
            "pending" => Event::Pending { task: task(3)? },
            "ready" => Event::Ready { task: task(3)? },
            "woken" => Event::Woken {
                task: task(3)?,
                by: match field(4)? {
                    "task" => WokenBy::Task(task(5)?),
                    "label" => WokenBy::Label(field(5)?.to_owned()),
                    "thread" => WokenBy::Thread(field(5)?.to_owned()),
                    "unnamed" => WokenBy::UnnamedThread,
                    other => return Err(format!("unknown waker kind `{other}` in `{line}`")),
                },
            },
            "parked" => Event::Parked,
            "unparked" => Event::Unparked,
            "note" => Event::Note(field(3)?.to_owned()),
            other => return Err(format!("unknown event `{other}` in `{line}`")),
        };
        Ok(Record {
            seq: number(0)?,
            at: Duration::from_micros(number(1)?),
            event,
        })
    }
}

/// Reads a trace file. Lines starting with `#` are comments; a last line without its
/// newline was cut short (the process was killed while writing it) and is ignored.
pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let Some(line) = line.strip_suffix('\n') else {
            break; // unfinished last line
        };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        records.push(Record::from_line(line).map_err(|err| format!("line {}: {err}", number + 1))?);
    }
    Ok(records)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
