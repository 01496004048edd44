//! `cargo xtask`: the course's own tooling. See ARCHITECTURE.md for where things live.
//!
//! One module per command (`verify.rs`), plus the shared machinery every command uses:
//! `course.rs` (what the stages are), `scratch.rs` (swapping versions of a stage),
//! `cargo.rs` (building), `runner.rs` (running tests in isolated processes), `ui.rs`
//! (printing).

mod cargo;
mod course;
mod runner;
mod scratch;
mod ui;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

const HELP: &str = "\
cargo xtask — the async-from-scratch course tools

USAGE:
    cargo xtask verify [--stage NAME]... [--jobs N] [--repeat N]

COMMANDS:
    verify    Check the course itself: every reference solution passes, every stub fails,
              every known-bug variant is caught, and solutions are lint-clean.
    help      Show this message.

OPTIONS:
    --stage NAME   Only this stage (by name, directory or number); repeatable.
    --jobs N       Tests run at once (default: the number of CPUs).
    --repeat N     Run the solutions' tests N times and report any test that fails even once
                   (hunts for flaky tests; default 1).
";

fn main() -> ExitCode {
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
        None | Some("help" | "--help" | "-h") => {
            print!("{HELP}");
            Ok(true)
        }
        Some("verify") => {
            let options = parse_verify(&rest)?;
            verify::run(&root, &options)
        }
        Some(other) => bail!("unknown command `{other}`\n\n{HELP}"),
    }
}

fn parse_verify(args: &[String]) -> Result<verify::Options> {
    let mut options = verify::Options {
        stages: Vec::new(),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        repeat: 1,
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
            other => bail!("verify: unknown option `{other}`\n\n{HELP}"),
        }
    }
    Ok(options)
}

/// The course root: the parent of this package's directory.
fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a subdirectory of the course")
        .to_owned()
}
