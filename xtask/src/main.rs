//! `cargo xtask`: the course's own tooling. See ARCHITECTURE.md for where things live.
//!
//! The folders are layers, each importing only from those below it (checked by
//! `tests/layers.rs`): `commands/` (one module per command) over `report/` (one model, one
//! module per format) over `exec/` (cargo, scratch copies, isolated test processes, the
//! sandbox, the gate) over `course/` (what the stages are) over `files.rs`; `ui.rs` prints.

mod commands;
mod course;
mod exec;
mod files;
mod report;
mod ui;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::grade::class;
use crate::commands::{authoring, classroom, grade, learn, mistakes, trace, verify};
use crate::course::variant;
use crate::exec::{gate, interrupt, sandbox};

/// The course's tools. Learners: `cargo xtask` to see where you stand, `cargo xtask run` to
/// test your code, `cargo xtask watch` to re-run on every save.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "cargo xtask — the async-from-scratch course tools",
    after_help = "With no command: where you stand (the same as `status`).\n\
                  A STAGE is a name (manual-poll), a crate name (manual_poll), a directory \
                  (01-manual-poll, exercises/01-manual-poll) or a number (1). Without one: the \
                  stage whose directory you are in, else the current one.",
    disable_help_subcommand = false
)]
struct Cli {
    /// The course tree to work on (default: the one this xtask belongs to)
    #[arg(long, global = true, value_name = "DIR", hide = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Where you stand: every stage, its status, tests and points
    Status,
    /// Every stage and each of its parts, with status and points
    List,
    /// Make the first unfinished stage the current one and say how to start it
    Next,
    /// Show a stage's README in the terminal
    Readme {
        /// The stage (default: the one you are in, else the current one)
        stage: Option<String>,
    },
    /// Build a stage and run its tests (or some parts or tests), each in its own process
    #[command(
        after_help = "Examples:\n  cargo xtask run                       the current stage\n  \
                      cargo xtask run manual-poll part1_countdown\n  \
                      cargo xtask run 1 part1_countdown::counts_down_to_zero\n\n\
                      Exit status: 0 when every test run passed, 1 otherwise, 2 for bad \
                      arguments, 130 after Ctrl-C."
    )]
    Run {
        /// The stage (default: the one you are in, else the current one)
        stage: Option<String>,
        /// Only these parts (`part1_countdown`) or tests (`part1_countdown::name`, or `name`)
        #[arg(value_name = "PART|TEST")]
        tests: Vec<String>,
        /// Also run clippy on your code (advice only; not part of your points)
        #[arg(long)]
        clippy: bool,
    },
    /// Re-run a stage's tests every time you save; moves on when it passes
    #[command(
        after_help = "Keys: r or Enter run now · h next hint · n next stage · l list · q quit.\n\
                      On a terminal a single key is enough; otherwise type the key and Enter."
    )]
    Watch {
        /// The stage to start with (default: the one you are in, else the current one)
        stage: Option<String>,
        /// Run on a key press only, not on save (for file systems without save events:
        /// WSL on a Windows drive, network drives)
        #[arg(long)]
        manual: bool,
        /// Also run clippy after each run
        #[arg(long)]
        clippy: bool,
    },
    /// The next hint for a stage, one level at a time
    Hint {
        /// The stage (default: the one you are in, else the current one)
        stage: Option<String>,
        /// Show every hint revealed so far instead of the next one
        #[arg(long)]
        again: bool,
    },
    /// Put a stage's stub back (asks first; your version is copied to .course/backups/)
    Reset {
        /// The stage (default: the one you are in, else the current one)
        stage: Option<String>,
        /// Do not ask
        #[arg(long)]
        yes: bool,
    },
    /// The reference solution of a stage, once your own passes
    Solution {
        stage: Option<String>,
        /// Show it anyway (instructors; or set COURSE_INSTRUCTOR=1)
        #[arg(long)]
        force: bool,
    },
    /// Once your stage passes: the classic mistakes, each as a small diff with the test that
    /// catches it and its message
    Mistakes {
        stage: String,
        /// Only this known bug
        bug: Option<String>,
        /// Show them before your stage passes (instructors)
        #[arg(long)]
        force: bool,
    },
    /// Run one test and draw what its tasks and executor did (text + SVG)
    Trace {
        stage: String,
        /// e.g. part5_trace::a_burst_of_wakes_costs_one_poll
        test: String,
    },
    /// Print a shell completion script (bash, zsh, fish)
    #[command(
        after_help = "The script completes the command `cargo-xtask`; with\n  \
                      alias cargo-xtask='cargo xtask'\nin your shell, e.g.\n  \
                      cargo xtask completions bash > ~/.local/share/bash-completion/completions/cargo-xtask"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Check the course itself: solutions pass, stubs fail, known bugs are caught, lint-clean
    Verify(VerifyArgs),
    /// Score a learner's work test by test, each test in its own sandboxed process
    Grade(GradeArgs),
    /// Write a starter repository for students (no solutions), checked before it reports success
    Classroom {
        #[command(subcommand)]
        command: ClassroomCmd,
    },
    /// Author a known-bug variant: `bug new STAGE NAME`, edit exercises/NN/src, `bug save ...`
    Bug {
        #[command(subcommand)]
        action: AuthorCmd,
    },
    /// Author an alternative design (must pass every test): `alt new|save STAGE NAME`
    Alt {
        #[command(subcommand)]
        action: AuthorCmd,
    },
    /// What a bare `cargo test` at the root ran (printed by xtask's last test target)
    #[command(name = "cargo-test-note", hide = true)]
    CargoTestNote,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// Only this stage (name, directory or number); repeatable
    #[arg(long = "stage", value_name = "NAME")]
    stages: Vec<String>,
    /// Tests run at once (default: the number of CPUs)
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run the solutions' tests N times; report any test that fails even once
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Check every selected stage, even one unchanged since its last passing verify
    #[arg(long)]
    force: bool,
    /// Also replay the red team's corpus (solutions/NN-name/redteam/: slow, CI runs it)
    #[arg(long)]
    redteam: bool,
}

