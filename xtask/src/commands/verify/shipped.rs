//! The `files` column: everything a stage must ship, and names that must be real tests.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::table::{Progress, StageReport};
use crate::course::variant::{self, Kind, Variant};
use crate::course::{Stage, TestId, testscan};
use crate::exec::features;
use crate::files::{self, Sources};
use crate::outcome::Problem;

/// Names the declaration and the variants use must be tests; the grader's scan of the test
/// files must agree with what the binaries list.
pub(super) fn check_names(
    root: &Path,
    stage: &Stage,
    tests: Option<&[TestId]>,
    variants: &[Variant],
    report: &mut StageReport,
    progress: &Progress,
) {
    let Some(tests) = tests else {
        report.record(
            "files",
            false,
            "test names not checked: the solution did not build",
            "",
            progress,
        );
        return;
    };
    let mut unknown = Vec::new();
    for id in stage.weights.keys() {
        if !tests.iter().any(|t| t.to_string() == *id) {
            unknown.push(format!("[weights] names `{id}`, which is not a test"));
        }
    }
    for variant in variants {
        for id in &variant.caught_by {
            if !tests.contains(id) {
                unknown.push(format!(
                    "{} names `{id}`, which is not a test",
                    variant.label()
                ));
            }
        }
    }
    // The grader reads the expected tests from the test files (it needs them even when a
    // submission does not compile); that reading must agree with what the binaries list.
    let scanned: BTreeSet<TestId> = testscan::scan(&stage.exercise_dir(root))
        .into_iter()
        .collect();
    let listed: BTreeSet<TestId> = tests.iter().cloned().collect();
    for id in scanned.symmetric_difference(&listed) {
        unknown.push(format!(
            "`{id}`: the grader's scan of tests/*.rs and the test binaries disagree (keep \
             #[test] functions at the top level of the test files)"
        ));
    }
    if unknown.is_empty() {
        report.record(
            "files",
            true,
            "every test named in [weights] and caught-by exists",
            "",
            progress,
        );
    } else {
        report.record(
            "files",
            false,
            "names that match no test",
            &unknown.join("\n"),
            progress,
        );
    }
}

/// Everything a stage must ship. Returns the variants that loaded, and the problems.
pub(super) fn check_files(root: &Path, stage: &Stage) -> (Vec<Variant>, Vec<String>) {
    let mut problems = Vec::new();
    let exercise = stage.exercise_dir(root);
    let solution = stage.solution_dir(root);

    if !exercise.join("README.md").is_file() {
        problems.push(format!("exercises/{}/README.md is missing", stage.dir));
    }
    match fs::read_to_string(exercise.join(&stage.hints)) {
        Ok(text) => {
            if let Err(problem) = check_hints(&text) {
                problems.push(format!(
                    "exercises/{}/{}: {problem}",
                    stage.dir, stage.hints
                ));
            }
        }
        Err(_) => problems.push(format!(
            "exercises/{}/{} is missing",
            stage.dir, stage.hints
        )),
    }
    let test_files = files::rust_files(&exercise.join("tests"));
    if test_files.is_empty() {
        problems.push(format!("exercises/{}/tests/ has no test files", stage.dir));
    }
    if !files::read_sources(&exercise)
        .map(|src| {
            src.values()
                .any(|f| String::from_utf8_lossy(f).contains("todo!("))
        })
        .unwrap_or(false)
    {
        problems.push(format!(
            "exercises/{}/src has no todo!(): the stub should leave the work to the learner",
            stage.dir
        ));
    }
    if let Err(err) = check_manifests(root, stage, &test_files) {
        problems.push(format!("{err:#}"));
    }
    if let (Ok(stub), Ok(reference)) = (
        files::read_sources(&exercise),
        files::read_sources(&solution),
    ) {
        problems.extend(check_given(&stage.dir, &stage.given, &stub, &reference));
    }

    let mut variants = Vec::new();
    for kind in [Kind::Bug, Kind::Alternative] {
        for loaded in variant::load_all(root, stage, kind) {
            match loaded {
                Ok(variant) => variants.push(variant),
                Err(err) => problems.push(format!("{err:#}")),
            }
        }
    }
    if !solution.join("src").is_dir() {
        problems.push(format!("solutions/{}/src is missing", stage.dir));
    }
    (variants, problems)
}

/// Hints are `## Hint 1: ...`, `## Hint 2: ...`, numbered from 1 without gaps.
pub fn check_hints(text: &str) -> Result<usize, Problem> {
    let mut count = 0;
    for line in text.lines().filter(|l| l.starts_with("## ")) {
        let expected = format!("## Hint {}:", count + 1);
        if !line.starts_with(&expected) {
            return Err(format!("expected a heading `{expected} <title>`, found `{line}`").into());
        }
        count += 1;
    }
    if count == 0 {
        return Err("no hints (headings `## Hint 1: <title>`, `## Hint 2: ...`)"
            .to_owned()
            .into());
    }
    Ok(count)
}

