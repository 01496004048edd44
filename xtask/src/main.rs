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
mod outcome;
mod report;
mod ui;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::builder::StyledStr;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::{authoring, classroom, grade, learn, mistakes, trace, verify};
use crate::course::variant;
use crate::exec::{gate, interrupt, sandbox};
use crate::outcome::Outcome;

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

/// Every command, in the group whose heading the help lists it under (see `GROUPS`).
#[derive(Debug, Subcommand)]
enum Cmd {
    #[command(flatten)]
    Learner(Learner),
    #[command(flatten)]
    Passed(Passed),
    #[command(flatten)]
    Grading(Grading),
    #[command(flatten)]
    Instructor(Instructor),
    #[command(flatten)]
    Author(Author),
}

/// The learner's loop; works in the course and in a starter repository alike.
#[derive(Debug, Subcommand)]
enum Learner {
    /// Where you stand: every stage, its status, tests and points
    Status,
    /// Every stage and each of its parts, with status and points
    List,
    /// Make the first unfinished stage the current one and say how to start it
    Next,
    /// Show a stage's README in the terminal
    Readme(learn::StageArg),
    /// Build a stage and run its tests (or some parts or tests), each in its own process
    #[command(
        after_help = "Examples:\n  cargo xtask run                       the current stage\n  \
                      cargo xtask run manual-poll part1_countdown\n  \
                      cargo xtask run 1 part1_countdown::counts_down_to_zero\n\n\
                      Exit status: 0 when every test run passed, 1 otherwise, 2 for bad \
                      arguments, 130 after Ctrl-C."
    )]
    Run(learn::RunArgs),
    /// Re-run a stage's tests every time you save; moves on when it passes
    #[command(
        after_help = "Keys: r or Enter run now · h next hint · n next stage · l list · q quit.\n\
                      On a terminal a single key is enough; otherwise type the key and Enter."
    )]
    Watch(learn::WatchArgs),
    /// The next hint for a stage, one level at a time
    Hint(learn::HintArgs),
    /// Put a stage's stub back (asks first; your version is copied to .course/backups/)
    Reset(learn::ResetArgs),
    /// Run one test and draw what its tasks and executor did (text + SVG)
    Trace(trace::Args),
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
    /// What a bare `cargo test` at the root ran (printed by xtask's last test target)
    #[command(name = "cargo-test-note", hide = true)]
    CargoTestNote,
}

/// What a learner may read once a stage passes: they need the course's `solutions/`.
#[derive(Debug, Subcommand)]
enum Passed {
    /// The reference solution of a stage, once your own passes
    Solution(learn::SolutionArgs),
    /// Once your stage passes: the classic mistakes, each as a small diff with the test that
    /// catches it and its message
    Mistakes(mistakes::Args),
}

/// Scoring, for a learner checking their work and an instructor grading a class.
#[derive(Debug, Subcommand)]
enum Grading {
    /// Score a learner's work test by test, each test in its own sandboxed process
    Grade(grade::Args),
}

/// The course's maintainers: check the course, hand it out.
#[derive(Debug, Subcommand)]
enum Instructor {
    /// Check the course itself: solutions pass, stubs fail, known bugs are caught, lint-clean
    Verify(verify::Args),
    /// Write a starter repository for students (no solutions), checked before it reports success
    Classroom {
        #[command(subcommand)]
        command: classroom::Command,
    },
}

/// Writing the course's variants.
#[derive(Debug, Subcommand)]
enum Author {
    /// Author a known-bug variant: `bug new STAGE NAME`, edit exercises/NN/src, `bug save ...`
    Bug {
        #[command(subcommand)]
        action: authoring::Action,
    },
    /// Author an alternative design (must pass every test): `alt new|save STAGE NAME`
    Alt {
        #[command(subcommand)]
        action: authoring::Action,
    },
}

/// One heading of the help: the commands declared in one of the enums above.
struct Group {
    heading: &'static str,
    /// The group's commands, as clap declares them (`augment_subcommands` of its enum).
    declare: fn(clap::Command) -> clap::Command,
    /// Whether a starter repository (no `solutions/`) lists them.
    in_a_starter: bool,
}

