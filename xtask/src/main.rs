//! `cargo xtask`: the course's own tooling. See ARCHITECTURE.md for where things live.
//!
//! One module per command (`verify.rs`), plus the shared machinery every command uses:
//! `course.rs` (what the stages are), `scratch.rs` (swapping versions of a stage),
//! `cargo.rs` (building), `runner.rs` (running tests in isolated processes), `ui.rs`
//! (printing).

mod authoring;
mod batch;
mod cargo;
mod class;
mod classroom;
mod committed;
mod course;
mod gate;
mod grade;
mod integrity;
mod learn;
mod mistakes;
mod points;
mod pristine;
mod progress;
mod report;
mod runner;
mod sandbox;
mod scratch;
mod testscan;
mod trace;
mod trybuild_cache;
mod ui;
mod variant;
mod verify;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

const HELP: &str = "\
cargo xtask — the async-from-scratch course tools

USAGE (learners):
    cargo xtask                       Where you stand: every stage, its status and points
    cargo xtask next                  Move on to the first unfinished stage
    cargo xtask run [STAGE]           Run a stage's tests, each in its own process
    cargo xtask watch [--manual]      Re-run the current stage on every save
    cargo xtask hint [STAGE] [--again]  The next hint (--again: all revealed so far)
    cargo xtask reset STAGE [--yes]   Put the stub back (your version is kept in .course/backups)
    cargo xtask solution STAGE        The reference solution, once your stage passes
    cargo xtask trace STAGE TEST      Run one test and draw what its tasks and executor did
    cargo xtask mistakes STAGE [BUG]  Once your stage passes: the classic mistakes, each as a
                                      small diff with the test that catches it and its message

USAGE (instructors):
    cargo xtask verify [--stage NAME]... [--jobs N] [--repeat N] [--force]
    cargo xtask bug new STAGE NAME    Put the reference (or the bug) into exercises/ to edit
    cargo xtask bug save STAGE NAME [--caught-by TEST]... [--description TEXT] [--note TEXT]
                                      Write solutions/NN/bugs/NAME.patch from the edit, put
                                      the stub back, check the bug is caught
    cargo xtask alt new|save STAGE NAME [--description TEXT] [--note TEXT]
                                      The same for alternatives/ (must pass every test)
    cargo xtask grade  [--submission DIR | --submissions DIR] [--stage NAME]... [--format LIST] [--out DIR]
                       [--jobs N] [--budget DURATION] [--require-all] [--offline]
                       [--isolation auto|strict|off] [--keep-scratch]
    cargo xtask classroom export --out DIR [--stage NAME]... [--no-check] [--allow-dirty]

COMMANDS:
    verify    Check the course itself: every reference solution passes, every stub fails,
              every known-bug variant is caught, and solutions are lint-clean.
    grade     Score a learner's work test by test: each test in its own process with the
              stage's timeout; compile errors cost only their stage.
    classroom export
              Write a starter repository for students: stubs, tests, harness, xtask, a
              student README, a GitHub Classroom workflow and a Gradescope bundle; no
              solutions. Checked before it reports success: it builds and its stubs score 0.
    help      Show this message.

OPTIONS (verify):
    --stage NAME   Only this stage (by name, directory or number); repeatable.
    --jobs N       Tests run at once (default: the number of CPUs).
    --repeat N     Run the solutions' tests N times and report any test that fails even once
                   (hunts for flaky tests; default 1).
    --force        Check every selected stage, even one whose inputs (its files, the harness,
                   xtask, the toolchain) are unchanged since its last passing verify.

