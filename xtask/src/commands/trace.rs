//! `cargo xtask trace <stage> <test>`: run one test with recording on, then draw what the
//! executor did — a text timeline with a diagnosis in the terminal, and an SVG to open.
//!
//! The test runs like any other (its own process, the stage's timeout), with
//! `HARNESS_TRACE=target/trace/<test>.trace`; the harness appends one line per event as it
//! happens, so even a test that hangs and is killed leaves its events behind. Only futures the
//! test wraps in `harness::trace::traced` (and executors that call the harness's `parked` /
//! `unparked` hooks) are recorded.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use harness::trace;

use crate::course::{Course, TestId};
use crate::exec::cargo;
use crate::exec::runner::{self, TestEnv};
use crate::outcome::Outcome;
use crate::ui;

/// `trace STAGE TEST`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stage (name, directory or number)
    pub stage: String,
    /// e.g. part5_trace::a_burst_of_wakes_costs_one_poll
    pub test: String,
}

pub fn run(root: &Path, args: &Args) -> Result<Outcome> {
    let test = args.test.as_str();
    let course = Course::load(root)?;
    let stage = course.select(std::slice::from_ref(&args.stage))?[0];
    let build = cargo::build_tests(root, &root.join("target"), &[stage.name.as_str()], &[], &[])?;
    let package_dir = stage.exercise_dir(root);
    let manifest = package_dir.join("Cargo.toml");
    if !build.success {
        let errors = build.errors_of(&manifest);
        ui::detail(&if errors.is_empty() {
            build.stderr.clone()
        } else {
            errors.join("\n")
        });
        bail!(
            "{} does not compile yet, so there is nothing to trace",
            stage.name
        );
    }
    let env = TestEnv::new(root, &package_dir, &stage.name);
    let binaries = build.binaries_of(&manifest);
    let tests = runner::list_all(&binaries, &package_dir, &env)?;
    let job = find_test(&tests, test, &stage.name)?;

    let dir = root.join("target").join("trace");
    fs::create_dir_all(&dir)?;
    let file_name = job.id.to_string().replace("::", "__");
    let events = dir.join(format!("{file_name}.trace"));
    let _ = fs::remove_file(&events);
    let env = env.with(trace::ENV_VAR, &events.display().to_string());
    let result = runner::run_test(job, &package_dir, &env, stage.timeout_for(&job.id))?;

    let text = fs::read_to_string(&events).unwrap_or_default();
    let records = trace::parse(&text)
        .map_err(anyhow::Error::msg)
        .context("cannot read the trace")?;
    println!(
        "{} {}  ({})\n",
        ui::bold("trace of"),
        job.id,
        result.status.label()
    );
    let cut_short = cut_short(&result.status, &result.message);
    if let Some(why) = &cut_short {
        println!("{why}\n");
    }
    if records.is_empty() {
        explain_no_events(cut_short.is_some(), &stage.dir);
    } else {
        draw(&records, &job.id, &dir.join(format!("{file_name}.svg")))?;
    }
    if !result.status.passed() {
        println!(
            "\n{} {}",
            ui::red("the test did not pass:"),
            result.status.label()
        );
        ui::detail(&result.message);
    }
    Ok(Outcome::of(result.status.passed()))
}

/// The one listed test `test` names: `target::name`, or a bare name if only one target has it.
fn find_test<'a>(
    tests: &'a [runner::Listed],
    test: &str,
    stage: &str,
) -> Result<&'a runner::Listed> {
    let wanted: Vec<&runner::Listed> = match TestId::parse(test) {
        Ok(id) => tests.iter().filter(|t| t.id == id).collect(),
        Err(_) => tests.iter().filter(|t| t.id.name == test).collect(),
    };
    match wanted.as_slice() {
        [one] => Ok(*one),
        [] => {
            let names: Vec<String> = tests.iter().map(|t| format!("  {}", t.id)).collect();
            bail!(
                "{stage} has no test `{test}`. Its tests are:\n{}",
                names.join("\n")
            );
        }
        several => {
            let names: Vec<String> = several.iter().map(|t| format!("  {}", t.id)).collect();
            bail!(
                "`{test}` is in several test files of {stage}; write it as file::name:\n{}",
                names.join("\n")
            );
        }
    }
}

/// Why the timeline is empty.
fn explain_no_events(cut_short: bool, stage_dir: &str) {
    if cut_short {
        println!("Nothing was recorded before that point.");
    } else {
        println!(
            "This test recorded no events: its futures are not wrapped in \
             `harness::trace::traced`, or it failed before it created one (see its \
             message below).\nTest files that trace their futures: `grep -l traced \
             exercises/{stage_dir}/tests/*.rs`."
        );
    }
}

/// The timeline as text in the terminal and as a picture in `svg`.
fn draw(records: &[trace::Record], id: &TestId, svg: &Path) -> Result<()> {
    let options = trace::RenderOptions {
        wall_time: true,
        test_thread: Some(id.name.clone()),
    };
    println!("{}", trace::text(records, &options));
    fs::write(
        svg,
        trace::svg(
            records,
            &trace::RenderOptions {
                wall_time: false,
                test_thread: Some(id.name.clone()),
            },
        ),
    )?;
    println!("picture: {}", svg.display());
    Ok(())
}

/// When a failed test was stopped by a `todo!()` or another panic (not a hang), says so: the
/// timeline then ends where the panic struck, and "never returned" or "never polled" in the
/// diagnosis is that, not an executor bug.
fn cut_short(status: &runner::Status, message: &str) -> Option<String> {
    if status.passed() || *status == runner::Status::Timeout || message.contains("HANG:") {
        return None;
    }
    let first = message
        .lines()
        .find(|line| !line.trim().is_empty() && !line.contains("panicked at"))
        .unwrap_or("")
        .trim();
    if message.contains("not yet implemented") || message.contains("not implemented") {
        Some(format!(
            "The test was cut short by a `todo!()` in your code ({first}): that part is not \
             written yet. The timeline below stops where it struck; write that part first, \
             then trace again."
        ))
    } else if message.contains("panicked") {
        Some(format!(
            "The test was cut short by a panic ({first}). The timeline below stops where it \
             struck: a poll \"that never returned\" may simply be the one that panicked."
        ))
    } else {
        None
    }
}