/// The help's groups, in order. A group is the enum its commands are declared in; nothing here
/// names a command.
const GROUPS: [Group; 5] = [
    Group {
        heading: "Learner commands",
        declare: Learner::augment_subcommands,
        in_a_starter: true,
    },
    Group {
        heading: "Once a stage passes (the course's solutions)",
        declare: Passed::augment_subcommands,
        in_a_starter: false,
    },
    Group {
        heading: "Grading",
        declare: Grading::augment_subcommands,
        in_a_starter: true,
    },
    Group {
        heading: "Instructor commands",
        declare: Instructor::augment_subcommands,
        in_a_starter: false,
    },
    Group {
        heading: "Author commands (bug and alternative variants)",
        declare: Author::augment_subcommands,
        in_a_starter: false,
    },
];

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
        Ok(outcome) => outcome.exit_code(),
        Err(err) if err.is::<interrupt::Interrupted>() || interrupt::requested() => {
            eprintln!("\ninterrupted: every test and build stopped; progress saved");
            ExitCode::from(interrupt::EXIT_CODE)
        }
        Err(err) => {
            eprintln!("{} {err:#}", ui::red("error:"));
            ExitCode::from(outcome::BAD_INPUT)
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

/// The command line, its help listing the commands group by group (`GROUPS`); in a starter
/// repository (no `solutions/`) the groups that need the course's solutions are hidden (they
/// still parse, and explain themselves when used), and so is every option under the heading
/// `ui::INSTRUCTOR_OPTIONS` (`grade --submissions`).
fn cli_command(root: &Path) -> clap::Command {
    let starter = !root.join("solutions").is_dir();
    let mut command = Cli::command();
    let mut listing = StyledStr::new();
    let heading = command.get_styles().get_header().to_owned();
    let mut first = true;
    for Group {
        heading: title,
        declare,
        in_a_starter,
    } in GROUPS
    {
        let mut group = declare(clap::Command::new("group"));
        if starter && !in_a_starter {
            for name in names(&group) {
                command = command.mut_subcommand(&name, |c| c.hide(true));
            }
            continue;
        }
        if first {
            // clap's own `help` subcommand goes with the first group.
            group = group.subcommand(
                clap::Command::new("help")
                    .about("Print this message or the help of the given subcommand(s)"),
            );
            first = false;
        }
        let rendered = group
            .help_template("{subcommands}")
            .disable_help_subcommand(true)
            .render_help();
        let _ = write!(listing, "{heading}{title}:{heading:#}\n{rendered}\n");
    }
    if starter {
        command = hide_instructor_options(command);
    }
    let mut template = StyledStr::new();
    let _ = write!(
        template,
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{}{heading}Options:{heading:#}\n{{options}}{{after-help}}",
        listing.ansi()
    );
    command.help_template(template)
}

/// Every option declared under the heading `ui::INSTRUCTOR_OPTIONS`, hidden.
fn hide_instructor_options(mut command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        command = command.mut_subcommand(&name, |mut sub| {
            let ids: Vec<clap::Id> = sub
                .get_arguments()
                .filter(|a| a.get_help_heading() == Some(ui::INSTRUCTOR_OPTIONS))
                .map(|a| a.get_id().clone())
                .collect();
            for id in ids {
                sub = sub.mut_arg(id, |a| a.hide(true));
            }
            sub
        });
    }
    command
}

/// The names of the visible commands declared in `group`.
fn names(group: &clap::Command) -> Vec<String> {
    group
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// `--root`, made absolute (scratch copies and version manifests name paths under it), or the
/// course this xtask belongs to.
fn course_root(given: Option<PathBuf>) -> PathBuf {
    given
        .map(|root| std::path::absolute(&root).unwrap_or(root))
        .unwrap_or_else(default_root)
}

fn try_main(raw: Vec<std::ffi::OsString>) -> Result<Outcome> {
    let cli = Cli::from_arg_matches(&cli_command(&root_of(&raw)).get_matches_from(&raw))
        .map_err(|e| e.exit())
        .unwrap_or_else(|never| never);
    let root = course_root(cli.root);
    match cli.command {
        None | Some(Cmd::Learner(Learner::Status)) => learn::status(&root),
        Some(Cmd::Learner(command)) => learner(&root, command),
        Some(Cmd::Passed(Passed::Solution(args))) => learn::solution(&root, &args),
        Some(Cmd::Passed(Passed::Mistakes(args))) => mistakes::run(&root, &args),
        Some(Cmd::Grading(Grading::Grade(args))) => {
            abort_if_a_test_says_so();
            grade::run(&root, args)
        }
        Some(Cmd::Instructor(Instructor::Verify(args))) => verify::run(&root, &args),
        Some(Cmd::Instructor(Instructor::Classroom { command })) => classroom::run(&root, &command),
        Some(Cmd::Author(Author::Bug { action })) => {
            authoring::run(&root, variant::Kind::Bug, &action)
        }
        Some(Cmd::Author(Author::Alt { action })) => {
            authoring::run(&root, variant::Kind::Alternative, &action)
        }
    }
}

fn learner(root: &Path, command: Learner) -> Result<Outcome> {
    match command {
        Learner::Status => learn::status(root),
        Learner::List => learn::list(root),
        Learner::Next => learn::next(root),
        Learner::Readme(args) => learn::readme(root, &args),
        Learner::Run(args) => learn::run(root, &args),
        Learner::Watch(args) => learn::watch(root, &args),
        Learner::Hint(args) => learn::hint(root, &args),
        Learner::Reset(args) => learn::reset(root, &args),
        Learner::Trace(args) => trace::run(root, &args),
        Learner::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut cli_command(root),
                "cargo-xtask",
                &mut std::io::stdout(),
            );
            Ok(Outcome::Passed)
        }
        Learner::CargoTestNote => {
            learn::cargo_test_note(root);
            Ok(Outcome::Passed)
        }
    }
}

/// Test-only (xtask/tests/class.rs): a grader that crashes, as a stack overflow in the gate
/// would. `grade --submissions` sets the variable for the student named by
/// `XTASK_TEST_CRASH_ON`; nothing else does.
fn abort_if_a_test_says_so() {
    if std::env::var_os(grade::TEST_ABORT).is_some_and(|v| v == "1") {
        std::process::abort();
    }
}

/// The course root: the parent of this package's directory.
fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a subdirectory of the course")
        .to_owned()
}
