//! What `cargo xtask verify` is told: clap parses the command line straight into [`Args`].

use crate::exec::runner;
use crate::exec::versions::RunOptions;

/// `cargo xtask verify [--stage NAME]... [--jobs N] [--repeat N] [--force] [--redteam]`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only this stage (name, directory or number); repeatable
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    /// Tests run at once (default: the number of CPUs)
    // The default is computed, so the help says it in words.
    #[arg(long, value_name = "N", default_value_t = runner::cpus(), hide_default_value = true)]
    pub jobs: usize,
    /// Run every version's tests N times: a test of the reference or an alternative that fails
    /// even once, or a bug that one of its tests catches only sometimes, fails the check
    // More than 1 hunts for flaky tests (and checks every stage, fresh or not).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Check every selected stage, even one unchanged since its last passing verify
    #[arg(long)]
    pub force: bool,
    /// Also replay the red team's corpus (solutions/NN-name/redteam/; slow, CI runs it)
    // About 320 whole implementations that more than quadruple a cold verify, so a plain
    // verify only counts them; a passing run is recorded apart in the freshness file
    // (`freshness::key`).
    #[arg(long)]
    pub redteam: bool,
    // Compile incrementally. `run` turns it on only when verify's target directory exists
    // already (a cold run builds every package once, so incremental caches only cost); the
    // next runs, after an edit, rebuild incrementally.
    #[arg(skip)]
    pub incremental: bool,
}

impl Args {
    /// How the versions of a stage are run: known-bug variants with in-test watchdogs
    /// shortened to 1 s (they only have to fail; see `exec::versions::RunOptions`).
    pub(super) fn run_options(&self) -> RunOptions {
        RunOptions {
            jobs: self.jobs,
            short_watchdog: true,
            repeat: self.repeat(),
            require_tools: false,
        }
    }

    /// How many times the solution's tests are run.
    pub(super) fn repeat(&self) -> usize {
        self.repeat as usize
    }
}
