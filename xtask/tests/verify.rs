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

/// Gives the adder the test file `tests/<name>.rs` (its reference lists it in its manifest, as
/// a solution lists every test file of its exercise).
fn add_adder_test(root: &Path, name: &str, content: &str) {
    write(
        root,
        &format!("exercises/01-adder/tests/{name}.rs"),
        content,
    );
    let manifest = root.join("solutions/01-adder/Cargo.toml");
    let entry = format!(
        "\n[[test]]\nname = \"{name}\"\npath = \"../../exercises/01-adder/tests/{name}.rs\"\n"
    );
    write(
        root,
        "solutions/01-adder/Cargo.toml",
        &(fs::read_to_string(&manifest).unwrap() + &entry),
    );
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
    assert!(out.contains("in_a_module: passes every test (2)"), "{out}");
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

/// A stage declares a tool that is not installed: its test skips (and passes) without it, as
/// Stage 11's tests do without `redis-cli`. The reference may skip it; the stub may not pass it
/// (verify requires the tools of the stub, `COURSE_TOOLS_REQUIRED`), and verify says which
/// tool is missing and how to install it.
#[test]
fn a_test_that_skips_without_its_tool_still_fails_on_the_stub() {
    let root = fixture("tool-missing");
    let declaration = format!(
        "{}tools = [\"xtask-test-no-such-tool\"]\ntools_install = \"xtask-test-tools\"\n",
        fs::read_to_string(root.join("exercises/01-adder/exercise.toml")).unwrap()
    );
    write(&root, "exercises/01-adder/exercise.toml", &declaration);
    add_adder_test(
        &root,
        "tools",
        r#"#[test]
fn the_tool_checks_the_sum() {
    let started = std::process::Command::new("xtask-test-no-such-tool").output();
    if started.is_err() {
        let required = std::env::var_os("COURSE_TOOLS_REQUIRED").is_some();
        assert!(!required, "the tool is not installed and is required");
        println!("SKIPPED: xtask-test-no-such-tool is not installed");
        return;
    }
    assert_eq!(adder::add(2, 2), 4);
}
"#,
    );
    let (code, out) = xtask(&root, &["verify", "--stage", "adder"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("every test fails on the stub (3 of 3)"),
        "{out}"
    );
    assert!(
        out.contains("xtask-test-no-such-tool not installed")
            && out.contains("install xtask-test-tools"),
        "{out}"
    );
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
    assert!(
        out.contains("exercises/01-adder/src/lib.rs:2") && !out.contains("target/versions"),
        "the warning names the author's file, not the scratch copy it was built from: {out}"
    );
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

/// A bug patch for the fixture's adder: `a + b` becomes `body`.
fn adder_patch(header: &str, body: &str) -> String {
    format!(
        "{header}\n\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,4 +1,4 @@\n /// Adds two numbers.\n \
         pub fn add(a: u32, b: u32) -> u32 {{\n-    a + b\n+    {body}\n }}\n"
    )
}

#[test]
fn a_bug_variant_that_no_test_catches_is_reported() {
    let root = fixture("bug-missed");
    // "Adds" correctly, so the test it names cannot fail.
    write(
        &root,
        "solutions/01-adder/bugs/not_a_bug.patch",
        &adder_patch(
            "bug: none at all\ncaught-by: adding::two_and_two_make_four",
            "b + a",
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

/// With the reference in the run, a stage's bugs are modules of one crate
/// (`exec/bug_crate.rs`): each is still judged by its own tests against its own library, and a
/// bug that cannot be a module (here: it names the crate root, `use crate as adder_root`) is
/// built in a package of its own and judged there.
#[test]
fn bugs_built_as_modules_of_one_crate_keep_their_own_verdicts() {
    let root = fixture("bug-crate");
    write(
        &root,
        "solutions/01-adder/bugs/subtracts.patch",
        &adder_patch(
            "bug: subtracts\ncaught-by: adding::two_and_two_make_four",
            "a - b",
        ),
    );
    write(
        &root,
        "solutions/01-adder/bugs/adds_one_more.patch",
        "bug: adds one more\ncaught-by: adding::zero_is_neutral\n\n--- a/src/lib.rs\n+++ \
         b/src/lib.rs\n@@ -1,4 +1,7 @@\n+use crate as adder_root;\n+\n+const ONE: u32 = 1;\n \
         /// Adds two numbers.\n pub fn add(a: u32, b: u32) -> u32 {\n-    a + b\n+    a + b + \
         adder_root::ONE\n }\n",
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(0), "{out}");
    for line in [
        "multiplies: caught by adding::zero_is_neutral",
        "subtracts: caught by adding::two_and_two_make_four",
        "adds_one_more: caught by adding::zero_is_neutral",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    let crate_dir = root.join("target/xtask/verify/01-adder/ws/target/versions/01-adder/_bugs");
    let crate_root = fs::read_to_string(crate_dir.join("root.rs")).unwrap();
    assert!(
        crate_root.contains("mod v_multiplies;") && crate_root.contains("mod v_subtracts;"),
        "{crate_root}"
    );
    assert!(
        !crate_root.contains("adds_one_more"),
        "a bug that does not compile as a module is built alone: {crate_root}"
    );
}

/// The guard of the bugs' crate: a test that the reference itself fails there (here it names
/// the path of the function it checks, which is another path in a module) judges the bugs
/// that name it in packages of their own. Otherwise `reversed`, which adds correctly, would
/// look caught.
#[test]
fn a_test_the_reference_fails_in_the_bugs_crate_judges_its_bugs_alone() {
    let root = fixture("bug-crate-guard");
    add_adder_test(
        &root,
        "names",
        "#[test]\nfn add_is_the_adder_crates() {\n    \
         let name = std::any::type_name_of_val(&adder::add);\n    \
         assert!(name.starts_with(\"adder::\"), \"{name}\");\n    \
         assert_eq!(adder::add(1, 1), 2);\n}\n",
    );
    for (name, body) in [("adds_one", "a + b + 1"), ("reversed", "b + a")] {
        write(
            &root,
            &format!("solutions/01-adder/bugs/{name}.patch"),
            &adder_patch(
                &format!("bug: {name}\ncaught-by: names::add_is_the_adder_crates"),
                body,
            ),
        );
    }
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("adds_one: caught by names::add_is_the_adder_crates"),
        "{out}"
    );
    assert!(out.contains("reversed: NOT caught (reversed)"), "{out}");
}

#[test]
fn a_bug_variant_naming_a_missing_test_is_reported() {
    let root = fixture("bug-names-nothing");
    write(
        &root,
        "solutions/01-adder/bugs/renamed.patch",
        &adder_patch(
            "bug: off by one\ncaught-by: adding::no_such_test",
            "a + b + 1",
        ),
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("bugs/renamed.patch names `adding::no_such_test`, which is not a test"),
        "{out}"
    );
}

#[test]
fn a_patch_that_no_longer_applies_is_reported_with_its_file_and_hunk() {
    let root = fixture("bug-stale");
    // The reference changed under the patch: its context line no longer matches.
    write(
        &root,
        "solutions/01-adder/src/lib.rs",
        "/// Adds two numbers, wrapping on overflow.\npub fn add(a: u32, b: u32) -> u32 {\n    \
         a.wrapping_add(b)\n}\n",
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("multiplies: does not apply"), "{out}");
    assert!(
        out.contains(
            "bugs/multiplies.patch: does not apply to the reference: src/lib.rs, error \
                      applying hunk #1 (@@ -1,4 @@)"
        ),
        "{out}"
    );
    assert!(out.contains("in_a_module: does not apply"), "{out}");
}

#[test]
fn an_alternative_that_fails_a_test_is_rejected_with_the_message() {
    let root = fixture("alt-rejected");
    write(
        &root,
        "solutions/01-adder/alternatives/saturating.patch",
        &adder_patch(
            "alternative: saturates at u32::MAX (but gets the sum wrong)",
            "a.saturating_add(b).saturating_sub(1)",
        ),
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("saturating: REJECTED, 2 of 2 tests fail"),
        "{out}"
    );
    assert!(
        out.contains("2 + 2 should be 4"),
        "the failure is shown: {out}"
    );
    assert!(out.contains("in_a_module: passes every test (2)"), "{out}");
    assert!(out.contains("1/2"), "the table counts alternatives: {out}");
}

#[test]
fn an_old_style_bug_file_is_reported() {
    let root = fixture("old-bug-file");
    write(
        &root,
        "solutions/01-adder/bugs/old.rs",
        &format!("//! bug: old style\n//! caught-by: adding::zero_is_neutral\n\n{WORKING_ADD}"),
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("bugs/old.rs: variants are patches"), "{out}");
}

#[test]
fn an_unchanged_stage_is_skipped_until_its_files_change() {
    let root = fixture("skip");
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("unchanged since their last passing verify") && !out.contains("stub ok"),
        "nothing changed, nothing runs: {out}"
    );
    write(
        &root,
        "solutions/02-doubler/src/lib.rs",
        "/// Doubles a number.\npub fn double(n: u32) -> u32 {\n    n * 2\n}\n\n/// Halves a \
         number.\npub fn half(n: u32) -> u32 {\n    n / 2\n}\n",
    );
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("02 doubler solution ok"), "{out}");
    assert!(
        !out.contains("01 adder solution"),
        "only the edited stage runs: {out}"
    );
    let (code, out) = xtask(&root, &["verify", "--force", "--stage", "adder"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("01 adder solution ok"),
        "--force re-runs: {out}"
    );
}

#[test]
fn the_red_team_corpus_is_replayed_only_with_redteam() {
    let root = fixture("redteam");
    // A red-team "bug" no test catches: only a run that replays the corpus can fail on it.
    let dir = root.join("solutions/01-adder/redteam/bugs");
    fs::create_dir_all(&dir).unwrap();
    write(
        &root,
        "solutions/01-adder/redteam/bugs/rt_swapped.patch",
        &adder_patch(
            "bug: adds in the other order\ncaught-by: adding::two_and_two_make_four",
            "b + a",
        ),
    );
    let (code, out) = xtask(&root, &["verify", "--stage", "adder"]);
    assert_eq!(
        code,
        Some(0),
        "the plain verify leaves the corpus out: {out}"
    );
    assert!(!out.contains("rt_swapped"), "{out}");
    assert!(
        out.contains(
            "1 red-team variant not replayed (`cargo xtask verify --redteam --stage adder` \
             replays them)"
        ),
        "{out}"
    );
    // The plain run's record does not answer for a run with the corpus.
    let (code, out) = xtask(&root, &["verify", "--redteam", "--stage", "adder"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("rt_swapped: NOT caught (adds in the other order)"),
        "{out}"
    );
    assert!(!out.contains("not replayed"), "{out}");
    // Fixed: a passing run with the corpus also counts as a plain one.
    fs::remove_file(dir.join("rt_swapped.patch")).unwrap();
    let (code, out) = xtask(&root, &["verify", "--redteam", "--stage", "adder"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = xtask(&root, &["verify", "--stage", "adder"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("unchanged since their last passing verify"),
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

/// The fixture as a git repository, so that the stub can be restored from `HEAD`.
fn fixture_in_git(test: &str) -> PathBuf {
    let root = fixture(test);
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "fixture",
        ],
    ] {
        let status = Command::new("git")
            .current_dir(&root)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    root
}

#[test]
fn bug_new_then_save_writes_a_patch_restores_the_stub_and_checks_it() {
    let root = fixture_in_git("authoring");
    let stub = fs::read_to_string(root.join("exercises/01-adder/src/lib.rs")).unwrap();
    let (code, out) = xtask(&root, &["bug", "new", "adder", "subtracts"]);
    assert_eq!(code, Some(0), "{out}");
    let lib = root.join("exercises/01-adder/src/lib.rs");
    let reference = fs::read_to_string(&lib).unwrap();
    assert!(
        reference.contains("a + b"),
        "the reference is in place: {reference}"
    );
    fs::write(&lib, reference.replace("a + b", "a - b")).unwrap();
    // Without --caught-by, save lists the tests that fail with the edit, and writes nothing.
    let (code, out) = xtask(
        &root,
        &[
            "bug",
            "save",
            "adder",
            "subtracts",
            "--description",
            "subtracts",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("adding::two_and_two_make_four (fail)"),
        "{out}"
    );
    assert!(
        !root
            .join("solutions/01-adder/bugs/subtracts.patch")
            .exists()
    );
    let (code, out) = xtask(
        &root,
        &[
            "bug",
            "save",
            "adder",
            "subtracts",
            "--description",
            "subtracts instead of adding",
            "--caught-by",
            "adding::two_and_two_make_four",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("subtracts: caught by"), "{out}");
    assert_eq!(
        fs::read_to_string(&lib).unwrap(),
        stub,
        "the stub is back after save"
    );
    let patch = fs::read_to_string(root.join("solutions/01-adder/bugs/subtracts.patch")).unwrap();
    assert!(
        patch.starts_with(
            "bug: subtracts instead of adding\ncaught-by: adding::two_and_two_make_four\n\n--- \
             a/src/lib.rs\n+++ b/src/lib.rs\n"
        ),
        "{patch}"
    );
    assert!(patch.contains("-    a + b\n+    a - b\n"), "{patch}");

    // An alternative that fails a test is saved, and reported.
    let (code, out) = xtask(&root, &["alt", "new", "adder", "wrong"]);
    assert_eq!(code, Some(0), "{out}");
    fs::write(&lib, reference.replace("a + b", "a + b + 1")).unwrap();
    let (code, out) = xtask(
        &root,
        &[
            "alt",
            "save",
            "adder",
            "wrong",
            "--description",
            "off by one",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("wrong: REJECTED"), "{out}");
}

#[test]
fn mistakes_shows_each_bug_with_its_diff_and_the_message_of_the_test_that_catches_it() {
    let root = fixture("mistakes");
    let (code, out) = xtask(&root, &["mistakes", "adder"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("open once your own solution passes"), "{out}");
    let (code, out) = xtask(&root, &["mistakes", "adder", "--force"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("multiplies instead of adding"), "{out}");
    assert!(
        out.contains("Two and two make four either way"),
        "the note: {out}"
    );
    assert!(
        out.contains("-    a + b") && out.contains("+    a * b"),
        "{out}"
    );
    assert!(
        out.contains("caught by adding::zero_is_neutral (fail)"),
        "{out}"
    );
    assert!(
        out.contains("7 + 0 should be 7"),
        "the test's message: {out}"
    );

    // A starter repository has no solutions/, so no gallery.
    fs::remove_dir_all(root.join("solutions")).unwrap();
    let (code, out) = xtask(&root, &["mistakes", "adder", "--force"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("has no solutions/"), "{out}");
}

#[test]
fn a_reference_or_alternative_the_seam_rule_refuses_is_reported() {
    let root = fixture("seam-rule");
    let path = root.join("exercises/01-adder/exercise.toml");
    let declaration = fs::read_to_string(&path).unwrap()
        + "\n[[gate.only_in]]\npath = \"std::sync\"\nfiles = [\"src/sync.rs\"]\n\
           why = \"use crate::sync: the model checker only sees the seam\"\n";
    fs::write(&path, declaration).unwrap();
    write(
        &root,
        "solutions/01-adder/alternatives/locked.patch",
        &adder_patch(
            "alternative: adds under a lock",
            "*std::sync::Mutex::new(a + b).lock().unwrap()",
        ),
    );
    let (code, out) = xtask(&root, &["verify", "--stage", "adder"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the grader's gate would refuse a correct version")
            && out.contains("alternatives/locked.patch: src/lib.rs:3: uses `std::sync::Mutex::new` outside src/sync.rs: use crate::sync: the model checker only sees the seam"),
        "verify names the alternative, the file, the path and why: {out}"
    );
}

#[test]
fn a_seam_rule_that_is_not_a_std_path_is_a_bad_declaration() {
    let root = fixture("seam-rule-bad");
    let path = root.join("exercises/01-adder/exercise.toml");
    let declaration = fs::read_to_string(&path).unwrap()
        + "\n[[gate.only_in]]\npath = \"sync\"\nfiles = [\"src/sync.rs\"]\nwhy = \"x\"\n";
    fs::write(&path, declaration).unwrap();
    let (code, out) = xtask(&root, &["verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("[[gate.only_in]] path `sync` must be a path under std, core or alloc"),
        "{out}"
    );
}
