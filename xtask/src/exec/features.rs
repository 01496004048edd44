//! One feature resolution for every build in verify's scratches: the workspace's own.
//!
//! cargo resolves the features of dependencies over the packages a build selects. A build of
//! one stage's packages compiles tokio (say) with the features that stage's packages ask for,
//! the next stage with other ones, and each different set is one more copy of that
//! dependency and of everything built on it. None of these copies is the one the course's
//! `cargo test` built for the whole workspace, which `dep_seed` copies into a cold verify.
//!
//! So every scratch build also selects [`PACKAGE`]: a package with nothing to build (no test
//! targets; its library is never a dependency of anything) whose dependencies are those of the
//! workspace's default members, dependencies and dev-dependencies, with their features
//! merged. Selecting it makes cargo resolve features as `cargo test` does for the workspace:
//! every stage's dependencies are the same units, built once, or copied from `cargo test`.
//!
//! The price is that a stage is built with the workspace's features, not only with those its
//! own manifest asks for (what a learner's `cargo test -p <stage>` resolves): a test using a
//! feature its stage does not enable would compile here and not there. verify's files check
//! therefore requires every stage to take each dependency from `[workspace.dependencies]` as
//! declared there (`features_added_by` below), so a stage's direct dependencies have the same
//! features everywhere.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::files::write_if_changed;

/// The package's name in a scratch workspace.
pub const PACKAGE: &str = "xtask-features";

/// Dependency tables of a manifest, as `(path of keys, table)`: `dependencies`,
/// `dev-dependencies`, and both under every `target.<cfg>`.
fn dependency_tables(manifest: &toml::Table) -> Vec<(Vec<String>, &toml::Table)> {
    let mut tables = Vec::new();
    for section in ["dependencies", "dev-dependencies"] {
        if let Some(table) = manifest.get(section).and_then(toml::Value::as_table) {
            tables.push((vec![section.to_owned()], table));
        }
    }
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for (cfg, target) in targets {
            for section in ["dependencies", "dev-dependencies"] {
                if let Some(table) = target.get(section).and_then(toml::Value::as_table) {
                    tables.push((vec!["target".into(), cfg.clone(), section.into()], table));
                }
            }
        }
    }
    tables
}

/// Writes the package into `<scratch>/target/versions/_features/` (written only when it
/// changes) and returns its directory. The caller lists it as a workspace member.
pub fn write(scratch: &Path) -> Result<PathBuf> {
    let root: toml::Table = toml::from_str(&fs::read_to_string(scratch.join("Cargo.toml"))?)
        .context("the scratch's Cargo.toml")?;
    let workspace = root.get("workspace").and_then(toml::Value::as_table);
    let patterns: Vec<&str> = workspace
        .and_then(|w| w.get("default-members").or_else(|| w.get("members")))
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    let mut merged = toml::Table::new();
    for dir in member_dirs(scratch, &patterns) {
        let text = fs::read_to_string(dir.join("Cargo.toml"))?;
        let manifest: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}/Cargo.toml", dir.display()))?;
        for (keys, table) in dependency_tables(&manifest) {
            // Dev-dependencies become dependencies: this package builds no tests.
            let mut keys = keys;
            if let Some(last) = keys.last_mut() {
                *last = "dependencies".into();
            }
            let into = table_at(&mut merged, &keys);
            for (name, spec) in table {
                merge(into, name, spec, &dir);
            }
        }
    }
    let mut manifest: toml::Table = toml::from_str(&format!(
        "[package]\nname = \"{PACKAGE}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[lib]\npath = \"lib.rs\"\ntest = false\ndoctest = false\n"
    ))?;
    manifest.extend(merged);
    let dir = scratch.join("target").join("versions").join("_features");
    write_if_changed(
        &dir.join("Cargo.toml"),
        toml::to_string(&manifest)?.as_bytes(),
    )?;
    write_if_changed(
        &dir.join("lib.rs"),
        b"//! Written by xtask (exec/features.rs): a package that only unifies features.\n",
    )?;
    Ok(dir)
}

