//! Reading a trace: each task's story in numbers, and what looks wrong.
//!
//! Steps are positions in the slice being analysed, from 1, so that a filtered trace (the task
//! events only, say) is numbered without gaps and two executors that differ only in what they
//! leave out are numbered alike.

use std::collections::BTreeMap;

use super::event::{Event, Record, TaskId, WokenBy};

/// Something worth knowing about a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A likely bug (a task left waiting, a poll after `Ready`, wasted polls), as opposed to a
    /// remark on something that went right.
    pub problem: bool,
    /// The step the finding is about.
    pub step: usize,
    pub text: String,
}

/// How a task's story ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    NeverPolled,
    Ready {
        step: usize,
    },
    /// In a poll that never returned (it blocks, or panicked, or the trace was cut).
    InPoll {
        since: usize,
    },
    /// Pending, and no wake since the poll that returned it began.
    Waiting {
        since: usize,
    },
    /// Pending, woken since, and not polled again.
    WokenNotPolled {
        pending: usize,
        woken: usize,
    },
}

/// One task, summed up.
#[derive(Debug, Clone)]
pub(crate) struct TaskInfo {
    pub id: TaskId,
    pub label: String,
    pub polls: usize,
    pub wakes: usize,
    pub ending: Ending,
}

impl TaskInfo {
    /// `#3 (timer)`, or `#3` without a label.
    pub fn name(&self) -> String {
        name(self.id, &self.label)
    }
}

fn name(id: TaskId, label: &str) -> String {
    if label.is_empty() {
        id.to_string()
    } else {
        format!("{id} ({label})")
    }
}

/// Everything the views draw besides the events themselves.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    /// By task number.
    pub tasks: Vec<TaskInfo>,
    pub findings: Vec<Finding>,
}

impl Analysis {
    pub fn label(&self, id: TaskId) -> &str {
        self.tasks
            .iter()
            .find(|task| task.id == id)
            .map_or("", |task| task.label.as_str())
    }

    /// "itself", "#2 (producer)", "trigger", "the test", "thread 'x'", "an unnamed thread".
    pub fn waker(&self, woken: TaskId, by: &WokenBy, test_thread: Option<&str>) -> String {
        match by {
            WokenBy::Task(id) if *id == woken => "itself".to_owned(),
            WokenBy::Task(id) => name(*id, self.label(*id)),
            WokenBy::Label(label) => label.clone(),
            WokenBy::Thread(thread) if Some(thread.as_str()) == test_thread => {
                "the test".to_owned()
            }
            WokenBy::Thread(thread) => format!("thread '{thread}'"),
            WokenBy::UnnamedThread => "an unnamed thread".to_owned(),
        }
    }
}

/// What looks wrong in `records` (problems first), and what went notably right.
pub fn diagnose(records: &[Record]) -> Vec<Finding> {
    analyse(records, None).findings
}

/// A task's running state while the trace is read.
#[derive(Default)]
struct State {
    label: String,
    created: Option<usize>,
    polls: usize,
    wakes: usize,
    in_poll: Option<usize>,
    last_poll: Option<usize>,
    last_pending: Option<usize>,
    ready: Option<usize>,
    /// Wakes since the last poll began (a wake during a poll asks for the next one).
    wakes_since_poll: usize,
    /// The first wake since the last poll began: its step and who did it.
    first_wake: Option<(usize, WokenBy)>,
    /// Polls in a row that came without a wake since the poll before.
    unwoken: Vec<usize>,
    /// The burst of wakes before the poll that started the current run: (wakes, the polls
    /// before and after it).
    burst: Option<(usize, usize, usize)>,
}