/// The exercise package is named as declared; the solution package is named as declared, has
/// the exercise's library name, and runs exactly the exercise's test files.
pub(super) fn check_manifests(root: &Path, stage: &Stage, test_files: &[String]) -> Result<()> {
    let read = |path: PathBuf| -> Result<toml::Table> {
        let text =
            fs::read_to_string(&path).with_context(|| format!("{} is missing", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
    };
    let exercise = read(stage.exercise_dir(root).join("Cargo.toml"))?;
    let solution = read(stage.solution_dir(root).join("Cargo.toml"))?;
    let package_name = |manifest: &toml::Table| -> Option<String> {
        manifest
            .get("package")?
            .get("name")?
            .as_str()
            .map(str::to_owned)
    };
    let lib_name = |manifest: &toml::Table| -> Option<String> {
        let explicit = manifest.get("lib").and_then(|lib| lib.get("name"));
        match explicit {
            Some(name) => name.as_str().map(str::to_owned),
            None => package_name(manifest).map(|name| name.replace('-', "_")),
        }
    };
    let mut problems = Vec::new();
    if package_name(&exercise).as_deref() != Some(stage.name.as_str()) {
        problems.push(format!(
            "exercises/{}/Cargo.toml: the package must be named `{}` (exercise.toml `name`)",
            stage.dir, stage.name
        ));
    }
    if package_name(&solution).as_deref() != Some(stage.solution.as_str()) {
        problems.push(format!(
            "solutions/{}/Cargo.toml: the package must be named `{}` (exercise.toml `solution`)",
            stage.dir, stage.solution
        ));
    }
    if lib_name(&exercise) != lib_name(&solution) {
        problems.push(format!(
            "solutions/{}/Cargo.toml: [lib] name must be `{}`, the exercise's library name, so \
             the shared tests can `use` it",
            stage.dir,
            lib_name(&exercise).unwrap_or_default()
        ));
    }
    if let Some(text) = check_test_list(stage, &solution, test_files) {
        problems.push(text);
    }
    // verify builds every stage with the workspace's features (exec/features.rs): a stage
    // that added its own could pass here and not compile for a learner.
    for (dir, manifest) in [("exercises", &exercise), ("solutions", &solution)] {
        for problem in features::features_added_by(manifest) {
            problems.push(format!("{dir}/{}/Cargo.toml: {problem}", stage.dir));
        }
    }
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// The solution's `[[test]]` list must be exactly the exercise's test files (but
/// `overlay_only` ones); if not, what to add or remove.
fn check_test_list(stage: &Stage, solution: &toml::Table, test_files: &[String]) -> Option<String> {
    let declared: BTreeSet<(String, String)> = solution
        .get("test")
        .and_then(|t| t.as_array())
        .map(|tests| {
            tests
                .iter()
                .filter_map(|t| Some((t.get("name")?.as_str()?, t.get("path")?.as_str()?)))
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let expected: BTreeSet<(String, String)> = test_files
        .iter()
        .filter(|file| {
            !stage
                .overlay_only
                .contains(&file.trim_end_matches(".rs").to_owned())
        })
        .map(|file| {
            let name = file.trim_end_matches(".rs").to_owned();
            (name, format!("../../exercises/{}/tests/{file}", stage.dir))
        })
        .collect();
    if declared == expected {
        return None;
    }
    let mut text = format!(
        "solutions/{}/Cargo.toml must run exactly the exercise's test files (except \
         `overlay_only` ones); add or fix:",
        stage.dir
    );
    for (name, path) in expected.difference(&declared) {
        let _ = write!(
            text,
            "\n    [[test]]\n    name = \"{name}\"\n    path = \"{path}\""
        );
    }
    for (name, _) in declared.difference(&expected) {
        let _ = write!(text, "\n    (remove [[test]] `{name}`: no such test file)");
    }
    Some(text)
}

/// A file given whole to the learner (`given` in `exercise.toml`: Stage 6's `mpsc.rs`, say)
/// has nothing to write in it, so the stub's copy and the reference's must be the same bytes:
/// otherwise the learner starts from a file the tests were never run against.
fn check_given(dir: &str, given: &[String], stub: &Sources, reference: &Sources) -> Vec<String> {
    let mut problems = Vec::new();
    for path in given {
        let key = PathBuf::from(path);
        let (exercise, solution) = (
            format!("exercises/{dir}/{path}"),
            format!("solutions/{dir}/{path}"),
        );
        match (stub.get(&key), reference.get(&key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                let line = a
                    .split(|c| *c == b'\n')
                    .zip(b.split(|c| *c == b'\n'))
                    .position(|(x, y)| x != y)
                    .map_or_else(
                        || "one is longer".to_owned(),
                        |i| format!("first at line {}", i + 1),
                    );
                problems.push(format!(
                    "{exercise} is given whole (exercise.toml `given`) but differs from \
                     {solution} ({line}): make them the same file"
                ));
            }
            (None, _) => problems.push(format!(
                "{exercise} is listed in exercise.toml `given` but does not exist"
            )),
            (_, None) => problems.push(format!(
                "{exercise} is given whole (exercise.toml `given`) but {solution} does not exist"
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> Sources {
        crate::files::sources_of(files)
    }

    #[test]
    fn a_file_given_whole_is_the_same_in_stub_and_reference() {
        let given = vec!["src/mpsc.rs".to_owned()];
        let stub = sources(&[("src/lib.rs", "todo!()"), ("src/mpsc.rs", "a\nb\n")]);
        let same = sources(&[("src/lib.rs", "done"), ("src/mpsc.rs", "a\nb\n")]);
        assert!(check_given("06-channels", &given, &stub, &same).is_empty());
        let edited = sources(&[("src/lib.rs", "done"), ("src/mpsc.rs", "a\nc\n")]);
        let problems = check_given("06-channels", &given, &stub, &edited);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("exercises/06-channels/src/mpsc.rs is given whole")
                && problems[0].contains("first at line 2"),
            "{problems:?}"
        );
        let missing = sources(&[("src/lib.rs", "done")]);
        assert!(check_given("06-channels", &given, &stub, &missing)[0].contains("does not exist"));
    }
}
