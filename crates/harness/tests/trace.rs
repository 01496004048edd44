//! The tracer's own tests: the renderers on a fixed, hand-built trace (snapshots), the file
//! format, and the recorder on real futures.

use std::future::poll_fn;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use harness::trace::{self, Event, Record, RenderOptions, TaskId, WokenBy, traced};
use harness::{Poller, yield_times};

/// A small program with a bit of everything, and two bugs: four tasks on an executor that
/// calls the sleep hooks.
///
/// * #1 producer wakes #2 consumer during its poll, and finishes.
/// * #2 consumer is woken three times in a burst and polled once for them, then finishes.
/// * #3 timer returns Pending and is never woken (the hang).
/// * #4 ticker is woken by a label and by an unnamed thread while the executor sleeps, and is
///   never polled again (the lost wake).
fn fixed_trace() -> Vec<Record> {
    use Event::*;
    let t = TaskId;
    let events = vec![
        Spawned {
            task: t(1),
            label: "producer".into(),
        },
        Spawned {
            task: t(2),
            label: "consumer".into(),
        },
        Spawned {
            task: t(3),
            label: "timer".into(),
        },
        Spawned {
            task: t(4),
            label: "ticker".into(),
        },
        Poll { task: t(2) },
        Pending { task: t(2) },
        Poll { task: t(1) },
        Woken {
            task: t(2),
            by: WokenBy::Task(t(1)),
        },
        Woken {
            task: t(2),
            by: WokenBy::Task(t(1)),
        },
        Woken {
            task: t(2),
            by: WokenBy::Task(t(1)),
        },
        Ready { task: t(1) },
        Poll { task: t(3) },
        Pending { task: t(3) },
        Poll { task: t(4) },
        Pending { task: t(4) },
        Poll { task: t(2) },
        Ready { task: t(2) },
        Note("reactor: 0 events".into()),
        Parked,
        Woken {
            task: t(4),
            by: WokenBy::Label("trigger".into()),
        },
        Woken {
            task: t(4),
            by: WokenBy::UnnamedThread,
        },
        Woken {
            task: t(4),
            by: WokenBy::Thread("a_test".into()),
        },
        Unparked,
        Parked,
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Record {
            seq: i as u64 + 1,
            at: Duration::from_micros(i as u64 * 250),
            event,
        })
        .collect()
}

fn options() -> RenderOptions {
    RenderOptions {
        wall_time: false,
        test_thread: Some("a_test".into()),
    }
}

#[test]
fn the_text_view_of_a_fixed_trace() {
    insta::assert_snapshot!(trace::text(&fixed_trace(), &options()));
}

#[test]
fn the_svg_view_of_a_fixed_trace() {
    insta::assert_snapshot!(trace::svg(&fixed_trace(), &options()));
}

#[test]
fn the_diagnosis_names_the_hang_and_the_lost_wake() {
    let findings = trace::diagnose(&fixed_trace());
    let problems: Vec<&str> = findings
        .iter()
        .filter(|f| f.problem)
        .map(|f| f.text.as_str())
        .collect();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("#3 (timer) returned Pending at step 13 and nobody woke it"));
    assert!(problems[1].starts_with(
        "#4 (ticker) returned Pending at step 15 and was woken by trigger at step 20"
    ));
    assert!(problems[2].starts_with("the executor went to sleep at step 24 and never woke up"));
    assert!(findings.iter().any(|f| {
        !f.problem
            && f.text
                .starts_with("#2 (consumer) was woken 3 times between its polls at steps 5 and 16")
    }));
}

#[test]
fn wall_time_is_shown_only_when_asked() {
    let records = fixed_trace();
    assert!(!trace::text(&records, &options()).contains("ms"));
    let timed = RenderOptions {
        wall_time: true,
        ..options()
    };
    assert!(trace::text(&records, &timed).contains("    5.750ms"));
    assert!(!trace::svg(&records, &timed).contains("5.750"));
}

#[test]
fn the_line_format_round_trips_and_survives_a_cut() {
    let mut records = fixed_trace();
    records.push(Record {
        seq: 99,
        at: Duration::from_micros(7),
        event: Event::Note("tabs\tnewlines\nand \\ backslashes".into()),
    });
    let mut file = String::from("# a comment\n");
    for record in &records {
        file.push_str(&record.to_line());
        file.push('\n');
    }
    assert_eq!(trace::parse(&file).unwrap(), records);
    // A process killed mid-write leaves an unfinished last line: it is ignored.
    file.push_str("100\t9\tpo");
    assert_eq!(trace::parse(&file).unwrap(), records);
    assert!(trace::parse("1\t0\tteleported\t3\n").is_err());
}

fn kinds(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| match &r.event {
            Event::Spawned { task, label } => format!("{task} spawned {label}"),
            Event::Poll { task } => format!("{task} poll"),
            Event::Pending { task } => format!("{task} pending"),
            Event::Ready { task } => format!("{task} ready"),
            Event::Woken { task, by } => format!("{task} woken by {by:?}"),
            Event::Parked => "parked".into(),
            Event::Unparked => "unparked".into(),
            Event::Note(text) => format!("note {text}"),
        })
        .collect()
}

