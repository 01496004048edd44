//! The programs a stage's tests start (`tools = ["redis-cli", ...]` in `exercise.toml`), as
//! `grade` gives them to that stage's tests and to no other.
//!
//! Each declared name is resolved **once per run**, on the grader's own `PATH`, to an absolute,
//! canonical file (symlinks followed); a setuid/setgid file, or one a test could rewrite (it,
//! or a directory above it, writable by the test uids), is refused like a missing one. Then,
//! for the declaring stage's test processes only:
//!
//! * the sandbox (`sandbox::Spec::tools`) lets Landlock execute exactly those canonical files
//!   (read + execute, as for the test binary itself). Nothing else is needed to start a
//!   dynamically linked program: the kernel opens its ELF interpreter (`ld-linux*.so`) for
//!   execution, which the base rules already allow (`/lib*`, `/usr/lib*`: that is how the test
//!   binary starts at all), and the loader maps the shared libraries with plain reads (`/usr`
//!   is readable; Landlock does not police `mmap(PROT_EXEC)`). A *script* would also need its
//!   interpreter declared;
//! * `PATH` is one private directory holding a symlink per tool, named as declared
//!   (`<scratch>/tools/NN-name/redis-cli -> /usr/bin/redis-cli`). Why a directory of symlinks
//!   rather than the tools' own directories: `/usr/bin` on `PATH` would let a test find every
//!   other program by name and fail on it with "permission denied" instead of "not found";
//!   the symlinks name exactly the declared tools, and keep `argv[0]` as declared for
//!   multi-call binaries. Landlock checks rights on the file a symlink resolves to, which is
//!   the canonical file it was granted; the directory is the grader's and read-only to tests;
//! * [`REQUIRED`]`=1` tells the test the tools are required: a test that cannot start one
//!   must fail, never print "skipped" and pass.
//!
//! A declared tool that is missing (or refused) is said once at the start and in every report
//! (a run note and the stage's note). Its tests still run, with `PATH` holding the tools that
//! were found and [`REQUIRED`] set, so each test that needs the missing one fails and says
//! which program it could not start: an honest 0 for that test, with the grader's note saying
//! the machine, not the submission, lacks it. (Leaving them "not run" would need the grader
//! to know which tests use which tool; only the tests know.)

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::ops::Range;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::course::Stage;

/// The variable that tells a test its declared tools are required (set to `1`).
pub const REQUIRED: &str = "COURSE_TOOLS_REQUIRED";

/// The uids a test process may run as: what "writable by the test uid" is checked against.
#[derive(Debug, Clone)]
pub struct TestUsers {
    /// The dedicated test uids (and gids): always checked, they are the ones with separation.
    pub dedicated: Range<u32>,
    /// The grader's own uid, when tests run as it (no user separation) and it is not root
    /// (root writes anything whatever the mode bits; there only Landlock protects the tools,
    /// as it protects everything else).
    pub grader: Option<u32>,
}

/// Every tool the graded stages declare, resolved once.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// Name -> canonical file.
    found: BTreeMap<String, PathBuf>,
    /// Name -> why it cannot be used ("is not installed on this machine (...)").
    unusable: BTreeMap<String, String>,
}

impl Tools {
    /// Resolves every tool the `stages` declare on `search` (a `PATH` value).
    pub fn resolve(stages: &[&Stage], search: Option<&OsStr>, users: &TestUsers) -> Tools {
        let mut tools = Tools::default();
        for name in stages.iter().flat_map(|s| &s.tools) {
            if tools.found.contains_key(name) || tools.unusable.contains_key(name) {
                continue;
            }
            match find(name, search).and_then(|path| usable(&path, users).map(|()| path)) {
                Ok(path) => {
                    tools.found.insert(name.clone(), path);
                }
                Err(why) => {
                    tools.unusable.insert(name.clone(), why);
                }
            }
        }
        tools
    }

    /// The canonical files `stage`'s tests may execute.
    pub fn files_of(&self, stage: &Stage) -> Vec<PathBuf> {
        stage
            .tools
            .iter()
            .filter_map(|name| self.found.get(name).cloned())
            .collect()
    }

    /// One sentence per tool `stage` declares that cannot be used here (empty: all found).
    pub fn problems_of(&self, stage: &Stage) -> Vec<String> {
        let install = stage.tools_install.as_deref().unwrap_or("it");
        stage
            .tools
            .iter()
            .filter_map(|name| {
                let why = self.unusable.get(name)?;
                Some(format!(
                    "{name} {why}: Stage {}'s tests that use it cannot check anything, so \
                     they fail; install {install} and grade again",
                    stage.order
                ))
            })
            .collect()
    }

    /// Makes `dir` the `PATH` of `stage`'s tests: one symlink per tool found, named as
    /// declared, to its canonical file (and nothing else).
    pub fn make_bin_dir(&self, stage: &Stage, dir: &Path) -> Result<()> {
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
        for name in &stage.tools {
            if let Some(file) = self.found.get(name) {
                std::os::unix::fs::symlink(file, dir.join(name))
                    .with_context(|| format!("cannot link {name} in {}", dir.display()))?;
            }
        }
        Ok(())
    }
}

/// The tools `stage` declares that are not installed (not found on `search`, a `PATH` value),
/// by name. For `verify`, which runs the course's own code: the grader resolves and checks
/// each tool's file with [`Tools::resolve`].
pub fn missing<'s>(stage: &'s Stage, search: Option<&OsStr>) -> Vec<&'s str> {
    stage
        .tools
        .iter()
        .filter(|name| find(name, search).is_err())
        .map(String::as_str)
        .collect()
}