#[derive(Debug, Args)]
struct GradeArgs {
    /// The tree to grade (default: this checkout); only its exercises/*/src/**/*.rs is used
    #[arg(long, value_name = "DIR")]
    submission: Option<PathBuf>,
    /// Grade every submission directory in DIR (one report directory each)
    #[arg(long, value_name = "DIR", conflicts_with = "submission")]
    submissions: Option<PathBuf>,
    /// Only this stage; repeatable (default: every stage)
    #[arg(long = "stage", value_name = "NAME")]
    stages: Vec<String>,
    /// Comma-separated: human, json, junit, gradescope, classroom, exercism
    #[arg(long, value_name = "LIST", default_value = "human,json")]
    format: String,
    /// Where report files go (default: target/grade)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Tests run at once (default: the number of CPUs)
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Stop starting tests after this long, e.g. 8m (the rest: not run)
    #[arg(long, value_name = "DURATION")]
    budget: Option<String>,
    /// Exit 1 unless every test passes (default: exit 0 once reports exist)
    #[arg(long)]
    require_all: bool,
    /// Build without network access (dependencies must be fetched already)
    #[arg(long)]
    offline: bool,
    /// auto: every sandbox layer the machine offers; strict: refuse without user separation
    /// or Landlock; off: no sandbox (debugging only)
    #[arg(long, value_name = "MODE", default_value = "auto")]
    isolation: String,
    /// Keep the grading workspace (in the temp dir) for debugging
    #[arg(long)]
    keep_scratch: bool,
}

#[derive(Debug, Subcommand)]
enum ClassroomCmd {
    /// Copy the stubs, tests, harness and xtask into a new starter repository
    Export {
        /// A new, empty directory
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Only these stages (comma-separated or repeated)
        #[arg(
            long = "stage",
            alias = "stages",
            value_name = "NAME",
            value_delimiter = ','
        )]
        stages: Vec<String>,
        /// Skip building and grading the export
        #[arg(long)]
        no_check: bool,
        /// Export git HEAD even though exercises/ has uncommitted changes
        #[arg(long)]
        allow_dirty: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuthorCmd {
    /// Put the reference (or the reference with this variant) into exercises/NN/src to edit
    New { stage: String, name: String },
    /// Write the patch from your edit, put the stub back, check the variant
    Save {
        stage: String,
        name: String,
        /// A test that must fail with the bug in place; repeatable (bugs only)
        #[arg(long = "caught-by", value_name = "TEST")]
        caught_by: Vec<String>,
        /// One line: the mistake (or the design)
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// A short teaching note
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Save as an alternative instead of a bug
        #[arg(long)]
        alternative: bool,
    },
}

fn main() -> ExitCode {
    // The sandbox launcher and the kill-all helper (see sandbox.rs) must run before anything
    // else, while this process still has a single thread.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match raw.get(1).and_then(|a| a.to_str()) {
        Some(sandbox::LAUNCH) => sandbox::launcher_main(&raw[2..]),
        Some(sandbox::KILL_ALL) => sandbox::kill_all_main(&raw[2..]),
        Some(gate::CHILD) => gate::child_main(),
        _ => {}
    }
    interrupt::install();
    let result = try_main(raw);
    interrupt::restore_terminal();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) if err.is::<interrupt::Interrupted>() || interrupt::requested() => {
            eprintln!("\ninterrupted: every test and build stopped; progress saved");
            ExitCode::from(interrupt::EXIT_CODE)
        }
        Err(err) => {
            eprintln!("{} {err:#}", ui::red("error:"));
            ExitCode::from(2)
        }
    }
}