OPTIONS (grade):
    --submission DIR   The tree to grade (default: this checkout). Only its
                       exercises/*/src/**/*.rs is used; everything else comes from the course.
    --submissions DIR  Grade every repository under DIR (GitHub Classroom's layouts), one
                       report folder per student under --out, and --out/gradebook.csv.
    --stage NAME       Only this stage; repeatable (default: every stage).
    --format LIST      Comma-separated: human, json, junit, gradescope, classroom, exercism
                       (default: human,json).
    --out DIR          Where report files go (default: target/grade).
    --budget DURATION  Stop starting tests after this long, e.g. 8m (the rest: not run).
    --require-all      Exit 1 unless every test passes (default: exit 0 once reports exist).
    --offline          Build without network access (dependencies must be fetched already).
    --isolation MODE   auto (default): every sandbox layer the machine offers (a dedicated
                       user when root, Landlock, rlimits, cleanup of escaped processes);
                       strict: refuse to grade without user separation or Landlock;
                       off: no sandbox (debugging only). The report says what was in effect.
    --keep-scratch     Keep the grading workspace (in the temp dir) for debugging.
";

fn main() -> ExitCode {
    // The sandbox launcher and the kill-all helper (see sandbox.rs) must run before anything
    // else, while this process still has a single thread.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match raw.get(1).and_then(|a| a.to_str()) {
        Some(sandbox::LAUNCH) => sandbox::launcher_main(&raw[2..]),
        Some(sandbox::KILL_ALL) => sandbox::kill_all_main(&raw[2..]),
        _ => {}
    }
    match try_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("{} {err:#}", ui::red("error:"));
            ExitCode::from(2)
        }
    }
}

fn try_main() -> Result<bool> {
    let mut args = std::env::args().skip(1).peekable();
    // `--root DIR` points xtask at another course tree (used by xtask's own tests).
    let mut root = default_root();
    if args.peek().map(String::as_str) == Some("--root") {
        args.next();
        root = PathBuf::from(args.next().context("--root needs a directory")?);
    }
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        None => learn::status(&root),
        Some("help" | "--help" | "-h") => {
            print!("{HELP}");
            Ok(true)
        }
        Some("next") => learn::next(&root),
        Some("run") => learn::run(&root, rest.first().map(String::as_str)),
        Some("watch") => watch::watch(&root, rest.iter().any(|a| a == "--manual")),
        Some("hint") => {
            let stage = rest
                .iter()
                .find(|a| !a.starts_with("--"))
                .map(String::as_str);
            learn::hint(&root, stage, rest.iter().any(|a| a == "--again"))
        }
        Some("reset") => {
            let stage = rest.iter().find(|a| !a.starts_with("--")).context(
                "reset needs a stage: `cargo xtask reset manual-poll` (see `cargo xtask` for the list)",
            )?;
            learn::reset(&root, stage, rest.iter().any(|a| a == "--yes"))
        }
        Some("trace") => match rest.as_slice() {
            [stage, test] => trace::run(&root, stage, test),
            _ => bail!(
                "usage: cargo xtask trace STAGE TEST, e.g. \
                 cargo xtask trace waker-queue part5_trace::a_burst_of_wakes_costs_one_poll"
            ),
        },
        Some("solution") => {
            let stage = rest
                .iter()
                .find(|a| !a.starts_with("--"))
                .context("solution needs a stage: `cargo xtask solution manual-poll`")?;
            learn::solution(&root, stage, rest.iter().any(|a| a == "--force"))
        }
        Some("mistakes") => {
            let words: Vec<&String> = rest.iter().filter(|a| !a.starts_with("--")).collect();
            let stage = words
                .first()
                .context("mistakes needs a stage: `cargo xtask mistakes manual-poll`")?;
            let force = rest.iter().any(|a| a == "--force");
            mistakes::run(&root, stage, words.get(1).map(|s| s.as_str()), force)
        }
        Some(command @ ("bug" | "alt")) => {
            let kind = if command == "bug" {
                variant::Kind::Bug
            } else {
                variant::Kind::Alternative
            };
            authoring(&root, kind, &rest)
        }
        Some("verify") => {
            let options = parse_verify(&rest)?;
            verify::run(&root, &options)
        }
        Some("grade") => {
            let options = parse_grade(&rest, &root)?;
            grade::run(&root, &options)
        }
        Some("classroom") => {
            let options = parse_classroom(&rest)?;
            classroom::export(&root, &options)
        }
        Some(other) => bail!("unknown command `{other}`\n\n{HELP}"),
    }
}

