//! A version of a stage as files: what `batch.rs` writes as a package and `bug_crate.rs` as
//! modules of one crate, and the rules both follow (a library's files written only where they
//! changed; which test files can be modules of a bigger crate; how an entry is replaced).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::course::TestId;
use crate::files::{self, Sources, write_if_changed};

/// A version to build: its name (unique in the stage), its sources and the test targets it
/// needs.
pub struct Version<'a> {
    pub name: &'a str,
    pub sources: &'a Sources,
    pub targets: BTreeSet<String>,
    /// Only these tests are run (a bug's caught-by), so only these are compiled: the other
    /// tests of their files are blanked out (`prune.rs`). Every test when `None`.
    pub only: Option<&'a [TestId]>,
}

/// Whether a test file behaves the same as a module of a bigger test crate as in a crate of
/// its own. Not when it names its module path or crate (insta names snapshot files after the
/// module path; `module_path!`, `CARGO_CRATE_NAME`) or has inner attributes (`#![...]`: some
/// only work at a crate's root). Such a file keeps a binary of its own.
pub fn can_be_a_module(text: &str) -> bool {
    let names_itself = [
        "insta::",
        "module_path!",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
    ]
    .iter()
    .any(|needle| text.contains(needle));
    let inner_attribute = text
        .lines()
        .any(|line| line.trim_start().starts_with("#!["));
    !names_itself && !inner_attribute
}

/// Makes `dir/src` hold exactly `sources` (paths `src/...`), writing only what changed.
pub fn sync_src(dir: &Path, sources: &Sources) -> Result<()> {
    let src = dir.join("src");
    for existing in files::walk(&src)? {
        let relative = existing.strip_prefix(dir).expect("walked under dir");
        if !sources.contains_key(relative) {
            fs::remove_file(&existing)?;
        }
    }
    for (relative, content) in sources {
        write_if_changed(&dir.join(relative), content)?;
    }
    Ok(())
}

/// Removes `path`, whatever it is (a file, a link, a directory with its contents); nothing if
/// there is nothing there.
pub fn remove_entry(path: &Path) -> Result<()> {
    match path.symlink_metadata() {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => Ok(fs::remove_dir_all(path)?),
        Ok(_) => Ok(fs::remove_file(path)?),
    }
}
