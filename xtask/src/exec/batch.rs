//! Building many versions of a stage with one cargo invocation.
//!
//! Swapping versions in and out of the exercise package costs one cargo run per version, one
//! after the other. Here each version becomes a package of its own in the stage's scratch
//! workspace, `target/versions/<NN-name>/<version>/` (under `target/`, which the scratch's
//! mirroring never touches, so a version's files keep their modification times between runs
//! and an unchanged version is never rebuilt). A version package has the exercise's manifest
//! under another package name, the exercise's library name, and one `[[test]]` per test file it
//! needs, pointing at the exercise's own test files; one `cargo build` then builds every
//! version at once, in parallel, with `--keep-going` so that one that does not compile costs
//! only itself.
//!
//! With the reference in the same build, the bugs that can be are not packages but modules of
//! one crate (`bug_crate.rs`): two crates per bug cost mostly fixed work.
//!
//! Only for versions whose tests do not depend on the package's path: compile-fail
//! (`overlay_only`) targets print paths relative to the package running them, so versions that
//! need them are still built in the exercise package itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::course::{Stage, TestId};
use crate::exec::bug_crate;
use crate::exec::cargo::{self, Build};
use crate::exec::features;
use crate::exec::prune;
use crate::exec::runner;
use crate::exec::scratch::Scratch;
use crate::exec::version::{Version, can_be_a_module, remove_entry, sync_src};
use crate::files::write_if_changed;

/// Where the versions were written and what the one build produced.
pub struct Built {
    pub build: Build,
    /// Version name -> (package name, package directory), for the versions built as packages.
    pub packages: BTreeMap<String, (String, PathBuf)>,
    /// The bugs built as modules of one crate instead (`bug_crate.rs`), if any.
    pub merged: Option<bug_crate::Merged>,
}

impl Built {
    pub fn manifest(&self, version: &str) -> PathBuf {
        self.packages[version].1.join("Cargo.toml")
    }
}

/// Where a version package keeps its pruned test files (see `test_targets`).
pub const PRUNED: &str = "pruned";

/// Setting this variable (to anything) builds every bug in a package of its own, as before
/// `bug_crate.rs` (to compare, or to rule the crate out).
pub const NO_BUG_CRATE: &str = "XTASK_NO_BUG_CRATE";

