//! The terminal view: one line per event, then each task's ending, then the diagnosis.

use std::fmt::Write as _;

use super::analysis::{Analysis, Ending, analyse};
use super::event::{Event, Record};

/// How to render a trace.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Show each event's wall time (text view only). Differs on every run: never in snapshots.
    pub wall_time: bool,
    /// The test's thread name: wakes from it read "by the test" instead of "by thread '...'".
    /// (libtest names a test's thread after the test, `Watchdog` names its body's thread alike.)
    pub test_thread: Option<String>,
}

/// A trace longer than `HEAD_EVENTS + TAIL_EVENTS` events shows only its first and last ones.
const HEAD_EVENTS: usize = 60;
const TAIL_EVENTS: usize = 20;

/// Labels longer than this are cut in the task column (the tasks section shows them whole).
const LABEL_WIDTH: usize = 20;

/// The text view of `records`.
///
/// ```text
/// step  task      event
///    1  #1 timer  spawned
///    2  #1 timer  poll
///    3  #1 timer  → Pending
///    4  #1 timer  woken by thread 'trigger'
///    5  #1 timer  poll
///    6  #1 timer  → Ready
///
/// tasks:
///   #1 timer  2 polls, 1 wake; Ready at step 6
///
/// diagnosis:
///   nothing suspicious: every task finished, and every poll after the first had a wake.
/// ```
pub fn text(records: &[Record], options: &RenderOptions) -> String {
    let analysis = analyse(records, options.test_thread.as_deref());
    let mut out = String::new();
    if records.is_empty() {
        out.push_str(
            "no events were recorded: nothing was traced (no future was wrapped with \
             harness::trace::traced), or the test failed before it started any.\n",
        );
        return out;
    }
    let lane = |record: &Record| -> String {
        match record.event.task() {
            Some(id) => short(&format!("{id} {}", analysis.label(id))),
            None if matches!(record.event, Event::Note(_)) => "note".to_owned(),
            None => "executor".to_owned(),
        }
    };
    let width = records
        .iter()
        .map(|r| lane(r).chars().count())
        .max()
        .unwrap_or(0);
    let step_width = records.len().to_string().len().max(4);
    let time = if options.wall_time { "       time" } else { "" };
    let _ = writeln!(
        out,
        "{:>step_width$}{time}  {:<width$}  event",
        "step", "task"
    );
    // The event lines: all of them for a trace of a working program (a few dozen), the first
    // and last few for a runaway one (a task polled millions of times), so the tasks summary
    // and the diagnosis below always fit on a screen.
    let shown = |index: usize| index < HEAD_EVENTS || records.len() - index <= TAIL_EVENTS;
    let omitted = records.len().saturating_sub(HEAD_EVENTS + TAIL_EVENTS);
    for (index, record) in records.iter().enumerate() {
        if omitted > 0 && !shown(index) {
            if index == HEAD_EVENTS {
                let _ = writeln!(
                    out,
                    "{:>step_width$}  … {omitted} more events (steps {} to {}) …",
                    "",
                    HEAD_EVENTS + 1,
                    records.len() - TAIL_EVENTS
                );
            }
            continue;
        }
        let time = if options.wall_time {
            format!("{:>9.3}ms", record.at.as_secs_f64() * 1000.0)
        } else {
            String::new()
        };
        let line = format!(
            "{:>step_width$}{time}  {:<width$}  {}",
            index + 1,
            lane(record),
            describe(&analysis, record, options)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }

    out.push_str("\ntasks:\n");
    let width = analysis
        .tasks
        .iter()
        .map(|t| t.name().chars().count())
        .max()
        .unwrap_or(0);
    for task in &analysis.tasks {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let ending = match task.ending {
            Ending::NeverPolled => "never polled".to_owned(),
            Ending::Ready { step } => format!("Ready at step {step}"),
            Ending::InPoll { since } => format!("still in the poll that began at step {since}"),
            Ending::Waiting { since } => format!("Pending since step {since}, not woken since"),
            Ending::WokenNotPolled { pending, woken } => {
                format!("Pending since step {pending}, woken at step {woken}, not polled since")
            }
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {}, {}; {ending}",
            task.name(),
            plural(task.polls, "poll"),
            plural(task.wakes, "wake")
        );
    }
    if analysis.tasks.is_empty() {
        out.push_str("  (none)\n");
    }

    out.push_str("\ndiagnosis:\n");
    write_findings(&mut out, &analysis);
    // The tasks and findings are one line each per task: bounded too, for a runaway spawner.
    crate::bounded::lines(&out, 2 * HEAD_EVENTS, 2 * TAIL_EVENTS)
}

fn write_findings(out: &mut String, analysis: &Analysis) {
    for finding in &analysis.findings {
        let mark = if finding.problem { '!' } else { '-' };
        let _ = writeln!(out, "  {mark} {}", finding.text);
    }
    if !analysis.findings.iter().any(|finding| finding.problem) {
        out.push_str(
            "  nothing suspicious: every task finished, and every poll after the first had a \
             wake.\n",
        );
    }
}

fn describe(analysis: &Analysis, record: &Record, options: &RenderOptions) -> String {
    match &record.event {
        Event::Spawned { .. } => "spawned".to_owned(),
        Event::Poll { .. } => "poll".to_owned(),
        Event::Pending { .. } => "→ Pending".to_owned(),
        Event::Ready { .. } => "→ Ready".to_owned(),
        Event::Woken { task, by } => format!(
            "woken by {}",
            analysis.waker(*task, by, options.test_thread.as_deref())
        ),
        Event::Parked => "parked (asleep until woken)".to_owned(),
        Event::Unparked => "unparked".to_owned(),
        Event::Note(text) => text.clone(),
    }
}

fn short(text: &str) -> String {
    let text = text.trim_end();
    if text.chars().count() <= LABEL_WIDTH {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(LABEL_WIDTH - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::trace::event::TaskId;

    fn record(seq: u64, event: Event) -> Record {
        Record {
            seq,
            at: Duration::ZERO,
            event,
        }
    }

    /// An executor that re-queues every pending task polls it millions of times: the view (and
    /// so every failure message and snapshot diff made from it) stays a screen long.
    #[test]
    fn a_runaway_trace_is_shown_in_a_bounded_view() {
        let task = TaskId(1);
        let mut records = vec![record(
            1,
            Event::Spawned {
                task,
                label: "spinner".into(),
            },
        )];
        for _ in 0..200_000 {
            let seq = records.len() as u64 + 1;
            records.push(record(seq, Event::Poll { task }));
            records.push(record(seq + 1, Event::Pending { task }));
        }
        let view = text(&records, &RenderOptions::default());
        assert!(
            view.len() < 16 * 1024,
            "{} bytes, {} lines",
            view.len(),
            view.lines().count()
        );
        assert!(view.contains("more events (steps 61 to"), "{view}");
        assert!(
            view.contains("… 199 988 more …"),
            "the polls without wakes are elided: {view}"
        );
        assert!(view.contains("200000 polls, 0 wakes"), "{view}");
    }
}
