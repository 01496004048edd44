//! Writing known-bug variants and alternatives: `cargo xtask bug new|save` (and `alt
//! new|save`, the same for alternatives).
//!
//! `new` puts the reference solution (or, if the variant exists and still applies, the
//! reference with it) into the exercise package, so the author edits ordinary files and runs
//! `cargo test -p <stage>` as a learner would. `save` writes the patch from the edit (the diff
//! of `exercises/NN/src` against `solutions/NN/src`), puts the stub back (from git `HEAD`),
//! and checks the variant as `verify` does.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};

use crate::course::pristine;
use crate::course::standing::backup_dir;
use crate::course::variant::{self, Kind, Variant};
use crate::course::{Course, Stage, TestId};
use crate::exec::verdict;
use crate::exec::versions::{self, RunOptions};
use crate::files::{self, Sources, write_tree};
use crate::outcome::Outcome;
use crate::ui;

/// `bug|alt new|save STAGE NAME [options]`.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Put the reference (or the reference with this variant) into exercises/NN/src to edit
    New {
        /// The stage (name, directory or number)
        stage: String,
        /// The variant's name, snake_case (what the mistake is: timer_keeps_the_first_waker)
        name: String,
    },
    /// Write the patch from your edit, put the stub back, check the variant
    Save(SaveArgs),
}

/// What `bug save` (or `alt save`) was told.
#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    /// The stage (name, directory or number)
    pub stage: String,
    /// The variant's name, snake_case (as given to `new`)
    pub name: String,
    /// A test that must fail with the bug in place; repeatable (bugs only)
    #[arg(long = "caught-by", value_name = "TEST")]
    pub caught_by: Vec<String>,
    /// One line: the mistake (or the design)
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// A short teaching note
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Save as an alternative instead of a bug
    #[arg(long)]
    pub alternative: bool,
}

/// `bug ACTION` (`kind` is `Bug`) or `alt ACTION` (`Alternative`).
pub fn run(root: &Path, kind: Kind, action: &Action) -> Result<Outcome> {
    match action {
        Action::New { stage, name } => new(root, kind, stage, name),
        Action::Save(args) if args.alternative => save(root, Kind::Alternative, args),
        Action::Save(args) => save(root, kind, args),
    }
}

fn patch_path(root: &Path, stage: &Stage, kind: Kind, name: &str) -> std::path::PathBuf {
    stage
        .solution_dir(root)
        .join(kind.folder())
        .join(format!("{name}.patch"))
}

fn check_name(name: &str) -> Result<()> {
    ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "`{name}`: variant names are snake_case (what the mistake is: `timer_keeps_the_first_waker`)"
    );
    Ok(())
}

/// `cargo xtask bug new STAGE NAME`.
fn new(root: &Path, kind: Kind, stage: &str, name: &str) -> Result<Outcome> {
    check_name(name)?;
    let course = Course::load(root)?;
    let stage = course.select(&[stage.to_owned()])?[0];
    let reference = files::read_sources(&stage.solution_dir(root))?;
    let path = patch_path(root, stage, kind, name);
    let mut applied = false;
    let start = if path.is_file() {
        let existing = Variant::load(&path, kind)?;
        match existing.apply(&reference) {
            Ok(sources) => {
                println!("Editing the existing {}.", existing.label());
                applied = true;
                sources
            }
            Err(err) => {
                // The reference moved on: start from it, and show the old change to redo.
                println!(
                    "{} {} no longer applies ({}).\nStarting from the plain reference; the \
                     change to make again was:\n",
                    ui::red("note:"),
                    existing.label(),
                    format!("{err:#}")
                        .split(": ")
                        .nth(2)
                        .and_then(|reason| reason.split(';').next())
                        .unwrap_or("the reference changed")
                        .to_owned()
                );
                println!("{}", existing.diff);
                reference
            }
        }
    } else {
        reference
    };
    let crate_root = stage.exercise_dir(root);
    let current = files::read_sources(&crate_root).unwrap_or_default();
    let stub = pristine::sources(root, stage).ok();
    if Some(&current) != stub.as_ref() && !current.is_empty() {
        let backup = backup_dir(root, stage);
        write_tree(&backup, &current)?;
        println!(
            "exercises/{}/src was not the stub; it is kept in {}",
            stage.dir,
            backup.display()
        );
    }
    replace_src(&crate_root, &start)?;
    let command = match kind {
        Kind::Bug => "bug",
        Kind::Alternative => "alt",
    };
    let what = match kind {
        Kind::Bug => "--description \"<the mistake, one line>\" --caught-by \
                      <test_file>::<test> [--caught-by ...] [--note \"<why it is wrong>\"]"
            .to_owned(),
        Kind::Alternative => "--description \"<the design, one line>\" [--note \"<why it is \
                              also right>\"]"
            .to_owned(),
    };
    println!(
        "exercises/{dir}/src now holds the reference{with}. Make the change, try it with\n    \
         cargo test -p {name_pkg}\nthen write the patch (this also puts the stub back and checks \
         the variant):\n    cargo xtask {command} save {stage} {name} {what}",
        dir = stage.dir,
        with = if applied {
            " with the variant applied"
        } else {
            ""
        },
        name_pkg = stage.name,
        stage = stage.name,
    );
    Ok(Outcome::Passed)
}

