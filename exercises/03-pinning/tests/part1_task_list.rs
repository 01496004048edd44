//! Part 1 — `TaskList`: futures of any type, each pinned in its own heap allocation.
//!
//! Run just these with `cargo test -p pinning --test part1_task_list`.
//!
//! The futures here are wrapped in `assert_unmoved()` (from `futures-test`): the wrapper notes
//! its address on the first poll and panics "moved between poll calls" if a later poll finds it
//! somewhere else. `interleave_pending()` adds a Pending before the future runs, so every task
//! is polled several times.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use futures_test::future::FutureTestExt;
use harness::{Journal, Watchdog, counting_waker, noop_context, recorded, yield_times};
use pinning::TaskList;

fn watchdog(what: &str) -> Watchdog {
    Watchdog::new(what)
        .likely_cause(
            "`run` never stops: it must return as soon as no task is left (`poll_round` \
             returned 0).",
        )
        .likely_cause(
            "`poll_round` never removes a finished task, so the count of unfinished tasks never \
             reaches 0: drop a task from the list as soon as it returns Ready.",
        )
}

/// Runs `body`. If an `assert_unmoved()` future inside it panicked because it was moved,
/// fails with an explanation instead of the wrapper's terse message.
fn explain_moves<T>(what: &str, body: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            let message = panic_text(&payload);
            if message.contains("moved between poll calls") || message.contains("moved before drop")
            {
                panic!(
                    "{what}: a task's future MOVED in memory after its first poll (AssertUnmoved \
                     said: {}). Once polled, a future may hold pointers into itself, so it must \
                     stay at the same address until it is dropped. Store each task as \
                     `Pin<Box<dyn Future<Output = ()>>>`, made with `Box::pin` *before* the \
                     first poll: when the Vec grows it moves the boxes (pointers), never the \
                     futures they point to.",
                    message.lines().next().unwrap_or_default()
                );
            }
            panic::resume_unwind(payload)
        }
    }
}

fn panic_text(payload: &Box<dyn Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else {
        String::new()
    }
}

/// A task that needs several polls and must not move between them: `polls_needed` polls of its
/// own, plus one Pending in front from `interleave_pending`. It counts itself done at the end.
fn unmoved_task(polls_needed: usize, done: Rc<Cell<usize>>) -> impl Future<Output = ()> {
    async move {
        // A borrow of this future's own local, held across `.await`s: the compiler's state
        // machine for this block points into itself, like a real task's would.
        let label = *b"done";
        let borrowed = &label[..];
        yield_times(polls_needed).await;
        assert_eq!(borrowed, b"done");
        done.set(done.get() + 1);
    }
    .interleave_pending()
    .assert_unmoved()
}

#[test]
fn run_drives_tasks_of_different_types_to_completion() {
    let journal = Journal::new();
    let log = journal.clone();
    let left = watchdog("TaskList::run with three tasks of three different types").run(move || {
        let mut list = TaskList::new();
        let first = log.clone();
        list.push(async move {
            yield_times(2).await;
            first.write("async block");
        });
        list.push(yield_times(3)); // a named future type, not an async block
        let last = log.clone();
        list.push(std::future::ready(()).interleave_pending());
        list.push(async move { last.write("another async block") });
        list.run();
        list.len()
    });
    assert_eq!(
        left, 0,
        "after `run` returned, `len()` said {left} task(s) were unfinished. `run` must keep \
         polling rounds until every task has returned Ready, and `len` counts only unfinished \
         tasks."
    );
    let mut entries = journal.entries();
    entries.sort();
    assert_eq!(
        entries,
        ["another async block", "async block"],
        "not every task ran to its end. `run` must poll every task, whatever its type, until it \
         returns Ready."
    );
}

#[test]
fn poll_round_polls_each_unfinished_task_once_in_order() {
    let mut list = TaskList::new();
    let journal = Journal::new();
    let mut stats = Vec::new();
    for (id, pendings) in [(0, 0), (1, 1), (2, 2)] {
        let log = journal.clone();
        let (task, task_stats) = recorded(
            &format!("task {id} (Pending {pendings} time(s), then Ready)"),
            async move {
                log.write(format!("task {id} polled"));
                yield_times(pendings).await;
            },
        );
        list.push(task);
        stats.push(task_stats);
    }
    assert_eq!(
        list.len(),
        3,
        "three tasks were pushed and none polled, but `len()` said {}.",
        list.len()
    );
    // Round 1 polls all three; task 0 finishes. Round 2 polls tasks 1 and 2; task 1 finishes.
    // Round 3 polls task 2, which finishes.
    let expected = [(2, [1, 1, 1]), (1, [1, 2, 2]), (0, [1, 2, 3])];
    let mut cx = noop_context();
    for (round, (unfinished, polls)) in (1..).zip(expected) {
        let left = list.poll_round(&mut cx);
        let seen: Vec<usize> = stats.iter().map(|s| s.polls()).collect();
        assert_eq!(
            seen, polls,
            "after round {round}, the three tasks had been polled {seen:?} times; expected \
             {polls:?}. Each round polls every *unfinished* task exactly once, and a task that \
             returned Ready is never polled again."
        );
        assert_eq!(
            (left, list.len()),
            (unfinished, unfinished),
            "after round {round}, `poll_round` returned {left} and `len()` said {}; {unfinished} \
             task(s) should be left. Drop each task from the list when it returns Ready.",
            list.len()
        );
    }
    assert_eq!(
        journal.entries()[..3],
        ["task 0 polled", "task 1 polled", "task 2 polled"],
        "the first round did not poll the tasks in the order they were pushed."
    );
}

