//! Race tests: run a small scenario under every interleaving a model checker can find.
//!
//! [`check`] runs its body many times under [shuttle]'s depth-first scheduler. In each run the
//! types of [`crate::sync`] created inside the body are the model checker's, and the scheduler
//! chooses which thread goes next at every lock, unlock, wait, notify and atomic access; run
//! after run it tries a different order. The exploration is deterministic (the same code gives
//! the same schedules in the same order), so a lost wakeup that exists in a scenario is found
//! every time, not once in a thousand real runs. A run in which every thread is blocked
//! (waiting for a wake nobody will send) is reported as a deadlock.
//!
//! What it cannot see: anything that does not go through [`crate::sync`] (a `std::sync::Mutex`
//! used directly, an `std` atomic, a real `thread::sleep`), spurious condition-variable
//! wake-ups (never produced), weak memory orderings (every access behaves as `SeqCst`), and
//! interleavings of scenarios the tests do not run.
//!
//! [shuttle]: https://docs.rs/shuttle

use std::panic::{self, AssertUnwindSafe};

use std::time::Duration;

use crate::Watchdog;
use crate::sync;

/// How long one check may go without a single operation on a model type (a real block: a
/// `std` lock, a real sleep). The search itself may take longer in all, on a loaded machine,
/// as long as it keeps going (see `Watchdog::progress`).
const LIMIT: Duration = Duration::from_secs(10);

/// How many schedules one check explores at most. The course's scenarios have two threads
/// and a handful of operations: their whole tree is at most a few hundred schedules (a
/// scenario that reaches this bound is explored only in part).
pub const MAX_SCHEDULES: usize = 20_000;

/// Runs `body` under the model checker and fails the test, with a message that teaches, if any
/// explored interleaving panics or deadlocks.
///
/// `what` names the scenario ("a fire racing the first poll"); each `cause` is a question the
/// learner can check in their code.
pub fn check<F>(what: &str, causes: &[&str], body: F)
where
    F: Fn() + Send + Sync + 'static,
{
    explore(what, causes, move || {
        shuttle::check_dfs(body, Some(MAX_SCHEDULES));
    });
}

/// How many steps one schedule of [`check_sampled`] may take: a scenario of a few tasks needs
/// a few thousand; more means a thread that loops without blocking (a livelock), reported as
/// "exceeded max_steps bound".
pub const MAX_STEPS: usize = 100_000;

/// The seed of [`check_sampled`]'s scheduler: fixed, so every run tries the same schedules.
pub const SAMPLE_SEED: u64 = 0x5EED_0010;

/// How many scheduling points [`check_sampled`]'s scheduler may preempt at (PCT's depth).
pub const SAMPLE_DEPTH: usize = 3;

/// Like [`check`], for scenarios whose tree of interleavings is far too large to walk in
/// order (several worker threads that each loop through many lock and atomic steps): runs
/// `schedules` schedules chosen by a PCT scheduler (probabilistic concurrency testing: random
/// thread priorities, changed at up to [`SAMPLE_DEPTH`] random points), from the fixed seed
/// [`SAMPLE_SEED`]. A depth-first walk changes the *last* choices first and never reaches
/// the early ones (which worker parks before the push) within any bound; PCT reaches bugs
/// that need a few preemptions anywhere in the run. The sample is the same on every run, so a
/// bug it finds is found every time (for the same code under test).
pub fn check_sampled<F>(what: &str, causes: &[&str], schedules: usize, body: F)
where
    F: Fn() + Send + Sync + 'static,
{
    explore(what, causes, move || {
        let scheduler =
            shuttle::scheduler::PctScheduler::new_from_seed(SAMPLE_SEED, SAMPLE_DEPTH, schedules);
        let mut config = shuttle::Config::default();
        // A failing schedule of looping threads is hundreds of kilobytes: not printed (the
        // sample is fixed, so the failure itself is the same on every run).
        config.failure_persistence = shuttle::FailurePersistence::None;
        // A thread that loops without ever blocking (a worker that never sleeps) fails here.
        config.max_steps = shuttle::MaxSteps::FailAfter(MAX_STEPS);
        shuttle::Runner::new(scheduler, config).run(body);
    });
}

/// Runs `search` (one of shuttle's checkers over the test's body) under the watchdog and
/// turns what it found into a teaching failure.
fn explore<S>(what: &str, causes: &[&str], search: S)
where
    S: FnOnce() + Send + 'static,
{
    // Every model thread runs on one OS thread: code that blocks outside `crate::sync` (a std
    // lock held across a switch, a std channel, a real sleep) stops them all. The watchdog
    // turns that into a failure that says so.
    let outcome = Watchdog::new(format!("the race test of {what}"))
        .likely_cause(
            "the code under test blocks on something that is not from `crate::sync` (a \
             `std::sync::Mutex` or `Condvar`, an `std::sync::mpsc` receive, `thread::sleep`, \
             `std::thread::park`): in a race test all threads take turns on one OS thread, so \
             a real block stops every one of them. Use the types of `crate::sync`.",
        )
        .limit(LIMIT)
        // The search's length depends on the machine's load; a real block stops the count of
        // model operations at once.
        .progress(sync::model_progress)
        .run(move || {
            sync::set_in_model(true);
            sync::reset_model_ops();
            let outcome = panic::catch_unwind(AssertUnwindSafe(search));
            let ops = sync::model_ops();
            sync::set_in_model(false);
            outcome
                .map(|()| ops)
                .map_err(|payload| crate::panic_message(&*payload))
        });
    let ops = match outcome {
        Ok(ops) => ops,
        Err(found) if found.contains("not yet implemented") => {
            panic!("{what}: the code under test is not written yet ({found})")
        }
        Err(found) => {
            let mut message = format!(
                "RACE: {what}: the model checker found an order of the threads' steps in which \
                 it goes wrong:\n  {found}\n(\"deadlock! blocked tasks\" means every thread \
                 was waiting and no wake was on its way: a lost wakeup; \"exceeded max_steps \
                 bound\" means a thread kept looping without ever blocking.) This check tries \
                 the same schedules in the same order every run."
            );
            if !causes.is_empty() {
                message.push_str("\nLikely causes:");
                for cause in causes {
                    message.push_str("\n  - ");
                    message.push_str(cause);
                }
            }
            panic!("{message}");
        }
    };
    assert!(
        ops > 0,
        "{what}: the code under test used none of the types of `crate::sync` (its `Mutex`, \
         `Condvar`, atomics, `thread::park`), so the race checker could not see or reorder any \
         of its steps and this check proves nothing. Import your synchronisation from \
         `crate::sync` (`use crate::sync::{{Mutex, Condvar}};`), not from `std::sync`."
    );
}

/// Threads for race tests: only inside [`check`].
pub mod thread {
    pub use shuttle::thread::{JoinHandle, spawn};
}