/// The root given with `--root DIR`, read before parsing (the help depends on the course).
fn root_of(raw: &[std::ffi::OsString]) -> PathBuf {
    raw.iter()
        .position(|a| a == "--root")
        .and_then(|i| raw.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(default_root)
}

/// The command line; in a starter repository (no `solutions/`) the instructors' commands are
/// hidden from the help (they still parse, and explain themselves when used).
fn cli_command(root: &Path) -> clap::Command {
    let mut command = Cli::command();
    if !root.join("solutions").is_dir() {
        for name in ["verify", "solution", "bug", "alt", "mistakes", "classroom"] {
            command = command.mut_subcommand(name, |c| c.hide(true));
        }
        command = command.mut_subcommand("grade", |c| c.mut_arg("submissions", |a| a.hide(true)));
    }
    command
}

/// `--root`, made absolute (scratch copies and version manifests name paths under it), or the
/// course this xtask belongs to.
fn course_root(given: Option<PathBuf>) -> PathBuf {
    given
        .map(|root| std::path::absolute(&root).unwrap_or(root))
        .unwrap_or_else(default_root)
}

fn try_main(raw: Vec<std::ffi::OsString>) -> Result<bool> {
    let cli = Cli::from_arg_matches(&cli_command(&root_of(&raw)).get_matches_from(&raw))
        .map_err(|e| e.exit())
        .unwrap_or_else(|never| never);
    let root = course_root(cli.root);
    let Some(command) = cli.command else {
        return learn::status(&root);
    };
    match command {
        Cmd::Status => learn::status(&root),
        Cmd::List => learn::list(&root),
        Cmd::Next => learn::next(&root),
        Cmd::Readme { stage } => learn::readme(&root, stage.as_deref()),
        Cmd::Run {
            stage,
            tests,
            clippy,
        } => learn::run(&root, stage.as_deref(), &tests, clippy),
        Cmd::Watch {
            stage,
            manual,
            clippy,
        } => learn::watch(&root, stage.as_deref(), manual, clippy),
        Cmd::Hint { stage, again } => learn::hint(&root, stage.as_deref(), again),
        Cmd::Reset { stage, yes } => learn::reset(&root, stage.as_deref(), yes),
        Cmd::Solution { stage, force } => learn::solution(&root, stage.as_deref(), force),
        Cmd::Mistakes { stage, bug, force } => mistakes::run(&root, &stage, bug.as_deref(), force),
        Cmd::Trace { stage, test } => trace::run(&root, &stage, &test),
        Cmd::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut cli_command(&root),
                "cargo-xtask",
                &mut std::io::stdout(),
            );
            Ok(true)
        }
        Cmd::Verify(args) => {
            let options = verify::Options {
                stages: args.stages,
                jobs: args.jobs.unwrap_or_else(cpus),
                repeat: args.repeat as usize,
                force: args.force,
                redteam: args.redteam,
                short_watchdog: true,
                incremental: true,
            };
            verify::run(&root, &options)
        }
        Cmd::Grade(args) => {
            let options = grade_options(args, &root)?;
            match &options.submissions {
                Some(dir) => class::run(&root, &options, dir),
                None => grade::run(&root, &options),
            }
        }
        Cmd::Classroom {
            command:
                ClassroomCmd::Export {
                    out,
                    stages,
                    no_check,
                    allow_dirty,
                },
        } => classroom::export(
            &root,
            &classroom::Options {
                stages,
                out,
                no_check,
                allow_dirty,
            },
        ),
        Cmd::Bug { action } => authoring(&root, variant::Kind::Bug, action),
        Cmd::Alt { action } => authoring(&root, variant::Kind::Alternative, action),
        Cmd::CargoTestNote => {
            learn::cargo_test_note(&root);
            Ok(true)
        }
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `bug|alt new|save STAGE NAME [options]`.
fn authoring(root: &Path, kind: variant::Kind, action: AuthorCmd) -> Result<bool> {
    match action {
        AuthorCmd::New { stage, name } => authoring::new(root, kind, &stage, &name),
        AuthorCmd::Save {
            stage,
            name,
            caught_by,
            description,
            note,
            alternative,
        } => {
            let kind = if alternative {
                variant::Kind::Alternative
            } else {
                kind
            };
            let options = authoring::SaveOptions {
                caught_by,
                description,
                note,
            };
            authoring::save(root, kind, &stage, &name, &options)
        }
    }
}

/// Test-only (xtask/tests/class.rs): a grader that crashes, as a stack overflow in the gate
/// would. `grade --submissions` sets the variable for the student named by
/// `XTASK_TEST_CRASH_ON`; nothing else does.
fn abort_if_a_test_says_so() {
    if std::env::var_os(class::TEST_ABORT).is_some_and(|v| v == "1") {
        std::process::abort();
    }
}

fn grade_options(args: GradeArgs, root: &Path) -> Result<grade::Options> {
    abort_if_a_test_says_so();
    Ok(grade::Options {
        submissions: args.submissions,
        quiet: false,
        submission: args.submission,
        stages: args.stages,
        formats: grade::parse_formats(&args.format)?,
        out: args
            .out
            .unwrap_or_else(|| root.join("target").join("grade")),
        jobs: args.jobs.unwrap_or_else(cpus),
        budget: args
            .budget
            .as_deref()
            .map(course::parse_duration)
            .transpose()?,
        require_all: args.require_all,
        offline: args.offline,
        isolation: sandbox::Mode::parse(&args.isolation)?,
        keep_scratch: args.keep_scratch,
    })
}

/// The course root: the parent of this package's directory.
fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a subdirectory of the course")
        .to_owned()
}
