//! `cargo xtask mistakes STAGE [NAME]`: the gallery of classic mistakes, once a stage passes.
//!
//! Each known bug of the stage is shown as the small diff it is against the reference, with
//! its description and teaching note, the test that catches it, and the message that test
//! prints. The message is not stored: the bug is installed into a scratch copy of the course
//! (reference + patch, as `verify` does) and the test is run with the isolated runner, so what
//! is shown is what the test says today.

use std::path::Path;

use anyhow::{Result, bail};

use crate::course::{Course, Stage};
use crate::learn::{self, State};
use crate::progress::Progress;
use crate::scratch::{self, Scratch, Sources};
use crate::ui;
use crate::variant::{self, Kind, Variant};
use crate::verify;

pub fn run(root: &Path, stage: &str, only: Option<&str>, force: bool) -> Result<bool> {
    let course = Course::load(root)?;
    let stage = course.select(&[stage.to_owned()])?[0];
    let solution_dir = stage.solution_dir(root);
    if !solution_dir.join("src").is_dir() {
        println!(
            "This repository has no solutions/ (a starter repository never does), so it has no \
             gallery of mistakes: each one is a change to the reference solution. Ask your \
             instructor, or look in the course repository."
        );
        return Ok(false);
    }
    let instructor = force || std::env::var_os("COURSE_INSTRUCTOR").is_some();
    if !instructor && learn::state(root, stage, &Progress::load(root)) != State::Done {
        println!(
            "The classic mistakes of {} open once your own solution passes: `cargo xtask run {}`.\n\
             (Instructors: add --force, or set COURSE_INSTRUCTOR=1.)",
            stage.name, stage.name
        );
        return Ok(false);
    }
    let mut bugs: Vec<Variant> = Vec::new();
    for loaded in variant::load_all(root, stage, Kind::Bug) {
        match loaded {
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
        return Ok(true);
    }
    ui::heading(&format!(
        "{} classic mistakes in {}: each is a small change to a working solution, and a test \
         that catches it",
        bugs.len(),
        stage.name
    ));
    let reference = scratch::read_sources(&solution_dir)?;
    let mut scratch = Scratch::prepare(root, "mistakes")?;
    // Share verify's build of the dependencies.
    scratch.target_dir = root.join("target/xtask/verify/target");
    let options = verify::Options::one_stage(stage, false);
    for (index, bug) in bugs.iter().enumerate() {
        println!(
            "\n{}",
            ui::bold(&format!("── {}/{}: {} ──", index + 1, bugs.len(), bug.name))
        );
        show(&scratch, stage, &reference, bug, &options)?;
    }
    Ok(true)
}

/// One bug: what it is, its diff, and what the test that catches it says.
fn show(
    scratch: &Scratch,
    stage: &Stage,
    reference: &Sources,
    bug: &Variant,
    options: &verify::Options,
) -> Result<()> {
    println!("{}", bug.description);
    if !bug.note.is_empty() {
        println!("\n{}", bug.note);
    }
    println!();
    print_diff(&bug.diff);
    let sources = match bug.apply(reference) {
        Ok(sources) => sources,
        Err(err) => {
            println!("{} {err:#}", ui::red("cannot show:"));
            return Ok(());
        }
    };
    let only = Some(bug.caught_by.as_slice());
    match verify::build_and_run(scratch, stage, &sources, only, 1, options)? {
        Err(errors) => {
            println!("{}", ui::red("(this variant no longer compiles:)"));
            ui::detail(&errors);
        }
        Ok(run) => {
            for result in &run.results {
                let verdict = if result.status.passed() {
                    ui::red("passes (it should not: tell your instructor)")
                } else {
                    ui::green(&result.status.label())
                };
                println!("\ncaught by {} ({verdict}), which says:", result.id);
                ui::detail(&result.message);
            }
        }
    }
    Ok(())
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
