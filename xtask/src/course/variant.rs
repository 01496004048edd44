//! Known-bug variants and valid alternatives: patches against a stage's reference solution.
//!
//! `solutions/NN-name/bugs/<name>.patch` and `solutions/NN-name/alternatives/<name>.patch` are
//! plain unified diffs whose preamble (everything before the first `--- ` line) holds a header
//! and an optional teaching note:
//!
//! ```text
//! bug: fire() wakes the task while still holding the timer's lock
//! caught-by: part1_timer::fire_wakes_outside_the_lock
//!
//! A waker may do anything, including re-entering the timer: take it out, drop the guard, wake.
//!
//! --- a/src/timer.rs
//! +++ b/src/timer.rs
//! @@ -40,7 +40,7 @@ impl Trigger {
//! ...
//! ```
//!
//! A bug names one or more tests (`caught-by`, repeatable) that must fail with it in place; an
//! alternative (`alternative: <what design this is>`) names none and must pass every test.
//! Paths are relative to the solution crate (`a/src/...`, `b/src/...`); a patch may change
//! several files, create one (`--- /dev/null`) or delete one (`+++ /dev/null`). Patches are
//! applied with `diffy`, exactly (no fuzz): a patch that no longer applies is reported with
//! the file and hunk that failed.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use diffy::patch_set::{FileOperation, ParseOptions, PatchSet};

use crate::course::{Stage, TestId};
use crate::files::Sources;

/// Which kind of variant a patch is; also the folder it lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Bug,
    Alternative,
}

impl Kind {
    /// The folder under `solutions/NN-name/`, and the header key.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Bug => "bugs",
            Kind::Alternative => "alternatives",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Kind::Bug => "bug",
            Kind::Alternative => "alternative",
        }
    }
}

/// Where the red team's corpus lives under `solutions/NN-name/`: `redteam/bugs/` and
/// `redteam/alternatives/`, judged by verify exactly as the hand-written ones are, but kept
/// apart because they are whole implementations written blind (see `solutions/redteam.md`),
/// not the small teaching diffs `cargo xtask mistakes` shows.
pub const REDTEAM: &str = "redteam";

/// One patch against the reference, with its header.
#[derive(Debug, Clone)]
pub struct Variant {
    pub kind: Kind,
    /// From the red team's corpus (`solutions/NN-name/redteam/`), not an author's teaching diff.
    pub redteam: bool,
    /// The file stem.
    pub name: String,
    /// The one-line header: what the bug is, or what design the alternative is.
    pub description: String,
    /// Free text between the header and the diff (why this is wrong / also right).
    pub note: String,
    /// The tests that must fail with this bug in place (empty for alternatives).
    pub caught_by: Vec<TestId>,
    /// The diff itself, from the first `--- ` line on.
    pub diff: String,
}

/// Every variant of `kind` kept beside the stage's solution, in name order. A variant whose
/// header cannot be read is an error naming the file.
pub fn load_all(root: &Path, stage: &Stage, kind: Kind) -> Vec<Result<Variant>> {
    let solution = stage.solution_dir(root);
    let mut all = load_dir(&solution.join(kind.folder()), stage, kind, false);
    all.extend(load_dir(
        &solution.join(REDTEAM).join(kind.folder()),
        stage,
        kind,
        true,
    ));
    all
}

fn load_dir(dir: &Path, stage: &Stage, kind: Kind, redteam: bool) -> Vec<Result<Variant>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            ensure!(
                path.extension().is_some_and(|ext| ext == "patch"),
                "solutions/{}/{}{}/{}: variants are patches against the reference \
                 (`<name>.patch`, see ARCHITECTURE.md \"Known-bug variants\")",
                stage.dir,
                if redteam { "redteam/" } else { "" },
                kind.folder(),
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let mut variant = Variant::load(&path, kind)?;
            if redteam {
                // One namespace with the authors' variants (each becomes a package in verify's
                // scratch): the corpus's names all start with `rt_`.
                ensure!(
                    variant.name.starts_with("rt_"),
                    "solutions/{}/redteam/{}/{}.patch: red-team variants are named `rt_...`",
                    stage.dir,
                    kind.folder(),
                    variant.name
                );
                variant.redteam = true;
            }
            Ok(variant)
        })
        .collect()
}