#[test]
fn a_finished_task_is_never_polled_again() {
    // `recorded` panics if its future is polled after Ready; `futures::future::ready` would
    // panic too ("Ready polled after completion").
    let stats = watchdog("TaskList::run with a task that is Ready at once").run(|| {
        let mut list = TaskList::new();
        let (quick, stats) = recorded(
            "a task that is Ready on its first poll",
            futures::future::ready(()),
        );
        list.push(quick);
        list.push(yield_times(5));
        list.run();
        stats
    });
    assert_eq!(
        stats.polls(),
        1,
        "a task that was Ready on its first poll was polled {} times. Once a task returns Ready \
         it is finished: remove it from the list (or otherwise never poll it again).",
        stats.polls()
    );
}

/// A task that notes when its future is *dropped* (not merely finished): a struct around a
/// `YieldTimes`, whose `Drop` sets a flag. (An `async` block would not do: it drops its own
/// locals when it returns Ready, before anyone drops the future itself.)
struct DropNoted {
    inner: harness::YieldTimes,
    dropped: Rc<Cell<bool>>,
}

impl Future for DropNoted {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::pin::Pin::new(&mut self.inner).poll(cx)
    }
}

impl Drop for DropNoted {
    fn drop(&mut self) {
        self.dropped.set(true);
    }
}

/// Pushes one `DropNoted` task per entry of `pendings` (Pending that many times, then Ready)
/// and returns their drop flags.
fn push_drop_noted(list: &mut TaskList, pendings: &[usize]) -> Vec<Rc<Cell<bool>>> {
    pendings
        .iter()
        .map(|&pendings| {
            let dropped = Rc::new(Cell::new(false));
            list.push(DropNoted {
                inner: yield_times(pendings),
                dropped: dropped.clone(),
            });
            dropped
        })
        .collect()
}

/// The tasks (by index) whose drop flag is set.
fn dropped_tasks(flags: &[Rc<Cell<bool>>]) -> Vec<usize> {
    (0..flags.len()).filter(|&i| flags[i].get()).collect()
}

#[test]
fn a_finished_task_is_dropped_by_the_round_that_saw_it_finish() {
    // Four tasks, Pending [2, 0, 1, 0] times: round 1 finishes the 2nd and the 4th (the middle
    // and the end of the list), round 2 the 3rd, round 3 the 1st (the last round).
    let mut list = TaskList::new();
    let flags = push_drop_noted(&mut list, &[2, 0, 1, 0]);
    let mut cx = noop_context();
    let expected: [&[usize]; 3] = [&[1, 3], &[1, 2, 3], &[0, 1, 2, 3]];
    for (round, finished) in (1..).zip(expected) {
        let left = list.poll_round(&mut cx);
        let dropped = dropped_tasks(&flags);
        assert_eq!(
            dropped,
            finished,
            "right after round {round} (which returned {left}), the futures of tasks [{}] had \
             been dropped; tasks [{}] had returned Ready by then (tasks counted from 0 in push \
             order). A task that returns Ready is finished and is dropped AT ONCE, by the round \
             that polled it: remove its box from the list right there (`retain_mut` does it), \
             not at the start of the next round, and not only when the TaskList itself is \
             dropped (after the last round there is no next one). A finished future may still \
             own things (a buffer, a socket, a lock guard, the last clone of an `Rc`) that its \
             owner is waiting to get back. And a task that has not finished must not be \
             dropped.",
            harness::bounded::list(&dropped, 8, 2),
            harness::bounded::list(finished, 8, 2),
        );
    }
    // The list is still alive here: nothing but the rounds can have dropped the tasks.
    assert!(list.is_empty(), "every task has finished after round 3");
}