/// `cargo xtask bug save STAGE NAME [--caught-by TEST]... [--description TEXT] [--note TEXT]`.
fn save(root: &Path, kind: Kind, options: &SaveArgs) -> Result<Outcome> {
    let name = options.name.as_str();
    check_name(name)?;
    let course = Course::load(root)?;
    let stage = course.select(std::slice::from_ref(&options.stage))?[0];
    let reference = files::read_sources(&stage.solution_dir(root))?;
    let crate_root = stage.exercise_dir(root);
    let edited = files::read_sources(&crate_root)?;
    let stub = pristine::sources(root, stage)?;
    ensure!(
        edited != stub,
        "exercises/{}/src is the stub: start with `cargo xtask {} new {} {name}`",
        stage.dir,
        match kind {
            Kind::Bug => "bug",
            Kind::Alternative => "alt",
        },
        stage.name
    );
    let diff = variant::diff(&reference, &edited);
    if diff.is_empty() {
        bail!(
            "exercises/{}/src is the reference, unchanged: nothing to save",
            stage.dir
        );
    }
    let path = patch_path(root, stage, kind, name);
    let existing = if path.is_file() {
        Some(Variant::load(&path, kind)?)
    } else {
        None
    };
    if kind == Kind::Bug && options.caught_by.is_empty() && existing.is_none() {
        return suggest_caught_by(root, stage, &edited, name);
    }
    let (description, caught_by, note) = header(kind, options, existing.as_ref())?;
    let text = variant::render(kind, &description, &caught_by, &note, &diff);
    let variant = Variant::parse(name, &text, kind)?;
    fs::create_dir_all(path.parent().expect("a patch has a folder"))?;
    fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    replace_src(&crate_root, &stub)?;
    println!(
        "wrote solutions/{}/{} ({} lines); exercises/{}/src is the stub again",
        stage.dir,
        variant.label(),
        text.lines().count(),
        stage.dir
    );
    ui::heading(&format!("checking {} as verify does", variant.label()));
    let outcome = check_as_verify_does(root, stage, &variant)?;
    if outcome == Outcome::Failed {
        println!(
            "The patch is saved, but the check failed (above). `cargo xtask {} new {} {name}` \
             reopens it.",
            match kind {
                Kind::Bug => "bug",
                Kind::Alternative => "alt",
            },
            stage.name
        );
    }
    Ok(outcome)
}

/// Checks the one variant `save` wrote as verify does (applies, builds, caught; or, for an
/// alternative, passes everything), printing verify's line for it.
fn check_as_verify_does(root: &Path, stage: &Stage, variant: &Variant) -> Result<Outcome> {
    let solution = files::read_sources(&stage.solution_dir(root))?;
    let scratch = versions::stage_scratch(root, stage)?;
    let options = RunOptions::per_core(true);
    let (verdict, patched_fmt) =
        verdict::check_variant(&scratch, stage, &solution, variant, &options)?;
    ui::line(
        &format!(
            "[  1/1] {:02} {} {}",
            stage.order, stage.name, verdict.column
        ),
        verdict.ok,
        &verdict.what,
        &verdict.detail,
    );
    if !patched_fmt.is_empty() {
        ui::detail(&format!(
            "rustfmt --check on the patched files (format your edit):\n{patched_fmt}"
        ));
    }
    Ok(Outcome::of(verdict.ok && patched_fmt.is_empty()))
}

/// A new bug saved without `--caught-by`: run every test with the edit in place and list
/// the ones that fail, to choose from. Nothing is written; the edit stays where it is.
fn suggest_caught_by(root: &Path, stage: &Stage, edited: &Sources, name: &str) -> Result<Outcome> {
    println!(
        "No --caught-by given: running every test of {} with your edit...",
        stage.name
    );
    let scratch = versions::stage_scratch(root, stage)?;
    let options = RunOptions::per_core(true);
    let run = match versions::build_and_run(&scratch, stage, edited, None, 1, &options)? {
        Ok(run) => run,
        Err(errors) => {
            ui::detail(&errors);
            bail!("the edit does not compile; a bug must compile so that a test catches it");
        }
    };
    let failing: Vec<String> = run
        .results
        .iter()
        .filter(|r| !r.status.passed())
        .map(|r| format!("{} ({})", r.id, r.status.label()))
        .collect();
    if failing.is_empty() {
        println!(
            "Every test passes with this edit: no test catches it yet. Write the test first (or \
             is this an alternative? `cargo xtask alt save {} {name}`).",
            stage.name
        );
    } else {
        println!(
            "These tests fail with it; name the one(s) that teach this mistake with --caught-by:"
        );
        for test in failing {
            println!("    {test}");
        }
    }
    Ok(Outcome::Failed)
}

/// The header of the patch `save` writes: what the options say, else what the existing
/// patch said.
fn header(
    kind: Kind,
    options: &SaveArgs,
    existing: Option<&Variant>,
) -> Result<(String, Vec<TestId>, String)> {
    let description = options
        .description
        .clone()
        .or_else(|| existing.map(|v| v.description.clone()))
        .context("a new variant needs --description \"<one line>\"")?;
    let caught_by: Vec<TestId> = if options.caught_by.is_empty() {
        existing
            .as_ref()
            .map(|v| v.caught_by.clone())
            .unwrap_or_default()
    } else {
        options
            .caught_by
            .iter()
            .map(|id| TestId::parse(id))
            .collect::<Result<_>>()?
    };
    ensure!(
        kind == Kind::Alternative || !caught_by.is_empty(),
        "a bug needs --caught-by <test_file>::<test> (the test that must fail with it)"
    );
    ensure!(
        kind == Kind::Bug || caught_by.is_empty(),
        "an alternative passes every test: it takes no --caught-by"
    );
    let note = options
        .note
        .clone()
        .or_else(|| existing.map(|v| v.note.clone()))
        .unwrap_or_default();
    Ok((description, caught_by, note))
}

fn replace_src(crate_root: &Path, files: &Sources) -> Result<()> {
    let src = crate_root.join("src");
    if src.exists() {
        fs::remove_dir_all(&src).with_context(|| format!("cannot remove {}", src.display()))?;
    }
    write_tree(crate_root, files)
}
