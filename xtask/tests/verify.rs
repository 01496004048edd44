//! `cargo xtask verify` against a small fixture course (`tests/fixture`), broken in one way
//! per test. Each test copies the fixture to its own directory, so they run in parallel.

mod common;
use common::copy_dir;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh copy of the fixture course, named after the test.
fn fixture(test: &str) -> PathBuf {
    let to = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("verify-{test}"));
    let _ = fs::remove_dir_all(&to);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture"),
        &to,
        &[],
    );
    to
}

fn xtask(root: &Path, args: &[&str]) -> (Option<i32>, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.code(), text)
}

fn write(root: &Path, file: &str, content: &str) {
    fs::write(root.join(file), content).unwrap();
}

const WORKING_ADD: &str =
    "/// Adds two numbers.\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";

#[test]
fn a_sound_course_verifies() {
    let root = fixture("sound");
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("multiplies: caught by adding::zero_is_neutral"),
        "{out}"
    );
    assert!(out.contains("every check passed"), "{out}");
}

#[test]
fn a_test_that_passes_on_the_stub_is_a_defect() {
    let root = fixture("stub-passes");
    // A stub that already works: every test passes without the learner doing anything.
    write(
        &root,
        "exercises/01-adder/src/lib.rs",
        &format!("// todo!() left to the learner\n{WORKING_ADD}"),
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("2 of 2 tests pass on the stub"), "{out}");
    assert!(out.contains("adding::two_and_two_make_four"), "{out}");
}

#[test]
fn a_stub_with_warnings_is_a_defect() {
    let root = fixture("stub-warns");
    write(
        &root,
        "exercises/01-adder/src/lib.rs",
        "/// Adds two numbers.\npub fn add(a: u32, b: u32) -> u32 {\n    todo!()\n}\n",
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("compiles with warnings"), "{out}");
    assert!(out.contains("unused variable: `a`"), "{out}");
}

#[test]
fn a_solution_that_fails_a_test_is_reported_with_the_message() {
    let root = fixture("solution-fails");
    write(
        &root,
        "solutions/01-adder/src/lib.rs",
        "/// Adds two numbers.\npub fn add(a: u32, b: u32) -> u32 {\n    a + b + 1\n}\n",
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("2 of 2 tests do not pass"), "{out}");
    assert!(
        out.contains("2 + 2 should be 4"),
        "the failure message is shown: {out}"
    );
}

#[test]
fn a_bug_variant_that_no_test_catches_is_reported() {
    let root = fixture("bug-missed");
    // "Adds" correctly, so the test it names cannot fail.
    write(
        &root,
        "solutions/01-adder/bugs/not_a_bug.rs",
        &format!(
            "//! bug: none at all\n//! caught-by: adding::two_and_two_make_four\n\n{WORKING_ADD}"
        ),
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not_a_bug: NOT caught (none at all)"), "{out}");
    assert!(
        out.contains("multiplies: caught by"),
        "the other variant is still checked: {out}"
    );
}

#[test]
fn a_bug_variant_naming_a_missing_test_is_reported() {
    let root = fixture("bug-names-nothing");
    write(
        &root,
        "solutions/01-adder/bugs/renamed.rs",
        &format!("//! bug: off by one\n//! caught-by: adding::no_such_test\n\n{WORKING_ADD}"),
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("`adding::no_such_test`, which is not a test"),
        "{out}"
    );
}

#[test]
fn a_missing_readme_and_test_entry_are_reported() {
    let root = fixture("incomplete");
    fs::remove_file(root.join("exercises/01-adder/README.md")).unwrap();
    write(
        &root,
        "exercises/01-adder/tests/more.rs",
        "#[test]\nfn more() {\n    assert_eq!(adder::add(1, 1), 2);\n}\n",
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("README.md is missing"), "{out}");
    assert!(
        out.contains("name = \"more\""),
        "the missing [[test]] entry is spelled out: {out}"
    );
}

#[test]
fn an_unknown_stage_lists_the_valid_ones() {
    let root = fixture("unknown-stage");
    let (code, out) = xtask(&root, &["verify", "--stage", "multiplier"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("unknown stage `multiplier`"), "{out}");
    assert!(out.contains("1  adder"), "{out}");
}

#[test]
fn a_stage_can_be_chosen_by_number() {
    let root = fixture("by-number");
    let (code, out) = xtask(&root, &["verify", "--stage", "1"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn repeat_runs_the_solution_tests_several_times() {
    let root = fixture("repeat");
    let (code, out) = xtask(&root, &["verify", "--repeat", "3"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("(2 of 2, 3 runs each"), "{out}");
}
