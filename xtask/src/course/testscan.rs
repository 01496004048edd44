//! The tests a stage *should* have, read from its pristine test files.
//!
//! The grader needs the list even when a submission does not compile (every test is then
//! graded "compile error"), so it cannot come from `--list` alone. The course's test files are
//! plain: `#[test]` functions at the top level of `tests/*.rs`. `verify` checks that this scan
//! agrees with what the reference solution's binaries list, so the two can never drift apart
//! unnoticed.

use std::fs;
use std::path::Path;

use crate::course::TestId;

/// Every `#[test]` function in `<exercise>/tests/*.rs`, in file order within each target, the
/// targets in name order.
pub fn scan(exercise_dir: &Path) -> Vec<TestId> {
    let mut files: Vec<_> = fs::read_dir(exercise_dir.join("tests"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut tests = Vec::new();
    for file in files {
        let target = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = fs::read_to_string(&file).unwrap_or_default();
        tests.extend(scan_source(&text).into_iter().map(|name| TestId {
            target: target.clone(),
            name,
        }));
    }
    tests
}

/// The names of the functions marked `#[test]` in one file, in order.
fn scan_source(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut marked = false;
    for line in text.lines().map(str::trim) {
        if line == "#[test]" {
            marked = true;
        } else if marked && !line.starts_with("#[") && !line.starts_with("//") {
            // The first line after the attributes: `fn name(` (maybe `async`, never `pub`).
            if let Some(rest) = line
                .strip_prefix("fn ")
                .or_else(|| line.strip_prefix("async fn "))
                && let Some(name) = rest.split('(').next()
            {
                names.push(name.trim().to_owned());
            }
            marked = false;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::scan_source;

    #[test]
    fn finds_test_functions_in_order_past_other_attributes() {
        let text = "use x;\n\n#[test]\nfn first() {}\n\nfn helper() {}\n\n#[test]\n\
                    #[should_panic(expected = \"boom\")]\n// why\nfn second() {\n}\n";
        assert_eq!(scan_source(text), ["first", "second"]);
    }
}
