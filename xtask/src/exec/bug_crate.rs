//! A stage's known bugs and alternatives compiled as ONE test crate: each a library module and a
//! test module.
//!
//! A bug's own version package (`batch.rs`) is two crates, its library and a test binary with
//! the few tests that catch it, and most of their cost is fixed: loading the dependencies'
//! metadata, setting up code generation, linking, and generating again the harness and `std`
//! code every bug's tests instantiate alike. Stage 2's 36 bugs as 72 crates took 18.2 s of CPU;
//! as this one crate, 3.5 s (2026-12-07, ARCHITECTURE.md, "Build and feedback times").
//!
//! ```text
//!   versions/<NN-name>/_bugs/          the package <name>--xtask-bugs (the exercise's manifest)
//!     root.rs                          #[path = ".../b/src/lib.rs"] mod v_b;   per bug b
//!                                      mod t_b { #[path = ".../b/tests/part3.rs"] mod part3; }
//!     b/src/**.rs                      b's library, every code path `crate::x` made `crate::v_b::x`
//!     b/tests/part3.rs                 the tests b is judged by (pruned, `prune.rs`), ending in
//!                                      `use crate::v_b as <library name>;`; `common/` copied the
//!                                      same way, every other entry of tests/ linked
//!     _reference/...                   the guard: the reference, with every test a bug here is
//!                                      judged by
//! ```
//!
//! Alternatives join them (with every test): the same fixed cost, less of their whole.
//!
//! Why a verdict from here is the verdict of the version's own package:
//! * the package has no dependency named like the library, so a module that does not see its
//!   alias (an inline module of a test file, a macro that names `$crate`) fails to compile and
//!   never reaches another version's code;
//! * what behaves differently as a module is refused up front ([`eligible`]): a library or test
//!   that names its crate, module path or package (`module_path!`, `type_name`, `CARGO_*`,
//!   insta's snapshot names), `#[macro_export]` (exported to the crate root), inner attributes,
//!   `cfg(test)` (true in a test crate, false in a dependency), symbols with fixed names, a
//!   `#[global_allocator]` (one per program);
//! * the guard: the reference, built here the same way, must pass every test a bug here is
//!   judged by, or those bugs are judged again in packages of their own (`versions.rs`); an
//!   alternative is judged again in its own package when any of its tests fails here (so a
//!   pass is the only verdict taken from here for it);
//! * a compile error sends the bugs whose files it names to packages of their own, and the
//!   crate is built again without them (`batch.rs`); an error that names none, every bug.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::course::TestId;
use crate::exec::prune;
use crate::exec::version::{self, Version, remove_entry};
use crate::files::{self, write_if_changed};

/// The package's directory, beside the version packages (`_`: never removed as stale).
pub const DIR: &str = "_bugs";

/// Its one test target.
pub const TARGET: &str = "xtask_bugs";

/// The version name of the guard (the reference, see the module doc).
pub const REFERENCE: &str = "_reference";

/// The package name for `stage_name`.
pub fn package(stage_name: &str) -> String {
    format!("{stage_name}--xtask-bugs")
}

/// What was merged: the versions in the crate, and where it is.
#[derive(Debug, Clone)]
pub struct Merged {
    pub package: String,
    pub dir: PathBuf,
    /// The bugs in the crate (the guard not included).
    pub versions: BTreeSet<String>,
}

impl Merged {
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    /// Where `version`'s test files are in the crate (messages name them).
    pub fn tests_dir(&self, version: &str) -> PathBuf {
        self.dir.join(version).join("tests")
    }
}

/// The version and test a listed name of the crate belongs to:
/// `t_<version>::<file>::<test>` -> (`version`, `<file>::<test>`).
pub fn owner_of(filter: &str) -> Option<(&str, TestId)> {
    let (module, rest) = filter.split_once("::")?;
    let (file, name) = rest.split_once("::")?;
    Some((
        module.strip_prefix("t_")?,
        TestId {
            target: file.to_owned(),
            name: name.to_owned(),
        },
    ))
}