impl Variant {
    pub fn load(path: &Path, kind: Kind) -> Result<Variant> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        Variant::parse(&name, &text, kind).with_context(|| shown_path(path))
    }

    /// Reads the preamble and checks that the diff parses.
    pub fn parse(name: &str, text: &str, kind: Kind) -> Result<Variant> {
        let start = diff_start(text).context("no diff: the patch has no `--- a/src/...` line")?;
        let (preamble, diff) = text.split_at(start);
        let mut description = String::new();
        let mut caught_by = Vec::new();
        let mut note = String::new();
        let mut in_header = true;
        for line in preamble.lines() {
            if in_header {
                match line.split_once(':') {
                    Some((key, value)) if key == kind.key() => {
                        description = value.trim().to_owned();
                        continue;
                    }
                    Some(("caught-by", value)) => {
                        caught_by
                            .push(TestId::parse(value.trim()).context("bad `caught-by` line")?);
                        continue;
                    }
                    Some((key, _)) if matches!(key, "bug" | "alternative") => {
                        bail!(
                            "`{key}:` header in {}/: expected `{}:`",
                            kind.folder(),
                            kind.key()
                        )
                    }
                    _ => in_header = false,
                }
            }
            note.push_str(line);
            note.push('\n');
        }
        ensure!(
            !description.is_empty(),
            "the preamble has no `{}: <one line>` header",
            kind.key()
        );
        match kind {
            Kind::Bug => ensure!(
                !caught_by.is_empty(),
                "the preamble has no `caught-by: <test_file>::<test_name>` line"
            ),
            Kind::Alternative => ensure!(
                caught_by.is_empty(),
                "an alternative passes every test; it has no `caught-by`"
            ),
        }
        let variant = Variant {
            kind,
            redteam: false,
            name: name.to_owned(),
            description,
            note: note.trim().to_owned(),
            caught_by,
            diff: diff.to_owned(),
        };
        variant.files()?;
        Ok(variant)
    }

    /// `bugs/name.patch`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{}.patch", self.kind.folder(), self.name)
    }

    /// The files this patch touches, as (operation, path relative to the crate root).
    fn files(&self) -> Result<Vec<(Op, PathBuf, diffy::Patch<'_, str>)>> {
        let mut files = Vec::new();
        for (index, patch) in PatchSet::parse(&self.diff, ParseOptions::unidiff()).enumerate() {
            let patch = patch.map_err(|err| {
                anyhow::anyhow!("the diff does not parse (file #{}): {err}", index + 1)
            })?;
            let (op, path) = match patch.operation() {
                FileOperation::Create(path) => (Op::Create, crate_path(path)?),
                FileOperation::Delete(path) => (Op::Delete, crate_path(path)?),
                FileOperation::Modify { original, modified } => {
                    let (from, to) = (crate_path(original)?, crate_path(modified)?);
                    ensure!(
                        from == to,
                        "`--- {original}` and `+++ {modified}` name different files"
                    );
                    (Op::Modify, from)
                }
                _ => bail!("renames and copies are not supported; use a delete and a create"),
            };
            let text = patch
                .patch()
                .as_text()
                .context("binary patches are not supported")?
                .clone();
            files.push((op, path, text));
        }
        ensure!(!files.is_empty(), "the diff changes no file");
        Ok(files)
    }

    /// The reference with this patch applied. The error names the file and the hunk that no
    /// longer applies.
    pub fn apply(&self, reference: &Sources) -> Result<Sources> {
        let mut sources = reference.clone();
        for (op, path, patch) in self.files()? {
            let shown = path.display();
            match op {
                Op::Create => {
                    ensure!(
                        !sources.contains_key(&path),
                        "{}: creates {shown}, which the reference already has",
                        self.label()
                    );
                    let text = diffy::apply("", &patch)
                        .map_err(|_| anyhow::anyhow!("{}: cannot create {shown}", self.label()))?;
                    sources.insert(path, text.into_bytes());
                }
                Op::Delete => {
                    ensure!(
                        sources.remove(&path).is_some(),
                        "{}: deletes {shown}, which the reference does not have",
                        self.label()
                    );
                }
                Op::Modify => {
                    let base = sources.get(&path).with_context(|| {
                        format!(
                            "{}: changes {shown}, which the reference does not have",
                            self.label()
                        )
                    })?;
                    let base = String::from_utf8_lossy(base).into_owned();
                    let patched = diffy::apply(&base, &patch).map_err(|err| {
                        let number = err
                            .to_string()
                            .rsplit('#')
                            .next()
                            .and_then(|n| n.parse::<usize>().ok());
                        let hunk = number
                            .and_then(|n| patch.hunks().get(n - 1))
                            .map(|hunk| {
                                let old = hunk.old_range();
                                format!(" (@@ -{},{} @@)", old.start(), old.len())
                            })
                            .unwrap_or_default();
                        anyhow::anyhow!(
                            "{}: does not apply to the reference: {shown}, {err}{hunk}; the \
                             reference changed under it: redo the change with `cargo xtask {} \
                             new STAGE {}` (it shows the old diff), then `save`",
                            self.label(),
                            match self.kind {
                                Kind::Bug => "bug",
                                Kind::Alternative => "alt",
                            },
                            self.name
                        )
                    })?;
                    sources.insert(path, patched.into_bytes());
                }
            }
        }
        Ok(sources)
    }

    /// The patch file's full text: header, note, diff.
    #[cfg(test)]
    pub fn to_text(&self) -> String {
        render(
            self.kind,
            &self.description,
            &self.caught_by,
            &self.note,
            &self.diff,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Delete,
    Modify,
}

/// The byte offset of the first line that starts with `--- `.
fn diff_start(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("--- ") {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// `a/src/x.rs` (maybe followed by a tab and a timestamp) -> `src/x.rs`.
fn crate_path(raw: &str) -> Result<PathBuf> {
    let raw = raw.split('\t').next().unwrap_or(raw).trim();
    let path = raw
        .strip_prefix("a/")
        .or_else(|| raw.strip_prefix("b/"))
        .with_context(|| format!("`{raw}`: paths start with a/ or b/ (a/src/lib.rs)"))?;
    ensure!(
        path.starts_with("src/") && !path.split('/').any(|part| part == ".." || part.is_empty()),
        "`{raw}`: a patch may only change files under src/"
    );
    Ok(PathBuf::from(path))
}

fn shown_path(path: &Path) -> String {
    let parts: Vec<_> = path.iter().collect();
    let tail = parts.len().saturating_sub(4);
    parts[tail..]
        .iter()
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A patch file's text.
pub fn render(
    kind: Kind,
    description: &str,
    caught_by: &[TestId],
    note: &str,
    diff: &str,
) -> String {
    let mut text = format!("{}: {description}\n", kind.key());
    for id in caught_by {
        let _ = writeln!(text, "caught-by: {id}");
    }
    if !note.trim().is_empty() {
        let _ = write!(text, "\n{}\n", note.trim());
    }
    text.push('\n');
    text.push_str(diff);
    text
}

/// The unified diff that turns `reference` into `edited`, paths `a/src/...`, `b/src/...`.
pub fn diff(reference: &Sources, edited: &Sources) -> String {
    let mut out = String::new();
    let paths: std::collections::BTreeSet<&PathBuf> =
        reference.keys().chain(edited.keys()).collect();
    for path in paths {
        let shown = path.display();
        let (old, new) = (reference.get(path), edited.get(path));
        if old == new {
            continue;
        }
        let old_text = old.map(|b| String::from_utf8_lossy(b).into_owned());
        let new_text = new.map(|b| String::from_utf8_lossy(b).into_owned());
        let mut options = diffy::DiffOptions::new();
        options
            .set_original_filename(match old {
                Some(_) => format!("a/{shown}"),
                None => "/dev/null".to_owned(),
            })
            .set_modified_filename(match new {
                Some(_) => format!("b/{shown}"),
                None => "/dev/null".to_owned(),
            });
        let patch = options.create_patch(
            old_text.as_deref().unwrap_or(""),
            new_text.as_deref().unwrap_or(""),
        );
        out.push_str(&patch.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> Sources {
        crate::files::sources_of(files)
    }

    const LIB: &str = "pub fn a() -> u32 {\n    1\n}\n\npub fn b() -> u32 {\n    2\n}\n";

    #[test]
    fn headers_and_note_are_read_from_the_preamble() {
        let text = "bug: a returns two\ncaught-by: t::one\ncaught-by: t::m::two\n\nWhy: \
                    because.\nSecond line.\n\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 \
                    @@\n pub fn a() -> u32 {\n-    1\n+    2\n }\n";
        let bug = Variant::parse("a_two", text, Kind::Bug).unwrap();
        assert_eq!(bug.description, "a returns two");
        assert_eq!(bug.note, "Why: because.\nSecond line.");
        let ids: Vec<String> = bug.caught_by.iter().map(ToString::to_string).collect();
        assert_eq!(ids, ["t::one", "t::m::two"]);
        let patched = bug.apply(&sources(&[("src/lib.rs", LIB)])).unwrap();
        assert!(
            String::from_utf8_lossy(&patched[Path::new("src/lib.rs")])
                .contains("    2\n}\n\npub fn b")
        );
        assert_eq!(bug.to_text(), text);
    }

    #[test]
    fn a_patch_may_change_several_files_and_create_one() {
        let reference = sources(&[("src/lib.rs", LIB), ("src/x.rs", "one\ntwo\n")]);
        let mut edited = reference.clone();
        edited.insert("src/x.rs".into(), b"one\nthree\n".to_vec());
        edited.insert("src/new.rs".into(), b"fresh\n".to_vec());
        edited.remove(Path::new("src/lib.rs"));
        let text = render(
            Kind::Alternative,
            "a design",
            &[],
            "",
            &diff(&reference, &edited),
        );
        let alt = Variant::parse("d", &text, Kind::Alternative).unwrap();
        assert_eq!(alt.apply(&reference).unwrap(), edited);
    }

    #[test]
    fn a_patch_that_no_longer_applies_names_the_file_and_hunk() {
        let text = "bug: x\ncaught-by: t::x\n\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -5,3 +5,3 \
                    @@\n pub fn b() -> u32 {\n-    3\n+    4\n }\n";
        let bug = Variant::parse("x", text, Kind::Bug).unwrap();
        let err = format!(
            "{:#}",
            bug.apply(&sources(&[("src/lib.rs", LIB)])).unwrap_err()
        );
        assert!(err.contains("src/lib.rs"), "{err}");
        assert!(err.contains("hunk #1 (@@ -5,3 @@)"), "{err}");
    }

    #[test]
    fn bad_headers_are_refused() {
        let diff = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n";
        let no_test = format!("bug: x\n\n{diff}");
        assert!(Variant::parse("x", &no_test, Kind::Bug).is_err());
        let alt_with_test = format!("alternative: x\ncaught-by: t::x\n\n{diff}");
        assert!(Variant::parse("x", &alt_with_test, Kind::Alternative).is_err());
        let outside =
            "bug: x\ncaught-by: t::x\n\n--- a/Cargo.toml\n+++ b/Cargo.toml\n@@ -1 +1 @@\n-a\n+b\n";
        assert!(Variant::parse("x", outside, Kind::Bug).is_err());
    }
}
