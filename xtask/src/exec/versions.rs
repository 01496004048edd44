//! Building and running versions of a stage (the stub, the reference, a bug, an alternative,
//! a learner's edit) outside the learner's workspace: each version is installed in a scratch
//! copy of the course, built, and its tests (all, or a bug's named ones, `repeat` times) run
//! each in its own process. `verify` judges what comes back; `mistakes` shows it; `bug save`
//! checks the variant it wrote (`verdict.rs`). How it scales: ARCHITECTURE.md, "How `cargo
//! xtask verify` flows".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::course::variant::{Kind, Variant};
use crate::course::{Stage, TestId};
use crate::exec::batch;
use crate::exec::runner::{self, TestEnv, TestResult};
use crate::exec::scratch::Scratch;
use crate::exec::version::Version;
use crate::exec::{bug_crate, cargo, features, tools, trybuild_cache};
use crate::files::{self, Sources};
use crate::outcome::Problem;

/// How versions are run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tests run at once.
    pub jobs: usize,
    /// Run known-bug variants with in-test watchdogs shortened to 1 s (they only have to
    /// fail); `mistakes` runs them with the normal limit, to show the message a learner sees.
    pub short_watchdog: bool,
    /// Runs of every variant's tests (`verify --repeat`): a bug is caught only when its named
    /// tests fail in every run, an alternative accepted only when its tests pass in every run.
    /// A catch that depends on how the threads were scheduled then shows on one machine, not
    /// only on CI's.
    pub repeat: usize,
    /// Tests are told their stage's declared tools are required ([`tools::REQUIRED`]): a test
    /// that would skip without one fails instead. Set for the stub, which must fail every
    /// test, also on a machine without the tools (where a skipping test would pass).
    pub require_tools: bool,
}

impl RunOptions {
    /// One test per core, one run (`bug save`, `mistakes`).
    pub fn per_core(short_watchdog: bool) -> RunOptions {
        RunOptions {
            jobs: runner::cpus(),
            short_watchdog,
            repeat: 1,
            require_tools: false,
        }
    }
}

/// The target directory every stage's scratch shares.
pub const TARGET: &str = "target/xtask/verify/target";

/// The scratch copy one stage's versions are built in: its own copy of the course (so stages
/// can run at once), the target directory every stage shares (the dependencies are built
/// once), and the package that makes every build there resolve features as the workspace's
/// `cargo test` does (`exec/features.rs`).
pub fn stage_scratch(root: &Path, stage: &Stage) -> Result<Scratch> {
    let mut scratch = Scratch::prepare(root, &format!("verify/{}", stage.dir))?;
    scratch.target_dir = root.join(TARGET);
    batch::unify_features(&scratch)?;
    Ok(scratch)
}

/// `XTASK_TIMINGS=1`: how long each phase took, on stderr as it ends (`timing: 02
/// waker-queue build 30 packages: 41.2s`), to see where a verify's time goes. Silent otherwise.
pub fn timed<T>(what: impl FnOnce() -> String, work: impl FnOnce() -> T) -> T {
    if !timings() {
        return work();
    }
    let started = std::time::Instant::now();
    let result = work();
    eprintln!(
        "timing: {}: {:.1}s",
        what(),
        started.elapsed().as_secs_f64()
    );
    result
}

/// Whether `XTASK_TIMINGS` is set (see `timed`).
fn timings() -> bool {
    std::env::var_os("XTASK_TIMINGS").is_some()
}

/// What became of one variant: the results of its tests, or its compile errors.
pub type TestsRun = Result<Vec<TestResult>, Problem>;

/// Builds every variant in `batched` with one cargo run and runs their tests (a bug's named
/// ones, an alternative's every one) in parallel across variants. Per variant: its tests'
/// results, or its compile errors.
pub fn build_and_run_batched(
    scratch: &Scratch,
    stage: &Stage,
    batched: &[(&Variant, Sources)],
    options: &RunOptions,
) -> Result<Vec<TestsRun>> {
    let items: Vec<Item<'_>> = batched
        .iter()
        .map(|(variant, sources)| Item::of_variant(scratch, stage, variant, sources, options))
        .collect();
    let runs = build_and_run_items(scratch, stage, &items, options.jobs)?;
    Ok(runs
        .into_iter()
        .map(|run| run.map(|run| run.results))
        .collect())
}