pub(crate) fn analyse(records: &[Record], test_thread: Option<&str>) -> Analysis {
    let mut states: BTreeMap<TaskId, State> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut asleep: Option<usize> = None;

    for (index, record) in records.iter().enumerate() {
        let step = index + 1;
        match &record.event {
            Event::Parked => asleep = Some(step),
            Event::Unparked => asleep = None,
            Event::Note(_) => {}
            event => {
                let task = event.task().expect("a task event");
                let state = states.entry(task).or_default();
                on_task_event(task, state, event, step, &mut findings);
            }
        }
    }

    let mut tasks = Vec::new();
    for (id, state) in &mut states {
        close_run(*id, state, &mut findings);
        let ending = if let Some(since) = state.in_poll {
            Ending::InPoll { since }
        } else if let Some(step) = state.ready {
            Ending::Ready { step }
        } else if let Some(pending) = state.last_pending {
            match &state.first_wake {
                None => Ending::Waiting { since: pending },
                Some((woken, _)) => Ending::WokenNotPolled {
                    pending,
                    woken: *woken,
                },
            }
        } else {
            Ending::NeverPolled
        };
        tasks.push(TaskInfo {
            id: *id,
            label: state.label.clone(),
            polls: state.polls,
            wakes: state.wakes,
            ending,
        });
    }
    let mut analysis = Analysis {
        tasks,
        findings: Vec::new(),
    };

    for task in &analysis.tasks {
        let who = task.name();
        let text = match task.ending {
            Ending::Ready { .. } => continue,
            Ending::NeverPolled => {
                let created = states[&task.id].created.unwrap_or(1);
                findings.push(problem(
                    created,
                    format!(
                        "{who} was created at step {created} but never polled: was it spawned, \
                         and did the executor run it?"
                    ),
                ));
                continue;
            }
            Ending::InPoll { since } => (
                since,
                format!(
                    "{who}'s poll at step {since} never returned: the poll blocks (waits for \
                     something, sleeps) or panicked. A poll must return quickly, with Pending if \
                     it cannot go on yet."
                ),
            ),
            Ending::Waiting { since } => (
                since,
                format!(
                    "{who} returned Pending at step {since} and nobody woke it afterwards: \
                     whatever it waits for never woke the waker of that poll (or never got it)."
                ),
            ),
            Ending::WokenNotPolled { pending, woken } => {
                let state = &states[&task.id];
                let by = state
                    .first_wake
                    .as_ref()
                    .map(|(_, by)| analysis.waker(task.id, by, test_thread))
                    .unwrap_or_default();
                let text = if woken < pending {
                    format!(
                        "{who} was woken by {by} at step {woken}, during its poll, and returned \
                         Pending at step {pending}, but was never polled again: a wake that \
                         comes during a poll was lost (mark the task \"not queued\" before \
                         polling it, not after)."
                    )
                } else {
                    format!(
                        "{who} returned Pending at step {pending} and was woken by {by} at step \
                         {woken}, but was never polled again: the wake did not get the task \
                         back into the executor's queue, or the executor stopped or never woke \
                         up."
                    )
                };
                (woken, text)
            }
        };
        findings.push(problem(text.0, text.1));
    }
    if let Some(step) = asleep {
        let unfinished = analysis
            .tasks
            .iter()
            .any(|task| !matches!(task.ending, Ending::Ready { .. }));
        findings.push(problem(
            step,
            if unfinished {
                format!(
                    "the executor went to sleep at step {step} and never woke up: no wake \
                     reached it after that."
                )
            } else {
                format!(
                    "the executor went to sleep at step {step} although every task had \
                     finished: `run` should have returned."
                )
            },
        ));
    }
    findings.sort_by_key(|finding| (!finding.problem, finding.step));
    analysis.findings = findings;
    analysis
}

fn problem(step: usize, text: String) -> Finding {
    Finding {
        problem: true,
        step,
        text,
    }
}

fn on_task_event(
    task: TaskId,
    state: &mut State,
    event: &Event,
    step: usize,
    findings: &mut Vec<Finding>,
) {
    match event {
        Event::Spawned { label, .. } => {
            state.label = label.clone();
            state.created = Some(step);
        }
        Event::Poll { .. } => {
            state.created.get_or_insert(step);
            if let Some(ready) = state.ready {
                findings.push(problem(
                    step,
                    format!(
                        "{} was polled at step {step} after it returned Ready at step {ready}: \
                         a finished task must never be polled again.",
                        name(task, &state.label)
                    ),
                ));
            } else if let Some(previous) = state.last_poll {
                if state.wakes_since_poll == 0 {
                    state.unwoken.push(step);
                } else {
                    close_run(task, state, findings);
                    if state.wakes_since_poll >= 2 {
                        state.burst = Some((state.wakes_since_poll, previous, step));
                    }
                }
            }
            state.polls += 1;
            state.in_poll = Some(step);
            state.last_poll = Some(step);
            state.wakes_since_poll = 0;
            state.first_wake = None;
        }
        Event::Pending { .. } => {
            state.in_poll = None;
            state.last_pending = Some(step);
        }
        Event::Ready { .. } => {
            state.in_poll = None;
            state.ready = Some(step);
        }
        Event::Woken { by, .. } => {
            state.created.get_or_insert(step);
            state.wakes += 1;
            state.wakes_since_poll += 1;
            if state.first_wake.is_none() {
                state.first_wake = Some((step, by.clone()));
            }
        }
        Event::Parked | Event::Unparked | Event::Note(_) => {}
    }
}

/// Ends a run of polls that came without wakes (and the burst before it, if any).
fn close_run(task: TaskId, state: &mut State, findings: &mut Vec<Finding>) {
    let who = name(task, &state.label);
    let run = std::mem::take(&mut state.unwoken);
    let burst = state.burst.take();
    match (run.first(), burst) {
        (None, None) => {}
        (None, Some((wakes, before, after))) => findings.push(Finding {
            problem: false,
            step: after,
            text: format!(
                "{who} was woken {wakes} times between its polls at steps {before} and {after}, \
                 and polled once for them: one poll per burst of wakes."
            ),
        }),
        (Some(&first), burst) => {
            let times = if run.len() == 1 {
                "once more".to_owned()
            } else {
                format!("{} more times", run.len())
            };
            let cause = match burst {
                Some((wakes, _, after)) => format!(
                    " It was polled {} times for one burst of wakes: after {wakes} wakes in a \
                     row it was polled at step {after} and then {times}. An executor that \
                     queues a task once per wake, instead of once per burst, does this: push a \
                     task only when its \"scheduled\" flag was clear.",
                    run.len() + 1
                ),
                None => " Polling without a wake is allowed, but it is wasted work: a driver \
                          that spins, or that queues a task more than once, does this."
                    .to_owned(),
            };
            findings.push(problem(
                first,
                format!(
                    "{who} was polled {times} without being woken in between (step{} {}).{cause}",
                    if run.len() == 1 { "" } else { "s" },
                    crate::bounded::list(&run, 8, 3)
                ),
            ));
        }
    }
}
