//! What the learner's commands are told: clap parses the command line straight into these.

use clap::Args;

/// `readme [STAGE]`.
#[derive(Debug, Args)]
pub struct StageArg {
    /// The stage (default: the one you are in, else the current one)
    pub stage: Option<String>,
}

/// `run [STAGE] [PART|TEST...] [--clippy]`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The stage (default: the one you are in, else the current one)
    pub stage: Option<String>,
    /// Only these parts (`part1_countdown`) or tests (`part1_countdown::name`, or `name`)
    #[arg(value_name = "PART|TEST")]
    pub tests: Vec<String>,
    /// Also run clippy on your code (advice only; not part of your points)
    #[arg(long)]
    pub clippy: bool,
}

/// `watch [STAGE] [--manual] [--clippy]`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The stage to start with (default: the one you are in, else the current one)
    pub stage: Option<String>,
    /// Run on a key press only, not on save (for file systems without save events:
    /// WSL on a Windows drive, network drives)
    #[arg(long)]
    pub manual: bool,
    /// Also run clippy after each run
    #[arg(long)]
    pub clippy: bool,
}

/// `hint [STAGE] [--again]`.
#[derive(Debug, Args)]
pub struct HintArgs {
    /// The stage (default: the one you are in, else the current one)
    pub stage: Option<String>,
    /// Show every hint revealed so far instead of the next one
    #[arg(long)]
    pub again: bool,
}

/// `reset [STAGE] [--yes]`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// The stage (default: the one you are in, else the current one)
    pub stage: Option<String>,
    /// Do not ask
    #[arg(long)]
    pub yes: bool,
}

/// `solution [STAGE] [--force]`.
#[derive(Debug, Args)]
pub struct SolutionArgs {
    /// The stage (default: the one you are in, else the current one)
    pub stage: Option<String>,
    /// Show it anyway (instructors; or set COURSE_INSTRUCTOR=1)
    #[arg(long)]
    pub force: bool,
}