/// One version in a batched build: its sources, the test targets it needs, and which of their
/// tests run how often.
#[derive(Clone)]
pub struct Item<'a> {
    /// Unique in the stage; the version package's directory.
    pub name: String,
    pub sources: &'a Sources,
    pub targets: BTreeSet<String>,
    /// Only these tests (a bug's caught-by); every test when `None`.
    pub only: Option<&'a [TestId]>,
    pub repeat: usize,
    /// In-test watchdogs shortened to 1 s: a bug only has to fail, so a hang fails fast (see
    /// harness::Watchdog).
    pub short_watchdog: bool,
    /// See [`RunOptions::require_tools`]: the stub's item sets it.
    pub require_tools: bool,
}

impl<'a> Item<'a> {
    /// A version that runs every test of the stage (`repeat` times): the stub, the reference.
    pub fn whole(
        scratch: &Scratch,
        stage: &Stage,
        name: &str,
        sources: &'a Sources,
        repeat: usize,
    ) -> Item<'a> {
        Item {
            name: name.to_owned(),
            sources,
            targets: every_target(scratch, stage),
            only: None,
            repeat,
            short_watchdog: false,
            require_tools: false,
        }
    }

    /// A bug (its caught-by tests) or an alternative (every test).
    pub fn of_variant(
        scratch: &Scratch,
        stage: &Stage,
        variant: &'a Variant,
        sources: &'a Sources,
        options: &RunOptions,
    ) -> Item<'a> {
        match variant.kind {
            Kind::Bug => Item {
                name: variant.name.clone(),
                sources,
                targets: variant
                    .caught_by
                    .iter()
                    .map(|id| id.target.clone())
                    .collect(),
                only: Some(variant.caught_by.as_slice()),
                repeat: options.repeat,
                short_watchdog: options.short_watchdog,
                require_tools: false,
            },
            Kind::Alternative => {
                Item::whole(scratch, stage, &variant.name, sources, options.repeat)
            }
        }
    }
}

/// Every test target of the stage (its `tests/*.rs`).
fn every_target(scratch: &Scratch, stage: &Stage) -> BTreeSet<String> {
    files::rust_files(&stage.exercise_dir(&scratch.root).join("tests"))
        .iter()
        .map(|file| file.trim_end_matches(".rs").to_owned())
        .collect()
}