/// `bug|alt new|save STAGE NAME [options]`.
fn authoring(root: &Path, kind: variant::Kind, args: &[String]) -> Result<bool> {
    let usage = "usage: cargo xtask bug new STAGE NAME, then cargo xtask bug save STAGE NAME \
                 [--caught-by TEST]... [--description TEXT] [--note TEXT] (alt: the same, \
                 without --caught-by)";
    let (Some(action), Some(stage), Some(name)) = (args.first(), args.get(1), args.get(2)) else {
        bail!("{usage}");
    };
    let mut kind = kind;
    let mut options = authoring::SaveOptions::default();
    let mut rest = args[3..].iter();
    while let Some(arg) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .with_context(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--caught-by" => options.caught_by.push(value()?),
            "--description" => options.description = Some(value()?),
            "--note" => options.note = Some(value()?),
            "--alternative" => kind = variant::Kind::Alternative,
            other => bail!("unknown option `{other}`\n{usage}"),
        }
    }
    match action.as_str() {
        "new" => authoring::new(root, kind, stage, name),
        "save" => authoring::save(root, kind, stage, name, &options),
        _ => bail!("{usage}"),
    }
}

fn parse_verify(args: &[String]) -> Result<verify::Options> {
    let mut options = verify::Options {
        stages: Vec::new(),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        repeat: 1,
        force: false,
        short_watchdog: true,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stage" => options
                .stages
                .push(args.next().context("--stage needs a stage name")?.clone()),
            "--jobs" => {
                options.jobs = args
                    .next()
                    .context("--jobs needs a number")?
                    .parse()
                    .context("--jobs needs a number")?;
            }
            "--repeat" => {
                options.repeat = args
                    .next()
                    .context("--repeat needs a number")?
                    .parse()
                    .context("--repeat needs a number")?;
                anyhow::ensure!(options.repeat >= 1, "--repeat needs a number of at least 1");
            }
            "--force" => options.force = true,
            other => bail!("verify: unknown option `{other}`\n\n{HELP}"),
        }
    }
    Ok(options)
}

fn parse_grade(args: &[String], root: &Path) -> Result<grade::Options> {
    let mut options = grade::Options {
        submission: None,
        stages: Vec::new(),
        formats: vec![report::Format::Human, report::Format::Json],
        out: root.join("target").join("grade"),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        budget: None,
        require_all: false,
        offline: false,
        isolation: sandbox::Mode::Auto,
        keep_scratch: false,
        submissions: None,
        quiet: false,
    };
    let mut args = args.iter();
    let value = |args: &mut std::slice::Iter<'_, String>, flag: &str| -> Result<String> {
        args.next()
            .cloned()
            .with_context(|| format!("{flag} needs a value"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--submission" => options.submission = Some(PathBuf::from(value(&mut args, arg)?)),
            "--submissions" => options.submissions = Some(PathBuf::from(value(&mut args, arg)?)),
            "--stage" => options.stages.push(value(&mut args, arg)?),
            "--format" => options.formats = grade::parse_formats(&value(&mut args, arg)?)?,
            "--out" => options.out = PathBuf::from(value(&mut args, arg)?),
            "--jobs" => {
                options.jobs = value(&mut args, arg)?
                    .parse()
                    .context("--jobs needs a number")?;
            }
            "--budget" => {
                options.budget = Some(course::parse_duration(&value(&mut args, arg)?)?);
            }
            "--require-all" => options.require_all = true,
            "--offline" => options.offline = true,
            "--isolation" => options.isolation = sandbox::Mode::parse(&value(&mut args, arg)?)?,
            "--keep-scratch" => options.keep_scratch = true,
            other => bail!("grade: unknown option `{other}`\n\n{HELP}"),
        }
    }
    Ok(options)
}

fn parse_classroom(args: &[String]) -> Result<classroom::Options> {
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some("export") => {}
        Some(other) => bail!("classroom: unknown subcommand `{other}` (try `classroom export`)"),
        None => bail!("classroom: which subcommand? (try `classroom export --out DIR`)"),
    }
    let mut options = classroom::Options {
        stages: Vec::new(),
        out: PathBuf::new(),
        no_check: false,
        allow_dirty: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => options.out = PathBuf::from(args.next().context("--out needs a directory")?),
            "--stage" | "--stages" => {
                let list = args.next().context("--stage needs a stage name")?;
                options.stages.extend(list.split(',').map(str::to_owned));
            }
            "--no-check" => options.no_check = true,
            "--allow-dirty" => options.allow_dirty = true,
            other => bail!("classroom export: unknown option `{other}`\n\n{HELP}"),
        }
    }
    anyhow::ensure!(
        !options.out.as_os_str().is_empty(),
        "classroom export needs --out DIR (a new, empty directory)"
    );
    Ok(options)
}

/// The course root: the parent of this package's directory.
fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a subdirectory of the course")
        .to_owned()
}