/// Writes every version as a package of the scratch workspace and builds them all at once.
/// With `merge` and the reference among them (`_solution`), the bugs that can be are built as
/// modules of one crate instead (`bug_crate.rs`). `merge: false` is for a second build in the
/// same run: every version a package, and the first build's packages left in place.
pub fn build(
    scratch: &Scratch,
    stage: &Stage,
    versions: &[Version<'_>],
    merge: bool,
) -> Result<Built> {
    let layout = Layout::of(scratch, stage)?;
    // The guard of the bugs' crate is the reference: no reference, no crate.
    let reference = versions.iter().find(|v| v.name == "_solution");
    let mut merged = match reference {
        Some(reference) if merge => choose_merged(stage, &layout, versions, reference),
        _ => BTreeSet::new(),
    };
    let mut packages = BTreeMap::new();
    // At most three builds: the crate's first compile errors send the versions they name to
    // packages of their own; a second failure, every version.
    for round in 0.. {
        for version in versions.iter().filter(|v| !merged.contains(v.name)) {
            if !packages.contains_key(version.name) {
                let package = write_package(&layout, stage, version)?;
                packages.insert(version.name.to_owned(), package);
            }
        }
        // Not in a second build of the same run (`merge: false`, the guard's bugs judged
        // again): the packages of the first are workspace members until the run ends.
        if merge {
            remove_stale(&layout.base, &packages)?;
        }
        let crate_of_bugs = match reference {
            Some(reference) if !merged.is_empty() => {
                Some(write_crate(stage, &layout, versions, &merged, reference)?)
            }
            _ => None,
        };
        let dirs: Vec<PathBuf> = packages
            .values()
            .map(|(_, dir)| dir.clone())
            .chain(crate_of_bugs.iter().map(|info| info.dir.clone()))
            .collect();
        add_members(&scratch.root, dirs.iter())?;
        let mut names: Vec<&str> = packages.values().map(|(name, _)| name.as_str()).collect();
        names.extend(crate_of_bugs.iter().map(|info| info.package.as_str()));
        if !names.is_empty() {
            // Made a member by `unify_features` when the scratch was prepared.
            names.push(features::PACKAGE);
        }
        let build = build_all(scratch, &names)?;
        if let Some(info) = &crate_of_bugs {
            let errors = build.errors_of(&info.manifest());
            if !errors.is_empty() || build.binaries_of(&info.manifest()).is_empty() {
                let back = if round == 0 {
                    bug_crate::named_in(&errors, &info.dir, &merged)
                } else {
                    merged.clone()
                };
                merged.retain(|name| !back.contains(name));
                continue;
            }
        }
        return Ok(Built {
            build,
            packages,
            merged: crate_of_bugs,
        });
    }
    unreachable!("the loop returns once no bug is left in the crate")
}

/// Where and how one `build` writes a stage's versions.
struct Layout {
    /// `target/versions/<NN-name>/`: a directory per version package, and the crate's.
    base: PathBuf,
    /// The exercise's `tests/`.
    tests_dir: PathBuf,
    /// The exercise's manifest, which every package written copies.
    manifest: toml::Table,
    /// The exercise's library name (every version's library keeps it).
    lib_name: String,
}

impl Layout {
    fn of(scratch: &Scratch, stage: &Stage) -> Result<Layout> {
        let exercise = scratch.exercise_dir(stage);
        let manifest: toml::Table = toml::from_str(
            &fs::read_to_string(exercise.join("Cargo.toml"))
                .context("the exercise's Cargo.toml")?,
        )?;
        let lib_name = manifest
            .get("lib")
            .and_then(|lib| lib.get("name"))
            .and_then(|name| name.as_str())
            .map_or_else(|| stage.name.replace('-', "_"), str::to_owned);
        Ok(Layout {
            base: scratch
                .root
                .join("target")
                .join("versions")
                .join(&stage.dir),
            tests_dir: exercise.join("tests"),
            manifest,
            lib_name,
        })
    }
}

/// The versions that go into the bugs' crate (`bug_crate::eligible`; none if fewer than two,
/// or `NO_BUG_CRATE` is set, or the reference cannot be the guard). `XTASK_TIMINGS` says why
/// each other one is built alone.
fn choose_merged(
    stage: &Stage,
    layout: &Layout,
    versions: &[Version<'_>],
    reference: &Version<'_>,
) -> BTreeSet<String> {
    if std::env::var_os(NO_BUG_CRATE).is_some()
        || !bug_crate::library_is_eligible(reference.sources)
    {
        return BTreeSet::new();
    }
    let mut eligible = BTreeSet::new();
    for version in versions.iter().filter(|v| !v.name.starts_with('_')) {
        match bug_crate::eligible(version, &layout.tests_dir) {
            Ok(()) => {
                eligible.insert(version.name.to_owned());
            }
            Err(why) if std::env::var_os("XTASK_TIMINGS").is_some() => eprintln!(
                "timing: {:02} {}: {} is built alone: {why}",
                stage.order, stage.name, version.name
            ),
            Err(_) => {}
        }
    }
    if eligible.len() < 2 {
        eligible.clear();
    }
    eligible
}

/// Removes the packages of versions that no longer exist (a bug was removed or renamed, or is
/// in the crate). Names starting with `_` (verify's `_stub` and `_solution`, the crate) are
/// kept: a build of some versions only (`mistakes`) must not cost the next verify a rebuild.
fn remove_stale(base: &Path, packages: &BTreeMap<String, (String, PathBuf)>) -> Result<()> {
    let Ok(entries) = fs::read_dir(base) else {
        return Ok(());
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !packages.contains_key(&name) && !name.starts_with('_') {
            fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// Writes the bugs' crate for the versions in `merged`, with `reference` as its guard.
fn write_crate(
    stage: &Stage,
    layout: &Layout,
    versions: &[Version<'_>],
    merged: &BTreeSet<String>,
    reference: &Version<'_>,
) -> Result<bug_crate::Merged> {
    let members: Vec<&Version<'_>> = versions
        .iter()
        .filter(|v| merged.contains(v.name))
        .collect();
    let info = bug_crate::Merged {
        package: bug_crate::package(&stage.name),
        dir: layout.base.join(bug_crate::DIR),
        versions: merged.clone(),
    };
    bug_crate::write(
        &info.dir,
        &layout.tests_dir,
        &layout.manifest,
        &info.package,
        &layout.lib_name,
        &members,
        reference.sources,
    )?;
    Ok(info)
}

/// Writes `version` as a package of its own: (package name, directory).
fn write_package(
    layout: &Layout,
    stage: &Stage,
    version: &Version<'_>,
) -> Result<(String, PathBuf)> {
    let dir = layout.base.join(version.name);
    let package = format!("{}--{}", stage.name, version.name.replace('_', "-"));
    let mut table = layout.manifest.clone();
    let section = table
        .entry("package")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(section) = section.as_table_mut() {
        section.insert("name".into(), package.clone().into());
        section.insert("autotests".into(), false.into());
        section.insert("autobenches".into(), false.into());
        section.insert("autoexamples".into(), false.into());
    }
    let mut lib = toml::Table::new();
    lib.insert("name".into(), layout.lib_name.clone().into());
    lib.insert("path".into(), "src/lib.rs".into());
    table.insert("lib".into(), toml::Value::Table(lib));
    let tests = test_targets(&layout.tests_dir, &dir, &version.targets, version.only)?;
    table.insert("test".into(), toml::Value::Array(tests));
    write_if_changed(&dir.join("Cargo.toml"), toml::to_string(&table)?.as_bytes())?;
    sync_src(&dir, version.sources)?;
    Ok((package, dir))
}

/// The `[[test]]` targets of a version package that needs the test files `targets` of
/// `tests_dir`. Files that can share a binary are compiled into ONE ([`runner::MERGED`], each
/// file a module named after it, written to `dir/merged_tests.rs`): each test binary costs a
/// compile and a link, and test files of one stage instantiate much the same generic code, so
/// one binary for a whole version compiles in about two thirds of the time of one per file
/// (Stage 7's reference: 3.2 s instead of 4.5 s). Every test still runs in its own process
/// and keeps its id (`runner::list_all`). A file stays in a binary of its own when it cannot
/// be a module (see `can_be_a_module`).
///
/// With `only` (a bug's named tests), each such file is compiled with only those tests: a
/// copy with the others blanked out (`prune.rs`) in `dir/pruned/`, beside links to everything
/// else in `tests_dir` (its `common/` module, fixtures), so that the copy's `mod` and
/// `include_str!` paths find what the original's find. A file that cannot be pruned is
/// compiled whole.
fn test_targets(
    tests_dir: &Path,
    dir: &Path,
    targets: &BTreeSet<String>,
    only: Option<&[TestId]>,
) -> Result<Vec<toml::Value>> {
    let entry = |name: &str, path: &Path| {
        let mut test = toml::Table::new();
        test.insert("name".into(), name.into());
        test.insert("path".into(), path.display().to_string().into());
        toml::Value::Table(test)
    };
    let mut tests = Vec::new();
    let mut merged = Vec::new();
    let mut pruned = BTreeMap::new();
    for target in targets {
        let path = tests_dir.join(format!("{target}.rs"));
        let text = fs::read_to_string(&path).unwrap_or_default();
        if !can_be_a_module(&text) {
            tests.push(entry(target, &path));
            continue;
        }
        let kept = only.and_then(|only| {
            let keep = only
                .iter()
                .filter(|id| &id.target == target)
                .map(|id| id.name.as_str())
                .collect();
            prune::keep_only(&text, &keep)
        });
        match kept {
            Some(text) => {
                let file = format!("{target}.rs");
                merged.push((target, dir.join(PRUNED).join(&file)));
                pruned.insert(file, text);
            }
            None => merged.push((target, path)),
        }
    }
    sync_pruned(tests_dir, &dir.join(PRUNED), &pruned)?;
    // One file: a binary of its own, as `cargo test` builds it (a file may rely on being a
    // crate's root: a macro of its `common` module that names `$crate::common`).
    if merged.len() == 1 {
        let (target, path) = &merged[0];
        tests.push(entry(target, path));
    } else if !merged.is_empty() {
        let mut root = String::from(
            "//! Written by xtask (exec/batch.rs): every test file of this version that can share \
             a binary,\n//! each as a module named after its file.\n",
        );
        for (target, path) in &merged {
            // A pruned file leaves helpers only the removed tests used.
            if only.is_some() {
                root.push_str("#[allow(unused)]\n");
            }
            root.push_str(&format!(
                "#[path = {:?}]\nmod {target};\n",
                path.display().to_string()
            ));
        }
        let file = dir.join("merged_tests.rs");
        write_if_changed(&file, root.as_bytes())?;
        tests.push(entry(runner::MERGED, &file));
    }
    Ok(tests)
}

/// Makes `pruned_dir` hold the pruned copies `files` (name -> text) and a link to every other
/// entry of `tests_dir`; nothing at all when there are no copies.
fn sync_pruned(
    tests_dir: &Path,
    pruned_dir: &Path,
    files: &BTreeMap<String, String>,
) -> Result<()> {
    if files.is_empty() {
        return remove_entry(pruned_dir);
    }
    fs::create_dir_all(pruned_dir)?;
    let mut wanted = BTreeSet::new();
    for (name, text) in files {
        let path = pruned_dir.join(name);
        // An earlier run may have left a link under this name.
        if path.is_symlink() {
            remove_entry(&path)?;
        }
        write_if_changed(&path, text.as_bytes())?;
        wanted.insert(name.clone());
    }
    for entry in fs::read_dir(tests_dir)?.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !wanted.insert(name.clone()) {
            continue; // a pruned copy
        }
        let (link, target) = (pruned_dir.join(&name), entry.path());
        if fs::read_link(&link).is_ok_and(|old| old == target) {
            continue;
        }
        remove_entry(&link)?;
        std::os::unix::fs::symlink(&target, &link)
            .with_context(|| format!("cannot link {}", link.display()))?;
    }
    for entry in fs::read_dir(pruned_dir)?.filter_map(|e| e.ok()) {
        if !wanted.contains(&*entry.file_name().to_string_lossy()) {
            remove_entry(&entry.path())?;
        }
    }
    Ok(())
}

/// One cargo run for every version package (none: nothing to build).
fn build_all(scratch: &Scratch, names: &[&str]) -> Result<Build> {
    if names.is_empty() {
        return Ok(Build {
            success: true,
            ..Build::default()
        });
    }
    cargo::build_tests_with(
        &scratch.root,
        &scratch.target_dir,
        names,
        &[],
        &[],
        true,
        cargo::BuildProfile::Scratch {
            incremental: scratch.incremental,
        },
    )
}

/// Writes the scratch's feature-unifying package (see `features.rs`) and lists it as a
/// member: once per prepared scratch, before any build in it (`build`, and builds of the
/// exercise package itself, select [`features::PACKAGE`]).
pub fn unify_features(scratch: &Scratch) -> Result<()> {
    let dir = features::write(&scratch.root)?;
    add_members(&scratch.root, [&dir].into_iter())
}

/// Lists the version packages as workspace members, and lets cargo add them to the scratch's
/// lockfile (path packages only: registry versions stay as locked).
fn add_members<'a>(ws: &Path, dirs: impl Iterator<Item = &'a PathBuf>) -> Result<()> {
    let path = ws.join("Cargo.toml");
    let mut root: toml::Table = toml::from_str(&fs::read_to_string(&path)?)?;
    let workspace = root
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("the course's Cargo.toml has no [workspace]")?;
    let members = workspace
        .entry("members")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if let Some(members) = members.as_array_mut() {
        for dir in dirs {
            let relative = dir.strip_prefix(ws).unwrap_or(dir).display().to_string();
            if !members
                .iter()
                .any(|m| m.as_str() == Some(relative.as_str()))
            {
                members.push(relative.into());
            }
        }
    }
    write_if_changed(&path, toml::to_string(&root)?.as_bytes())?;
    cargo::metadata(ws, cargo::Metadata::HostGraph)
        .context("cannot add the version packages to the scratch workspace")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_file_that_names_its_module_or_crate_keeps_a_binary_of_its_own() {
        assert!(can_be_a_module(
            "//! Part 1.\nmod common;\nuse stage::Thing;\n#[test]\nfn t() {}\n"
        ));
        for text in [
            "#[test]\nfn t() { insta::assert_snapshot!(\"x\"); }\n",
            "const HERE: &str = module_path!();\n",
            "const NAME: &str = env!(\"CARGO_CRATE_NAME\");\n",
            "#![recursion_limit = \"256\"]\n#[test]\nfn t() {}\n",
        ] {
            assert!(!can_be_a_module(text), "{text}");
        }
    }

    #[test]
    fn the_merged_file_makes_each_test_file_a_module_named_after_it() {
        let dir = std::env::temp_dir().join(format!("xtask-batch-{}", std::process::id()));
        let tests_dir = dir.join("tests");
        fs::create_dir_all(&tests_dir).unwrap();
        for (name, text) in [
            ("part1", "#[test]\nfn a() {}\n"),
            ("part2", "#[test]\nfn b() {}\n"),
            (
                "snap",
                "#[test]\nfn c() { insta::assert_snapshot!(\"x\"); }\n",
            ),
        ] {
            fs::write(tests_dir.join(format!("{name}.rs")), text).unwrap();
        }
        let version = dir.join("version");
        let all: BTreeSet<String> = ["part1", "part2", "snap"].map(String::from).into();
        let targets = test_targets(&tests_dir, &version, &all, None).unwrap();
        let names: Vec<&str> = targets.iter().filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(names, ["snap", runner::MERGED]);
        let merged = fs::read_to_string(version.join("merged_tests.rs")).unwrap();
        assert!(
            merged.contains("mod part1;") && merged.contains("mod part2;"),
            "{merged}"
        );
        assert!(!merged.contains("mod snap;"), "{merged}");

        // One file needed: a binary of its own, under its own name.
        let one: BTreeSet<String> = ["part2".to_owned()].into();
        let targets = test_targets(&tests_dir, &version, &one, None).unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0]["name"].as_str(), Some("part2"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bug_compiles_only_the_tests_it_names_beside_links_to_the_rest() {
        let dir = std::env::temp_dir().join(format!("xtask-prune-{}", std::process::id()));
        let tests_dir = dir.join("tests");
        fs::create_dir_all(tests_dir.join("common")).unwrap();
        fs::write(tests_dir.join("common/mod.rs"), "pub fn help() {}\n").unwrap();
        let part1 = "mod common;\n\n#[test]\nfn a() {\n    common::help();\n}\n\n\
                     #[test]\nfn b() {\n    assert!(true);\n}\n";
        fs::write(tests_dir.join("part1.rs"), part1).unwrap();
        fs::write(tests_dir.join("part2.rs"), "#[test]\nfn c() {}\n").unwrap();
        let version = dir.join("version");
        let only = [TestId {
            target: "part1".into(),
            name: "b".into(),
        }];
        let targets: BTreeSet<String> = ["part1".to_owned()].into();
        let tests = test_targets(&tests_dir, &version, &targets, Some(&only)).unwrap();
        assert_eq!(tests.len(), 1, "one file: a binary of its own");
        assert_eq!(tests[0]["name"].as_str(), Some("part1"));
        let path = tests[0]["path"].as_str().unwrap();
        assert!(path.ends_with("pruned/part1.rs"), "{path}");
        let pruned = fs::read_to_string(version.join(PRUNED).join("part1.rs")).unwrap();
        assert!(
            pruned.contains("fn b()") && !pruned.contains("fn a()"),
            "{pruned}"
        );
        assert_eq!(pruned.lines().count(), part1.lines().count());
        // `mod common;` in the copy finds the original's module.
        let common = version.join(PRUNED).join("common");
        assert_eq!(fs::read_link(&common).unwrap(), tests_dir.join("common"));
        assert!(version.join(PRUNED).join("part2.rs").is_symlink());

        // Two files: one merged binary of the pruned copies, their dead code allowed.
        let both: BTreeSet<String> = ["part1".to_owned(), "part2".to_owned()].into();
        let two = [
            only[0].clone(),
            TestId {
                target: "part2".into(),
                name: "c".into(),
            },
        ];
        let tests = test_targets(&tests_dir, &version, &both, Some(&two)).unwrap();
        assert_eq!(tests[0]["name"].as_str(), Some(runner::MERGED));
        let root = fs::read_to_string(version.join("merged_tests.rs")).unwrap();
        assert!(
            root.contains("#[allow(unused)]") && root.contains("pruned/part1.rs"),
            "{root}"
        );
        assert!(root.contains("pruned/part2.rs"), "{root}");

        // The same version later judged by every test (`only` gone): no copies are left.
        let tests = test_targets(&tests_dir, &version, &targets, None).unwrap();
        assert_eq!(tests[0]["name"].as_str(), Some("part1"));
        assert!(!version.join(PRUNED).exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