/// The directories of the members `patterns` (paths, or `dir/*`) name.
fn member_dirs(root: &Path, patterns: &[&str]) -> Vec<PathBuf> {
    let mut dirs = BTreeSet::new();
    for pattern in patterns {
        match pattern.strip_suffix("/*") {
            Some(parent) => {
                if let Ok(entries) = fs::read_dir(root.join(parent)) {
                    dirs.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
                }
            }
            None => {
                dirs.insert(root.join(pattern));
            }
        }
    }
    dirs.into_iter()
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .collect()
}

/// The table at `keys` in `table`, made if missing.
fn table_at<'t>(table: &'t mut toml::Table, keys: &[String]) -> &'t mut toml::Table {
    let mut at = table;
    for key in keys {
        at = at
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .expect("only tables are made here");
    }
    at
}

/// Adds the dependency `name = spec` of the member at `dir` to `into`, merging its features
/// with an entry of the same name. Optional dependencies are left out (`cargo test` without
/// `--features` does not enable them); a relative `path` is made absolute.
fn merge(into: &mut toml::Table, name: &str, spec: &toml::Value, dir: &Path) {
    let mut spec = match spec {
        toml::Value::String(version) => {
            let mut table = toml::Table::new();
            table.insert("version".into(), version.clone().into());
            table
        }
        toml::Value::Table(table) => table.clone(),
        _ => return,
    };
    if spec.get("optional").and_then(toml::Value::as_bool) == Some(true) {
        return;
    }
    if let Some(path) = spec.get("path").and_then(toml::Value::as_str) {
        let path = dir.join(path).display().to_string();
        spec.insert("path".into(), path.into());
    }
    // A renamed dependency (`alias = { package = "futures" }`) is the same package: cargo
    // refuses one package under two names, so it is merged under the package's own name.
    let name = match spec.remove("package") {
        Some(toml::Value::String(package)) => package,
        _ => name.to_owned(),
    };
    let name = name.as_str();
    let Some(existing) = into.get_mut(name).and_then(toml::Value::as_table_mut) else {
        into.insert(name.to_owned(), toml::Value::Table(spec));
        return;
    };
    // Another source or version under the same name: keep the first. Features then differ
    // from `cargo test`'s, which costs rebuilds, never correctness.
    let source = |t: &toml::Table| {
        let mut t = t.clone();
        t.remove("features");
        t.remove("default-features");
        t
    };
    if source(existing) != source(&spec) {
        return;
    }
    let features = |t: &toml::Table| -> BTreeSet<String> {
        t.get("features")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut all = features(existing);
    all.extend(features(&spec));
    if !all.is_empty() {
        let list: Vec<toml::Value> = all.into_iter().map(toml::Value::from).collect();
        existing.insert("features".into(), toml::Value::Array(list));
    }
    // Default features stay on if any member wants them.
    let defaults = |t: &toml::Table| t.get("default-features").and_then(toml::Value::as_bool);
    if defaults(&spec) != Some(false) {
        existing.remove("default-features");
    }
}

/// Dependencies of a stage's manifest that do not come from `[workspace.dependencies]` as
/// declared there (`name.workspace = true`, no `features`): one line per problem.
pub fn features_added_by(manifest: &toml::Table) -> Vec<String> {
    let mut problems = Vec::new();
    for (keys, table) in dependency_tables(manifest) {
        for (name, spec) in table {
            let from_workspace = spec
                .as_table()
                .and_then(|t| t.get("workspace"))
                .and_then(toml::Value::as_bool)
                == Some(true);
            let adds = spec.as_table().is_some_and(|t| t.contains_key("features"));
            if !from_workspace || adds {
                problems.push(format!(
                    "[{}] {name}: take it from [workspace.dependencies] as declared there \
                     (`{name}.workspace = true`, no `features`); add a feature there instead",
                    keys.join(".")
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Package (`name vX.Y.Z`) -> the feature sets `cargo tree ARGS` resolves for it.
    fn resolved(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let out = std::process::Command::new(cargo)
            .args(["tree", "-q", "--prefix", "none", "--no-dedupe"])
            .args(["--format", "{p}|{f}"])
            .args(args)
            .current_dir(root)
            .output()
            .expect("cargo tree runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((package, features)) = line.split_once('|') {
                let name: Vec<&str> = package.split_whitespace().take(2).collect();
                let features = features.trim_end_matches(" (*)").to_owned();
                packages.entry(name.join(" ")).or_default().insert(features);
            }
        }
        packages
    }

    /// See the comment above `features-as-in-the-workspace-*` in xtask/Cargo.toml.
    #[test]
    fn cargo_xtask_reuses_what_cargo_test_built() {
        let alone = resolved(&["-p", "xtask", "--edges", "normal,build"]);
        let workspace = resolved(&["--edges", "normal,build,dev"]);
        let drift: Vec<String> = alone
            .iter()
            .filter(|(package, features)| workspace.get(*package) != Some(features))
            .map(|(package, features)| {
                format!(
                    "{package}: features {features:?} for xtask alone, {:?} in the workspace",
                    workspace.get(package).cloned().unwrap_or_default()
                )
            })
            .collect();
        assert!(
            drift.is_empty(),
            "`cargo xtask` (xtask alone) resolves other features than `cargo test` (the whole \
             workspace), so the first `cargo xtask` after `cargo test` compiles xtask again. Add \
             the missing features to the `features-as-in-the-workspace-*` dependencies in \
             xtask/Cargo.toml:\n{}",
            drift.join("\n")
        );
    }

    fn manifest(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn members_dependencies_are_merged_with_the_union_of_their_features() {
        let mut into = toml::Table::new();
        let dir = Path::new("/ws/crates/a");
        let a = manifest(
            "[dependencies]\ntokio = { workspace = true }\nfoo = { path = \"../foo\" }\n\
             opt = { version = \"1\", optional = true }\n",
        );
        let b = manifest(
            "[dev-dependencies]\ntokio = { workspace = true, features = [\"net\"] }\n\
             serde = \"1\"\n\
             [dependencies.also-serde]\npackage = \"serde\"\nversion = \"1\"\nfeatures = [\"rc\"]\n",
        );
        for m in [&a, &b] {
            for (_, table) in dependency_tables(m) {
                for (name, spec) in table {
                    merge(&mut into, name, spec, dir);
                }
            }
        }
        assert_eq!(
            into["tokio"].as_table().unwrap()["features"],
            toml::Value::Array(vec!["net".into()])
        );
        assert_eq!(into["foo"]["path"].as_str(), Some("/ws/crates/a/../foo"));
        assert_eq!(into["serde"]["version"].as_str(), Some("1"));
        assert_eq!(
            into["serde"]["features"],
            toml::Value::Array(vec!["rc".into()]),
            "a renamed dependency is merged into the package's own entry"
        );
        assert!(!into.contains_key("also-serde"));
        assert!(!into.contains_key("opt"), "optional dependencies stay out");
    }

    #[test]
    fn a_stage_may_only_take_dependencies_from_the_workspace_as_declared() {
        let ok = manifest(
            "[dependencies]\nharness.workspace = true\n\
             [dev-dependencies]\ntokio = { workspace = true }\n",
        );
        assert!(features_added_by(&ok).is_empty());
        let bad = manifest(
            "[dependencies]\nslab = \"0.4\"\n\
             [dev-dependencies]\ntokio = { workspace = true, features = [\"net\"] }\n",
        );
        let problems = features_added_by(&bad);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("slab"));
        assert!(problems[1].contains("tokio"));
    }
}