#[test]
fn run_drops_every_task_before_it_returns() {
    let (dropped, left) =
        watchdog("TaskList::run with three tasks that note when they are dropped").run(|| {
            let mut list = TaskList::new();
            let flags = push_drop_noted(&mut list, &[0, 3, 1]);
            list.run();
            // The list is still alive: only `run`'s rounds can have dropped the tasks.
            // (Locals are dropped after the value is returned: `list` still holds its tasks.)
            (dropped_tasks(&flags), list.len())
        });
    assert_eq!(
        left, 0,
        "after `run` returned, `len()` said {left} task(s) were left"
    );
    assert_eq!(
        dropped,
        [0, 1, 2],
        "when `run` returned, only the futures of tasks {dropped:?} had been dropped, though all \
         three had finished (and the TaskList was still alive). Each round must drop a task as \
         soon as it returns Ready; a finished task that is only marked done and swept out at \
         the start of a later round is never dropped after the last round."
    );
}

#[test]
fn poll_round_polls_with_the_callers_waker() {
    let mut list = TaskList::new();
    for _ in 0..3 {
        list.push(yield_times(1)); // wakes the waker it is polled with, then Pending
    }
    let (waker, wakes) = counting_waker();
    let left = list.poll_round(&mut std::task::Context::from_waker(&waker));
    assert_eq!(
        left, 3,
        "each task needed two polls, but after one round {left} were left"
    );
    assert_eq!(
        wakes.get(),
        3,
        "three tasks each woke the waker they were polled with, but the caller's waker saw {} \
         wake(s). `poll_round` must poll every task with the `cx` it was given: that waker is \
         how a task tells its executor to poll it again.",
        wakes.get()
    );
}

#[test]
fn tasks_stay_where_they_were_first_polled_while_the_list_grows() {
    let done = watchdog("TaskList with 3 polled tasks, then 200 more pushed, then run").run(|| {
        explain_moves("TaskList", || {
            let done = Rc::new(Cell::new(0));
            let mut list = TaskList::new();
            for _ in 0..3 {
                list.push(unmoved_task(3, done.clone()));
            }
            // Each of the three is polled once: from now on it must not move.
            list.poll_round(&mut noop_context());
            // Pushing many more makes the list's storage grow several times: a Vec then copies
            // its elements to a bigger buffer. Whatever is stored *in* the Vec moves.
            for _ in 0..200 {
                list.push(unmoved_task(2, done.clone()));
            }
            list.run();
            done.get()
        })
    });
    assert_eq!(
        done, 203,
        "only {done} of the 203 tasks ran to the end; `run` must finish every task."
    );
}

#[test]
fn len_and_is_empty_count_the_unfinished_tasks() {
    watchdog("len and is_empty while two tasks finish one after the other").run(|| {
        let mut list = TaskList::new();
        assert_eq!(
            (list.len(), list.is_empty()),
            (0, true),
            "a new TaskList must be empty: (len, is_empty)"
        );
        let (quick, quick_stats) = recorded("a task that is Ready at once", async {});
        let (slow, _) = recorded("a task that is Pending twice", yield_times(2));
        list.push(quick);
        list.push(slow);
        assert_eq!(
            quick_stats.polls(),
            0,
            "push polled the task: a pushed task is only stored; the first poll is the first \
             round's"
        );
        assert_eq!(
            (list.len(), list.is_empty()),
            (2, false),
            "two tasks pushed, none polled: (len, is_empty)"
        );
        let mut cx = noop_context();
        let left = list.poll_round(&mut cx);
        assert_eq!(
            (left, list.len(), list.is_empty()),
            (1, 1, false),
            "after one round the quick task has finished and the slow one has not: (what \
             poll_round returned, len, is_empty). Count only unfinished tasks."
        );
        while list.poll_round(&mut cx) > 0 {}
        assert_eq!(
            (list.len(), list.is_empty()),
            (0, true),
            "every task finished: (len, is_empty)"
        );
    });
}

#[test]
fn debug_shows_how_many_tasks_are_left() {
    let mut list = TaskList::new();
    list.push(yield_times(1));
    list.push(yield_times(1));
    list.push(yield_times(3));
    let shown = format!("{list:?}");
    assert!(
        shown.contains('3'),
        "`{{:?}}` of a TaskList with 3 unfinished tasks printed {shown:?}: print how many tasks \
         are left (a `dyn Future` cannot be printed, its count can)"
    );
    let mut cx = noop_context();
    list.poll_round(&mut cx);
    list.poll_round(&mut cx);
    let shown = format!("{list:?}");
    assert!(
        shown.contains('1') && !shown.contains('3'),
        "after two rounds one task is left, and `{{:?}}` printed {shown:?}: print the count of \
         unfinished tasks, as it is now"
    );
}