/// Builds every item as a package of its own with one cargo run (see `batch.rs`; bugs that can
/// be, as modules of one crate: `bug_crate.rs`), then runs all their tests in one pool of
/// `jobs` workers. Per item: its run, or its compile errors.
pub fn build_and_run_items(
    scratch: &Scratch,
    stage: &Stage,
    items: &[Item<'_>],
    jobs: usize,
) -> Result<Vec<Result<Run, Problem>>> {
    build_and_run_items_with(scratch, stage, items, jobs, true)
}

fn build_and_run_items_with(
    scratch: &Scratch,
    stage: &Stage,
    items: &[Item<'_>],
    jobs: usize,
    merge: bool,
) -> Result<Vec<Result<Run, Problem>>> {
    let versions: Vec<Version<'_>> = items
        .iter()
        .map(|item| Version {
            name: &item.name,
            sources: item.sources,
            targets: item.targets.clone(),
            only: item.only,
        })
        .collect();
    let label = format!("{:02} {}", stage.order, stage.name);
    let built = timed(
        || format!("{label} build {} versions", versions.len()),
        || batch::build(scratch, stage, &versions, merge),
    )?;
    let (queue, outcomes) = queue_tests(scratch, items, &built)?;
    let runs = queue.len();
    let results = timed(
        || format!("{label} {runs} test runs"),
        || {
            runner::run_parallel(queue, jobs, |(index, job, dir, env)| {
                let result = runner::run_test(job, dir, env, stage.timeout_for(&job.id))?;
                Ok((*index, result))
            })
        },
    )?;
    if timings() {
        print_slowest(&label, items, &results);
    }
    let mut runs = item_runs(scratch, stage, items, &built, &results, outcomes);
    let again = judged_again(items, &runs, &results, &built);
    if !again.is_empty() {
        if timings() {
            eprintln!(
                "timing: {label}: {} versions judged again in packages of their own (a test \
                 failed in the bugs' crate that decides their verdict there)",
                again.len()
            );
        }
        let retried: Vec<Item<'_>> = again.iter().map(|&index| items[index].clone()).collect();
        let reruns = build_and_run_items_with(scratch, stage, &retried, jobs, false)?;
        for (index, rerun) in again.into_iter().zip(reruns) {
            runs[index] = rerun;
        }
    }
    Ok(runs)
}

/// Each item's run from the results of the pool (an item's are those with its index), its
/// messages naming the author's files: a merged test binary names its files by the absolute
/// paths of its `#[path]` modules, shown as cargo would, relative to the workspace
/// (`exercises/NN-name/tests/...`), and a copy of a file (`batch.rs`'s pruned ones,
/// `bug_crate.rs`'s) as the file it was made from.
fn item_runs(
    scratch: &Scratch,
    stage: &Stage,
    items: &[Item<'_>],
    built: &batch::Built,
    results: &[(usize, TestResult)],
    outcomes: Vec<Result<usize, Problem>>,
) -> Vec<Result<Run, Problem>> {
    let scratch_prefix = format!("{}/", scratch.root.display());
    let tests_dir = format!("{}/", scratch.exercise_dir(stage).join("tests").display());
    items
        .iter()
        .enumerate()
        .zip(outcomes)
        .map(|((index, item), outcome)| {
            let count = outcome?;
            let copies = match (&built.merged, built.packages.get(&item.name)) {
                (_, Some((_, dir))) => dir.join(batch::PRUNED),
                (Some(merged), None) => merged.tests_dir(&item.name),
                (None, None) => unreachable!("every item was built, as a package or a module"),
            };
            let copies = format!("{}/", copies.display());
            let all: Vec<TestResult> = results
                .iter()
                .filter(|(i, _)| *i == index)
                .map(|(_, result)| TestResult {
                    message: result
                        .message
                        .replace(&copies, &tests_dir)
                        .replace(&scratch_prefix, ""),
                    ..result.clone()
                })
                .collect();
            let warnings = built
                .packages
                .get(&item.name)
                .map(|_| built.build.warnings_of(&built.manifest(&item.name)))
                .unwrap_or_default();
            Ok(fold(all, count, warnings))
        })
        .collect()
}

/// The items of the bugs' crate whose verdict may not be taken from it (`bug_crate.rs`): a
/// bug judged by a test the guard (index `items.len()`) did not pass there, an alternative
/// that did not pass every test there.
fn judged_again(
    items: &[Item<'_>],
    runs: &[Result<Run, Problem>],
    results: &[(usize, TestResult)],
    built: &batch::Built,
) -> Vec<usize> {
    let Some(merged) = &built.merged else {
        return Vec::new();
    };
    let guard: BTreeSet<&TestId> = results
        .iter()
        .filter(|(i, result)| *i == items.len() && result.status.passed())
        .map(|(_, result)| &result.id)
        .collect();
    items
        .iter()
        .enumerate()
        .filter(|(index, item)| {
            if !merged.versions.contains(&item.name) {
                return false;
            }
            match item.only {
                Some(only) => only.iter().any(|id| !guard.contains(id)),
                None => !runs[*index]
                    .as_ref()
                    .is_ok_and(|run| run.results.iter().all(|r| r.status.passed())),
            }
        })
        .map(|(index, _)| index)
        .collect()
}

/// `XTASK_TIMINGS`: the test runs of one build, summed, and the slowest of them (which
/// version, which test, how it ended).
fn print_slowest(label: &str, items: &[Item<'_>], results: &[(usize, TestResult)]) {
    let total: Duration = results.iter().map(|(_, result)| result.elapsed).sum();
    eprintln!(
        "timing: {label} test runs took {:.1}s in all; the slowest:",
        total.as_secs_f64()
    );
    let mut slowest: Vec<&(usize, TestResult)> = results.iter().collect();
    slowest.sort_by_key(|(_, result)| std::cmp::Reverse(result.elapsed));
    for (index, result) in slowest.iter().take(8) {
        eprintln!(
            "timing:   {:.2}s {} {} ({})",
            result.elapsed.as_secs_f64(),
            // One index past the items: the bugs' crate's guard (`queue_tests`).
            items
                .get(*index)
                .map_or(bug_crate::REFERENCE, |item| item.name.as_str()),
            result.id,
            result.status.label()
        );
    }
}

/// Every test run the items need (`repeat` times each), and per item the number of its tests,
/// or its compile errors.
type Queue = Vec<(usize, runner::Listed, PathBuf, TestEnv)>;

fn queue_tests(
    scratch: &Scratch,
    items: &[Item<'_>],
    built: &batch::Built,
) -> Result<(Queue, Vec<Result<usize, Problem>>)> {
    let target_dir = scratch.target_dir.display().to_string();
    let test_env = |dir: &Path, package: &str| {
        TestEnv::new(&scratch.root, dir, package).with("CARGO_TARGET_DIR", &target_dir)
    };
    // The bugs' crate (`bug_crate.rs`) is listed once; its tests go to their versions, and the
    // guard's to one more index, `items.len()`.
    let (mut in_crate, crate_problem) = match &built.merged {
        Some(merged) => list_crate(built, merged, &test_env(&merged.dir, &merged.package)),
        None => (BTreeMap::new(), None),
    };
    let mut queue = Vec::new();
    let mut outcomes: Vec<Result<usize, Problem>> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let (dir, package, listed) = match (&built.merged, built.packages.get(&item.name)) {
            (Some(merged), None) => {
                if let Some(problem) = &crate_problem {
                    outcomes.push(Err(problem.clone()));
                    continue;
                }
                let listed = in_crate.get(&item.name).cloned().unwrap_or_default();
                (merged.dir.clone(), merged.package.clone(), Some(listed))
            }
            (_, Some((package, dir))) => (dir.clone(), package.clone(), None),
            (None, None) => unreachable!("every item was built, as a package or a module"),
        };
        let mut env = test_env(&dir, &package);
        if item.short_watchdog {
            env = env.with("HARNESS_WATCHDOG_MS", "1000");
        }
        if item.require_tools {
            env = env.with(tools::REQUIRED, "1");
        }
        let listed = match listed {
            Some(listed) => listed,
            None => {
                let manifest = built.manifest(&item.name);
                let binaries = built.build.binaries_of(&manifest);
                let errors = built.build.errors_of(&manifest);
                if !errors.is_empty() || binaries.is_empty() {
                    outcomes.push(Err(if errors.is_empty() {
                        built.build.stderr.clone().into()
                    } else {
                        errors.join("\n").into()
                    }));
                    continue;
                }
                runner::list_all(&binaries, &dir, &env)?
            }
        };
        let listed: Vec<runner::Listed> = listed
            .into_iter()
            .filter(|job| item.only.is_none_or(|only| only.contains(&job.id)))
            .collect();
        outcomes.push(Ok(listed.len()));
        for _ in 0..item.repeat.max(1) {
            for job in &listed {
                queue.push((index, job.clone(), dir.clone(), env.clone()));
            }
        }
    }
    if let (Some(merged), None) = (&built.merged, &crate_problem) {
        // The guard runs once, with the normal watchdog: it only has to pass.
        let env = test_env(&merged.dir, &merged.package);
        for job in in_crate.remove(bug_crate::REFERENCE).unwrap_or_default() {
            queue.push((items.len(), job, merged.dir.clone(), env.clone()));
        }
    }
    Ok((queue, outcomes))
}

/// The tests of the bugs' crate by version (`t_<version>::<file>::<test>`, each with the id
/// it has in its file), or why they could not be listed.
fn list_crate(
    built: &batch::Built,
    merged: &bug_crate::Merged,
    env: &TestEnv,
) -> (BTreeMap<String, Vec<runner::Listed>>, Option<Problem>) {
    let binaries = built.build.binaries_of(&merged.manifest());
    let mut in_crate: BTreeMap<String, Vec<runner::Listed>> = BTreeMap::new();
    match runner::list_all(&binaries, &merged.dir, env) {
        Ok(listed) => {
            for mut job in listed {
                if let Some((version, id)) = bug_crate::owner_of(&job.filter) {
                    let version = version.to_owned();
                    job.id = id;
                    in_crate.entry(version).or_default().push(job);
                }
            }
            (in_crate, None)
        }
        Err(err) => (in_crate, Some(format!("{err:#}").into())),
    }
}

/// Folds the repeats of `count` tests (run r of test i is at index r * count + i): each test's
/// result is its first failure, if any, and `failures` counts the runs that did not pass.
fn fold(all: Vec<TestResult>, count: usize, warnings: Vec<String>) -> Run {
    let repeats = all.len().checked_div(count).unwrap_or(1);
    let mut results: Vec<TestResult> = all[..count.min(all.len())].to_vec();
    let mut failures = vec![0usize; results.len()];
    for (index, result) in all.into_iter().enumerate() {
        let i = index % count.max(1);
        if !result.status.passed() {
            if failures[i] == 0 {
                results[i] = result;
            }
            failures[i] += 1;
        }
    }
    Run {
        warnings,
        results,
        failures,
        repeats,
    }
}

/// What one version of a stage did: its warnings and every test's result.
pub struct Run {
    pub warnings: Vec<String>,
    pub results: Vec<TestResult>,
    /// Per result: in how many of the runs the test did not pass.
    pub failures: Vec<usize>,
    /// How many times each test ran.
    pub repeats: usize,
}

/// Installs `sources` as the stage's `src/`, builds its tests (only the targets of `only`, if
/// given) and runs them `repeat` times, each in its own process. `Err(compile errors)` if it
/// did not compile. With repeats, each test's result is its first failure (if any), and
/// `failures` counts the runs that did not pass. With `only` (a known-bug variant, expected to
/// fail), in-test watchdogs are shortened so that a hang fails fast.
pub fn build_and_run(
    scratch: &Scratch,
    stage: &Stage,
    sources: &Sources,
    only: Option<&[TestId]>,
    repeat: usize,
    options: &RunOptions,
) -> Result<Result<Run, Problem>> {
    scratch.install(stage, sources)?;
    let targets: Vec<String> = only
        .map(|ids| {
            let set: BTreeSet<&str> = ids.iter().map(|id| id.target.as_str()).collect();
            set.into_iter().map(str::to_owned).collect()
        })
        .unwrap_or_default();
    let label = format!(
        "{:02} {} (in the exercise package)",
        stage.order, stage.name
    );
    let build = timed(
        || format!("{label} build"),
        || {
            cargo::build_tests_with(
                &scratch.root,
                &scratch.target_dir,
                &[stage.name.as_str(), features::PACKAGE],
                &targets,
                &[],
                true,
                cargo::BuildProfile::Scratch {
                    incremental: scratch.incremental,
                },
            )
        },
    )?;
    let package_dir = scratch.exercise_dir(stage);
    let manifest = package_dir.join("Cargo.toml");
    if !build.success {
        let mut text = build.errors_of(&manifest).join("\n");
        if text.trim().is_empty() {
            text = build.stderr.clone();
        }
        return Ok(Err(text.into()));
    }

    let target_dir = scratch.target_dir.display().to_string();
    // The compile-fail target runs trybuild: see `trybuild_cache::with_case_flags`.
    let mut env = trybuild_cache::with_case_flags(
        TestEnv::new(&scratch.root, &package_dir, &stage.name)
            .with("CARGO_TARGET_DIR", &target_dir),
    );
    if only.is_some() && options.short_watchdog {
        // A known-bug variant is expected to fail: let a hang fail fast (see harness::Watchdog).
        env = env.with("HARNESS_WATCHDOG_MS", "1000");
    }
    if options.require_tools {
        env = env.with(tools::REQUIRED, "1");
    }
    let binaries = build.binaries_of(&manifest);
    let jobs: Vec<runner::Listed> = runner::list_all(&binaries, &package_dir, &env)?
        .into_iter()
        .filter(|job| only.is_none_or(|only| only.contains(&job.id)))
        .collect();
    let count = jobs.len();
    let repeated: Vec<_> = jobs.iter().cycle().take(count * repeat.max(1)).collect();
    let runs = repeated.len();
    let all = timed(
        || format!("{label} {runs} test runs"),
        || {
            runner::run_parallel(repeated, options.jobs, |job| {
                runner::run_test(job, &package_dir, &env, stage.timeout_for(&job.id))
            })
        },
    )?;
    Ok(Ok(fold(all, count, build.warnings_of(&manifest))))
}

/// Each failed test with its status and message.
pub fn failures(run: &Run, repeat: usize) -> String {
    let mut detail = String::new();
    for (result, failed) in run.results.iter().zip(&run.failures) {
        if result.status.passed() {
            continue;
        }
        let flaky = if *failed < repeat {
            format!(", FLAKY: failed {failed} of {repeat} runs")
        } else {
            String::new()
        };
        let _ = writeln!(detail, "{} ({}{flaky})", result.id, result.status.label());
        for line in result.message.lines() {
            let _ = writeln!(detail, "    {line}");
        }
    }
    detail.trim_end().to_owned()
}