#[test]
fn traced_records_polls_results_and_who_woke() {
    let trace = trace::start();
    let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
    let keep = Arc::clone(&stored);
    let mut fired = false;
    let mut task = Poller::new(traced(
        "waits",
        poll_fn(move |cx| {
            if fired {
                return Poll::Ready(());
            }
            fired = true;
            *keep.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }),
    ));
    let mut other = Poller::new(traced("yields", yield_times(1)));
    assert!(task.poll().is_pending());
    assert!(other.poll().is_pending());
    let waker = stored.lock().unwrap().take().unwrap();
    thread::Builder::new()
        .name("firing".into())
        .spawn(move || trace::waking_as("trigger", || waker.wake_by_ref()))
        .unwrap()
        .join()
        .unwrap();
    let waker = stored.lock().unwrap().take();
    assert!(waker.is_none());
    assert!(task.poll().is_ready());
    assert_eq!(task.wakes(), 1, "the wake reached the poller's own waker");
    assert_eq!(
        kinds(&trace.records()),
        [
            "#1 spawned waits",
            "#2 spawned yields",
            "#1 poll",
            "#1 pending",
            "#2 poll",
            "#2 woken by Task(TaskId(2))",
            "#2 pending",
            "#1 woken by Label(\"trigger\")",
            "#1 poll",
            "#1 ready",
        ]
    );
}

#[test]
fn wakes_from_threads_are_named_after_the_thread() {
    let trace = trace::start();
    let mut task = Poller::new(traced("yields", yield_times(1)));
    let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
    let keep = Arc::clone(&stored);
    let mut grab = Poller::new(traced(
        "grab",
        poll_fn(move |cx| {
            *keep.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }),
    ));
    assert!(task.poll().is_pending());
    assert!(grab.poll().is_pending());
    let waker = stored.lock().unwrap().take().unwrap();
    let second = waker.clone();
    thread::Builder::new()
        .name("timer thread".into())
        .spawn(move || waker.wake())
        .unwrap()
        .join()
        .unwrap();
    thread::spawn(move || second.wake()).join().unwrap();
    let text = trace.text();
    assert!(text.contains("woken by itself"), "{text}");
    assert!(text.contains("woken by thread 'timer thread'"), "{text}");
    assert!(text.contains("woken by an unnamed thread"), "{text}");
}

#[test]
fn a_new_trace_ignores_futures_from_an_earlier_one() {
    let first = trace::start();
    let mut old = Poller::new(traced("old", yield_times(5)));
    assert!(old.poll().is_pending());
    drop(first);
    let second = trace::start();
    let mut new = Poller::new(traced("new", yield_times(0)));
    assert!(old.poll().is_pending());
    assert!(new.poll().is_ready());
    assert_eq!(
        kinds(&second.records()),
        ["#1 spawned new", "#1 poll", "#1 ready"]
    );
}

#[test]
fn executor_hooks_count_only_on_threads_that_poll_traced_tasks() {
    let trace = trace::start();
    // Another test's executor, running next to this one, parks: not ours.
    thread::spawn(trace::parked).join().unwrap();
    let mut task = Poller::new(traced("t", yield_times(0)));
    assert!(task.poll().is_ready());
    trace::parked();
    trace::note("reactor: 1 event");
    trace::unparked();
    assert_eq!(
        kinds(&trace.records()),
        [
            "#1 spawned t",
            "#1 poll",
            "#1 ready",
            "parked",
            "note reactor: 1 event",
            "unparked"
        ]
    );
}

#[test]
fn wait_for_returns_once_the_trace_shows_it() {
    let trace = trace::start();
    let mut task = Poller::new(traced("t", yield_times(1)));
    let waiter = thread::spawn(|| {
        trace::wait_for(Duration::from_secs(5), |records| {
            records
                .iter()
                .any(|r| matches!(r.event, Event::Pending { .. }))
        })
    });
    assert!(task.poll().is_pending());
    assert!(waiter.join().unwrap(), "the Pending was recorded");
    assert!(!trace::wait_for(Duration::from_millis(1), |r| r.len() > 100));
    drop(trace);
}

#[test]
fn explain_adds_the_trace_to_a_failure() {
    let trace = trace::start();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        trace.explain(|| {
            let mut task = Poller::new(traced("stuck", poll_fn(|_| Poll::<()>::Pending)));
            let _ = task.poll();
            panic!("HANG: the body did not finish");
        })
    }));
    let payload = result.expect_err("the body panicked");
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("HANG: the body did not finish\n\nWhat the trace"),
        "{message}"
    );
    assert!(
        message.contains("#1 (stuck) returned Pending at step 3 and nobody woke it"),
        "{message}"
    );
}

/// Run by `the_trace_file_keeps_every_event_of_a_process_that_dies`, in a child process
/// with `HARNESS_TRACE` set: records a little, then dies without any cleanup.
#[test]
#[ignore = "run as a child process by another test"]
fn child_that_records_and_aborts() {
    let mut task = Poller::new(traced("doomed", yield_times(1)));
    let _ = task.poll();
    trace::parked();
    std::process::abort();
}

#[test]
fn the_trace_file_keeps_every_event_of_a_process_that_dies() {
    let path = std::env::temp_dir().join(format!("harness-trace-{}.trace", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_that_records_and_aborts", "--ignored"])
        .args(["--test-threads", "1", "--nocapture"])
        .env(trace::ENV_VAR, &path)
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "the child aborts");
    let text = std::fs::read_to_string(&path).expect("the child wrote the trace file");
    let _ = std::fs::remove_file(&path);
    let records = trace::parse(&text).unwrap();
    assert_eq!(
        kinds(&records),
        [
            "#1 spawned doomed",
            "#1 poll",
            "#1 woken by Task(TaskId(1))",
            "#1 pending",
            "parked"
        ]
    );
}
