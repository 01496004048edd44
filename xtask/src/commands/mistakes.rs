//! `cargo xtask mistakes STAGE [NAME]`: the gallery of classic mistakes, once a stage passes.
//!
//! Each known bug of the stage is shown as the small diff it is against the reference, with
//! its description and teaching note, the test that catches it, and the message that test
//! prints. The message is not stored: the bugs are built as `verify` builds them (reference +
//! patch, all in one cargo run, in verify's scratch for the stage) and the tests are run with
//! the isolated runner and the normal watchdog, so what is shown is what the test says today.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};

use crate::course::progress::Progress;
use crate::course::standing::{self, State};
use crate::course::variant::{self, Kind, Variant};
use crate::course::{Course, Stage};
use crate::exec::runner::TestResult;
use crate::exec::scratch::Scratch;
use crate::exec::versions::{self, RunOptions, TestsRun};
use crate::files::{self, Sources};
use crate::outcome::Outcome;
use crate::ui;

/// `mistakes STAGE [BUG] [--force]`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stage (name, directory or number)
    pub stage: String,
    /// Only this known bug
    pub bug: Option<String>,
    /// Show them before your stage passes (instructors)
    #[arg(long)]
    pub force: bool,
}

pub fn run(root: &Path, args: &Args) -> Result<Outcome> {
    let (only, force) = (args.bug.as_deref(), args.force);
    let course = Course::load(root)?;
    let stage = course.select(std::slice::from_ref(&args.stage))?[0];
    let solution_dir = stage.solution_dir(root);
    if !solution_dir.join("src").is_dir() {
        println!(
            "This repository has no solutions/ (a starter repository never does), so it has no \
             gallery of mistakes: each one is a change to the reference solution. Ask your \
             instructor, or look in the course repository."
        );
        return Ok(Outcome::Failed);
    }
    let instructor = force || std::env::var_os("COURSE_INSTRUCTOR").is_some();
    if !instructor && standing::state(root, stage, &Progress::load(root)) != State::Done {
        println!(
            "The classic mistakes of {} open once your own solution passes: `cargo xtask run {}`.\n\
             (Instructors: add --force, or set COURSE_INSTRUCTOR=1.)",
            stage.name, stage.name
        );
        return Ok(Outcome::Failed);
    }
    let mut bugs: Vec<Variant> = Vec::new();
    for loaded in variant::load_all(root, stage, Kind::Bug) {
        match loaded {
            // The red team's corpus is whole implementations, not a gallery of small diffs.
            Ok(bug) if bug.redteam => {}
            Ok(bug) => bugs.push(bug),
            Err(err) => println!("{} {err:#}", ui::red("skipped:")),
        }
    }
    if let Some(only) = only {
        bugs.retain(|bug| bug.name == only);
        if bugs.is_empty() {
            bail!("{} has no known bug named `{only}`", stage.name);
        }
    }
    if bugs.is_empty() {
        println!("No known bugs are recorded for {} yet.", stage.name);
        return Ok(Outcome::Passed);
    }
    ui::heading(&format!(
        "{} classic mistakes in {}: each is a small change to a working solution, and a test \
         that catches it",
        bugs.len(),
        stage.name
    ));
    let reference = files::read_sources(&solution_dir)?;
    // verify's scratch for the stage: where verify already built these bugs, nothing is rebuilt.
    let scratch = versions::stage_scratch(root, stage)?;
    let options = RunOptions::per_core(false);
    let mut outcomes = run_all(&scratch, stage, &reference, &bugs, &options)?;
    for (index, bug) in bugs.iter().enumerate() {
        println!(
            "\n{}",
            ui::bold(&format!("── {}/{}: {} ──", index + 1, bugs.len(), bug.name))
        );
        println!("{}", bug.description);
        if !bug.note.is_empty() {
            println!("\n{}", bug.note);
        }
        println!();
        print_diff(&bug.diff);
        match outcomes.remove(&bug.name) {
            Some(Ok(Ok(results))) => print_results(&results),
            Some(Ok(Err(errors))) => {
                println!("{}", ui::red("(this variant no longer compiles:)"));
                ui::detail(&errors);
            }
            Some(Err(err)) => println!("{} {err:#}", ui::red("cannot show:")),
            None => {}
        }
    }
    Ok(Outcome::Passed)
}

/// Every bug applied, built and its tests run: with one build for all of them, except those
/// caught by a compile-fail (`overlay_only`) target, which run in the exercise package.
fn run_all(
    scratch: &Scratch,
    stage: &Stage,
    reference: &Sources,
    bugs: &[Variant],
    options: &RunOptions,
) -> Result<BTreeMap<String, Result<TestsRun>>> {
    let mut outcomes = BTreeMap::new();
    let mut batched = Vec::new();
    let mut in_place = Vec::new();
    for bug in bugs {
        match bug.apply(reference) {
            Err(err) => {
                outcomes.insert(bug.name.clone(), Err(err));
            }
            Ok(sources) => {
                let compile_fail = bug
                    .caught_by
                    .iter()
                    .any(|id| stage.overlay_only.contains(&id.target));
                if compile_fail {
                    in_place.push((bug, sources));
                } else {
                    batched.push((bug, sources));
                }
            }
        }
    }
    println!(
        "(building {} variant{} and running the tests that catch them...)",
        bugs.len(),
        if bugs.len() == 1 { "" } else { "s" }
    );
    let results = versions::build_and_run_batched(scratch, stage, &batched, options)?;
    for ((bug, _), outcome) in batched.iter().zip(results) {
        outcomes.insert(bug.name.clone(), Ok(outcome));
    }
    for (bug, sources) in in_place {
        let only = Some(bug.caught_by.as_slice());
        let outcome = versions::build_and_run(scratch, stage, &sources, only, 1, options)?
            .map(|run| run.results);
        outcomes.insert(bug.name.clone(), Ok(outcome));
    }
    Ok(outcomes)
}

fn print_results(results: &[TestResult]) {
    for result in results {
        let verdict = if result.status.passed() {
            ui::red("passes (it should not: tell your instructor)")
        } else {
            ui::green(&result.status.label())
        };
        println!("\ncaught by {} ({verdict}), which says:", result.id);
        ui::detail(&result.message);
    }
}

/// A diff, coloured on a terminal: removed lines red, added lines green, hunk headers bold.
fn print_diff(diff: &str) {
    for line in diff.lines() {
        let shown = if line.starts_with("+++") || line.starts_with("---") {
            ui::bold(line)
        } else if line.starts_with('+') {
            ui::green(line)
        } else if line.starts_with('-') {
            ui::red(line)
        } else if line.starts_with("@@") {
            ui::bold(line)
        } else {
            line.to_owned()
        };
        println!("    {shown}");
    }
}