/// Whether `version` (a bug, or an alternative: every test) can be a pair of modules of the
/// crate: a name that makes a module name, a library every file of which [`relocate`] can read
/// and that behaves the same as a module, and test files (and `common/`) that do too.
/// `Err(why not)`.
pub fn eligible(version: &Version<'_>, tests_dir: &Path) -> Result<(), String> {
    if version.name.starts_with('_') {
        return Err("the stub and the reference are built as packages".to_owned());
    }
    if !version
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err("its name is not a module name".to_owned());
    }
    if !library_is_eligible(version.sources) {
        return Err("its library would behave differently as a module".to_owned());
    }
    for target in &version.targets {
        let text = fs::read_to_string(tests_dir.join(format!("{target}.rs")));
        if !text.is_ok_and(|text| test_behaves_as_a_module(&text)) {
            return Err(format!(
                "tests/{target}.rs would behave differently as a module"
            ));
        }
    }
    let common = tests_dir.join("common");
    let paths = if common.exists() {
        files::walk(&common).map_err(|err| format!("{err:#}"))?
    } else {
        Vec::new()
    };
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|ext| ext == "rs"))
    {
        if !fs::read_to_string(path).is_ok_and(|text| test_behaves_as_a_module(&text)) {
            return Err(format!(
                "{} would behave differently as a module",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Whether every file of the library `sources` can be a module of the crate.
pub fn library_is_eligible(sources: &files::Sources) -> bool {
    sources.iter().all(|(path, content)| {
        let Ok(text) = std::str::from_utf8(content) else {
            return false;
        };
        path.extension().is_none_or(|ext| ext != "rs")
            || (library_behaves_as_a_module(text) && prune::code_mask(text).is_some())
    })
}

fn library_behaves_as_a_module(text: &str) -> bool {
    only_lint_levels_inside(text)
        && ![
            "#[macro_export]",
            "cfg(test",
            "module_path!",
            "type_name",
            "no_mangle",
            "export_name",
            "extern crate",
            "CARGO_",
            "include_str!",
            "include_bytes!",
            "#[path",
            "global_allocator",
        ]
        .iter()
        .any(|needle| text.contains(needle))
}

/// Whether every inner attribute of `text` is a lint level (`#![allow(...)]`): one of a module
/// as well as of a crate. Others (`#![recursion_limit]`, `#![no_std]`) may only be a crate's.
fn only_lint_levels_inside(text: &str) -> bool {
    let lint_levels = ["allow(", "warn(", "deny(", "expect(", "forbid("];
    text.lines().all(|line| {
        line.trim_start()
            .strip_prefix("#![")
            .is_none_or(|rest| lint_levels.iter().any(|level| rest.starts_with(level)))
    })
}

fn test_behaves_as_a_module(text: &str) -> bool {
    let inner_attributes_ok = only_lint_levels_inside(text);
    let without_inner: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("#!["))
        .collect::<Vec<_>>()
        .join("\n");
    inner_attributes_ok
        && version::can_be_a_module(&without_inner)
        && ![
            "$crate",
            "CARGO_",
            "extern crate",
            "#[path",
            "global_allocator",
        ]
        .iter()
        .any(|needle| text.contains(needle))
}

/// `text` with every path that starts at the crate root in code (`crate::x`, `$crate::x`,
/// `pub(in crate::x)`) starting at `crate::<module>` instead; strings and comments untouched,
/// every line keeps its number. `None` if the text cannot be read (`prune::code_mask`).
pub fn relocate(text: &str, module: &str) -> Option<String> {
    let mask = prune::code_mask(text)?;
    let chars: Vec<char> = text.chars().collect();
    let ident = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let mut out = String::with_capacity(text.len() + 256);
    let mut i = 0;
    while i < chars.len() {
        let at_crate = mask[i]
            && chars[i..].starts_with(&['c', 'r', 'a', 't', 'e'])
            && !ident(i.checked_sub(1).and_then(|p| chars.get(p)))
            && !ident(chars.get(i + 5));
        if at_crate {
            let after: String = chars[i + 5..]
                .iter()
                .skip_while(|c| **c == ' ')
                .take(2)
                .collect();
            out.push_str("crate");
            if after == "::" {
                out.push_str("::");
                out.push_str(module);
            }
            i += 5;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    Some(out)
}

/// Writes the crate for `bugs` (each eligible) and the guard `reference` (the reference's
/// sources; it gets the union of the bugs' tests) into `dir`: see the module doc. `manifest`
/// is the exercise's, `lib_name` its library's name.
pub fn write(
    dir: &Path,
    tests_dir: &Path,
    manifest: &toml::Table,
    package: &str,
    lib_name: &str,
    bugs: &[&Version<'_>],
    reference: &files::Sources,
) -> Result<()> {
    // The guard runs every test a bug here is judged by (an alternative's pass needs no
    // guard: a failure there is judged again alone anyway).
    let mut union: Vec<TestId> = bugs
        .iter()
        .flat_map(|bug| bug.only.unwrap_or_default().iter().cloned())
        .collect();
    union.sort();
    union.dedup();
    let guard = Version {
        name: REFERENCE,
        sources: reference,
        targets: union.iter().map(|id| id.target.clone()).collect(),
        only: Some(&union),
    };
    let mut root = String::from(
        "//! Written by xtask (exec/bug_crate.rs): each bug of this stage as a library module \
         and a test module.\n#![allow(unused)]\n",
    );
    let mut wanted = BTreeSet::new();
    for version in bugs.iter().copied().chain([&guard]) {
        let name = version.name;
        let base = dir.join(name);
        write_library(&base, version, name)?;
        let files = write_tests(&base.join("tests"), tests_dir, version, lib_name)?;
        root.push_str(&format!(
            "#[path = {:?}]\nmod v_{name};\nmod t_{name} {{\n",
            base.join("src/lib.rs").display().to_string()
        ));
        for (target, path) in files {
            root.push_str(&format!(
                "    #[path = {:?}]\n    mod {target};\n",
                path.display().to_string()
            ));
        }
        root.push_str("}\n");
        wanted.insert(name.to_owned());
    }
    write_if_changed(&dir.join("root.rs"), root.as_bytes())?;
    write_if_changed(&dir.join("lib.rs"), b"")?;
    for entry in fs::read_dir(dir)?.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !wanted.contains(&name) {
            fs::remove_dir_all(entry.path())?;
        }
    }

    let mut table = manifest.clone();
    let section = table
        .entry("package")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(section) = section.as_table_mut() {
        section.insert("name".into(), package.into());
        section.insert("autotests".into(), false.into());
        section.insert("autobenches".into(), false.into());
        section.insert("autoexamples".into(), false.into());
    }
    let mut lib = toml::Table::new();
    lib.insert("name".into(), "xtask_bugs_lib".into());
    lib.insert("path".into(), "lib.rs".into());
    table.insert("lib".into(), toml::Value::Table(lib));
    let mut test = toml::Table::new();
    test.insert("name".into(), TARGET.into());
    test.insert("path".into(), "root.rs".into());
    table.insert(
        "test".into(),
        toml::Value::Array(vec![toml::Value::Table(test)]),
    );
    write_if_changed(&dir.join("Cargo.toml"), toml::to_string(&table)?.as_bytes())
}

/// `base/src` holds exactly the version's library, relocated under `v_<module>`.
fn write_library(base: &Path, version: &Version<'_>, module: &str) -> Result<()> {
    let mut sources = files::Sources::new();
    for (path, content) in version.sources {
        let relocated = if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::str::from_utf8(content).context("a library file is not UTF-8")?;
            relocate(text, &format!("v_{module}"))
                .context("a library file could not be read")?
                .into_bytes()
        } else {
            content.clone()
        };
        sources.insert(path.clone(), relocated);
    }
    version::sync_src(base, &sources)
}

/// Writes the version's test files (pruned to its tests) and a copy of `common/` into
/// `to`, each Rust file ending in the alias of the library; links every other entry of
/// `tests_dir`.
/// Answers (target, file) per test file.
fn write_tests(
    to: &Path,
    tests_dir: &Path,
    version: &Version<'_>,
    lib_name: &str,
) -> Result<Vec<(String, PathBuf)>> {
    fs::create_dir_all(to)?;
    let alias = format!("\nuse crate::v_{} as {lib_name};\n", version.name);
    let mut written = BTreeMap::new();
    let mut files = Vec::new();
    for target in &version.targets {
        let file = format!("{target}.rs");
        let text = fs::read_to_string(tests_dir.join(&file))
            .with_context(|| format!("cannot read tests/{file}"))?;
        let pruned = match version.only {
            Some(only) => {
                let keep: BTreeSet<&str> = only
                    .iter()
                    .filter(|id| &id.target == target)
                    .map(|id| id.name.as_str())
                    .collect();
                prune::keep_only(&text, &keep).unwrap_or(text)
            }
            None => text,
        };
        written.insert(file.clone(), format!("{pruned}{alias}"));
        files.push((target.clone(), to.join(&file)));
    }
    for path in files::walk(&tests_dir.join("common")).unwrap_or_default() {
        let relative = path.strip_prefix(tests_dir).expect("walked under tests");
        let copy = to.join(relative);
        if let Some(parent) = copy.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut content = fs::read(&path)?;
        if path.extension().is_some_and(|ext| ext == "rs") {
            content.extend_from_slice(alias.as_bytes());
        }
        write_if_changed(&copy, &content)?;
    }
    for (file, text) in &written {
        let path = to.join(file);
        if path.is_symlink() {
            remove_entry(&path)?;
        }
        write_if_changed(&path, text.as_bytes())?;
    }
    for entry in fs::read_dir(tests_dir)?.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "common" || written.contains_key(&name) {
            continue;
        }
        let link = to.join(&name);
        if fs::read_link(&link).is_ok_and(|old| old == entry.path()) {
            continue;
        }
        remove_entry(&link)?;
        std::os::unix::fs::symlink(entry.path(), &link)
            .with_context(|| format!("cannot link {}", link.display()))?;
    }
    Ok(files)
}

/// The bugs of `versions` whose files in the crate at `dir` the compiler `errors` name; all of
/// them when no error names one (a problem the crate has as a whole).
pub fn named_in(errors: &[String], dir: &Path, versions: &BTreeSet<String>) -> BTreeSet<String> {
    let named: BTreeSet<String> = versions
        .iter()
        .chain([&REFERENCE.to_owned()])
        .filter(|version| {
            let mark = format!("{}/", dir.join(version).display());
            errors.iter().any(|error| error.contains(&mark))
        })
        .cloned()
        .collect();
    if named.is_empty() || named.contains(REFERENCE) {
        versions.clone()
    } else {
        named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_the_crate_root_move_under_the_module_and_nothing_else_does() {
        let text = "use crate::sync::Mutex;\npub(crate) fn f() -> crate :: X {\n    \
                    let s = \"crate::not\"; // crate::comment\n    $crate::g!();\n    \
                    my_crate::h();\n}\npub(in crate::a) struct S;\n";
        let moved = relocate(text, "v_b").unwrap();
        assert_eq!(
            moved,
            "use crate::v_b::sync::Mutex;\npub(crate) fn f() -> crate::v_b :: X {\n    \
             let s = \"crate::not\"; // crate::comment\n    $crate::v_b::g!();\n    \
             my_crate::h();\n}\npub(in crate::v_b::a) struct S;\n"
        );
        assert_eq!(moved.lines().count(), text.lines().count());
    }

    #[test]
    fn a_listed_name_tells_its_version_and_test() {
        let (version, id) = owner_of("t_timer_keeps_the_first_waker::part1_timer::wakes").unwrap();
        assert_eq!(version, "timer_keeps_the_first_waker");
        assert_eq!(
            (id.target.as_str(), id.name.as_str()),
            ("part1_timer", "wakes")
        );
        assert_eq!(owner_of("t__reference::part1::a").unwrap().0, REFERENCE);
        assert!(owner_of("part1::a").is_none());
    }

    #[test]
    fn what_would_behave_differently_as_a_module_is_refused() {
        for text in [
            "#[macro_export]\nmacro_rules! m { () => {} }\n",
            "#![no_std]\n",
            "#[cfg(test)]\nmod tests {}\n",
            "fn f() -> &'static str { std::any::type_name::<u8>() }\n",
            "const N: &str = env!(\"CARGO_PKG_NAME\");\n",
        ] {
            assert!(!library_behaves_as_a_module(text), "{text}");
        }
        assert!(library_behaves_as_a_module(
            "use crate::sync::Mutex;\nmacro_rules! m { () => { $crate::f() } }\n"
        ));
        assert!(library_behaves_as_a_module(
            "#![allow(\n    dead_code,\n)]\nfn f() {}\n"
        ));
        assert!(!test_behaves_as_a_module(
            "macro_rules! m { () => { $crate::common::f() } }\n"
        ));
        assert!(test_behaves_as_a_module(
            "mod common;\nuse stage::X;\n#[test]\nfn t() {}\n"
        ));
    }

    #[test]
    fn an_error_that_names_no_bug_sends_every_bug_back() {
        let dir = Path::new("/s/_bugs");
        let versions: BTreeSet<String> = ["a".to_owned(), "b".to_owned()].into();
        let one = named_in(
            &["error at /s/_bugs/a/src/x.rs:1".to_owned()],
            dir,
            &versions,
        );
        assert_eq!(one, ["a".to_owned()].into());
        assert_eq!(
            named_in(&["error: linking".to_owned()], dir, &versions),
            versions
        );
        let guard = named_in(
            &["at /s/_bugs/_reference/src/x.rs".to_owned()],
            dir,
            &versions,
        );
        assert_eq!(guard, versions);
    }
}
