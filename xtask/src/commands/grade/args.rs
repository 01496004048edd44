//! What `cargo xtask grade` is told: clap parses the command line straight into [`Args`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::course;
use crate::exec::runner;
use crate::exec::sandbox;
use crate::report::Format;
use crate::ui;

/// `cargo xtask grade [--submission DIR | --submissions DIR] [--stage NAME]... [--format LIST]
/// [--out DIR] [--jobs N] [--budget DURATION] [--require-all] [--offline] [--isolation MODE]
/// [--keep-scratch]`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The tree to grade (default: this checkout); only its exercises/*/src/**/*.rs is used
    #[arg(long, value_name = "DIR")]
    pub submission: Option<PathBuf>,
    /// Grade every submission directory in DIR (one report directory each)
    // Dispatched by `run` to `class.rs`, which grades each in a child `grade --submission`.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "submission",
        help_heading = ui::INSTRUCTOR_OPTIONS
    )]
    pub submissions: Option<PathBuf>,
    /// Only this stage; repeatable (default: every stage)
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    /// Comma-separated: human, json, junit, gradescope, classroom, exercism
    #[arg(
        long = "format",
        value_name = "LIST",
        value_enum,
        value_delimiter = ',',
        default_value = "human,json",
        hide_possible_values = true
    )]
    pub formats: Vec<Format>,
    /// Where report files go (default: target/grade)
    // `run` fills in the default (it depends on the course root), so every later step reads
    // it through `out()`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Tests run at once (default: the number of CPUs)
    // The default is computed, so the help says it in words.
    #[arg(long, value_name = "N", default_value_t = runner::cpus(), hide_default_value = true)]
    pub jobs: usize,
    /// Stop starting tests after this long, e.g. 8m (the rest: not run)
    #[arg(long, value_name = "DURATION", value_parser = course::parse_duration)]
    pub budget: Option<Duration>,
    /// Exit 1 unless every test passes (default: exit 0 once reports exist)
    #[arg(long)]
    pub require_all: bool,
    /// Build without network access (dependencies must be fetched already)
    // Gradescope: the dependencies were fetched when its image was built.
    #[arg(long)]
    pub offline: bool,
    /// auto: every sandbox layer the machine offers; strict: refuse without user separation
    /// or Landlock; off: no sandbox (debugging only)
    #[arg(
        long,
        value_name = "MODE",
        value_enum,
        default_value_t = sandbox::Mode::Auto,
        hide_possible_values = true
    )]
    pub isolation: sandbox::Mode,
    /// Keep the grading workspace (in the temp dir) for debugging
    #[arg(long)]
    pub keep_scratch: bool,
    // Do not print the human report: a whole class is being graded (set by `class.rs` for
    // each student; not on the command line).
    #[arg(skip)]
    pub quiet: bool,
}

impl Args {
    /// Where the reports go: `--out`, else `target/grade` of the course (filled in by `run`).
    pub fn out(&self) -> &Path {
        self.out
            .as_deref()
            .unwrap_or_else(|| Path::new("target/grade"))
    }

    /// `--out` made explicit (`root/target/grade` when not given), and each format once.
    pub(super) fn resolved(mut self, root: &Path) -> Args {
        self.out
            .get_or_insert_with(|| root.join("target").join("grade"));
        let mut formats = Vec::new();
        for format in self.formats {
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        self.formats = formats;
        self
    }
}