/// The canonical file `name` is on `search` (the first executable regular file, as a shell
/// finds it). Relative entries of `search` are skipped: they would depend on the directory.
fn find(name: &str, search: Option<&OsStr>) -> Result<PathBuf, String> {
    let not_found = || "is not installed on this machine (not on the grader's PATH)".to_owned();
    let search = search.ok_or_else(not_found)?;
    for dir in std::env::split_paths(search).filter(|d| d.is_absolute()) {
        let candidate = dir.join(name);
        let Ok(meta) = fs::metadata(&candidate) else {
            continue;
        };
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            return candidate
                .canonicalize()
                .map_err(|e| format!("cannot be used ({}: {e})", candidate.display()));
        }
    }
    Err(not_found())
}

/// Whether the canonical `file` may be given to tests: not setuid/setgid, and neither it nor a
/// directory above it writable by a uid tests run as.
fn usable(file: &Path, users: &TestUsers) -> Result<(), String> {
    let refuse = |what: String| {
        Err(format!(
            "cannot be used on this machine ({what}; the grader never lets tests run such a \
             file)"
        ))
    };
    let meta = fs::metadata(file).map_err(|e| format!("cannot be used ({e})"))?;
    if meta.mode() & 0o6000 != 0 {
        return refuse(format!("{} is setuid or setgid", file.display()));
    }
    for path in file.ancestors() {
        let Ok(meta) = fs::metadata(path) else {
            continue;
        };
        if writable_by_tests(&meta, users) {
            return refuse(format!("{} is writable by the test users", path.display()));
        }
    }
    Ok(())
}

fn writable_by_tests(meta: &fs::Metadata, users: &TestUsers) -> bool {
    let mode = meta.mode();
    // A sticky world-writable directory (/tmp) lets no one replace another's entries.
    let world = mode & 0o002 != 0 && !(meta.is_dir() && mode & 0o1000 != 0);
    let dedicated = (users.dedicated.contains(&meta.uid()) && mode & 0o200 != 0)
        || (users.dedicated.contains(&meta.gid()) && mode & 0o020 != 0);
    let grader = users.grader == Some(meta.uid()) && mode & 0o200 != 0;
    world || dedicated || grader
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> TestUsers {
        TestUsers {
            dedicated: 61_000..62_000,
            grader: None,
        }
    }

    /// A directory with an executable `name` of mode `mode`, under the crate's target.
    fn bin_with(test: &str, name: &str, mode: u32) -> PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("xtask-tools-{}-{test}", std::process::id()))
            .join("bin");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join(name);
        fs::write(&file, "").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
        dir
    }

    fn resolve_one(name: &str, search: &Path, users: &TestUsers) -> Result<PathBuf, String> {
        find(name, Some(search.as_os_str())).and_then(|path| usable(&path, users).map(|()| path))
    }

    #[test]
    fn a_tool_resolves_to_its_canonical_file() {
        let dir = bin_with("canonical", "real-tool", 0o755);
        std::os::unix::fs::symlink(dir.join("real-tool"), dir.join("alias")).unwrap();
        let found = resolve_one("alias", &dir, &users()).unwrap();
        assert_eq!(found, dir.canonicalize().unwrap().join("real-tool"));
    }

    #[test]
    fn a_missing_tool_is_not_installed() {
        let dir = bin_with("missing", "other", 0o755);
        let why = resolve_one("xtask-no-such-tool", &dir, &users()).unwrap_err();
        assert!(why.contains("not installed"), "{why}");
        let why = resolve_one(
            "not-executable",
            &bin_with("noexec", "not-executable", 0o644),
            &users(),
        )
        .unwrap_err();
        assert!(why.contains("not installed"), "{why}");
    }

    #[test]
    fn setuid_setgid_and_writable_tools_are_refused() {
        for (test, mode, says) in [
            ("setuid", 0o4755, "setuid"),
            ("setgid", 0o2755, "setgid"),
            ("world-writable", 0o757, "writable by the test users"),
        ] {
            let dir = bin_with(test, "tool", mode);
            let why = resolve_one("tool", &dir, &users()).unwrap_err();
            assert!(why.contains(says), "{test}: {why}");
        }
        // Owned by the grader, who is also the test uid (no user separation, not root).
        let dir = bin_with("grader-owned", "tool", 0o755);
        let me = fs::metadata(dir.join("tool")).unwrap().uid();
        let shared = TestUsers {
            grader: Some(me),
            ..users()
        };
        assert!(resolve_one("tool", &dir, &shared).is_err());
        assert!(resolve_one("tool", &dir, &users()).is_ok());
    }

    #[test]
    fn the_bin_dir_names_exactly_the_tools_found() {
        let dir = bin_with("bin-dir", "present", 0o755);
        let stage = crate::course::stage_for_test(
            &dir.parent().unwrap().join("course"),
            r#"tools = ["present", "absent"]"#,
        );
        let tools = Tools::resolve(&[&stage], Some(dir.as_os_str()), &users());
        assert_eq!(
            tools.files_of(&stage),
            [dir.canonicalize().unwrap().join("present")]
        );
        let problems = tools.problems_of(&stage);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("absent is not installed"),
            "{problems:?}"
        );
        let bin = dir.parent().unwrap().join("path");
        tools.make_bin_dir(&stage, &bin).unwrap();
        let names: Vec<String> = fs::read_dir(&bin)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["present"]);
    }
}
